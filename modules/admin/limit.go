package admin

import (
	"net"
	"net/http"
	"sync"
)

// Stats is what the server has done with the connections it was offered.
type Stats struct {
	// Conns are the connections open now.
	Conns int
	// Refused counts connections closed at once because MaxConns were
	// open and none of them idle.
	Refused uint64
	// IdleClosed counts idle connections closed to make room for a new one.
	IdleClosed uint64
}

// conns admits connections up to max, closing the longest-idle one to make
// room for a newcomer and refusing the newcomer when every one is serving
// a request.
type conns struct {
	max int

	mu   sync.Mutex          // guards open, tick and stats
	open map[net.Conn]uint64 // open connections: 0 while serving, else when it went idle (tick)
	tick uint64
	st   Stats
}

func newConns(max int) *conns {
	return &conns{max: max, open: make(map[net.Conn]uint64, max)}
}

// admit reports whether c may be served; it closes c, or the connection
// idle longest, to keep to max.
func (cs *conns) admit(c net.Conn) bool {
	cs.mu.Lock()
	var victim net.Conn
	if len(cs.open) >= cs.max {
		victim = cs.longestIdleLocked()
		if victim == nil {
			cs.st.Refused++
			cs.mu.Unlock()
			c.Close()
			return false
		}
		delete(cs.open, victim)
		cs.st.IdleClosed++
	}
	cs.tick++
	cs.open[c] = cs.tick // idle until its first request arrives
	cs.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	return true
}

// longestIdleLocked returns the connection idle longest, nil if all are
// serving.
func (cs *conns) longestIdleLocked() net.Conn {
	var oldest net.Conn
	var since uint64
	for c, t := range cs.open {
		if t != 0 && (oldest == nil || t < since) {
			oldest, since = c, t
		}
	}
	return oldest
}

// track is the http.Server's ConnState hook.
func (cs *conns) track(c net.Conn, s http.ConnState) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.open[c]; !ok {
		return // closed to make room
	}
	switch s {
	case http.StateActive:
		cs.open[c] = 0
	case http.StateIdle:
		cs.tick++
		cs.open[c] = cs.tick
	case http.StateHijacked, http.StateClosed:
		delete(cs.open, c)
	}
}

func (cs *conns) stats() Stats {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	st := cs.st
	st.Conns = len(cs.open)
	return st
}

// limitListener hands the server only the connections conns admits.
type limitListener struct {
	net.Listener
	cs *conns
}

// Accept implements net.Listener.
func (l limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.cs.admit(c) {
			return c, nil
		}
	}
}
