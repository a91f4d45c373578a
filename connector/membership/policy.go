package membership

import (
	"cmp"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/peerbridge/peerbridge/connector/identity"
	"github.com/peerbridge/peerbridge/connector/ratelimit"
)

// Config says who may connect. The zero Config is an open node.
type Config struct {
	// Allow lists the nodes accepted without a credential.
	Allow []Allow
	// Trust lists the accounts whose user JWTs admit a node.
	Trust []Anchor
	// MaxMembers bounds the JWT members remembered between their handshake
	// and their messages. Default 65,536.
	MaxMembers int
	// Now is the clock JWTs are checked against. Default time.Now.
	Now func() time.Time
}

// DefaultMaxMembers is Config.MaxMembers' default.
const DefaultMaxMembers = 65536

// member is what a node's accepted JWT says.
type member struct {
	account string
	expires time.Time // zero: never
	pub     jwt.Permission
}

// Policy is a node's answer to who may connect and what each may cause.
// It is safe for concurrent use.
type Policy struct {
	allow    map[identity.NodeID]Allow
	trust    map[string]Anchor
	max      int
	now      func() time.Time
	log      *slog.Logger
	warnings ratelimit.Warnings // at most one refusal logged a second

	closed atomic.Bool     // anything configured: not every node is accepted
	own    *jwt.Permission // this node's own credential's publish permissions; nil: none

	mu      sync.Mutex // guards allow (after New) and members
	members map[identity.NodeID]member

	accepted, refused atomic.Uint64
}

// New returns the policy cfg describes; log (nil: none) is told of refused
// nodes, at most once a second.
func New(cfg Config, log *slog.Logger) (*Policy, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Policy{
		allow: make(map[identity.NodeID]Allow), trust: make(map[string]Anchor),
		max: cmp.Or(cfg.MaxMembers, DefaultMaxMembers), now: cfg.Now, log: log,
		members: make(map[identity.NodeID]member),
	}
	if p.now == nil {
		p.now = time.Now
	}
	for _, a := range cfg.Allow {
		if old, ok := p.allow[a.Node]; ok && (len(old.Types) == 0 || len(a.Types) == 0) {
			a.Types = nil // one entry without types allows every type
		} else if ok {
			a.Types = append(old.Types, a.Types...)
		}
		p.allow[a.Node] = a
	}
	for _, t := range cfg.Trust {
		if t.Account == "" {
			return nil, fmt.Errorf("%w: empty account", ErrBadTrust)
		}
		p.trust[t.Account] = t
	}
	p.closed.Store(len(p.allow) > 0 || len(p.trust) > 0)
	return p, nil
}

// Open reports whether the policy accepts every node: nothing is
// configured.
func (p *Policy) Open() bool { return p == nil || !p.closed.Load() }

// AllowNode adds node to the allow list with every type: a --peer or a
// gateway the operator configured is accepted implicitly. On an open policy
// it changes nothing: every node is accepted already.
func (p *Policy) AllowNode(node identity.NodeID) {
	if p.Open() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allow[node] = Allow{Node: node}
}

// Check is the handshake's question (an identity.Policy): may peer, which
// proved its key and presented credential, connect? It refuses with an
// *identity.NotAllowedError, counted and logged at most once a second.
func (p *Policy) Check(peer identity.NodeID, credential []byte) error {
	if p.Open() {
		return nil
	}
	err := p.check(peer, credential)
	if err != nil {
		p.refused.Add(1)
		if n, ok := p.warnings.Allow(time.Now(), time.Second); ok {
			p.log.Warn("refusing a node that is not allowed", "node", string(peer), "reason", err.(*identity.NotAllowedError).Reason, "refused_since_last_warning", n)
		}
		return err
	}
	p.accepted.Add(1)
	return nil
}

