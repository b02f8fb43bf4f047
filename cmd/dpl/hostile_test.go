package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/errcode"
)

// hostileBound is how long any command may take on a hostile input. It is
// a deadline against hangs (a FIFO blocking open(), /dev/zero read
// forever), far above the milliseconds these take, not a speed check.
const hostileBound = 60 * time.Second

// scheduleDef is a minimal scheduled pipeline with one activity; the
// placeholders set the schedule and the activity's retry fields.
func scheduleDef(period, start, extra, retryDelay, timeout string) string {
	return fmt.Sprintf(`{"objects": [
  {"id": "Default", "scheduleType": "cron", "schedule": {"ref": "S"}, "failureAndRerunMode": "CASCADE", "role": "r", "resourceRole": "rr"},
  {"id": "S", "type": "Schedule", "period": %q, "startDateTime": %q%s},
  {"id": "A", "type": "ShellCommandActivity", "command": "true", "workerGroup": "w", "retryDelay": %q, "attemptTimeout": %q}
]}`, period, start, extra, retryDelay, timeout)
}

// TestHostileInputs runs the real binary on each input a careless script
// or a hostile upload could give it: every one must end, within the bound,
// with the expected exit code and a message that says what is wrong.
func TestHostileInputs(t *testing.T) {
	bin := dplBinary(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("SKIP: cannot create a FIFO here: %v", err)
		}
		return p
	}
	valid := scheduleDef("1 day", "2030-01-01T00:00:00", `, "occurrences": "2"`, "10 minutes", "1 hour")

	pipe := fifo("pipe.json")
	walk := filepath.Join(dir, "walk")
	write("walk/ok.json", valid)
	fifo("walk/stray.json")
	if err := os.Symlink(walk, filepath.Join(walk, "loop.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(walk, "missing"), filepath.Join(walk, "dangling.json")); err != nil {
		t.Fatal(err)
	}
	small := write("small.json", valid)

	cases := []struct {
		name   string
		args   []string
		stdin  io.Reader
		code   int
		output string // a substring of stdout+stderr
	}{
		{"FIFO as a file", []string{"validate", pipe}, nil, errcode.ExitUsage, "is a named pipe (FIFO); only regular files and - (standard input) are read"},
		{"FIFO for plan", []string{"plan", pipe}, nil, errcode.ExitUsage, "is a named pipe (FIFO)"},
		{"FIFO for run", []string{"run", "--headless", "--state-dir", filepath.Join(dir, "st"), pipe}, nil, errcode.ExitUsage, "is a named pipe (FIFO)"},
		{"FIFO for convert", []string{"convert", "--to", "api", pipe}, nil, errcode.ExitUsage, "is a named pipe (FIFO)"},
		{"FIFO for fmt", []string{"fmt", "--check", pipe}, nil, errcode.ExitUsage, "is a named pipe (FIFO)"},
		{"device", []string{"validate", "/dev/zero"}, nil, errcode.ExitUsage, "/dev/zero: is a device"},
		{"device for diff", []string{"diff", small, "/dev/zero"}, nil, errcode.ExitUsage, "/dev/zero: is a device"},
		{"directory with a stray FIFO and link loops", []string{"validate", walk}, nil, errcode.ExitOK, "stray.json: skipped: is a named pipe"},
		{"link loop reported", []string{"validate", walk}, nil, errcode.ExitOK, "loop.json: skipped: a symbolic link to a directory"},
		{"dangling link reported", []string{"validate", walk}, nil, errcode.ExitOK, "dangling.json: skipped"},
		{"endless stdin", []string{"validate", "-"}, zeros{}, errcode.ExitUsage, "<stdin>: larger than 64 MiB (the service's own limit is far lower — see limits)"},
		{"oversize stdin under --max-size", []string{"validate", "--max-size", "1KiB", "-"}, strings.NewReader(valid + strings.Repeat(" ", 2048)), errcode.ExitUsage, "<stdin>: larger than 1 KiB"},
		{"oversize file under --max-size", []string{"validate", "--max-size", "100B", small}, nil, errcode.ExitUsage, "larger than 100 B"},
		{"bad --max-size", []string{"validate", "--max-size", "lots", small}, nil, errcode.ExitUsage, "--max-size"},
		{"schedule period overflows", []string{"validate", write("p.json", scheduleDef("300 years", "2030-01-01T00:00:00", "", "10 minutes", "1 hour"))}, nil, errcode.ExitFailed,
			`period "300 years" is too large: at most 292 years`},
		{"retryDelay overflows", []string{"validate", write("rd.json", scheduleDef("1 day", "2030-01-01T00:00:00", "", "300 years", "1 hour"))}, nil, errcode.ExitFailed,
			`"retryDelay": INVALID_FIELD_VALUE: period "300 years" is too large`},
		{"attemptTimeout overflows", []string{"validate", write("at.json", scheduleDef("1 day", "2030-01-01T00:00:00", "", "10 minutes", "99999999999999999999 minutes"))}, nil, errcode.ExitFailed,
			`"attemptTimeout": INVALID_FIELD_VALUE: period "99999999999999999999 minutes" is too large: at most 153722867 minutes`},
		{"plan refuses an overflowing period", []string{"plan", filepath.Join(dir, "p.json")}, nil, errcode.ExitUsage, "too large"},
		{"--retry-delay overflows", []string{"run", "--retry-delay", "3000000h", small}, nil, errcode.ExitUsage, `"3000000h" is too large: at most 2562047h47m16.854775807s`},
		{"year 0", []string{"validate", write("y0.json", scheduleDef("1 day", "0000-01-01T00:00:00", "", "10 minutes", "1 hour"))}, nil, errcode.ExitFailed,
			`y0.json:3:54: error: Object "S" field "startDateTime": INVALID_FIELD_VALUE: year 0000 is out of range`},
		{"year 10000", []string{"validate", write("y10k.json", scheduleDef("1 day", "10000-01-01T00:00:00", "", "10 minutes", "1 hour"))}, nil, errcode.ExitFailed,
			`y10k.json:3:54: error: Object "S" field "startDateTime": INVALID_FIELD_VALUE: year 10000 is out of range`},
		{"schedule past 9999-12-31", []string{"validate", write("past.json", scheduleDef("1 year", "9998-01-01T00:00:00", `, "occurrences": "5"`, "10 minutes", "1 hour"))}, nil, errcode.ExitFailed,
			`field "occurrences": INVALID_FIELD_VALUE: 5 occurrences of 1 year from 9998-01-01T00:00:00 run past 9999-12-31T23:59:59`},
		{"plan of a schedule ending at 9999", []string{"plan", "--count", "3", write("late.json", scheduleDef("1 day", "9999-12-30T00:00:00", "", "10 minutes", "1 hour"))}, nil, errcode.ExitOK, "9999-12-31T00:00:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), hostileBound)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, c.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "NO_COLOR=1", "DPL_STATE_DIR="+filepath.Join(dir, "state"))
			cmd.Stdin = c.stdin
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				t.Fatalf("dpl %s did not return within %s (it hangs); output:\n%s", strings.Join(c.args, " "), hostileBound, out.String())
			}
			if code := exitCode(err); code != c.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, c.code, out.String())
			}
			if !strings.Contains(out.String(), c.output) {
				t.Errorf("output lacks %q:\n%s", c.output, out.String())
			}
		})
	}
}

