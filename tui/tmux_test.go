package tui

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTmux runs the real binary in a real terminal (tmux) and checks what
// a person would see: component names, statuses, help on `?`, and a clean
// quit on `q` then `y` that leaves the run resumable.
func TestTmux(t *testing.T) {
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
	dir := t.TempDir()
	bin := filepath.Join(dir, "dpl")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/dpl-dev/dpl/cmd/dpl").CombinedOutput(); err != nil {
		t.Fatalf("build dpl: %v\n%s", err, out)
	}
	def, err := os.ReadFile("testdata/tmux-pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pipeline.json"), def, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := fmt.Sprintf("dpl-tui-test-%d", os.Getpid())
	tm := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	script := fmt.Sprintf("cd %q && ./dpl run --state-dir st pipeline.json; echo EXIT=$?; sleep 600", dir)
	tm("new-session", "-d", "-x", "140", "-y", "45", "-s", "dpl", "sh", "-c", script)
	defer exec.Command(tmux, "-L", sock, "kill-server").Run()

	capture := func() string { return tm("capture-pane", "-p", "-t", "dpl") }
	waitFor := func(what string, d time.Duration, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			s := capture()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited %s for %s; the screen shows:\n%s", d, what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	has := func(subs ...string) func(string) bool {
		return func(s string) bool {
			for _, x := range subs {
				if !strings.Contains(s, x) {
					return false
				}
			}
			return true
		}
	}

	screen := waitFor("the graph with statuses", 20*time.Second, has("Prepare", "Publish", "ReadyFlag", "✓ finished", "● running", "[1 Graph]", "? help"))
	if *updateScreenshot() {
		if err := os.WriteFile("testdata/screenshot.txt", []byte(screen), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The waiting activity explains itself.
	tm("send-keys", "-t", "dpl", "2")
	waitFor("the instances grid", 5*time.Second, has("[2 Instances]", "▸ "))

	tm("send-keys", "-t", "dpl", "?")
	waitFor("the full help", 5*time.Second, has("pause/resume component", "mark finished", "half page down"))
	tm("send-keys", "-t", "dpl", "?")
	waitFor("the help to close", 5*time.Second, func(s string) bool { return !strings.Contains(s, "half page down") })

	tm("send-keys", "-t", "dpl", "q")
	waitFor("the quit question", 5*time.Second, has("Stop it and quit?"))
	tm("send-keys", "-t", "dpl", "n")
	waitFor("watching on", 5*time.Second, has("still watching"))
	tm("send-keys", "-t", "dpl", "q")
	waitFor("the quit question again", 5*time.Second, has("Stop it and quit?"))
	start := time.Now()
	tm("send-keys", "-t", "dpl", "y")
	waitFor("the screen to be restored", 5*time.Second, has("stopping the run"))
	out := waitFor("dpl to exit", 150*time.Second, has("EXIT="))
	t.Logf("dpl exited %s after y", time.Since(start).Round(100*time.Millisecond))
	// dpl run names the state folder by its absolute path.
	if !strings.Contains(out, "state kept in "+filepath.Join(dir, "st")) && !strings.Contains(out, "state kept in st") {
		t.Errorf("no resumable-state message after stopping:\n%s", out)
	}
	if strings.Contains(out, "EXIT=0") {
		t.Errorf("stopping an active run exited 0:\n%s", out)
	}

	// Resumed: the header names the pipeline and its activation, and the
	// events pane holds what the first process did (Prepare finished
	// there, so its line can only come from the engine's history).
	script = fmt.Sprintf("cd %q && ./dpl run --state-dir st pipeline.json; echo EXIT2=$?; sleep 600", dir)
	tm("new-session", "-d", "-x", "140", "-y", "45", "-s", "dpl2", "sh", "-c", script)
	capture = func() string { return tm("capture-pane", "-p", "-t", "dpl2") }
	waitFor("the resumed run's header", 20*time.Second, has("dpl · pipeline · run 1", "● running"))
	tm("send-keys", "-t", "dpl2", "3")
	waitFor("events from before the resume", 5*time.Second, has("[3 Events]", "✓ finished", "@Prepare_"))
	tm("send-keys", "-t", "dpl2", "q")
	waitFor("the quit question", 5*time.Second, has("Stop it and quit?"))
	tm("send-keys", "-t", "dpl2", "y")
	waitFor("dpl to exit", 150*time.Second, has("EXIT2="))

	// Browsing the stored run: same header, read-only, same history.
	script = fmt.Sprintf("cd %q && ./dpl tui --state-dir st; echo EXIT3=$?; sleep 600", dir)
	tm("new-session", "-d", "-x", "140", "-y", "45", "-s", "dpl3", "sh", "-c", script)
	capture = func() string { return tm("capture-pane", "-p", "-t", "dpl3") }
	waitFor("the stored run", 20*time.Second, has("dpl · pipeline · run 1", "stored (read-only)"))
	tm("send-keys", "-t", "dpl3", "3")
	waitFor("the stored events", 5*time.Second, has("[3 Events]", "@Prepare_"))
	tm("send-keys", "-t", "dpl3", "q")
	waitFor("dpl tui to exit", 10*time.Second, has("EXIT3=0"))

	// Attaching to a headless run in another process: live view through
	// its control socket; quitting the view leaves that run going.
	headless := exec.Command(bin, "run", "--headless", "--state-dir", "st", "pipeline.json")
	headless.Dir = dir
	if err := headless.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- headless.Wait() }()
	defer func() {
		_ = headless.Process.Kill()
		<-ended
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "st", "control.sock")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the headless run never opened its control socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	script = fmt.Sprintf("cd %q && ./dpl tui --state-dir st; echo EXIT4=$?; sleep 600", dir)
	tm("new-session", "-d", "-x", "140", "-y", "45", "-s", "dpl4", "sh", "-c", script)
	capture = func() string { return tm("capture-pane", "-p", "-t", "dpl4") }
	screen = waitFor("the attached live run", 20*time.Second, has("dpl · pipeline · run 1", "Publish"))
	if strings.Contains(screen, "read-only") {
		t.Errorf("the view of a live run says read-only:\n%s", screen)
	}
	tm("send-keys", "-t", "dpl4", "3")
	waitFor("the live run's history", 5*time.Second, has("[3 Events]", "@Prepare_"))
	tm("send-keys", "-t", "dpl4", "q")
	waitFor("dpl tui to exit", 10*time.Second, has("EXIT4=0"))
	select {
	case err := <-ended:
		t.Fatalf("quitting the attached view ended the headless run: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	_ = headless.Process.Signal(os.Interrupt)
	select {
	case err := <-ended:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Errorf("headless run after SIGINT: %v, want exit 130", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the headless run did not stop on SIGINT")
	}
	ended <- nil // for the deferred cleanup
}

// updateScreenshot is the golden package's -update flag: it also
// refreshes the README capture.
func updateScreenshot() *bool {
	if f := flag.Lookup("update"); f != nil {
		if v, ok := f.Value.(flag.Getter); ok {
			b, _ := v.Get().(bool)
			return &b
		}
	}
	f := false
	return &f
}
