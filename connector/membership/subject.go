package membership

import "strings"

// matchSubject reports whether NATS subject s matches pattern p, where a
// "*" token matches one token and a final ">" one or more.
func matchSubject(p, s string) bool {
	for {
		pt, prest, pmore := strings.Cut(p, ".")
		if pt == ">" && !pmore {
			return s != ""
		}
		st, srest, smore := strings.Cut(s, ".")
		if st == "" || (pt != "*" && pt != st) {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		p, s = prest, srest
	}
}

// matchAny reports whether s matches any of patterns.
func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if matchSubject(p, s) {
			return true
		}
	}
	return false
}
