//go:build !race

package wan_test

// raceEnabled reports a -race build, whose figures mean nothing.
const raceEnabled = false
