package portmap

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/huin/goupnp/soap"
)

// fakeIGD answers AddPortMapping with the faults in order, then success.
type fakeIGD struct {
	faults []int
	adds   []uint32 // the lease of each AddPortMapping
	ports  []uint16
}

func (f *fakeIGD) GetExternalIPAddressCtx(context.Context) (string, error) {
	return "198.51.100.7", nil
}

func (f *fakeIGD) AddPortMappingCtx(_ context.Context, _ string, ext uint16, _ string, _ uint16, _ string, _ bool, _ string, lease uint32) error {
	f.adds, f.ports = append(f.adds, lease), append(f.ports, ext)
	if len(f.faults) == 0 {
		return nil
	}
	e := &soap.SOAPFaultError{FaultCode: "s:Client", FaultString: "UPnPError"}
	e.Detail.UPnPError.Errorcode, f.faults = f.faults[0], f.faults[1:]
	return e
}

func (f *fakeIGD) DeletePortMappingCtx(context.Context, string, uint16, string) error { return nil }

func TestUPnPRetries(t *testing.T) {
	self := netip.MustParseAddr("198.19.1.10")
	// Only permanent leases: asked again with 0, reported with the
	// lifetime asked for, as it is renewed all the same.
	f := &fakeIGD{faults: []int{upnpPermanentLease}}
	m, err := upnpMap(t.Context(), &upnpRouter{svc: f, self: self}, 4500, 4500, 7200)
	if err != nil || len(f.adds) != 2 || f.adds[1] != 0 || m.External != netip.MustParseAddrPort("198.51.100.7:4500") || m.Lifetime == 0 {
		t.Errorf("permanent only: %+v, %v, leases %v", m, err, f.adds)
	}
	// A taken port: another one.
	f = &fakeIGD{faults: []int{upnpConflict}}
	m, err = upnpMap(t.Context(), &upnpRouter{svc: f, self: self}, 4500, 4500, 7200)
	if err != nil || len(f.ports) != 2 || m.External.Port() != f.ports[1] || f.ports[1] < 1024 {
		t.Errorf("conflict: %+v, %v, ports %v", m, err, f.ports)
	}
	// Other faults, or faults without end: refused, at most three tries.
	f = &fakeIGD{faults: []int{upnpConflict, upnpConflict, upnpConflict, upnpConflict}}
	if _, err := upnpMap(t.Context(), &upnpRouter{svc: f, self: self}, 4500, 4500, 7200); !errors.Is(err, ErrRefused) || len(f.adds) != 3 {
		t.Errorf("endless conflicts: %v after %d tries", err, len(f.adds))
	}
	f = &fakeIGD{faults: []int{606}}
	if _, err := upnpMap(t.Context(), &upnpRouter{svc: f, self: self}, 4500, 4500, 7200); !errors.Is(err, ErrRefused) || len(f.adds) != 1 {
		t.Errorf("fault 606: %v after %d tries", err, len(f.adds))
	}
}
