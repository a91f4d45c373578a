package natsconn

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
)

// benchHeader addresses a message as the bridge's callers do.
var benchHeader = nats.Header{
	"Peer-Node":     {"QBN7UI5TD4YXBMUAAKXMDDJ2QSFMUEMHYGIGWETHUIRPMIMXYVVQ"},
	"Peer-Endpoint": {"127.0.0.1:4242"},
}

func benchHeaderBlock() []byte {
	var h Header
	for _, k := range []string{"Peer-Node", "Peer-Endpoint"} {
		h = AppendHeader(h, k, benchHeader[k][0])
	}
	return h
}

var payload128 = bytes.Repeat([]byte("x"), 128)

// frame is one MSG or HMSG of 128 bytes for sid 1, as the server writes it.
func frame(header []byte) []byte {
	if len(header) == 0 {
		return fmt.Appendf(nil, "MSG peer.send.bench 1 %d\r\n%s\r\n", len(payload128), payload128)
	}
	return hmsg("peer.send.bench", "", string(header), string(payload128))
}

// BenchmarkParse parses one 128-byte MSG or HMSG per op.
func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct {
		name   string
		header []byte
	}{{"MSG-128B", nil}, {"HMSG-128B", benchHeaderBlock()}} {
		b.Run(tc.name, func(b *testing.B) {
			in := frame(tc.header)
			p := newParser(nopSink{}, DefaultMaxControlLine)
			p.setMaxPayload(1 << 20)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := p.parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fakeNATS is a NATS server for benchmarks that costs next to nothing: it
// answers PING, ignores what it reads, and once it reads a SUB streams n
// copies of one frame.
type fakeNATS struct {
	ln    net.Listener
	frame []byte
	n     int
	wg    sync.WaitGroup
}

func startFake(b *testing.B, frame []byte, n int) *fakeNATS {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	f := &fakeNATS{ln: ln, frame: frame, n: n}
	f.wg.Add(1)
	go f.accept()
	b.Cleanup(func() {
		ln.Close()
		f.wg.Wait()
	})
	return f
}

func (f *fakeNATS) url() string { return "nats://" + f.ln.Addr().String() }

func (f *fakeNATS) accept() {
	defer f.wg.Done()
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go f.serve(conn)
	}
}

func (f *fakeNATS) serve(conn net.Conn) {
	defer f.wg.Done()
	defer conn.Close()
	var wmu sync.Mutex // guards writes to conn
	write := func(b []byte) { wmu.Lock(); conn.Write(b); wmu.Unlock() }
	write([]byte(`INFO {"server_id":"fake","max_payload":1048576,"headers":true,"proto":1}` + "\r\n"))
	r := bufio.NewReaderSize(conn, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
		switch {
		case bytes.Equal(line, []byte("PING\r\n")):
			write([]byte("PONG\r\n"))
		case bytes.HasPrefix(line, []byte("SUB ")):
			f.wg.Add(1)
			go f.stream(write)
		}
	}
}

// stream writes n frames in batches.
func (f *fakeNATS) stream(write func([]byte)) {
	defer f.wg.Done()
	const batch = 512
	all := bytes.Repeat(f.frame, batch)
	for left := f.n; left > 0; left -= batch {
		write(all[:min(left, batch)*len(f.frame)])
	}
}

// BenchmarkReceive delivers 128-byte messages from a server to a handler
// that looks up Peer-Node, through natsconn and through nats.go.
func BenchmarkReceive(b *testing.B) {
	for _, kind := range []struct {
		name   string
		header []byte
	}{{"MSG-128B", nil}, {"HMSG-128B", benchHeaderBlock()}} {
		b.Run("natsconn/"+kind.name, func(b *testing.B) {
			benchReceive(b, frame(kind.header), receiveNatsconn)
		})
		b.Run("natsgo/"+kind.name, func(b *testing.B) {
			benchReceive(b, frame(kind.header), receiveNatsGo)
		})
	}
}

// receiver subscribes on url and closes done after n messages.
type receiver func(b *testing.B, url string, n int, done chan struct{})

func benchReceive(b *testing.B, frame []byte, recv receiver) {
	f := startFake(b, frame, b.N)
	done := make(chan struct{})
	b.SetBytes(int64(len(payload128)))
	b.ReportAllocs()
	b.ResetTimer()
	recv(b, f.url(), b.N, done)
	<-done
	b.StopTimer()
}

func receiveNatsconn(b *testing.B, url string, n int, done chan struct{}) {
	c, err := Dial(context.Background(), url, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	count := 0
	_, err = c.Subscribe("peer.send.>", "", func(m *Msg) {
		if _, ok := m.Header.Get("Peer-Node"); !ok && m.Header != nil {
			b.Error("no Peer-Node")
		}
		if count++; count == n {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}

func receiveNatsGo(b *testing.B, url string, n int, done chan struct{}) {
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	var count atomic.Int64
	sub, err := nc.Subscribe("peer.send.>", func(m *nats.Msg) {
		if m.Header.Get("Peer-Node") == "" && m.Header != nil {
			b.Error("no Peer-Node")
		}
		if count.Add(1) == int64(n) {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
}

// BenchmarkPublish publishes 128-byte messages, with and without the
// bridge's headers, through natsconn and through nats.go, to a server that
// discards them; the last op waits for the server to have read them all.
func BenchmarkPublish(b *testing.B) {
	for _, kind := range []struct {
		name   string
		header bool
	}{{"PUB-128B", false}, {"HPUB-128B", true}} {
		b.Run("natsconn/"+kind.name, func(b *testing.B) {
			f := startFake(b, nil, 0)
			c, err := Dial(context.Background(), f.url(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var h Header
			if kind.header {
				h = benchHeaderBlock()
			}
			benchPublish(b, func() error { return c.Publish("peer.recv.bench", "", h, payload128) },
				func() error { return c.Flush(context.Background()) })
		})
		b.Run("natsgo/"+kind.name, func(b *testing.B) {
			f := startFake(b, nil, 0)
			nc, err := nats.Connect(f.url())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			m := &nats.Msg{Subject: "peer.recv.bench", Data: payload128}
			if kind.header {
				m.Header = benchHeader
			}
			benchPublish(b, func() error { return nc.PublishMsg(m) }, nc.Flush)
		})
	}
}

func benchPublish(b *testing.B, publish, flush func() error) {
	b.SetBytes(int64(len(payload128)))
	b.ReportAllocs()
	for b.Loop() {
		for err := publish(); err != nil; err = publish() {
			if !strings.Contains(err.Error(), "buffer full") {
				b.Fatal(err)
			}
			flush()
		}
	}
	if err := flush(); err != nil {
		b.Fatal(err)
	}
}