// zeros is an endless stream of zero bytes, like /dev/zero piped in.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestRunRefusesUnresolvedIntrinsics: validate warns about a value only
// CloudFormation knows, and run refuses it like an unset parameter.
func TestRunRefusesUnresolvedIntrinsics(t *testing.T) {
	bin := dplBinary(t)
	tmpl := filepath.Join("..", "..", "definition", "testdata", "cfn", "intrinsics.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), hostileBound)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "validate", "--cfn-param", "Bucket=b", tmpl).CombinedOutput()
	if code := exitCode(err); code != errcode.ExitOK || !strings.Contains(string(out), `intrinsics.yaml:70:28: warning: Object "Say" field "command": CFN_UNRESOLVED: is Fn::ImportValue "SharedBucketName"`) {
		t.Errorf("validate: exit %d, output:\n%s", code, out)
	}
	out, err = exec.CommandContext(ctx, bin, "run", "--headless", "--state-dir", t.TempDir(), "--cfn-param", "Bucket=b", tmpl).CombinedOutput()
	if code := exitCode(err); code != errcode.ExitUsage || !strings.Contains(string(out), "error: Object \"Say\" field \"command\": CFN_UNRESOLVED") {
		t.Errorf("run: exit %d, want 2 with the CFN_UNRESOLVED error; output:\n%s", code, out)
	}
}
