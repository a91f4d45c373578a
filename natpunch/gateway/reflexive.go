package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/peerbridge/peerbridge/natpunch/wire"
)

// tokenEpoch is how long a probe answer's token is minted for; it is
// accepted in its epoch and the next, so for one to two epochs.
const tokenEpoch = time.Minute

// tokens mints and checks the tokens of probe answers (see
// wire.ProbeFlagToken): a MAC of the address the probe came from under a
// key of this gateway's, so a bridge proves in its registration that it
// received the answer sent to that address.
type tokens struct {
	key [32]byte

	refused atomic.Uint64 // reflexive addresses whose token did not check
}

func newTokens() (*tokens, error) {
	t := new(tokens)
	if _, err := rand.Read(t.key[:]); err != nil {
		return nil, fmt.Errorf("gateway: token key: %w", err)
	}
	return t, nil
}

// mint returns the token for addr at now.
func (t *tokens) mint(addr netip.AddrPort, now time.Time) [wire.TokenLen]byte {
	return t.at(addr, now.Unix()/int64(tokenEpoch/time.Second))
}

func (t *tokens) at(addr netip.AddrPort, epoch int64) [wire.TokenLen]byte {
	m := hmac.New(sha256.New, t.key[:])
	var b [8 + 16 + 2]byte
	binary.BigEndian.PutUint64(b[:], uint64(epoch))
	ip := addr.Addr().Unmap().As16()
	copy(b[8:], ip[:])
	binary.BigEndian.PutUint16(b[24:], addr.Port())
	m.Write(b[:])
	var out [wire.TokenLen]byte
	copy(out[:], m.Sum(nil))
	return out
}

// valid reports whether token is addr's, minted in now's epoch or the one
// before.
func (t *tokens) valid(addr netip.AddrPort, token []byte, now time.Time) bool {
	if len(token) != wire.TokenLen {
		return false
	}
	e := now.Unix() / int64(tokenEpoch/time.Second)
	for _, epoch := range []int64{e, e - 1} {
		if want := t.at(addr, epoch); hmac.Equal(want[:], token) {
			return true
		}
	}
	return false
}

// reflexive checks a registration's reflexive addresses against their
// tokens and keeps, of those that check, one per address family other than
// the family of remote (the registration's own connection), unmapped.
// Those that do not check are counted and left out: a stale token costs
// the bridge its other family until its next registration, nothing more.
func (t *tokens) reflexive(claims []wire.Reflexive, remote netip.AddrPort, now time.Time) ([]netip.AddrPort, error) {
	if len(claims) > wire.MaxReflexive {
		return nil, wire.BadRequest("%d reflexive addresses, at most %d", len(claims), wire.MaxReflexive)
	}
	if t == nil {
		return nil, nil
	}
	var out []netip.AddrPort
	for _, c := range claims {
		ap, err := netip.ParseAddrPort(c.Addr)
		if err != nil {
			return nil, wire.BadRequest("reflexive address: %v", err)
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if !t.valid(ap, c.Token, now) || sameFamily(ap, remote) || hasFamily(out, ap) {
			t.refused.Add(1)
			continue
		}
		out = append(out, ap)
	}
	return out, nil
}

func sameFamily(a, b netip.AddrPort) bool { return a.Addr().Unmap().Is4() == b.Addr().Unmap().Is4() }

func hasFamily(aps []netip.AddrPort, a netip.AddrPort) bool {
	for _, b := range aps {
		if sameFamily(a, b) {
			return true
		}
	}
	return false
}
