package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/proc"
)

// stepLine is one line a crash-test step appends to the shared log.
type stepLine struct {
	what, step string // what: start, end, overlap
	pid        int
}

func readStepLog(t *testing.T, path string) []stepLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []stepLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue // a line cut by the kill
		}
		pid, _ := strconv.Atoi(f[2])
		out = append(out, stepLine{f[0], f[1], pid})
	}
	return out
}

// finishedSteps asks dpl runs which instances are FINISHED in the store.
func finishedSteps(t *testing.T, bin, state string) map[string]bool {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "runs", "--state-dir", state, "--output", "json")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpl runs: %v\n%s", err, stderr.String())
	}
	var recs []map[string]any
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("dpl runs json: %v\n%s", err, out)
	}
	done := map[string]bool{}
	for _, r := range recs {
		if r["@status"] == "FINISHED" {
			done[r["@componentParent"].(string)] = true
		}
	}
	return done
}

// TestCrashPolicyRandomKills kills `dpl run` with SIGKILL at random moments
// in a chain of steps (also after the last step, in the activation's end
// or after it), then runs it again until it ends, in several trials
// with maximumRetries 0 and the default (2) and the default retryDelay of
// 10 minutes. Each step holds an exclusive flock while it runs and logs
// start/end lines (O_APPEND). It checks: the run ends with every step
// FINISHED and exit 0 (a crash used no retry and waited no retryDelay), no
// two copies of a step overlap (flock -n never fails), a step the store
// had FINISHED at a kill never starts again, no step starts again once the
// next one started, and no process of a killed run survives.
func TestCrashPolicyRandomKills(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPING: needs /proc and the parent-death signal (Linux)")
	}
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("SKIPPING: needs flock(1) (util-linux) to detect overlapping copies")
	}
	bin := dplBinary(t)
	const steps, killsPerTrial = 6, 3
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	var stats struct{ trials, kills, afterLast, reportedEnded, overlaps int }
	trial := 0
	for _, retries := range []string{"0", ""} {
		for range 3 {
			trial++
			name := fmt.Sprintf("trial %d maximumRetries=%q", trial, retries)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				state, logf := filepath.Join(dir, "state"), filepath.Join(dir, "steps.log")
				def := crashChain(t, dir, logf, steps, retries)
				var kills int
				var pids []int
				for session := 0; ; session++ {
					if session > killsPerTrial+3 {
						t.Fatalf("still not finished after %d sessions", session)
					}
					before := len(readStepLog(t, logf))
					ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
					cmd := exec.CommandContext(ctx, bin, "run", "--headless", "--state-dir", state, def)
					var out bytes.Buffer
					cmd.Stdout, cmd.Stderr = &out, &out
					if err := cmd.Start(); err != nil {
						cancel()
						t.Fatal(err)
					}
					waited := make(chan error, 1)
					go func() { waited <- cmd.Wait() }()
					var err error
					killed, afterLast := false, false
					if kills < killsPerTrial {
						// Kill once this session has finished a step (so the
						// same instance is not crashed three times in a row),
						// at a random moment after that; one kill in three
						// waits for the last step to end, to land in the
						// activation's end or after it.
						target, delay := "", time.Duration(rng.IntN(400))*time.Millisecond
						if rng.IntN(3) == 0 {
							target, delay = fmt.Sprintf("S%d", steps), time.Duration(rng.IntN(15))*time.Millisecond
						}
						err, killed = killAfterProgress(t, cmd, waited, logf, before, target, delay)
						afterLast = killed && lastEnded(readStepLog(t, logf), fmt.Sprintf("S%d", steps))
					} else {
						err = <-waited
					}
					if strings.Contains(out.String(), "activation 2 started") {
						t.Fatalf("session %d started a second activation:\n%s", session, out.String())
					}
					if strings.Contains(out.String(), "already ended") {
						stats.reportedEnded++
					}
					hung := ctx.Err() == context.DeadlineExceeded
					cancel()
					if hung {
						t.Fatalf("session %d hung (a retryDelay waited?):\n%s", session, out.String())
					}
					if killed {
						kills++
						stats.kills++
						if afterLast {
							stats.afterLast++
						}
						for _, l := range readStepLog(t, logf)[before:] {
							pids = append(pids, l.pid)
						}
						done := finishedSteps(t, bin, state)
						// Whatever the store had FINISHED must never start again.
						checkNoRestart(t, logf, len(readStepLog(t, logf)), done)
						continue
					}
					if code := exitCode(err); code != 0 {
						t.Fatalf("session %d: exit %d\n%s", session, code, out.String())
					}
					break
				}
				// The same command once more runs nothing: the activation
				// ended, and dpl says so (exit 0, no step starts).
				out, err := exec.Command(bin, "run", "--headless", "--state-dir", state, def).CombinedOutput()
				if exitCode(err) != 0 || !strings.Contains(string(out), "already ended") || !strings.Contains(string(out), "--fresh starts activation 2") {
					t.Errorf("run after the end: exit %d, want 0 and the ended activation named:\n%s", exitCode(err), out)
				}
				lines := readStepLog(t, logf)
				checkChain(t, lines, steps)
				done := finishedSteps(t, bin, state)
				for k := 1; k <= steps; k++ {
					if !done[fmt.Sprintf("S%d", k)] {
						t.Errorf("S%d is not FINISHED at the end", k)
					}
				}
				for _, l := range lines {
					pids = append(pids, l.pid)
				}
				for _, pid := range pids {
					if processAlive(pid) {
						t.Errorf("process %d of a killed run survives", pid)
					}
				}
				if n, _ := proc.KillLeftovers(state, nil, time.Second); n != 0 {
					t.Errorf("%d marked processes of the state folder were still running", n)
				}
				for _, l := range lines {
					if l.what == "overlap" {
						stats.overlaps++
					}
				}
				stats.trials++
				t.Logf("%d kills, %d step lines", kills, len(lines))
			})
		}
	}
	t.Logf("%d trials, %d kills (%d after the last step ended; %d next runs said the activation had already ended), %d overlapping copies",
		stats.trials, stats.kills, stats.afterLast, stats.reportedEnded, stats.overlaps)
}

