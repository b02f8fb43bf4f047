//go:build !linux

package proc

import (
	"errors"
	"syscall"
	"time"
)

// StartTime is unknown outside Linux.
func StartTime(int) (uint64, error) { return 0, errors.New("process start times need /proc (Linux)") }

// Pdeathsig is unsupported outside Linux.
const Pdeathsig = syscall.Signal(0)

// KillLeftovers is a no-op outside Linux: there is no /proc to verify a
// pid against, and killing an unverified pid could hit another program.
func KillLeftovers(string, []Group, time.Duration) (int, error) { return 0, nil }
