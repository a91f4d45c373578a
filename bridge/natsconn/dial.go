package natsconn

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultPort is the NATS client port, used when a URL has none.
const DefaultPort = "4222"

// Dial connects to the server at rawURL ("nats://host:port",
// "tls://host:port", "host:port", user and password allowed in the URL)
// and runs New on the connection. A tls:// URL without Options.TLSConfig
// fails with ErrTLSRequired; ServerName defaults to the URL's host.
func Dial(ctx context.Context, rawURL string, opts Options) (*Conn, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "tls" && opts.TLSConfig == nil {
		return nil, fmt.Errorf("%w: %s", ErrTLSRequired, rawURL)
	}
	if opts.TLSConfig != nil && opts.TLSConfig.ServerName == "" {
		opts.TLSConfig = opts.TLSConfig.Clone()
		opts.TLSConfig.ServerName = u.Hostname()
	}
	if opts.User == "" && opts.Token == "" && u.User != nil {
		opts.User = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("natsconn: dial %s: %w", u.Host, err)
	}
	return New(ctx, conn, opts)
}

func parseURL(rawURL string) (*url.URL, error) {
	if !strings.Contains(rawURL, "://") {
		rawURL = "nats://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("natsconn: bad URL: %w", err)
	}
	if u.Scheme != "nats" && u.Scheme != "tls" {
		return nil, fmt.Errorf("natsconn: bad URL scheme %q", u.Scheme)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), DefaultPort)
	}
	return u, nil
}
