package wan_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// Shape of the raw QUIC measurement: frames as peerbridge sizes its
// messages, how long each run sends, and the connection counts compared.
const (
	quicFrame    = 128
	quicDuration = 8 * time.Second
	quicWriteBuf = 64 << 10
	quicALPN     = "peerbridge-wan-test"
)

// TestQUICConnections measures quic-go alone across the lossy wire (40 ms
// RTT, 1% loss each way): 128-byte length-prefixed frames written as fast
// as one stream takes them, on one connection and on four at once. quic-go
// runs Cubic and has no congestion-control hook, so this is the ceiling of
// one connection per peer, and what striping a peer's messages over
// several connections would give. It reports figures only; it runs with
// PEERBRIDGE_WAN_VARIANTS=1 and without -race.
func TestQUICConnections(t *testing.T) {
	if raceEnabled {
		t.Skip("figures only: run without -race")
	}
	if os.Getenv(envVariants) != "1" {
		t.Skipf("a study, not a check: set %s=1 to run it", envVariants)
	}
	lab := natlab.New(t, natlab.WithWire(natlab.Wire{Delay: linkDelay, Loss: 0.5}))
	a, b := lab.AddPublicHost("a", 1), lab.AddPublicHost("b", 1)
	for _, n := range []int{1, 4} {
		frames := quicBlast(t, a, b, n)
		t.Logf("quic-go, 1%% loss, %d connection(s): %d frames of %d B in %v: %.0f msg/s",
			n, frames, quicFrame, quicDuration, float64(frames)/quicDuration.Seconds())
	}
}

// quicBlast sends frames from a to b over n connections for quicDuration
// and returns how many b read within it.
func quicBlast(t *testing.T, a, b *natlab.Host, n int) int64 {
	ctx, cancel := context.WithTimeout(t.Context(), quicDuration+30*time.Second)
	defer cancel()
	srv, cli := quicTransport(t, b), quicTransport(t, a)
	ln, err := srv.Listen(quicTLS(t), &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var count atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { quicAccept(ctx, ln, n, &count, &wg) })
	conns := make([]*quic.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.CloseWithError(0, "done")
		}
		cancel()
		wg.Wait()
	}()
	ccfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{quicALPN}} // a throwaway test key
	for range n {
		c, err := cli.Dial(ctx, ln.Addr(), ccfg, &quic.Config{})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	deadline := start.Add(quicDuration)
	for _, c := range conns {
		wg.Go(func() { quicWrite(ctx, c, deadline) })
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return count.Load()
}

// quicAccept accepts n connections and counts the frames on the first
// stream of each, every reader a goroutine of wg.
func quicAccept(ctx context.Context, ln *quic.Listener, n int, count *atomic.Int64, wg *sync.WaitGroup) {
	for range n {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		wg.Go(func() {
			s, err := c.AcceptStream(ctx)
			if err != nil {
				return
			}
			quicRead(s, count)
		})
	}
}

// quicRead counts length-prefixed frames until the stream ends.
func quicRead(s io.Reader, count *atomic.Int64) {
	r := bufio.NewReaderSize(s, quicWriteBuf)
	buf := make([]byte, 4+quicFrame)
	for {
		if _, err := io.ReadFull(r, buf[:4]); err != nil {
			return
		}
		if _, err := io.ReadFull(r, buf[4:4+binary.BigEndian.Uint32(buf)]); err != nil {
			return
		}
		count.Add(1)
	}
}

// quicWrite writes frames on a new stream of c until deadline or until the
// connection closes.
func quicWrite(ctx context.Context, c *quic.Conn, deadline time.Time) {
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return
	}
	w := bufio.NewWriterSize(s, quicWriteBuf)
	frame := make([]byte, 4+quicFrame)
	binary.BigEndian.PutUint32(frame, quicFrame)
	for i := 0; ; i++ {
		if i%256 == 0 && time.Now().After(deadline) {
			_ = w.Flush()
			return
		}
		_, _ = rand.Read(frame[4:])
		if _, err := w.Write(frame); err != nil {
			return
		}
	}
}

// quicTransport is a QUIC transport on a UDP socket of host h, closed at
// the end of the test.
func quicTransport(t *testing.T, h *natlab.Host) *quic.Transport {
	udp, err := h.ListenUDP(netip.AddrPortFrom(h.Addrs()[0], 0))
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	t.Cleanup(func() {
		_ = tr.Close()
		_ = udp.Close()
	})
	return tr
}

// quicTLS is a server TLS config with a fresh self-signed Ed25519 key.
func quicTLS(t *testing.T) *tls.Config {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(198, 18, 0, 11)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: priv}},
		NextProtos: []string{quicALPN}}
}
