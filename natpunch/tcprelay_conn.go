package natpunch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// DialFunc opens a TCP connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ProxyFunc picks the HTTP proxy for a request, as http.Transport.Proxy.
type ProxyFunc func(*http.Request) (*url.URL, error)

// dialRelay opens a relay WebSocket to the gateway at endpoint (host:port),
// which must prove node ID gw, through the proxy that proxy picks (nil:
// HTTPS_PROXY and NO_PROXY), with a CONNECT tunnel.
func dialRelay(ctx context.Context, endpoint string, id *identity.Identity, gw identity.NodeID, dial DialFunc, proxy ProxyFunc) (*websocket.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	conf := wire.RelayClientTLS(id, gw)
	if host, _, err := net.SplitHostPort(endpoint); err == nil && net.ParseIP(host) == nil {
		// Middleboxes see the gateway's name, as for any HTTPS site; the
		// certificate is still checked against the node ID, not the name.
		conf.ServerName = host
	}
	tr := &http.Transport{
		Proxy:                  proxy,
		DialContext:            dial,
		TLSClientConfig:        conf,
		TLSHandshakeTimeout:    wire.TCPHandshakeTimeout,
		MaxResponseHeaderBytes: 4 << 10,
	}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, wire.TCPHandshakeTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "wss://"+endpoint+wire.TCPRelayPath, &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: tr},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("natpunch: TCP relay %s: HTTP %s: %w", endpoint, resp.Status, err)
		}
		return nil, fmt.Errorf("natpunch: TCP relay %s: %w", endpoint, err)
	}
	ws.SetReadLimit(wire.MaxTCPDatagram)
	return ws, nil
}

// wsPacketConn is a net.PacketConn over one relay WebSocket to a gateway:
// every datagram written goes to the gateway, and every one read came from
// it and is reported from the gateway's UDP address, so that the client
// treats it as it treats the gateway's UDP packets.
type wsPacketConn struct {
	ws     *websocket.Conn
	remote *net.UDPAddr
	ctx    context.Context // the reader's lifetime, ended by Close
	cancel context.CancelFunc
	in     chan []byte   // buffered: a full queue drops, as a socket would
	out    chan []byte   // buffered (tcpSendQueue): datagrams the writer sends; full drops
	done   chan struct{} // closed when the reader has returned
	wrote  chan struct{} // closed when the writer has returned
	// nonQUIC, if not nil, takes the non-QUIC datagrams (relay packets) on
	// the reader goroutine, instead of through quic-go's ReadNonQUICPacket
	// queue, which holds 32 and drops the rest without a count.
	nonQUIC connector.NonQUICHandler

	deadline readDeadline

	dropped atomic.Uint64 // datagrams dropped in either direction
}

// tcpSendQueue is how many datagrams wait for the WebSocket: about 2 MiB
// at most. A link that cannot take them drops the rest, as a full UDP
// socket buffer would, so a stalled TCP connection never blocks quic-go's
// send loop; QUIC's loss recovery resends what mattered.
const tcpSendQueue = 1024

// newWSPacketConn starts reading ws; Close stops it. nonQUIC may be nil.
func newWSPacketConn(ws *websocket.Conn, remote *net.UDPAddr, nonQUIC connector.NonQUICHandler) *wsPacketConn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &wsPacketConn{ws: ws, remote: remote, ctx: ctx, cancel: cancel, nonQUIC: nonQUIC,
		in: make(chan []byte, 256), out: make(chan []byte, tcpSendQueue), done: make(chan struct{}), wrote: make(chan struct{})}
	go c.read()
	go c.write()
	return c
}

// read queues every binary message until the WebSocket fails, idles for
// tcpIdleTimeout, or Close.
func (c *wsPacketConn) read() {
	defer close(c.done)
	for {
		ctx, cancel := context.WithTimeout(c.ctx, wire.TCPIdleTimeout)
		typ, b, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			c.cancel()
			c.ws.CloseNow()
			return
		}
		if typ != websocket.MessageBinary {
			c.dropped.Add(1)
			continue
		}
		if c.nonQUIC != nil && len(b) > 0 && b[0]&0xc0 == 0 {
			c.nonQUIC(c.remote.AddrPort(), b)
			continue
		}
		select {
		case c.in <- b:
		default:
			c.dropped.Add(1)
		}
	}
}

// Done is closed once the WebSocket has failed or been closed.
func (c *wsPacketConn) Done() <-chan struct{} { return c.ctx.Done() }

// ReadFrom implements net.PacketConn.
func (c *wsPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	b, err := receive(&c.deadline, c.in, c.ctx.Done())
	if err != nil {
		return 0, nil, err
	}
	return copy(p, b), c.remote, nil
}

// WriteTo implements net.PacketConn: p goes to the gateway, whatever addr.
// It never blocks: p is queued for the writer, or dropped (and counted) if
// the queue is full, as UDP would.
func (c *wsPacketConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	if len(p) > wire.MaxTCPDatagram {
		return 0, fmt.Errorf("natpunch: datagram of %d bytes, at most %d over TCP", len(p), wire.MaxTCPDatagram)
	}
	if c.ctx.Err() != nil {
		return 0, net.ErrClosed
	}
	select {
	case c.out <- append([]byte(nil), p...):
	default:
		c.dropped.Add(1)
	}
	return len(p), nil
}

// write sends the queued datagrams, each within TCPWriteTimeout, until
// Close or a failed write, which ends the link.
func (c *wsPacketConn) write() {
	defer close(c.wrote)
	for {
		select {
		case <-c.ctx.Done():
			return
		case p := <-c.out:
			ctx, cancel := context.WithTimeout(c.ctx, wire.TCPWriteTimeout)
			err := c.ws.Write(ctx, websocket.MessageBinary, p)
			cancel()
			if err != nil {
				c.dropped.Add(1)
				c.cancel()
				c.ws.CloseNow()
				return
			}
		}
	}
}

// Close implements net.PacketConn; it waits for the reader and the writer.
func (c *wsPacketConn) Close() error {
	c.cancel()
	c.ws.CloseNow()
	<-c.done
	<-c.wrote
	return nil
}

// LocalAddr implements net.PacketConn.
func (c *wsPacketConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4zero} }

// SetDeadline implements net.PacketConn.
func (c *wsPacketConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline implements net.PacketConn.
func (c *wsPacketConn) SetReadDeadline(t time.Time) error {
	c.deadline.set(t)
	return nil
}

// SetWriteDeadline implements net.PacketConn; writes have their own bound.
func (c *wsPacketConn) SetWriteDeadline(time.Time) error { return nil }

// SetReadBuffer is a no-op, so that quic-go does not warn.
func (c *wsPacketConn) SetReadBuffer(int) error { return nil }

// SetWriteBuffer is a no-op, so that quic-go does not warn.
func (c *wsPacketConn) SetWriteBuffer(int) error { return nil }
