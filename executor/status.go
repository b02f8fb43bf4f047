package executor

import "strings"

// Status is an instance or attempt @status, spelled as the service spells
// it (runtime.md §3.3).
type Status string

// The service's status names.
const (
	WaitingOnDependencies Status = "WAITING_ON_DEPENDENCIES"
	WaitingForRunner      Status = "WAITING_FOR_RUNNER"
	Creating              Status = "CREATING"
	Running               Status = "RUNNING"
	Finished              Status = "FINISHED"
	Failed                Status = "FAILED"
	CascadeFailed         Status = "CASCADE_FAILED"
	Canceled              Status = "CANCELED"
	TimedOut              Status = "TIMEDOUT"
	ShuttingDown          Status = "SHUTTING_DOWN"
	Skipped               Status = "SKIPPED"
	Paused                Status = "PAUSED"
)

// Terminal reports whether nothing more happens to an object in this
// status without an operator command (RERUN).
func (s Status) Terminal() bool {
	switch s {
	case Finished, Failed, CascadeFailed, Canceled, TimedOut, Skipped:
		return true
	}
	return false
}

// Bad reports whether the status counts as a failure of the run (exit 1).
func (s Status) Bad() bool {
	switch s {
	case Failed, CascadeFailed, Canceled, TimedOut:
		return true
	}
	return false
}

// ParseStatus reads a status case-insensitively, accepting the documented
// alternative spellings CANCELLED and TIMEOUT.
func ParseStatus(s string) (Status, bool) {
	u := Status(strings.ToUpper(strings.TrimSpace(s)))
	switch u {
	case "CANCELLED":
		return Canceled, true
	case "TIMEOUT":
		return TimedOut, true
	case WaitingOnDependencies, WaitingForRunner, Creating, Running, Finished, Failed,
		CascadeFailed, Canceled, TimedOut, ShuttingDown, Skipped, Paused:
		return u, true
	}
	return "", false
}

// Sphere is the @sphere of an object: what QueryObjects searches.
type Sphere string

const (
	SphereComponent Sphere = "COMPONENT"
	SphereInstance  Sphere = "INSTANCE"
	SphereAttempt   Sphere = "ATTEMPT"
)

// SetStatus commands (runtime.md §3.8): PAUSE/RESUME apply to components,
// the others to instances.
const (
	CmdPause        = "PAUSE"
	CmdResume       = "RESUME"
	CmdTryCancel    = "TRY_CANCEL"
	CmdRerun        = "RERUN"
	CmdMarkFinished = "MARK_FINISHED"
)
