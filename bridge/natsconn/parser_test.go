package natsconn

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// recorder is a sink that writes down what it hears.
type recorder struct {
	events []string
	fatal  bool // serverErr returns an error
}

func (r *recorder) deliver(sid uint64, m *Msg) {
	r.events = append(r.events, fmt.Sprintf("MSG %d %s reply=%q hdr=%q data=%q", sid, m.Subject, m.Reply, m.Header, m.Data))
}
func (r *recorder) ping() { r.events = append(r.events, "PING") }
func (r *recorder) pong() { r.events = append(r.events, "PONG") }
func (r *recorder) info(arg []byte) error {
	r.events = append(r.events, "INFO "+string(arg))
	return nil
}
func (r *recorder) serverErr(t []byte) error {
	r.events = append(r.events, "ERR "+string(t))
	if r.fatal {
		return errors.New("fatal")
	}
	return nil
}

func newTestParser(maxLine, maxPayload int) (*parser, *recorder) {
	r := &recorder{}
	p := newParser(r, maxLine)
	p.setMaxPayload(maxPayload)
	return p, r
}

// feed parses in as the given chunks.
func feed(p *parser, chunks ...string) error {
	for _, c := range chunks {
		if err := p.parse([]byte(c)); err != nil {
			return err
		}
	}
	return nil
}

var parseCases = []struct {
	name string
	in   string
	want []string
}{
	{"msg", "MSG foo 1 5\r\nhello\r\n", []string{`MSG 1 foo reply="" hdr="" data="hello"`}},
	{"msg reply", "MSG foo.bar 12 _INBOX.x 3\r\nabc\r\n", []string{`MSG 12 foo.bar reply="_INBOX.x" hdr="" data="abc"`}},
	{"msg empty", "MSG foo 1 0\r\n\r\n", []string{`MSG 1 foo reply="" hdr="" data=""`}},
	{"msg lower case, tabs", "msg\tfoo\t1  2\r\nhi\r\n", []string{`MSG 1 foo reply="" hdr="" data="hi"`}},
	{"msg payload with crlf", "MSG foo 1 4\r\n\r\n\r\n\r\n", []string{`MSG 1 foo reply="" hdr="" data="\r\n\r\n"`}},
	{"hmsg", "HMSG foo 2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
		[]string{`MSG 2 foo reply="" hdr="NATS/1.0\r\n\r\n" data="hi"`}},
	{"hmsg reply", "HMSG foo 2 r.1 22 22\r\nNATS/1.0\r\nA: b\r\nC:\r\n\r\n\r\n",
		[]string{`MSG 2 foo reply="r.1" hdr="NATS/1.0\r\nA: b\r\nC:\r\n\r\n" data=""`}},
	{"ping pong ok", "PING\r\nPONG\r\n+OK\r\n", []string{"PING", "PONG"}},
	{"err", "-ERR 'Permissions Violation for Publish to \"x\"'\r\n", []string{`ERR Permissions Violation for Publish to "x"`}},
	{"info", "INFO {\"max_payload\":10}\r\n", []string{`INFO {"max_payload":10}`}},
	{"several", "PING\r\nMSG a 1 1\r\nx\r\nMSG b 2 1\r\ny\r\nPONG\r\n",
		[]string{"PING", `MSG 1 a reply="" hdr="" data="x"`, `MSG 2 b reply="" hdr="" data="y"`, "PONG"}},
}

// TestParseSplits feeds every case whole, a byte at a time, and cut in two
// at every point: the parser hears the same.
func TestParseSplits(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunks := range splits(tc.in) {
				p, r := newTestParser(256, 1024)
				if err := feed(p, chunks...); err != nil {
					t.Fatalf("%q: %v", chunks, err)
				}
				if !reflect.DeepEqual(r.events, tc.want) || p.state != stStart {
					t.Fatalf("%q: got %q in state %d, want %q", chunks, r.events, p.state, tc.want)
				}
			}
		})
	}
}

