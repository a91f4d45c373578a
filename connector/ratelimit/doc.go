// Package ratelimit meters what remote nodes may ask of us: a [Rate] is a
// token bucket written once, and a [KeyLimiter] gives every node ID its own
// bucket, in a bounded table, while all of them draw from one shared bucket
// too. Both sides of NAT traversal use it (the gateway per asker and per
// target, the bridge for the punches and relay sessions peers ask of it),
// so rates are configured, defaulted and shown one way everywhere.
package ratelimit
