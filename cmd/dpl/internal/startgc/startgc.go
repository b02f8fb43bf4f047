// Package startgc holds the garbage collector off while dpl's packages
// initialise. The AWS SDK's service schemas allocate ~6 MB in init, which
// at the runtime's default pacing (a 4 MB first goal) costs two
// collections before main runs: ~8 ms of CPU in a 45 ms validate of 5,000
// objects. It imports only runtime/debug, so the Go initialisation order
// (dependencies first, then import-path order among the ready packages)
// runs it before the SDK's packages; main calls Done to hand the
// collector back to the command's own settings.
package startgc

import (
	"math"
	"os"
	"runtime/debug"
)

// held reports whether init changed the collector's settings.
var held bool

func init() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return // the user's settings apply from the start
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20) // soft: init never needs this much
	held = true
}

// Done restores the default pacing (GOGC=100, no memory limit) if init
// held it; main then applies each command's own settings.
func Done() {
	if !held {
		return
	}
	held = false
	debug.SetMemoryLimit(math.MaxInt64)
	debug.SetGCPercent(100)
}
