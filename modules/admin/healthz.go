package admin

import (
	"fmt"
	"net/http"
	"strings"
)

// healthz answers 200 "ok" when every check passes, and 503 with one line
// per failing check otherwise.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	var failed []string
	for _, c := range s.cfg.Checks {
		if err := c.Fn(); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", c.Name, err))
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(failed, "\n"))
		return
	}
	fmt.Fprintln(w, "ok")
}
