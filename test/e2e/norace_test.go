//go:build !race

package e2e_test

// raceEnabled reports a -race build, too slow for the burst tests.
const raceEnabled = false
