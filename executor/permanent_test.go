package executor

import (
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/task"
)

// TestPermanentFailuresAreNotRetried: a failure no attempt can fix
// (unsupported type, missing program, impossible configuration) fails the
// instance at its first attempt, with the runner's message; an ordinary
// failure still uses every retry.
func TestPermanentFailuresAreNotRetried(t *testing.T) {
	cases := []struct {
		name     string
		errorID  string
		attempts int
	}{
		{"unsupported", task.ErrorIDUnsupported, 1},
		{"command not found", task.ErrorIDCommandNotFound, 1},
		{"invalid task", task.ErrorIDInvalidTask, 1},
		{"unknown type", task.ErrorIDUnknownType, 1},
		{"ordinary failure", "Runner_CommandFailed", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRun(t, one(`"maximumRetries":"2","retryDelay":"10 minutes"`,
				`{"id":"A","type":"ShellCommandActivity","command":"x"}`), Options{})
			s := r.drive(always(outcome{res: task.Result{Status: task.Failed, ErrorID: c.errorID, ErrorMessage: "the reason"}}))
			if s.OK {
				t.Fatal("run OK, want failure")
			}
			r.wantStatus(iA, Failed)
			if n := len(r.at["A"]); n != c.attempts {
				t.Errorf("%d attempts, want %d", n, c.attempts)
			}
			in := r.inst(iA)
			if !strings.Contains(in.ErrorMessage, "the reason") {
				t.Errorf("errorMessage %q lost the runner's message", in.ErrorMessage)
			}
			if in.ErrorID != c.errorID {
				t.Errorf("errorId %q, want %q", in.ErrorID, c.errorID)
			}
		})
	}
}
