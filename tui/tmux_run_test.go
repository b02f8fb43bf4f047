package tui

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const shortPipeline = `{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "local"},
  {"id": "Extract", "name": "Extract", "type": "ShellCommandActivity", "command": "echo extract"},
  {"id": "Load", "name": "Load", "type": "ShellCommandActivity", "command": "echo load", "dependsOn": {"ref": "Extract"}},
  {"id": "Report", "name": "Report", "type": "ShellCommandActivity", "command": "echo report", "dependsOn": {"ref": "Load"}}
]}`

// TestTmuxFinishedRunIdle: after the run ends the open view shows the final
// statuses and costs no CPU (the bug: the worker spun on PollForTask of the
// finished engine, 50–93% of a core); batched keys ("jj" in one write) all
// act; a rerun of a finished instance runs again and ends with the final
// status shown.
func TestTmuxFinishedRunIdle(t *testing.T) {
	tm := newTerm(t)
	tm.write("p.json", shortPipeline)
	pid := tm.start("run", 140, 40, "./dpl run --state-dir st p.json")
	tm.waitFor("run", "the run to finish", 60*time.Second, screenHas("finished: 3 instances", "Report"))
	screen := tm.capture("run")
	if strings.Contains(screen, "running") || strings.Contains(screen, "queued") {
		t.Errorf("the finished run still shows live statuses:\n%s", screen)
	}

	before := cpuTime(t, pid)
	start := time.Now()
	time.Sleep(5 * time.Second) // the sample: CPU used by an idle view
	used := cpuTime(t, pid) - before
	pct := 100 * used.Seconds() / time.Since(start).Seconds()
	t.Logf("idle CPU of the open view after the run ended: %.2f%% of a core over 5 s", pct)
	// The bug was 50–93%; the target is under 1%. The margin keeps a
	// loaded CI machine from failing the test on scheduling noise.
	if pct > 5 {
		t.Errorf("the idle view used %.1f%% of a core after the run ended", pct)
	}

	// Two keys in one write: both move.
	tm.keys("run", "2")
	tm.waitFor("run", "the instances grid", 5*time.Second, screenHas("[2 Instances]"))
	tm.keys("run", "jj")
	tm.waitFor("run", "the selection two rows down", 5*time.Second, func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "▸ Report") {
				return true
			}
		}
		return false
	})

	// Rerun of the finished Report: the run reopens, runs it, ends again.
	tm.keys("run", "r")
	tm.waitFor("run", "the rerun question", 5*time.Second, screenHas("Rerun @Report"))
	tm.keys("run", "y")
	tm.waitFor("run", "the rerun to finish", 60*time.Second, screenHas("rerun sent", "finished: 3 instances"))
	tm.keys("run", "1")
	screen = tm.waitFor("run", "the graph", 5*time.Second, screenHas("[1 Graph]"))
	if strings.Contains(screen, "queued") || strings.Contains(screen, "running") {
		t.Errorf("after the rerun ended the view still shows live statuses:\n%s", screen)
	}
	// In the graph, "hh" in one write moves two columns left (Report to
	// Extract), "ll" two right.
	tm.keys("run", "G")
	waitSelected(t, tm, "run", "Extract")
	tm.keys("run", "ll")
	waitSelected(t, tm, "run", "Report")
	tm.keys("run", "hh")
	waitSelected(t, tm, "run", "Extract")
	tm.keys("run", "q")
	tm.waitFor("run", "dpl to exit", 30*time.Second, func(s string) bool { return !strings.Contains(s, "[1 Graph]") })
}

// TestTmuxAttachedRunEndsShowsFinal: a view attached to a headless run in
// another process shows the stored final statuses once that run ends (it
// showed the last live answer: canceled instances as running).
func TestTmuxAttachedRunEndsShowsFinal(t *testing.T) {
	tm := newTerm(t)
	tm.write("p.json", `{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "local"},
  {"id": "Quick", "name": "Quick", "type": "ShellCommandActivity", "command": "true"},
  {"id": "Slow", "name": "Slow", "type": "ShellCommandActivity", "command": "sleep 120", "dependsOn": {"ref": "Quick"}}
]}`)
	headless := exec.Command(filepath.Join(tm.dir, "dpl"), "run", "--headless", "--state-dir", "st", "p.json")
	headless.Dir = tm.dir
	if err := headless.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- headless.Wait() }()
	t.Cleanup(func() {
		_ = headless.Process.Kill()
		<-ended
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(tm.dir, "st", "control.sock")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the headless run never opened its control socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.start("view", 140, 40, "./dpl tui --state-dir st")
	tm.waitFor("view", "Slow running in the attached view", 60*time.Second, screenHas("Slow", "▶ running"))
	// Cancel Slow through the run's control socket: the run ends with it
	// CANCELED, between two polls of the attached view.
	out, err := exec.Command(filepath.Join(tm.dir, "dpl"), "runs", "--state-dir", filepath.Join(tm.dir, "st"), "--output", "json").Output()
	if err != nil {
		t.Fatalf("dpl runs: %v", err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("dpl runs --output json: %v\n%s", err, out)
	}
	var slow string
	for _, r := range rows {
		if r["@componentParent"] == "Slow" {
			slow, _ = r["@id"].(string)
		}
	}
	if out, err := exec.Command(filepath.Join(tm.dir, "dpl"), "cancel", "--state-dir", filepath.Join(tm.dir, "st"), slow).CombinedOutput(); err != nil {
		t.Fatalf("dpl cancel %s: %v\n%s", slow, err, out)
	}
	select {
	case <-ended:
		ended <- nil
	case <-time.After(60 * time.Second):
		t.Fatal("the headless run did not end after the cancel")
	}
	screen := tm.waitFor("view", "the stored final statuses", 30*time.Second, screenHas("■", "⊘ canceled"))
	if strings.Contains(screen, "▶ running") {
		t.Errorf("the attached view shows an instance running after the run ended:\n%s", screen)
	}
	tm.keys("view", "q")
}

// TestTmuxRunList: dpl tui on a state folder of several pipelines and
// activations lists the runs; enter opens one (an earlier activation
// too), `:runs` comes back to the list.
func TestTmuxRunList(t *testing.T) {
	tm := newTerm(t)
	tm.write("p.json", shortPipeline)
	tm.write("q.json", `{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "ondemand", "workerGroup": "local"},
  {"id": "Only", "name": "Only", "type": "ShellCommandActivity", "command": "true"}
]}`)
	for _, args := range [][]string{{"p.json"}, {"--fresh", "p.json"}, {"q.json"}} {
		cmd := exec.Command(filepath.Join(tm.dir, "dpl"), append([]string{"run", "--headless", "--state-dir", "st"}, args...)...)
		cmd.Dir = tm.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpl run %v: %v\n%s", args, err, out)
		}
	}
	tm.start("view", 140, 30, "./dpl tui --state-dir st")
	tm.waitFor("view", "the run list", 30*time.Second, screenHas("runs in st · 3 runs", "p", "q", "2*"))
	tm.keys("view", "G", "Enter")
	screen := tm.waitFor("view", "the earliest run opened", 30*time.Second, screenHas("run 1", "[1 Graph]", "Report"))
	if !strings.Contains(screen, "✓ finished") {
		t.Errorf("run 1 of p does not show its finished instances:\n%s", screen)
	}
	tm.keys("view", ":", "runs", "Enter")
	tm.waitFor("view", "the run list again", 30*time.Second, screenHas("runs in st · 3 runs"))
	tm.keys("view", "q")
	tm.waitFor("view", "dpl to exit", 30*time.Second, screenHas("EXIT=0"))
}
