package membership

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/peerbridge/peerbridge/connector/identity"
)

// verify checks credential as peer's user JWT from a trusted account and
// returns what it grants.
func (p *Policy) verify(peer identity.NodeID, credential []byte) (member, error) {
	uc, err := jwt.DecodeUserClaims(string(credential)) // checks the issuer's signature
	if err != nil {
		return member{}, fmt.Errorf("credential: %w", err)
	}
	want, err := UserKey(peer)
	if err != nil {
		return member{}, err
	}
	if uc.Subject != want {
		return member{}, errors.New("credential was issued for another key")
	}
	account := uc.Issuer
	if uc.IssuerAccount != "" {
		account = uc.IssuerAccount
	}
	anchor, ok := p.trust[account]
	if !ok {
		return member{}, errors.New("credential is not from a trusted account")
	}
	perms := uc.Permissions
	if uc.Issuer != account { // issued by a signing key: the account must name it
		if anchor.Claims == nil {
			return member{}, errors.New("credential is signed by a signing key, and the account's JWT was not given to check it")
		}
		scope, ok := anchor.Claims.SigningKeys.GetScope(uc.Issuer)
		if !ok {
			return member{}, errors.New("credential is signed by a key the account does not name")
		}
		if us, ok := scope.(*jwt.UserScope); ok && us != nil {
			perms = us.Template.Permissions
		}
	}
	now := p.now()
	if uc.Expires > 0 && now.After(time.Unix(uc.Expires, 0)) {
		return member{}, errors.New("credential expired")
	}
	if uc.NotBefore > 0 && now.Before(time.Unix(uc.NotBefore, 0)) {
		return member{}, errors.New("credential is not valid yet")
	}
	if anchor.Claims != nil && anchor.Claims.IsClaimRevoked(uc) {
		return member{}, errors.New("credential was revoked")
	}
	m := member{account: account, pub: perms.Pub}
	if uc.Expires > 0 {
		m.expires = time.Unix(uc.Expires, 0)
	}
	return m, nil
}
