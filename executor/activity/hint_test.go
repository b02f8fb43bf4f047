package activity

import (
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/task"
)

func TestMissingCommandHint(t *testing.T) {
	dep := "@Load_2024-01-01T00:00:00"
	withDep := &task.Object{ID: "@Clean_2024-01-01T00:00:00_Attempt=1", Fields: []task.Field{{Key: "dependsOn", RefValue: &dep}}}
	bare := &task.Object{ID: "@Clean_2024-01-01T00:00:00_Attempt=1"}
	cases := []struct {
		name   string
		a      *task.Object
		code   int
		stderr string
		want   []string // substrings; none means no hint
	}{
		{"dash sudo", withDep, 127, "sh: 1: sudo: not found", []string{`"sudo" is not installed`, "Amazon Linux EC2/EMR host", "(" + dep + ") finished"}},
		{"bash yum", bare, 127, "bash: line 1: yum: command not found", []string{`"yum" is not installed`, "Amazon Linux"}},
		{"sudo without yum", bare, 1, "sudo: yum: command not found", []string{`"yum" is not installed`}},
		{"other tool", bare, 127, "sh: 1: frobnicate: not found", []string{`"frobnicate" is not installed`}},
		{"ordinary failure", withDep, 3, "boom", nil},
		{"not-found text but other status", bare, 2, "grep: pattern: not found", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := missingCommandHint(c.a, c.code, c.stderr)
			if len(c.want) == 0 {
				if got != "" {
					t.Fatalf("hint = %q, want none", got)
				}
				return
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("hint = %q, want it to contain %q", got, w)
				}
			}
			if c.name == "other tool" && strings.Contains(got, "Amazon Linux") {
				t.Errorf("hint for an unknown tool blames the host: %q", got)
			}
		})
	}
}

// A real shell reports the missing program; the failure says what it is.
func TestShellMissingProgramMessage(t *testing.T) {
	r, _ := newRunner(t)
	a := obj("@Act_2024-01-01T00:00:00_Attempt=1", "type", "ShellCommandActivity", "command", "PATH=/nonexistent; yum -y update aws-cli")
	res, _, _ := run(t, r, newTask(a))
	if res.Status != task.Failed {
		t.Fatalf("status = %s, want FAILED", res.Status)
	}
	for _, w := range []string{"status 127", `"yum" is not installed on this machine`, "Amazon Linux EC2/EMR host"} {
		if !strings.Contains(res.ErrorMessage, w) {
			t.Errorf("error = %q, want it to contain %q", res.ErrorMessage, w)
		}
	}
}