// lastEnded reports whether the log has the end line of step.
func lastEnded(lines []stepLine, step string) bool {
	for _, l := range lines {
		if l.what == "end" && l.step == step {
			return true
		}
	}
	return false
}

// crashChain writes a chain S1 → … → Sn whose steps lock, log and sleep.
func crashChain(t *testing.T, dir, logf string, n int, retries string) string {
	t.Helper()
	def := `{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg"`
	if retries != "" {
		def += `,"maximumRetries":"` + retries + `"`
	}
	objs := []string{def + "}"}
	for k := 1; k <= n; k++ {
		lock := filepath.Join(dir, fmt.Sprintf("S%d.lock", k))
		// flock -n fails at once if another copy of the step holds the lock.
		script := fmt.Sprintf(`flock -n %[1]s sh -c 'echo "start S%[2]d $$" >> %[3]s; sleep 0.%[4]d; echo "end S%[2]d $$" >> %[3]s' || { echo "overlap S%[2]d $$" >> %[3]s; exit 1; }`,
			lock, k, logf, 1+k%3)
		b, _ := json.Marshal(script)
		o := fmt.Sprintf(`{"id":"S%d","name":"S%d","type":"ShellCommandActivity","command":%s`, k, k, b)
		if k > 1 {
			o += fmt.Sprintf(`,"dependsOn":{"ref":"S%d"}`, k-1)
		}
		objs = append(objs, o+"}")
	}
	path := filepath.Join(dir, "chain.json")
	if err := os.WriteFile(path, []byte(`{"objects":[`+strings.Join(objs, ",\n")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// killAfterProgress waits for a step to end in this session (target:
// that step; "": any), then after delay kills dpl with SIGKILL, wherever
// the run is by then (also after the activation ended). It returns the
// run's result and whether it was killed (false: the run exited first).
func killAfterProgress(t *testing.T, cmd *exec.Cmd, waited chan error, logf string, before int, target string, delay time.Duration) (error, bool) {
	t.Helper()
	every := 5 * time.Millisecond
	if target != "" {
		every = time.Millisecond // the window after the last step is a few milliseconds
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case err := <-waited:
			return err, false
		case <-tick.C:
		}
		// Only a step this session started counts: a step orphaned by
		// the previous kill may still write its end line before this
		// session stops it, and a kill timed by that line would crash
		// the re-run of the same instance again (three times in a row is
		// dpl's crash-loop rule, and the instance fails).
		ended, started := false, map[int]bool{}
		for _, l := range readStepLog(t, logf)[before:] {
			if l.what == "start" {
				started[l.pid] = true
			}
			ended = ended || l.what == "end" && started[l.pid] && (target == "" || l.step == target)
		}
		if ended {
			break
		}
	}
	select {
	case err := <-waited:
		return err, false
	case <-time.After(delay):
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := <-waited
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		return err, false // it had exited before the signal
	}
	return nil, true
}

// checkNoRestart arranges that no step FINISHED in the store at a kill
// starts again after line `from` of the log (checked at the end).
func checkNoRestart(t *testing.T, logf string, from int, done map[string]bool) {
	t.Cleanup(func() {
		for _, l := range readStepLog(t, logf)[from:] {
			if l.what == "start" && done[l.step] {
				t.Errorf("%s was FINISHED in the store at a kill and started again (pid %d)", l.step, l.pid)
			}
		}
	})
}

// checkChain verifies the log of the whole trial: no overlap, every step
// ended, and no step started again after its successor started.
func checkChain(t *testing.T, lines []stepLine, n int) {
	t.Helper()
	lastStart := map[string]int{}
	firstStart := map[string]int{}
	ended := map[string]bool{}
	for k, l := range lines {
		switch l.what {
		case "overlap":
			t.Errorf("two copies of %s ran at once (pid %d could not take the step's lock)", l.step, l.pid)
		case "start":
			lastStart[l.step] = k
			if _, ok := firstStart[l.step]; !ok {
				firstStart[l.step] = k
			}
		case "end":
			ended[l.step] = true
		}
	}
	for k := 1; k <= n; k++ {
		s := fmt.Sprintf("S%d", k)
		if !ended[s] {
			t.Errorf("%s never ran to its end", s)
		}
		if k < n {
			next := fmt.Sprintf("S%d", k+1)
			if f, ok := firstStart[next]; ok && lastStart[s] > f {
				t.Errorf("%s started again after %s had started", s, next)
			}
		}
	}
}

// processAlive reports whether pid runs (a zombie does not count).
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// TestTaskRunnerKilledLeavesNothingBesideRetry: dpl taskrunner killed with
// -9 while a task runs takes the task's shell with it (parent-death
// signal), but a background child of the command lives on. The next
// runner started on the same --output folder stops it before it takes any
// task, so the retry the server hands out never runs beside it.
func TestTaskRunnerKilledLeavesNothingBesideRetry(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPING: needs /proc and the parent-death signal (Linux)")
	}
	bin := dplBinary(t)
	dir := t.TempDir()
	logf := filepath.Join(dir, "child.log")
	cmdJSON, _ := json.Marshal(fmt.Sprintf(`sleep 300 & echo "child $!" >> %s; wait`, logf))
	def := filepath.Join(dir, "p.json")
	if err := os.WriteFile(def, []byte(`{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg"},
 {"id":"S","name":"S","type":"ShellCommandActivity","command":`+string(cmdJSON)+`}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	run := exec.Command(bin, "run", "--headless", "--serve", addr, "--state-dir", filepath.Join(dir, "state"), def)
	// Read while the processes write: locked buffers.
	runOut := &lockedBuffer{}
	run.Stdout, run.Stderr = runOut, runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = run.Process.Signal(syscall.SIGINT)
		_ = run.Wait()
	})
	out := filepath.Join(dir, "runner")
	startRunner := func() (*exec.Cmd, *lockedBuffer) {
		r := exec.Command(bin, "taskrunner", "--endpoint", "http://"+addr, "--worker-group", "wg", "--output", out, "--progress-interval", "1s")
		// Requests to dpl run --serve are signed: any static credentials.
		r.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
		buf := &lockedBuffer{}
		r.Stdout, r.Stderr = buf, buf
		if err := r.Start(); err != nil {
			t.Fatal(err)
		}
		return r, buf
	}
	first, firstOut := startRunner()
	child := 0
	for deadline := time.Now().Add(60 * time.Second); child == 0; {
		if b, err := os.ReadFile(logf); err == nil {
			fmt.Sscanf(string(b), "child %d", &child)
		}
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatalf("the task never started:\nrun: %s\nrunner: %s", runOut.String(), firstOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	if !processAlive(child) {
		t.Fatalf("the command's background child %d died with the runner: the case proves nothing", child)
	}

	second, secondOut := startRunner()
	t.Cleanup(func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	})
	for deadline := time.Now().Add(20 * time.Second); processAlive(child); {
		if time.Now().After(deadline) {
			t.Fatalf("the killed runner's child %d still runs beside the new runner:\n%s", child, secondOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(secondOut.String(), "polling"); {
		if time.Now().After(deadline) {
			t.Fatalf("the new runner never started polling:\n%s", secondOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := secondOut.String(); !strings.Contains(s, "stopped 1 process(es) that a killed runner left") || strings.Index(s, "stopped 1") > strings.Index(s, "polling") {
		t.Errorf("the new runner did not say it stopped the leftover before polling:\n%s", s)
	}
}

// freeLoopbackAddr is a 127.0.0.1 address with a port nothing listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