func (p *Policy) check(peer identity.NodeID, credential []byte) error {
	p.mu.Lock()
	_, listed := p.allow[peer]
	p.mu.Unlock()
	if listed {
		return nil
	}
	if len(credential) == 0 || len(p.trust) == 0 {
		return &identity.NotAllowedError{Node: peer, Reason: "not on the allow list and no credential from a trusted account"}
	}
	m, err := p.verify(peer, credential)
	if err != nil {
		return &identity.NotAllowedError{Node: peer, Reason: err.Error()}
	}
	p.remember(peer, m)
	return nil
}

// remember keeps m for peer's messages, within MaxMembers: a full table
// drops the members whose JWTs expired, then an arbitrary one.
func (p *Policy) remember(peer identity.NodeID, m member) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.members[peer]; !ok && len(p.members) >= p.max {
		now := p.now()
		for id, old := range p.members {
			if !old.expires.IsZero() && now.After(old.expires) {
				delete(p.members, id)
			}
		}
		for id := range p.members {
			if len(p.members) < p.max {
				break
			}
			delete(p.members, id)
		}
	}
	p.members[peer] = m
}

// Accepts reports whether this node would connect to peer: for a send, it
// is asked before dialling. A node that may become a member by its JWT is
// accepted here; its handshake decides.
func (p *Policy) Accepts(peer identity.NodeID) bool {
	if p.Open() || len(p.trust) > 0 { // trust is set in New and never changes
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.allow[peer]
	return ok
}

// MayDeliver reports whether peer may have a message of type typ published
// on subject here: an allow entry's types must match typ, a JWT's publish
// permissions subject. A member whose JWT expired since its handshake may
// no longer.
func (p *Policy) MayDeliver(peer identity.NodeID, typ, subject string) bool {
	if p.Open() {
		return true
	}
	p.mu.Lock()
	a, listed := p.allow[peer]
	m, member := p.members[peer]
	p.mu.Unlock()
	if listed {
		return len(a.Types) == 0 || matchAny(a.Types, typ)
	}
	if !member || (!m.expires.IsZero() && p.now().After(m.expires)) {
		return false
	}
	if len(m.pub.Allow) > 0 && !matchAny(m.pub.Allow, subject) {
		return false
	}
	return !matchAny(m.pub.Deny, subject)
}

// SetOwnCredential reads the publish permissions of the credential this
// node presents (a user JWT), for MaySend. Call it before the policy is
// used.
func (p *Policy) SetOwnCredential(credential []byte) error {
	uc, err := jwt.DecodeUserClaims(string(credential))
	if err != nil {
		return fmt.Errorf("membership: own credential: %w", err)
	}
	pub := uc.Permissions.Pub
	p.own = &pub
	return nil
}

// MaySend reports whether this node's own credential allows it to cause
// a message of type typ at a peer that checks it, which publishes it on
// <prefix>.recv.<typ> (true without a credential): a message a peer would
// refuse (403) is refused before it is sent. The subject is built only when
// there is a credential to check: this runs for every outbound message.
func (p *Policy) MaySend(prefix, typ string) bool {
	if p == nil || p.own == nil {
		return true
	}
	subject := prefix + ".recv." + typ
	if len(p.own.Allow) > 0 && !matchAny(p.own.Allow, subject) {
		return false
	}
	return !matchAny(p.own.Deny, subject)
}

// Membership says in words why peer is accepted: "open", "allowed by
// list", "member of account A..." or "not allowed".
func (p *Policy) Membership(peer identity.NodeID) string {
	if p.Open() {
		return "open"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.allow[peer]; ok {
		return "allowed by list"
	}
	if m, ok := p.members[peer]; ok {
		return "member of account " + m.account
	}
	return "not allowed"
}

// Stats counts the handshakes the policy accepted and refused.
type Stats struct {
	Accepted, Refused uint64
}

// Stats returns the policy's counters.
func (p *Policy) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	return Stats{Accepted: p.accepted.Load(), Refused: p.refused.Load()}
}
