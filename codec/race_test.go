//go:build race

package codec

// raceEnabled is set when the race detector runs, which makes sync.Pool
// drop items at random and so changes allocation counts.
const raceEnabled = true
