// Package hostile attacks a real connector and bridge on loopback the way a
// hostile peer would: an attacker holding nothing but a freshly generated
// key, speaking raw QUIC and hand-made frames. Its tests assert that what a
// user cares about survives the attack (legitimate traffic is answered,
// memory stays within its configured budget, refusals are counted,
// goroutines come back) rather than how fast anything is.
package hostile
