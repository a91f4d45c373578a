package natsconn

import (
	"bytes"
	"fmt"
)

// maxPayloadCap bounds max_payload whatever the server's INFO says: it is
// nats-server's own upper limit, and what a lying server can make the
// parser allocate for one split message.
const maxPayloadCap = 64 << 20

// infoLineFactor: an INFO line may be this many times MaxControlLine, as
// nats-server allows its routes and leaf nodes (a cluster's INFO lists
// URLs).
const infoLineFactor = 16

// sink hears what the parser reads. Slices given to it are valid only
// during the call. An error it returns stops the parse.
type sink interface {
	deliver(sid uint64, m *Msg)
	ping()
	pong()
	info(arg []byte) error
	serverErr(text []byte) error
}

// Parser states.
const (
	stStart     = iota
	stP         // read P: PING or PONG
	stKeyword   // matching the rest of kw
	stSpace     // a keyword that takes an argument: one space or tab
	stSkipSpace // more spaces or tabs before the argument
	stArg       // the argument, up to \n
	stLineEnd   // a keyword without an argument, up to \n
	stPayload   // the payload of MSG or HMSG
	stMsgEnd    // the \r\n after a payload
)

// Operations.
const (
	opMsg = iota
	opHmsg
	opPing
	opPong
	opOK
	opErr
	opInfo
)

// parser reads the server side of the NATS client protocol a byte at a
// time. It slices what it can from the read buffer; a control line or a
// payload split across reads is copied into buffers it keeps and reuses,
// so it allocates only when a split payload is larger than any before.
type parser struct {
	sink sink

	state int
	op    int
	kw    string // keyword being matched
	ki    int    // bytes of kw matched
	as    int    // start of the argument or payload in the current buffer

	arg     []byte // control line split across reads; nil when in the buffer
	scratch []byte // backing store of arg, MaxControlLine long
	payload []byte // payload split across reads
	copying bool   // payload is being gathered in payload

	ma  msgArgs
	msg Msg

	maxLine    int // bound of a MSG, HMSG or -ERR line
	maxPayload int // bound of a payload with its headers
}

func newParser(s sink, maxLine int) *parser {
	return &parser{sink: s, maxLine: maxLine, scratch: make([]byte, 0, maxLine+1)}
}

// setMaxPayload sets the payload bound from the server's INFO.
func (p *parser) setMaxPayload(n int) { p.maxPayload = min(max(n, 0), maxPayloadCap) }

// parse feeds buf, the next bytes from the server, through the parser.
func (p *parser) parse(buf []byte) error {
	p.as = 0
	for i := 0; i < len(buf); i++ {
		b := buf[i]
		switch p.state {
		case stStart:
			if !p.start(b) {
				return p.bad(buf, i)
			}
		case stP:
			switch b | 0x20 {
			case 'i':
				p.keyword(opPing, "PING", 2)
			case 'o':
				p.keyword(opPong, "PONG", 2)
			default:
				return p.bad(buf, i)
			}
		case stKeyword:
			if b|0x20 != p.kw[p.ki]|0x20 {
				return p.bad(buf, i)
			}
			if p.ki++; p.ki == len(p.kw) {
				p.state = p.afterKeyword()
			}
		case stSpace:
			if b != ' ' && b != '\t' {
				return p.bad(buf, i)
			}
			p.state = stSkipSpace
		case stSkipSpace:
			if b != ' ' && b != '\t' {
				p.state, p.as = stArg, i
				i-- // the byte starts the argument
			}
		case stArg:
			next, err := p.argBytes(buf, i)
			if err != nil {
				return err
			}
			i = next
		case stLineEnd:
			if b == '\n' {
				p.endLine()
			}
		case stPayload:
			i = p.payloadByte(buf, i)
		case stMsgEnd:
			if b == '\n' {
				p.state = stStart
			}
		}
	}
	return p.split(buf)
}

// start reads the first byte of an operation.
func (p *parser) start(b byte) bool {
	switch b | 0x20 {
	case 'm':
		p.keyword(opMsg, "MSG", 1)
	case 'h':
		p.keyword(opHmsg, "HMSG", 1)
	case 'p':
		p.state = stP
	case 'i':
		p.keyword(opInfo, "INFO", 1)
	default:
		switch b {
		case '+':
			p.keyword(opOK, "+OK", 1)
		case '-':
			p.keyword(opErr, "-ERR", 1)
		default:
			return false
		}
	}
	return true
}

func (p *parser) keyword(op int, kw string, matched int) {
	p.state, p.op, p.kw, p.ki = stKeyword, op, kw, matched
}

func (p *parser) afterKeyword() int {
	switch p.op {
	case opPing, opPong, opOK:
		return stLineEnd
	}
	return stSpace
}

func (p *parser) endLine() {
	switch p.op {
	case opPing:
		p.sink.ping()
	case opPong:
		p.sink.pong()
	}
	p.state = stStart
}

// argLimit is the longest argument the current operation may have.
func (p *parser) argLimit() int {
	if p.op == opInfo {
		return p.maxLine * infoLineFactor
	}
	return p.maxLine
}

