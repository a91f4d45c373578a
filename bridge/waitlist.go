package bridge

import (
	"context"
	"sync"
	"time"
)

// waitList holds the outbound messages with the default timeout while they
// wait for their acknowledgements, and fails each one still there when its
// timeout runs out, or all of them when the bridge's lifetime ends.
// Messages with one timeout join in the order of their deadlines, so a
// single timer, set for the oldest, serves them all: a message costs no
// allocation, context or timer of its own.
type waitList struct {
	timeout time.Duration

	mu         sync.Mutex  // guards every field below and the links of the sendings listed
	head, tail *sending    // oldest and newest waiting message
	timer      *time.Timer // runs expireDue at the head's deadline, or later; nil until needed
	closed     bool        // the lifetime ended: add refuses
}

// waitLink is a sending's place in a waitList, guarded by the list's mutex.
type waitLink struct {
	prev, next *sending
	deadline   time.Time
	listed     bool
}

// add lists s, which is then expired at its deadline unless removed first.
// It reports false, listing nothing, once the list is closed.
func (l *waitList) add(s *sending) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	now := time.Now() // under the lock, so that deadlines grow along the list
	s.link = waitLink{prev: l.tail, deadline: now.Add(l.timeout), listed: true}
	if l.tail == nil {
		l.head = s
		l.armLocked(l.timeout)
	} else {
		l.tail.link.next = s
	}
	l.tail = s
	return true
}

// remove takes s off the list if it is still there. The timer stays: if it
// was set for s, it finds the next deadline when it fires.
func (l *waitList) remove(s *sending) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.link.listed {
		l.unlinkLocked(s)
	}
}

func (l *waitList) unlinkLocked(s *sending) {
	if s.link.prev != nil {
		s.link.prev.link.next = s.link.next
	} else {
		l.head = s.link.next
	}
	if s.link.next != nil {
		s.link.next.link.prev = s.link.prev
	} else {
		l.tail = s.link.prev
	}
	s.link = waitLink{}
}

func (l *waitList) armLocked(d time.Duration) {
	if l.timer == nil {
		l.timer = time.AfterFunc(d, l.expireDue)
	} else {
		l.timer.Reset(d)
	}
}

// expireDue fails the messages whose deadline has passed and sets the timer
// for the next one.
func (l *waitList) expireDue() {
	now := time.Now()
	l.mu.Lock()
	var due []*sending
	for l.head != nil && !l.head.link.deadline.After(now) {
		s := l.head
		l.unlinkLocked(s)
		due = append(due, s)
	}
	if l.head != nil && !l.closed {
		l.armLocked(l.head.link.deadline.Sub(now))
	}
	l.mu.Unlock()
	for _, s := range due {
		s.expire(context.DeadlineExceeded)
	}
}

// close refuses further messages and fails those listed, as the bridge's
// lifetime has ended.
func (l *waitList) close() {
	l.mu.Lock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	var all []*sending
	for l.head != nil {
		s := l.head
		l.unlinkLocked(s)
		all = append(all, s)
	}
	l.mu.Unlock()
	for _, s := range all {
		s.expire(context.Canceled)
	}
}
