package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/errcode"
)

// stateHashes maps every file of a state folder to the SHA-256 of its
// bytes.
func stateHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertSameFiles(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for name, h := range before {
		if a, ok := after[name]; !ok {
			t.Errorf("%s removed %s", what, name)
		} else if a != h {
			t.Errorf("%s changed %s", what, name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s created %s", what, name)
		}
	}
}

// browse runs the read-only views on a stored run.
func browse(t *testing.T, bin, state string) {
	t.Helper()
	for _, args := range [][]string{
		{"runs"}, {"runs", "--output", "json"}, {"runs", "--status", "failed"},
		{"events"}, {"events", "--output", "jsonl"},
		// Shell completion of ids reads the state folder too.
		{"__complete", "rerun", "--state-dir", "STATE", ""}, {"__complete", "pause", "--state-dir", "STATE", ""},
	} {
		full := append(args, "--state-dir", state)
		if i := slices.Index(args, "STATE"); i >= 0 {
			full = slices.Clone(args)
			full[i] = state
		}
		cmd := exec.Command(bin, full...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("dpl %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		if out.Len() == 0 {
			t.Errorf("dpl %s printed nothing", strings.Join(args, " "))
		}
	}
}

// TestReadOnlyViewsChangeNoFile: dpl runs, dpl events and dpl tui on a
// stored run leave every file of the state folder byte-identical, after a
// clean end and after a killed run (whose store has a write log badger
// would replay into the folder).
func TestReadOnlyViewsChangeNoFile(t *testing.T) {
	bin := dplBinary(t)
	dir := t.TempDir()
	def := filepath.Join(dir, "two.json")
	os.WriteFile(def, []byte(`{"objects":[
  {"id":"Default","scheduleType":"ondemand","workerGroup":"local"},
  {"id":"Hello","type":"ShellCommandActivity","command":"echo hello"},
  {"id":"Sad","type":"ShellCommandActivity","command":"exit 3","dependsOn":{"ref":"Hello"},"maximumRetries":"0"}
]}`), 0o644)

	t.Run("after a finished run", func(t *testing.T) {
		state := filepath.Join(dir, "done")
		out, err := exec.Command(bin, "run", "--headless", "--state-dir", state, def).CombinedOutput()
		if code := exitCode(err); code != errcode.ExitFailed {
			t.Fatalf("run: exit %d, want %d (Sad fails)\n%s", code, errcode.ExitFailed, out)
		}
		before := stateHashes(t, state)
		browse(t, bin, state)
		browseTUI(t, bin, state)
		assertSameFiles(t, "the views", before, stateHashes(t, state))
	})

	t.Run("after a killed run", func(t *testing.T) {
		state := filepath.Join(dir, "killed")
		marker := filepath.Join(dir, "started")
		slow := filepath.Join(dir, "slow.json")
		os.WriteFile(slow, []byte(fmt.Sprintf(`{"objects":[
  {"id":"Default","scheduleType":"ondemand","workerGroup":"local"},
  {"id":"Hello","type":"ShellCommandActivity","command":"echo hello"},
  {"id":"Slow","type":"ShellCommandActivity","command":"touch %s; sleep 60","dependsOn":{"ref":"Hello"}}
]}`, marker)), 0o644)
		run := exec.Command(bin, "run", "--headless", "--state-dir", state, slow)
		run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, func() bool { _, err := os.Stat(marker); return err == nil }, "the slow step to start")
		syscall.Kill(-run.Process.Pid, syscall.SIGKILL) // the run and its command
		run.Wait()
		os.Remove(filepath.Join(state, "control.sock")) // a killed run leaves its socket; nobody answers on it

		before := stateHashes(t, state)
		browse(t, bin, state)
		// What the store holds depends on how far its writes got before
		// the kill (a finished task is reported without waiting for the
		// store): only that the view works is asserted.
		out, err := exec.Command(bin, "runs", "--state-dir", state).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SCHEDULED START") {
			t.Errorf("dpl runs after a kill: %v\n%s", err, out)
		}
		browseTUI(t, bin, state)
		assertSameFiles(t, "the views", before, stateHashes(t, state))
	})
}

// browseTUI opens dpl tui on the stored run in a real terminal (tmux) and
// quits it.
func browseTUI(t *testing.T, bin, state string) {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Log("SKIPPED the dpl tui part: tmux is not installed (apt-get install tmux)")
		return
	}
	sock := fmt.Sprintf("dpl-readonly-%d", os.Getpid())
	tm := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	script := fmt.Sprintf("%q tui --state-dir %q; echo EXIT=$?; sleep 600", bin, state)
	tm("new-session", "-d", "-x", "140", "-y", "45", "-s", "ro", "sh", "-c", script)
	defer exec.Command(tmux, "-L", sock, "kill-server").Run()
	screen := func() string { return tm("capture-pane", "-p", "-t", "ro") }
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(screen(), "stored (read-only)") }, "dpl tui to show the stored run")
	tm("send-keys", "-t", "ro", "q")
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(screen(), "EXIT=") }, "dpl tui to quit")
	if s := screen(); !strings.Contains(s, "EXIT=0") {
		t.Errorf("dpl tui did not exit 0:\n%s", s)
	}
}
