package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// dplBinary builds the real dpl binary once per test run.
func dplBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the dpl binary; skipped with -short")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dpl-e2e-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "dpl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestRunQuickstartEndToEnd(t *testing.T) {
	bin := dplBinary(t)
	state := t.TempDir()
	fixture, _ := filepath.Abs("../../fixtures/quickstart/pipeline.json")
	cmd := exec.Command(bin, "run", "--headless", "--state-dir", state, "--output", "jsonl", fixture)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	finished := map[string]bool{}
	alarms := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		if ev["time"] == nil || ev["event"] == nil {
			t.Errorf("event without time/event: %s", sc.Text())
		}
		if ev["event"] == "status" && ev["status"] == "FINISHED" {
			finished[ev["instance"].(string)] = true
		}
		if ev["event"] == "alarm" {
			alarms++
			for _, k := range []string{"object", "node", "topicArn", "subject", "message"} {
				if s, _ := ev[k].(string); s == "" || strings.Contains(s, "#{") {
					t.Errorf("alarm field %s = %v", k, ev[k])
				}
			}
		}
	}
	if len(finished) != 12 || alarms != 2 {
		t.Errorf("%d instances finished, %d alarms; want 12 and 2", len(finished), alarms)
	}
	// The staged output landed in the local S3 folder and the alarm in the outbox.
	words, err := os.ReadFile(filepath.Join(state, "s3", "quickstart", "report", "2024-01-01-00-15", "words.txt"))
	if err != nil || strings.TrimSpace(string(words)) != "8" {
		t.Errorf("words.txt = %q, %v", words, err)
	}
	if b, err := os.ReadFile(filepath.Join(state, "outbox.jsonl")); err != nil || bytes.Count(b, []byte("\n")) != 2 {
		t.Errorf("outbox: %q %v", b, err)
	}
	// dpl runs --output json lists every instance.
	rj, err := exec.Command(bin, "runs", "--state-dir", state, "--output", "json").Output()
	if err != nil {
		t.Fatalf("dpl runs: %v", err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(rj, &recs); err != nil || len(recs) != 12 {
		t.Fatalf("runs json: %d records, %v", len(recs), err)
	}
	for _, r := range recs {
		for _, k := range []string{"@id", "@componentParent", "@status", "@scheduledStartTime", "@scheduledEndTime", "attemptCount"} {
			if _, ok := r[k]; !ok {
				t.Errorf("runs record lacks %s: %v", k, r)
			}
		}
	}
	// A second run of a finished pipeline starts a new activation; a
	// definition error exits 2 before anything runs.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"objects":[{"id":"A","type":"ShellCommandActivity"}]}`), 0o644)
	if code := exitCode(exec.Command(bin, "run", "--headless", "--state-dir", state, bad).Run()); code != 2 {
		t.Errorf("invalid definition: exit %d, want 2", code)
	}
}

func TestRunFailureExitsOne(t *testing.T) {
	bin := dplBinary(t)
	def := filepath.Join(t.TempDir(), "fail.json")
	os.WriteFile(def, []byte(`{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg","failureAndRerunMode":"cascade","maximumRetries":"1"},
 {"id":"A","name":"A","type":"ShellCommandActivity","command":"echo oops >&2; exit 3"},
 {"id":"B","name":"B","type":"ShellCommandActivity","command":"true","dependsOn":{"ref":"A"}}]}`), 0o644)
	cmd := exec.Command(bin, "run", "--headless", "--retry-delay", "10ms", "--state-dir", t.TempDir(), def)
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"CASCADE_FAILED", "attempt failed", "did not finish"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCrashResume kills the real process with SIGKILL in the middle of a
// chain and runs it again: every step runs, at most the one in flight runs
// twice, and the event history of both sessions is kept.
func TestCrashResume(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs POSIX signals")
	}
	bin := dplBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	marker := filepath.Join(dir, "marker")
	const steps = 8
	objs := []string{`{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg"}`}
	for k := 1; k <= steps; k++ {
		o := fmt.Sprintf(`{"id":"S%d","name":"S%d","type":"ShellCommandActivity","command":"echo S%d >> %s; sleep 0.3"`, k, k, k, marker)
		if k > 1 {
			o += fmt.Sprintf(`,"dependsOn":{"ref":"S%d"}`, k-1)
		}
		objs = append(objs, o+"}")
	}
	def := filepath.Join(dir, "chain.json")
	os.WriteFile(def, []byte(`{"objects":[`+strings.Join(objs, ",\n")+`]}`), 0o644)

	first := exec.Command(bin, "run", "--headless", "--retry-delay", "10ms", "--state-dir", state, def)
	first.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(marker)
		if bytes.Count(b, []byte("\n")) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("the chain did not get going")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	time.Sleep(500 * time.Millisecond) // let an orphaned step's shell finish its append

	out, err := exec.Command(bin, "run", "--headless", "--retry-delay", "10ms", "--state-dir", state, def).CombinedOutput()
	if code := exitCode(err); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, out)
	}
	if !strings.Contains(string(out), "resumed") {
		t.Errorf("second run did not resume:\n%s", out)
	}
	b, _ := os.ReadFile(marker)
	count := map[string]int{}
	for _, l := range strings.Fields(string(b)) {
		count[l]++
	}
	twice := 0
	for k := 1; k <= steps; k++ {
		n := count[fmt.Sprintf("S%d", k)]
		switch {
		case n == 0:
			t.Errorf("S%d never ran", k)
		case n == 2:
			twice++
		case n > 2:
			t.Errorf("S%d ran %d times", k, n)
		}
	}
	if twice > 1 {
		t.Errorf("%d steps ran twice, want at most the one in flight: %v", twice, count)
	}
	ev, err := exec.Command(bin, "events", "--state-dir", state, "--output", "jsonl").Output()
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	prev := 0.0
	for _, line := range strings.Split(strings.TrimSpace(string(ev)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("bad event line %q", line)
		}
		if seq := e["seq"].(float64); seq != prev+1 {
			t.Fatalf("event seq %v after %v: history has a gap", seq, prev)
		} else {
			prev = seq
		}
		if msg, _ := e["message"].(string); e["event"] == "run" && !strings.HasPrefix(msg, "stopped ") {
			runs = append(runs, msg) // "stopped N processes the killed run left behind" may come between
		}
	}
	if len(runs) != 3 || !strings.Contains(runs[0], "started") || !strings.Contains(runs[1], "resumed") || !strings.Contains(runs[2], "finished") {
		t.Errorf("run events %q", runs)
	}
}

// TestRunRelativeStateDir: staging paths handed to commands stay valid
// when the state folder is given relative to the working directory.
func TestRunRelativeStateDir(t *testing.T) {
	bin := dplBinary(t)
	fixture, _ := filepath.Abs("../../fixtures/quickstart/pipeline.json")
	cmd := exec.Command(bin, "run", "--headless", "--state-dir", "st", fixture)
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("exit %d\n%s", exitCode(err), out)
	}
	if _, err := os.Stat(filepath.Join(cmd.Dir, "st", "s3", "quickstart", "report", "2024-01-01-00-00", "words.txt")); err != nil {
		t.Error(err)
	}
}
