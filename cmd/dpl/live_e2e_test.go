package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/errcode"
)

// TestLiveRunCommands: while `dpl run` holds the state folder, `dpl runs`,
// `dpl events` and `dpl cancel` reach it through its control socket.
func TestLiveRunCommands(t *testing.T) {
	bin := dplBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	started, release := filepath.Join(dir, "started"), filepath.Join(dir, "release")
	def := fmt.Sprintf(`{"objects":[
  {"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"local"},
  {"id":"Hold","name":"Hold","type":"ShellCommandActivity","command":"touch %s; while [ ! -e %s ]; do sleep 0.05; done"},
  {"id":"After","name":"After","type":"ShellCommandActivity","command":"true","dependsOn":{"ref":"Hold"}}]}`, started, release)
	file := filepath.Join(dir, "live.json")
	if err := os.WriteFile(file, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(bin, "run", "--headless", "--output", "jsonl", "--state-dir", state, file)
	var runOut bytes.Buffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- run.Wait() }()
	ended := false
	defer func() {
		if ended {
			return
		}
		_ = os.WriteFile(release, nil, 0o644)
		select {
		case <-runDone:
		case <-time.After(30 * time.Second):
			_ = run.Process.Kill()
		}
	}()
	waitFor(t, 30*time.Second, func() bool {
		_, e1 := os.Stat(started)
		_, e2 := os.Stat(filepath.Join(state, "control.sock"))
		return e1 == nil && e2 == nil
	}, "the run to start its first command and open its control socket")

	dpl := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, append(args, "--state-dir", state)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), exitCode(err)
	}
	statuses := func() map[string]runRecord {
		out, errs, code := dpl("runs", "--output", "json")
		if code != 0 {
			t.Fatalf("dpl runs: exit %d: %s", code, errs)
		}
		var recs []runRecord
		if err := json.Unmarshal([]byte(out), &recs); err != nil {
			t.Fatalf("dpl runs output: %v\n%s", err, out)
		}
		m := map[string]runRecord{}
		for _, r := range recs {
			m[r.Component] = r
		}
		return m
	}

	live := statuses()
	if live["Hold"].Status != "RUNNING" || live["After"].Status != "WAITING_ON_DEPENDENCIES" {
		t.Fatalf("live statuses: Hold %q, After %q; want RUNNING, WAITING_ON_DEPENDENCIES", live["Hold"].Status, live["After"].Status)
	}
	if out, errs, code := dpl("events", "--output", "jsonl"); code != 0 || !strings.Contains(out, `"component":"Hold"`) || !strings.Contains(out, `"status":"RUNNING"`) {
		t.Fatalf("dpl events during the run: exit %d, stderr %s\n%s", code, errs, out)
	}
	if _, errs, code := dpl("cancel", "@NoSuchInstance"); code != errcode.ExitUsage || !strings.Contains(errs, "@NoSuchInstance") {
		t.Fatalf("cancel of an unknown instance: exit %d, stderr %q; want %d naming it", code, errs, errcode.ExitUsage)
	}
	// A second run on the same folder is refused, naming the run that holds it.
	if _, errs, code := dpl("run", "--headless", file); code != errcode.ExitUsage || !strings.Contains(errs, "is in use by run 1 of") {
		t.Fatalf("second run on a busy state folder: exit %d, stderr %q; want %d naming the run", code, errs, errcode.ExitUsage)
	}
	if out, errs, code := dpl("cancel", live["After"].ID); code != 0 || !strings.Contains(out, "in the run in progress") {
		t.Fatalf("cancel during the run: exit %d: %s%s", code, out, errs)
	}

	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-runDone:
		ended = true
		if code := exitCode(err); code != errcode.ExitFailed {
			t.Fatalf("run exit %d, want %d (an instance was canceled)\n%s", code, errcode.ExitFailed, runOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the run did not end after its command was released\n%s", runOut.String())
	}
	if _, err := os.Stat(filepath.Join(state, "control.sock")); !os.IsNotExist(err) {
		t.Errorf("control socket left behind after the run: %v", err)
	}
	after := statuses() // read from the store now
	if after["Hold"].Status != "FINISHED" || after["After"].Status != "CANCELED" {
		t.Fatalf("final statuses: Hold %q, After %q; want FINISHED, CANCELED", after["Hold"].Status, after["After"].Status)
	}
}

func waitFor(t *testing.T, limit time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
