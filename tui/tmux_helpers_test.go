package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// term is one tmux server for a test, running the dpl binary built once
// per test binary.
type term struct {
	t    *testing.T
	tmux string
	sock string
	dir  string // working folder of the sessions (holds ./dpl)
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// newTerm skips without tmux or go, builds dpl once, and gives the test
// a tmux server of its own (killed at cleanup).
func newTerm(t *testing.T) *term {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the tmux end-to-end test")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed: skipping the end-to-end terminal test (apt-get install tmux)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build dpl")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dpl-tmux-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "dpl")
		if out, err := exec.Command(goBin, "build", "-o", builtBin, "github.com/dpl-dev/dpl/cmd/dpl").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build dpl: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dir := t.TempDir()
	if err := os.Symlink(builtBin, filepath.Join(dir, "dpl")); err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, tmux: tmux, sock: fmt.Sprintf("dpl-%s-%d", strings.ToLower(t.Name()), os.Getpid()), dir: dir}
	t.Cleanup(func() { _ = exec.Command(tmux, "-L", tm.sock, "kill-server").Run() })
	return tm
}

func (tm *term) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command(tm.tmux, append([]string{"-L", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// write puts a file in the sessions' folder.
func (tm *term) write(name, content string) {
	tm.t.Helper()
	if err := os.WriteFile(filepath.Join(tm.dir, name), []byte(content), 0o644); err != nil {
		tm.t.Fatal(err)
	}
}

// start opens session name of w×h running the shell command (in the
// sessions' folder); the command's pid (exec'd) is returned.
func (tm *term) start(name string, w, h int, command string) int {
	tm.t.Helper()
	pidFile := filepath.Join(tm.dir, name+".pid")
	// The inner shell execs the command, so its pid is the command's; the
	// outer one keeps the session (and its last screen) after it exits.
	inner := fmt.Sprintf("echo $$ > %s.pid && exec %s", name, command)
	script := fmt.Sprintf("cd %q && sh -c %s; echo EXIT=$?; sleep 600", tm.dir, shellQuote(inner))
	tm.run("new-session", "-d", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "-s", name, "sh", "-c", script)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("session %s never started", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *term) keys(session string, keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", session}, keys...)...)
}

func (tm *term) capture(session string) string {
	return tm.run("capture-pane", "-p", "-t", session)
}

// waitFor polls the screen until ok; the deadline only guards a hang.
func (tm *term) waitFor(session, what string, d time.Duration, ok func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := tm.capture(session)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("waited %s for %s; the screen shows:\n%s", d, what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func screenHas(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, x := range subs {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	}
}

// cpuTime is the CPU time the process has used so far, summed over its
// threads from /proc/PID/task/*/schedstat (nanoseconds, exact). The
// user+system fields of /proc/PID/stat count 10 ms clock ticks, too coarse
// for a 5 s sample of a process that should use under 1% of a core.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(stats) == 0 {
		t.Skipf("no /proc/%d/task/*/schedstat (not Linux?)", pid)
	}
	var total time.Duration
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended between the glob and the read
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
