package natsconn

import "fmt"

// msgArgs are the arguments of MSG or HMSG, sliced from the control line.
type msgArgs struct {
	subject []byte
	reply   []byte // nil when there is none
	sid     uint64
	hdr     int // header bytes, HMSG only
	size    int // payload bytes, headers included
}

// maxArgs is the most fields a MSG or HMSG line has:
// HMSG <subject> <sid> [reply] <hdr> <size>.
const maxArgs = 5

// parse reads "subject sid [reply] size" (MSG) or "subject sid [reply] hdr
// size" (HMSG) from arg, without allocating, and checks every number
// against maxPayload before anything uses it.
func (a *msgArgs) parse(arg []byte, hmsg bool, maxPayload int) error {
	var fields [maxArgs][]byte
	n, ok := splitFields(arg, &fields)
	sizes := 1
	if hmsg {
		sizes = 2
	}
	if !ok || n < 2+sizes || n > 3+sizes {
		return fmt.Errorf("%w: bad MSG arguments %q", ErrProtocol, snippet(arg))
	}
	a.subject, a.reply, a.hdr = fields[0], nil, 0
	if n == 3+sizes {
		a.reply = fields[2]
	}
	sid, okSid := parseUint(fields[1], 19)
	size, okSize := parseUint(fields[n-1], 10)
	hdr, okHdr := parseUint(fields[n-2], 10)
	switch {
	case !okSid || !okSize || hmsg && !okHdr:
		return fmt.Errorf("%w: bad number in MSG arguments %q", ErrProtocol, snippet(arg))
	case size > uint64(maxPayload):
		return fmt.Errorf("%w: payload of %d bytes exceeds max_payload %d", ErrProtocol, size, maxPayload)
	case hmsg && hdr > size:
		return fmt.Errorf("%w: header of %d bytes in a payload of %d", ErrProtocol, hdr, size)
	}
	a.sid, a.size = sid, int(size)
	if hmsg {
		a.hdr = int(hdr)
	}
	return nil
}

// splitFields splits arg at spaces and tabs into fields; ok is false when
// there are more than maxArgs.
func splitFields(arg []byte, fields *[maxArgs][]byte) (n int, ok bool) {
	start := -1
	for i, b := range arg {
		if b != ' ' && b != '\t' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if n == maxArgs {
				return n, false
			}
			fields[n], n, start = arg[start:i:i], n+1, -1
		}
	}
	if start >= 0 {
		if n == maxArgs {
			return n, false
		}
		fields[n], n = arg[start:len(arg):len(arg)], n+1
	}
	return n, true
}

// parseUint reads a decimal of at most maxDigits digits, so it cannot
// overflow.
func parseUint(d []byte, maxDigits int) (uint64, bool) {
	if len(d) == 0 || len(d) > maxDigits {
		return 0, false
	}
	var n uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// snippet bounds what an error quotes of server input.
func snippet(b []byte) []byte { return b[:min(len(b), 64)] }
