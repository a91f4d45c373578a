package natsconn

import "fmt"

// checkSubject returns ErrBadSubject unless s is a valid subject: tokens
// separated by dots, none empty, no spaces or control characters, and, when
// wildcards is true, "*" as a whole token anywhere and ">" as the last.
// Without wildcards (publish and reply subjects) "*" and ">" tokens are
// refused, as pedantic nats-server refuses them.
func checkSubject(s string, wildcards bool) error {
	if s == "" {
		return fmt.Errorf("%w: empty subject", ErrBadSubject)
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if s[i] <= ' ' || s[i] == 0x7f {
				return fmt.Errorf("%w: %q holds a space or control character", ErrBadSubject, s)
			}
			continue
		}
		if err := checkToken(s, s[start:i], wildcards, i == len(s)); err != nil {
			return err
		}
		start = i + 1
	}
	return nil
}

func checkToken(s, tok string, wildcards, last bool) error {
	switch {
	case tok == "":
		return fmt.Errorf("%w: %q has an empty token", ErrBadSubject, s)
	case tok != "*" && tok != ">":
		return nil
	case !wildcards:
		return fmt.Errorf("%w: %q holds a wildcard", ErrBadSubject, s)
	case tok == ">" && !last:
		return fmt.Errorf("%w: %q has > before its last token", ErrBadSubject, s)
	}
	return nil
}

// checkQueue returns ErrBadSubject unless q is empty or a valid queue group
// name: no spaces or control characters.
func checkQueue(q string) error {
	for i := range len(q) {
		if q[i] <= ' ' || q[i] == 0x7f {
			return fmt.Errorf("%w: queue %q holds a space or control character", ErrBadSubject, q)
		}
	}
	return nil
}