// argBytes reads an argument from byte i, up to its \n or the end of buf,
// and returns the index to go on from.
func (p *parser) argBytes(buf []byte, i int) (int, error) {
	j := bytes.IndexByte(buf[i:], '\n')
	if j < 0 { // the line goes on in the next read
		if p.arg != nil {
			if len(p.arg)+len(buf)-i > p.argLimit()+1 {
				return i, p.tooLong(len(p.arg) + len(buf) - i)
			}
			p.arg = append(p.arg, buf[i:]...)
		}
		return len(buf) - 1, nil
	}
	end := i + j
	arg := buf[p.as:end]
	if p.arg != nil {
		if len(p.arg)+j > p.argLimit()+1 {
			return i, p.tooLong(len(p.arg) + j)
		}
		p.arg = append(p.arg, buf[i:end]...)
		arg = p.arg
	}
	if arg = bytes.TrimSuffix(arg, []byte{'\r'}); len(arg) > p.argLimit() {
		return i, p.tooLong(len(arg))
	}
	p.as = end + 1
	if err := p.endArg(arg); err != nil {
		return i, err
	}
	if p.state == stPayload {
		return p.as + p.ma.size - 1, nil // jump over the payload
	}
	return end, nil
}

// endArg acts on a complete argument. The args of MSG and HMSG stay in arg
// (which is nil when they are in the read buffer) until the payload is
// delivered.
func (p *parser) endArg(arg []byte) error {
	if p.op != opMsg && p.op != opHmsg {
		p.arg = nil
	}
	switch p.op {
	case opMsg, opHmsg:
		if err := p.ma.parse(arg, p.op == opHmsg, p.maxPayload); err != nil {
			return err
		}
		p.state = stPayload
		return nil
	case opErr:
		p.state = stStart
		return p.sink.serverErr(unquote(arg))
	}
	p.state = stStart
	return p.sink.info(arg)
}

// payloadByte reads at byte i of a payload and returns the index to go on from.
func (p *parser) payloadByte(buf []byte, i int) int {
	if !p.copying {
		if i-p.as >= p.ma.size {
			p.deliver(buf[p.as : p.as+p.ma.size])
			p.endPayload(buf[i])
		}
		return i
	}
	if need := p.ma.size - len(p.payload); need > 0 {
		n := min(need, len(buf)-i)
		p.payload = append(p.payload, buf[i:i+n]...)
		return i + n - 1
	}
	p.deliver(p.payload)
	p.endPayload(buf[i])
	return i
}

// endPayload moves on after a delivered payload; b is the byte after it.
func (p *parser) endPayload(b byte) {
	p.copying, p.payload, p.arg = false, p.payload[:0], nil
	p.state = stMsgEnd
	if b == '\n' {
		p.state = stStart
	}
}

func (p *parser) deliver(payload []byte) {
	m := &p.msg
	m.Subject, m.Reply, m.Header, m.Data = p.ma.subject, p.ma.reply, nil, payload
	if p.op == opHmsg && p.ma.hdr > 0 {
		m.Header, m.Data = Header(payload[:p.ma.hdr]), payload[p.ma.hdr:]
	}
	p.sink.deliver(p.ma.sid, m)
	*m = Msg{}
}

// split keeps what the next read needs of a buffer that ended inside an
// argument or a payload.
func (p *parser) split(buf []byte) error {
	switch {
	case p.state == stArg && p.arg == nil:
		if n := len(buf) - p.as; n > p.argLimit()+1 { // +1: a \r
			return p.tooLong(n)
		}
		p.arg = append(p.scratch[:0], buf[p.as:]...)
	case p.state == stPayload && !p.copying:
		rest := buf[p.as:]
		if len(rest) >= p.ma.size { // whole payload here: no need to copy it
			p.deliver(rest[:p.ma.size])
			p.endPayload(0)
			return nil
		}
		if p.arg == nil {
			p.keepArgs()
		}
		if cap(p.payload) < p.ma.size {
			p.payload = make([]byte, 0, p.ma.size)
		}
		p.payload, p.copying = append(p.payload[:0], rest...), true
	}
	return nil
}

// keepArgs copies subject and reply, still in the read buffer, to scratch.
func (p *parser) keepArgs() {
	s, r := len(p.ma.subject), len(p.ma.reply)
	p.arg = append(append(p.scratch[:0], p.ma.subject...), p.ma.reply...)
	p.ma.subject = p.arg[:s:s]
	if p.ma.reply != nil {
		p.ma.reply = p.arg[s : s+r : s+r]
	}
}

func (p *parser) tooLong(n int) error {
	return fmt.Errorf("%w: control line of %d bytes exceeds %d", ErrProtocol, n, p.argLimit())
}

func (p *parser) bad(buf []byte, i int) error {
	return fmt.Errorf("%w: unexpected %q in state %d", ErrProtocol, buf[i:min(i+32, len(buf))], p.state)
}

// unquote strips the single quotes nats-server puts around -ERR texts.
func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '\'' && b[len(b)-1] == '\'' {
		return b[1 : len(b)-1]
	}
	return b
}
