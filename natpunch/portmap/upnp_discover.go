package portmap

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/huin/goupnp"
	"github.com/huin/goupnp/dcps/internetgateway2"
)

// ssdpSearch asks for an Internet Gateway Device. It goes unicast to the
// gateway, as Tailscale's portmapper sends it: no multicast route needed,
// and only the gateway can answer.
const ssdpSearch = "M-SEARCH * HTTP/1.1\r\n" +
	"HOST: 239.255.255.250:1900\r\n" +
	"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
	"MAN: \"ssdp:discover\"\r\n" +
	"MX: 1\r\n\r\n"

// ParseSSDPLocation returns the LOCATION of an SSDP answer.
func ParseSSDPLocation(b []byte) (*url.URL, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: SSDP answer: %w", ErrMalformed, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: SSDP answer status %d", ErrMalformed, resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Scheme != "http" || loc.Host == "" {
		return nil, fmt.Errorf("%w: SSDP location %q", ErrMalformed, resp.Header.Get("Location"))
	}
	return loc, nil
}

// onHost reports whether u is an http URL on the gateway gw, the only
// host whose documents and services the mapper follows: an answer cannot
// send it elsewhere.
func onHost(u *url.URL, gw netip.Addr) bool {
	a, err := netip.ParseAddr(u.Hostname())
	return err == nil && u.Scheme == "http" && a.Unmap() == gw
}

// upnpDiscover finds gw's IGD connection service.
func upnpDiscover(ctx context.Context, dial DialFunc, gw netip.Addr) (*upnpRouter, error) {
	conn, self, err := dialRouter(ctx, dial, gw, ssdpPort)
	if err != nil {
		return nil, err
	}
	var loc *url.URL
	err = exchange(ctx, conn, []byte(ssdpSearch), func(b []byte) (bool, error) {
		l, err := ParseSSDPLocation(b)
		if err != nil {
			return false, err
		}
		loc = l
		return true, nil
	})
	conn.Close()
	if err != nil {
		return nil, err
	}
	if !onHost(loc, gw) {
		return nil, fmt.Errorf("%w: UPnP location %s is not on the gateway %s", ErrMalformed, loc, gw)
	}
	hc := boundedHTTP(dial)
	root, err := fetchRoot(ctx, hc, loc)
	if err != nil {
		return nil, err
	}
	svc, err := pickService(root, loc, gw, hc)
	if err != nil {
		return nil, err
	}
	return &upnpRouter{svc: svc, self: self}, nil
}

// fetchRoot reads the device description at loc, at most maxDocument
// bytes of it.
func fetchRoot(ctx context.Context, hc *http.Client, loc *url.URL) (*goupnp.RootDevice, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("portmap: UPnP description: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: UPnP description: %w", ErrNoRouter, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: UPnP description status %d", ErrNoRouter, resp.StatusCode)
	}
	root := new(goupnp.RootDevice)
	d := xml.NewDecoder(resp.Body)
	d.DefaultSpace = goupnp.DeviceXMLNamespace
	if err := d.Decode(root); err != nil {
		return nil, fmt.Errorf("%w: UPnP description: %w", ErrMalformed, err)
	}
	base := loc
	if root.URLBaseStr != "" {
		if base, err = url.Parse(root.URLBaseStr); err != nil {
			return nil, fmt.Errorf("%w: UPnP URLBase: %w", ErrMalformed, err)
		}
	}
	root.SetURLBase(base)
	return root, nil
}

// pickService returns the first connection service of root, in the order
// WANIPConnection2, WANIPConnection1, WANPPPConnection1, whose control URL
// is on gw, set to use hc.
func pickService(root *goupnp.RootDevice, loc *url.URL, gw netip.Addr, hc *http.Client) (igd, error) {
	var found []goupnp.ServiceClient
	ip2, _ := internetgateway2.NewWANIPConnection2ClientsFromRootDevice(root, loc)
	for _, c := range ip2 {
		found = append(found, c.ServiceClient)
	}
	ip1, _ := internetgateway2.NewWANIPConnection1ClientsFromRootDevice(root, loc)
	for _, c := range ip1 {
		found = append(found, c.ServiceClient)
	}
	ppp, _ := internetgateway2.NewWANPPPConnection1ClientsFromRootDevice(root, loc)
	for _, c := range ppp {
		found = append(found, c.ServiceClient)
	}
	for _, sc := range found {
		if !onHost(&sc.SOAPClient.EndpointURL, gw) {
			continue
		}
		sc.SOAPClient.HTTPClient = *hc
		switch sc.Service.ServiceType {
		case internetgateway2.URN_WANIPConnection_2:
			return &internetgateway2.WANIPConnection2{ServiceClient: sc}, nil
		case internetgateway2.URN_WANIPConnection_1:
			return &internetgateway2.WANIPConnection1{ServiceClient: sc}, nil
		default:
			return &internetgateway2.WANPPPConnection1{ServiceClient: sc}, nil
		}
	}
	return nil, fmt.Errorf("%w: no UPnP connection service on %s", ErrNoRouter, gw)
}

// boundedHTTP is an HTTP client through dial whose answers are cut at
// maxDocument bytes, that follows no redirects and keeps no connections.
func boundedHTTP(dial DialFunc) *http.Client {
	t := &http.Transport{
		DialContext:            dial,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
		ResponseHeaderTimeout:  3 * time.Second,
		Proxy:                  nil,
	}
	return &http.Client{
		Transport:     limitBody{t},
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// limitBody cuts every answer's body at maxDocument bytes.
type limitBody struct{ rt http.RoundTripper }

func (l limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxDocument), resp.Body}
	return resp, nil
}
