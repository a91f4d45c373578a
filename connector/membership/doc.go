// Package membership decides who may connect: the answer to "is this node
// one of ours?" that a bridge and a gateway ask in every TLS handshake,
// before any stream or allocation, and that a bridge asks again for each
// message, of the NATS subject the message would be published on.
//
// A node is accepted when:
//   - nothing is configured: the node is open, as a nats-server without
//     authorization is;
//   - it is on the allow list (--allow NODEID, optionally NODEID:TYPES);
//   - it presents a NATS user JWT (in its certificate, see
//     identity.WithCredential) issued by a trusted account, or one of the
//     account's signing keys, whose subject is the node's own key as a
//     user nkey, unexpired and not revoked (--trust).
//
// The JWT's publish permissions, or the types of an allow entry, bound what
// the node may cause on this bridge's NATS.
package membership
