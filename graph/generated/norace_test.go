//go:build !race

package generated

// Not generated: whether the tests run under the race detector.
const raceEnabled = false
