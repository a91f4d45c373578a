package portmap

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/huin/goupnp/dcps/internetgateway2"
	"github.com/huin/goupnp/soap"
)

const (
	// ssdpPort is where a UPnP router answers M-SEARCH.
	ssdpPort = 1900
	// maxDocument bounds a UPnP description or SOAP answer read.
	maxDocument = 64 << 10
	// upnpDescription names the mapping in the router's table.
	upnpDescription = "peerbridge"
)

// igd is what the mapper needs of a WANIPConnection1/2 or
// WANPPPConnection1 client; goupnp's three have these methods.
type igd interface {
	GetExternalIPAddressCtx(ctx context.Context) (string, error)
	AddPortMappingCtx(ctx context.Context, remoteHost string, extPort uint16, proto string, intPort uint16, intClient string, enabled bool, desc string, lease uint32) error
	DeletePortMappingCtx(ctx context.Context, remoteHost string, extPort uint16, proto string) error
}

var (
	_ igd = (*internetgateway2.WANIPConnection1)(nil)
	_ igd = (*internetgateway2.WANIPConnection2)(nil)
	_ igd = (*internetgateway2.WANPPPConnection1)(nil)
)

// upnpRouter is a discovered IGD's connection service and this host's
// address toward it.
type upnpRouter struct {
	svc  igd
	self netip.Addr
}

// upnpMap maps UDP port internal on r for lifetime seconds, asking for
// external port suggested.
func upnpMap(ctx context.Context, r *upnpRouter, internal, suggested uint16, lifetime uint32) (Mapping, error) {
	s, err := r.svc.GetExternalIPAddressCtx(ctx)
	if err != nil {
		return Mapping{}, fmt.Errorf("%w: UPnP external address: %w", ErrRefused, err)
	}
	ext, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || !usable(ext.Unmap()) {
		return Mapping{}, fmt.Errorf("%w: UPnP external address %q", ErrMalformed, s)
	}
	port, err := upnpAdd(ctx, r, internal, suggested, lifetime)
	if err != nil {
		return Mapping{}, fmt.Errorf("%w: UPnP AddPortMapping: %w", ErrRefused, err)
	}
	// A permanent lease (see upnpAdd) is renewed and deleted all the same.
	return Mapping{Protocol: UPnP, External: netip.AddrPortFrom(ext.Unmap(), port), Internal: internal, Lifetime: time.Duration(lifetime) * time.Second}, nil
}

// UPnP errors AddPortMapping is retried after, once each.
const (
	upnpConflict       = 718 // ConflictInMappingEntry: the external port is taken
	upnpPermanentLease = 725 // OnlyPermanentLeasesSupported
)

// upnpAdd adds the mapping and returns its external port. An IGD that
// takes only permanent leases is asked again for one; an external port
// another host holds is replaced by a random one. At most three requests.
func upnpAdd(ctx context.Context, r *upnpRouter, internal, port uint16, lifetime uint32) (uint16, error) {
	var err error
	for range 3 {
		err = r.svc.AddPortMappingCtx(ctx, "", port, "UDP", internal, r.self.String(), true, upnpDescription, lifetime)
		var fault *soap.SOAPFaultError
		if err == nil || !errors.As(err, &fault) {
			return port, err
		}
		switch fault.Detail.UPnPError.Errorcode {
		case upnpPermanentLease:
			lifetime = 0
		case upnpConflict:
			port = randomPort()
		default:
			return 0, err
		}
	}
	return 0, err
}

// randomPort picks an external port from 1024 up.
func randomPort() uint16 {
	var b [2]byte
	rand.Read(b[:])
	return 1024 + binary.BigEndian.Uint16(b[:])%(65535-1024)
}

// upnpUnmap deletes r's mapping of external port ext.
func upnpUnmap(ctx context.Context, r *upnpRouter, ext uint16) error {
	if err := r.svc.DeletePortMappingCtx(ctx, "", ext, "UDP"); err != nil {
		return fmt.Errorf("%w: UPnP DeletePortMapping: %w", ErrRefused, err)
	}
	return nil
}