// splits returns in whole, byte by byte, and cut in two at every point.
func splits(in string) [][]string {
	out := [][]string{{in}, strings.Split(in, "")}
	for i := 1; i < len(in); i++ {
		out = append(out, []string{in[:i], in[i:]})
	}
	return out
}

// TestParseTruncated: every prefix of a case parses without error and
// without hearing more than the whole does.
func TestParseTruncated(t *testing.T) {
	for _, tc := range parseCases {
		for i := range len(tc.in) {
			p, r := newTestParser(256, 1024)
			if err := feed(p, tc.in[:i]); err != nil {
				t.Fatalf("%s: prefix %q: %v", tc.name, tc.in[:i], err)
			}
			if len(r.events) > len(tc.want) {
				t.Fatalf("%s: prefix %q heard %q", tc.name, tc.in[:i], r.events)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 300)
	cases := []struct {
		name string
		in   string
	}{
		{"unknown op", "XYZ\r\n"},
		{"bad keyword", "MSX foo 1 1\r\n"},
		{"no space", "MSGfoo 1 1\r\n"},
		{"too few args", "MSG foo 1\r\n"},
		{"too many args", "MSG a 1 b c d 1\r\n"},
		{"bad sid", "MSG foo x 1\r\n"},
		{"bad size", "MSG foo 1 -1\r\n"},
		{"size over max payload", "MSG foo 1 1025\r\n"},
		{"huge size", "MSG foo 1 99999999999999999999999\r\n"},
		{"hdr over size", "HMSG foo 1 5 4\r\n"},
		{"hmsg missing hdr", "HMSG foo 1 4\r\n"},
		{"long line", "MSG " + long + " 1 1\r\n"},
		{"long line unterminated", "MSG " + long},
		{"long err", "-ERR " + long + "\r\n"},
		{"long info", "INFO " + strings.Repeat(long, 14) + "\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunks := range [][]string{{tc.in}, strings.Split(tc.in, "")} {
				p, _ := newTestParser(256, 1024)
				if err := feed(p, chunks...); !errors.Is(err, ErrProtocol) {
					t.Fatalf("got %v, want ErrProtocol", err)
				}
			}
		})
	}
}

func TestParseFatalServerError(t *testing.T) {
	p, r := newTestParser(256, 1024)
	r.fatal = true
	if err := feed(p, "-ERR 'Authorization Violation'\r\nPING\r\n"); err == nil {
		t.Fatal("fatal -ERR did not stop the parse")
	}
	if want := []string{"ERR Authorization Violation"}; !reflect.DeepEqual(r.events, want) {
		t.Fatalf("got %q, want %q", r.events, want)
	}
}

// TestParseSplitPayloadReusesBuffer: a split payload is gathered in a
// buffer the parser keeps; the next split message of the same size does
// not allocate.
func TestParseSplitPayloadReusesBuffer(t *testing.T) {
	p := newParser(nopSink{}, 4096)
	p.setMaxPayload(1 << 20)
	in := hmsg("peer.recv.x", "_INBOX.abc", "NATS/1.0\r\nPeer-From: n1\r\n\r\n", strings.Repeat("x", 2018))
	allocs := testing.AllocsPerRun(100, func() {
		for _, cut := range []int{10, 30, 100, len(in) - 1} {
			if err := p.parse(in[:cut]); err != nil {
				t.Fatal(err)
			}
			if err := p.parse(in[cut:]); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run", allocs)
	}
}

type nopSink struct{}

func (nopSink) deliver(uint64, *Msg)     {}
func (nopSink) ping()                    {}
func (nopSink) pong()                    {}
func (nopSink) info([]byte) error        { return nil }
func (nopSink) serverErr(t []byte) error { return nil }

// hmsg is an HMSG for sid 1 as the server writes it.
func hmsg(subject, reply, header, data string) []byte {
	if reply != "" {
		subject += " 1 " + reply
	} else {
		subject += " 1"
	}
	return fmt.Appendf(nil, "HMSG %s %d %d\r\n%s%s\r\n", subject, len(header), len(header)+len(data), header, data)
}
