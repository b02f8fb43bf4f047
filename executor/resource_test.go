package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/task"
)

const iR = "@R_2025-12-31T23:00:00"

// resourceDef: R starts with the given actionOnResourceFailure, A runs on
// it, C consumes A (cascade mode).
func resourceDef(action string) string {
	return one(`"failureAndRerunMode":"cascade"`,
		`{"id":"R","type":"Ec2Resource","role":"r","resourceRole":"r","maximumRetries":"2","retryDelay":"10 minutes","actionOnResourceFailure":"`+action+`"}`,
		`{"id":"A","type":"ShellCommandActivity","command":"x","runsOn":{"ref":"R"}}`,
		`{"id":"C","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}`)
}

// blockResources makes the resources' working folders impossible to
// create (a file where their parent folder goes): a real start failure.
func blockResources(t *testing.T, dir string) (unblock func()) {
	t.Helper()
	p := filepath.Join(dir, "resources", "df-TEST")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

func startRetries(r *run) (n int) {
	evs, err := r.e.History(0)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Instance == iR && ev.Kind == EventWaiting && strings.Contains(ev.Message, "retry") {
			n++
		}
	}
	return n
}

// TestResourceStartRetried: with retryall a resource whose start fails is
// started again after its retryDelay; its activity waits and then runs.
func TestResourceStartRetried(t *testing.T) {
	dir := t.TempDir()
	unblock := blockResources(t, dir)
	r := newRun(t, resourceDef("retryall"), Options{StateDir: dir})
	e := r.e.engine
	e.mu.Lock()
	e.step()
	tk := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
	e.mu.Unlock()
	if tk != nil {
		t.Fatalf("task %s handed out while its resource could not start", tk.AttemptID)
	}
	r.wantStatus(iR, WaitingOnDependencies)
	if i := r.inst(iR); i.Failures != 1 || !i.NextAttempt.Equal(t0.Add(10*time.Minute)) || !strings.Contains(i.ErrorMessage, "working folder") {
		t.Fatalf("resource after a failed start: %+v", i)
	}
	if w := r.inst(iA).WaitingOn; len(w) != 1 || w[0] != iR {
		t.Errorf("A waits on %v, want the resource", w)
	}
	unblock()
	if s := r.drive(always(ok())); !s.OK {
		t.Fatalf("not OK: %s", s.Reason)
	}
	if got := r.at["A"]; len(got) != 1 || !got[0].Equal(t0.Add(10*time.Minute)) {
		t.Errorf("A ran at %v, want once at the retry (%s)", got, t0.Add(10*time.Minute))
	}
	r.wantStatus(iR, Finished)
	if n := startRetries(r); n != 1 {
		t.Errorf("%d retry events, want 1", n)
	}
}

// TestResourceStartFailsFinally: retryall gives up after maximumRetries
// (each retryDelay apart); retrynone at once. Either way the resource is
// FAILED, its activity CANCELED and the consumer CASCADE_FAILED.
func TestResourceStartFailsFinally(t *testing.T) {
	for _, tc := range []struct {
		action  string
		retries int
		end     time.Duration
	}{
		{"retryall", 2, 20 * time.Minute},
		{"retrynone", 0, 0},
	} {
		t.Run(tc.action, func(t *testing.T) {
			dir := t.TempDir()
			blockResources(t, dir)
			r := newRun(t, resourceDef(tc.action), Options{StateDir: dir})
			s := r.drive(always(ok()))
			if s.OK {
				t.Fatal("run OK although its resource never started")
			}
			r.wantStatus(iR, Failed)
			r.wantStatus(iA, Canceled)
			r.wantStatus(iC, CascadeFailed)
			if len(r.tasks) != 0 {
				t.Errorf("%d tasks handed out", len(r.tasks))
			}
			if n := startRetries(r); n != tc.retries {
				t.Errorf("%d retries, want %d", n, tc.retries)
			}
			if got := r.inst(iR); got.Failures != tc.retries+1 || !strings.Contains(got.ErrorMessage, tc.action) && tc.action == "retrynone" {
				t.Errorf("resource %+v", got)
			}
			if end := r.inst(iR).ActualEnd; !end.Equal(t0.Add(tc.end)) {
				t.Errorf("resource failed at %s, want %s", end, t0.Add(tc.end))
			}
			if !strings.Contains(r.inst(iA).Reason, "resource "+iR) {
				t.Errorf("A's cancellation reason %q", r.inst(iA).Reason)
			}
		})
	}
}

// TestActionOnTaskFailureContinue: with continue (the default) a failed
// task leaves the resource up; the other activity on it finishes.
func TestActionOnTaskFailureContinue(t *testing.T) {
	def := one(`"maximumRetries":"0"`,
		`{"id":"R","type":"Ec2Resource","role":"r","resourceRole":"r","actionOnTaskFailure":"continue"}`,
		`{"id":"A","type":"ShellCommandActivity","command":"x","runsOn":{"ref":"R"}}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","runsOn":{"ref":"R"},"dependsOn":{"ref":"A"},"failureAndRerunMode":"none"}`,
		`{"id":"D","type":"ShellCommandActivity","command":"x","runsOn":{"ref":"R"}}`)
	r := newRun(t, def, Options{})
	r.drive(func(tk *task.Task) outcome {
		if tk.Attempt().Refs("@componentParent")[0] == "A" {
			return fail("A broke")
		}
		return ok()
	})
	r.wantStatus(iA, Failed)
	r.wantStatus("@D_2025-12-31T23:00:00", Finished)
	if st := r.status(iR); st == Failed || st == Canceled {
		t.Errorf("resource %s after a task failure with continue", st)
	}
}

// TestFanInCountersWithRerun: a fan-in's dependency counters follow
// failures, cascade and a rerun of the failed upstream (checked against a
// recount at every step by the harness).
func TestFanInCountersWithRerun(t *testing.T) {
	objs := []string{}
	deps := []string{}
	for _, id := range []string{"T0", "T1", "T2", "T3"} {
		objs = append(objs, `{"id":"`+id+`","type":"ShellCommandActivity","command":"x"}`)
		deps = append(deps, `{"ref":"`+id+`"}`)
	}
	objs = append(objs, `{"id":"F","type":"ShellCommandActivity","command":"x","dependsOn":[`+strings.Join(deps, ",")+`]}`)
	r := newRun(t, one(`"failureAndRerunMode":"cascade","maximumRetries":"0"`, objs...), Options{})
	broke := false
	r.drive(func(tk *task.Task) outcome {
		if tk.Attempt().Refs("@componentParent")[0] == "T2" && !broke {
			broke = true
			return fail("T2 broke")
		}
		return ok()
	})
	iF := "@F_2025-12-31T23:00:00"
	r.wantStatus(iF, CascadeFailed)
	if err := r.e.SetStatus(context.Background(), "df-TEST", []string{"@T2_2025-12-31T23:00:00"}, CmdRerun); err != nil {
		t.Fatal(err)
	}
	if s := r.drive(always(ok())); !s.OK {
		t.Fatalf("after rerun: %s", s.Reason)
	}
	r.wantStatus(iF, Finished)
}
