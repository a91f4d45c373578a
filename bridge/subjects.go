package bridge

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/peerbridge/peerbridge/connector"
)

// MaxTypeLen is the longest message type the bridge accepts. It keeps every
// subject well inside NATS's default 4 KiB control line, which a server
// enforces by closing the connection.
const MaxTypeLen = 1024

// Verbs: the token after the prefix in a subject.
const (
	verbSend    = "send"
	verbRequest = "request"
	verbRecv    = "recv"
)

// wildcard returns the subject that matches every type under verb.
func (b *Bridge) wildcard(verb string) string {
	return b.cfg.Prefix + "." + verb + ".>"
}

// typeOf returns the message type in subject, which must be under verb.
// The type of a run of messages alike is made into a string once.
func (b *Bridge) typeOf(subject []byte, verb string) (string, error) {
	typ, ok := cutToken(subject, b.cfg.Prefix)
	if ok {
		typ, ok = cutToken(typ, verb)
	}
	if !ok {
		return "", fmt.Errorf("%w: subject %q is not under %s.%s", ErrBadRequest, subject, b.cfg.Prefix, verb)
	}
	if e := b.outType.last.Load(); e != nil && e.key == string(typ) {
		return e.val, nil
	}
	return b.outType.get(string(typ), checkedType)
}

// cutToken returns what follows tok and a dot at the start of s.
func cutToken(s []byte, tok string) ([]byte, bool) {
	if len(s) <= len(tok) || string(s[:len(tok)]) != tok || s[len(tok)] != '.' {
		return nil, false
	}
	return s[len(tok)+1:], true
}

// recvSubject returns where a message of type typ from a peer is published.
func (b *Bridge) recvSubject(typ string) (string, error) {
	return b.recvSubj.get(typ, func(typ string) (string, error) {
		if _, err := checkedType(typ); err != nil {
			return "", err
		}
		return b.cfg.Prefix + "." + verbRecv + "." + typ, nil
	})
}

// checkedType returns typ if checkType accepts it.
func checkedType(typ string) (string, error) {
	if err := checkType(typ); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return typ, nil
}

// serveSubject returns where a request of type typ from a peer is sent.
func (b *Bridge) serveSubject(typ string) (string, error) {
	if subject, ok := b.cfg.Serve[typ]; ok {
		return subject, nil
	}
	return b.recvSubject(typ)
}

// checkType reports whether typ can follow a subject prefix: no wildcards,
// no empty tokens, no spaces or control characters, at most MaxTypeLen bytes,
// and not one of the reserved control types of NAT traversal, so nothing
// published on NATS can pose as a gateway's message.
func checkType(typ string) error {
	if len(typ) > MaxTypeLen {
		return fmt.Errorf("type of %d bytes is longer than %d", len(typ), MaxTypeLen)
	}
	if err := checkSubject(typ); err != nil {
		return fmt.Errorf("type %q: %w", typ, err)
	}
	if strings.HasPrefix(typ, connector.ReservedTypePrefix) {
		return fmt.Errorf("type %q: types starting with %q are reserved for NAT traversal", typ, connector.ReservedTypePrefix)
	}
	return nil
}

// checkSubject reports whether s is a literal NATS subject.
func checkSubject(s string) error {
	if s == "" {
		return fmt.Errorf("empty subject")
	}
	if strings.ContainsFunc(s, badSubjectRune) {
		return fmt.Errorf("subject %q has a space or control character", s)
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" {
			return fmt.Errorf("subject %q has an empty token", s)
		}
		if strings.ContainsAny(tok, "*>") {
			return fmt.Errorf("subject %q has a wildcard", s)
		}
	}
	return nil
}

func badSubjectRune(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar
}
