// Package proc finds and stops what a killed dpl left running. Every
// command an attempt starts runs in its own process group, with an
// environment marker naming the state folder and the attempt; the group's
// leader pid and its start time are recorded in the store. After a crash,
// the next dpl on that state folder kills the recorded groups (only when
// the leader's start time still matches, so a reused pid is never hit)
// and every process that carries the folder's marker.
package proc

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// EnvVar is the environment variable that marks an attempt's processes:
// DPL_ATTEMPT=<state folder id>/<owner pid>.<owner start time>/<attempt id>,
// the owner being the dpl process that started them. Only processes whose
// owner is dead are leftovers: a live dpl's children are never touched.
const EnvVar = "DPL_ATTEMPT"

// FolderID identifies a state folder in markers (a hash of its absolute
// path, so markers carry no path and stay short).
func FolderID(stateDir string) string {
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
	}
	sum := sha256.Sum256([]byte(stateDir))
	return hex.EncodeToString(sum[:8])
}

// Marker is the EnvVar value for one attempt's processes started by this
// process.
func Marker(stateDir, attemptID string) string {
	return FolderID(stateDir) + "/" + self() + "/" + attemptID
}

// self is this process in markers: pid and start time, read on first use
// (not at start-up: commands that start no process, validate say, skip it).
var self = sync.OnceValue(func() string {
	pid := os.Getpid()
	start, _ := StartTime(pid)
	return strconv.Itoa(pid) + "." + strconv.FormatUint(start, 10)
})

// Group is a process group an attempt started: its leader's pid (the
// group id) and the leader's start time in clock ticks since boot
// (/proc/<pid>/stat field 22), 0 when unknown.
type Group struct {
	Pgid  int
	Start uint64
}
