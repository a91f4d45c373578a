package natsconn

import (
	"bytes"
	"iter"
)

// Header is a raw NATS header block: the line "NATS/1.0", optionally with a
// status ("NATS/1.0 503"), then "Key: value" lines, then an empty line,
// every line ending in \r\n. Its methods read it in place, without
// allocating, and agree with nats.go on what a key and a value are: the key
// is everything before the first colon, case kept; the value is the rest,
// leading spaces and tabs trimmed.
type Header []byte

// headerVersion starts every header block.
const headerVersion = "NATS/1.0"

// Get returns the first value of key, matched without regard to ASCII case;
// ok is false when there is none.
func (h Header) Get(key string) (value []byte, ok bool) {
	for k, v := range h.All() {
		if equalFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// Values yields every value of key, in order, matched without regard to
// ASCII case.
func (h Header) Values(key string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for k, v := range h.All() {
			if equalFold(k, key) && !yield(v) {
				return
			}
		}
	}
}

// All yields every key and value, in order. Lines without a colon and
// empty keys are skipped, as nats.go skips them.
func (h Header) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		_, rest := nextLine(h) // the version line
		for len(rest) > 0 {
			var line []byte
			if line, rest = nextLine(rest); len(line) == 0 {
				return // the empty line ends the block
			}
			k, v, found := bytes.Cut(line, []byte{':'})
			if found && len(k) > 0 && !yield(k, trimLeadingSpace(v)) {
				return
			}
		}
	}
}

// Status returns the status of the version line ("503" of "NATS/1.0 503
// No Responders") and its description; both are empty when there is none.
func (h Header) Status() (code, description []byte) {
	line, _ := nextLine(h)
	if !bytes.HasPrefix(line, []byte(headerVersion)) {
		return nil, nil
	}
	rest := trimLeadingSpace(line[len(headerVersion):])
	code, description, _ = bytes.Cut(rest, []byte{' '})
	return code, trimLeadingSpace(description)
}

// Valid reports whether h is a header block the server will take: it
// starts with "NATS/1.0" and ends with an empty line.
func (h Header) Valid() bool {
	return bytes.HasPrefix(h, []byte(headerVersion)) && bytes.HasSuffix(h, []byte("\r\n\r\n"))
}

// AppendHeader appends "key: value" to the header block h, starting one
// when h is empty, and returns a block that is again complete. It does not
// check key or value: neither may hold \r, \n, and key no colon.
func AppendHeader(h Header, key, value string) Header {
	if len(h) == 0 {
		h = append(h, headerVersion+"\r\n"...)
	} else {
		h = bytes.TrimSuffix(h, []byte("\r\n")) // reopen the block
	}
	h = append(h, key...)
	h = append(h, ": "...)
	h = append(h, value...)
	return append(h, "\r\n\r\n"...)
}

// nextLine cuts b at the first \n, dropping a \r before it.
func nextLine(b []byte) (line, rest []byte) {
	line, rest, _ = bytes.Cut(b, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'}), rest
}

func trimLeadingSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// equalFold compares b and s without regard to ASCII case, without
// converting either.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x != y && (x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z') {
			return false
		}
	}
	return true
}
