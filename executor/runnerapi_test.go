package executor

import (
	"context"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// stepped hands out one task of group after a step.
func (r *run) poll(group string) *task.Task {
	e := r.e.engine
	e.mu.Lock()
	e.step()
	e.mu.Unlock()
	tk, err := r.e.PollForTask(context.Background(), PollInput{WorkerGroup: group, Hostname: "h", NoWait: true})
	if err != nil {
		r.t.Fatalf("poll: %v", err)
	}
	return tk
}

func TestPollNoWaitReturnsAtOnce(t *testing.T) {
	r := newRun(t, one("", `{"id":"A","type":"ShellCommandActivity","command":"x"}`), Options{})
	// Nothing for this group: NoWait returns without the fake clock moving
	// (a blocking poll would wait PollTimeout on it forever).
	if tk := r.poll("nobody"); tk != nil {
		t.Fatalf("task %s for an unknown group", tk.AttemptID)
	}
	if tk := r.poll(LocalWorkerGroup); tk == nil {
		t.Fatal("no task for the local group")
	}
}

// TestReleaseTask: a task given back (ReleaseTask or SetTaskStatus FAILED
// TaskRunnerShutdown) is queued again at once as a new attempt and uses
// none of maximumRetries.
func TestReleaseTask(t *testing.T) {
	def := one(`"maximumRetries":"0","retryDelay":"1 hours"`, `{"id":"A","type":"ShellCommandActivity","command":"x"}`)
	r := newRun(t, def, Options{})
	ctx := context.Background()
	t1 := r.poll(LocalWorkerGroup)
	if err := r.e.ReleaseTask(t1.TaskID); err != nil {
		t.Fatal(err)
	}
	t2 := r.poll(LocalWorkerGroup)
	if t2 == nil || t2.AttemptID != iA+"_Attempt=2" {
		t.Fatalf("after release: %+v", t2)
	}
	if err := r.e.SetTaskStatus(ctx, t2.TaskID, task.Result{Status: task.Failed, ErrorID: ErrorIDRunnerShutdown, ErrorMessage: "SIGTERM"}); err != nil {
		t.Fatal(err)
	}
	t3 := r.poll(LocalWorkerGroup)
	if t3 == nil || t3.AttemptID != iA+"_Attempt=3" {
		t.Fatalf("after a shutdown give-back: %+v", t3)
	}
	if c, _ := r.e.ReportTaskProgress(ctx, t1.TaskID, nil); !c {
		t.Error("the released task is not reported canceled to its old owner")
	}
	if err := r.e.SetTaskStatus(ctx, t3.TaskID, task.Result{Status: task.Finished}); err != nil {
		t.Fatal(err)
	}
	if s := r.drive(always(ok())); !s.OK {
		t.Fatalf("not OK after give-backs with maximumRetries 0: %s", s.Reason)
	}
	atts := r.e.Attempts(iA)
	if len(atts) != 3 || atts[0].ErrorID != ErrorIDReleased || atts[1].ErrorID != ErrorIDRunnerShutdown || atts[0].Status != string(Canceled) {
		t.Errorf("attempts %+v", atts)
	}
	if r.inst(iA).Failures != 0 {
		t.Errorf("failures %d, want 0", r.inst(iA).Failures)
	}
	if err := r.e.ReleaseTask("nope"); err == nil {
		t.Error("unknown task released")
	}
}

// TestRemoteAllAndAckTimeout: RemoteAll sends every workerGroup (even one
// given by a parameter) to remote runners; Options.AckTimeout applies.
func TestRemoteAllAndAckTimeout(t *testing.T) {
	def := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","retryDelay":"1 minutes","maximumRetries":"1"},
 {"id":"A","type":"ShellCommandActivity","command":"x","workerGroup":"#{myGroup}"},
 {"id":"B","type":"ShellCommandActivity","command":"x"}
],"parameters":[{"id":"myGroup","type":"String","default":"wg-a"}]}`
	r := newRun(t, def, Options{RemoteAll: true, AckTimeout: 10 * time.Second})
	if g := r.e.WorkerGroups(); len(g) != 1 || g[0] != "wg-a" {
		t.Fatalf("groups %v", g)
	}
	local := r.poll(LocalWorkerGroup)
	if local == nil || local.Attempt().Refs("@componentParent")[0] != "B" {
		t.Fatalf("local worker got %+v, want B", local)
	}
	if tk := r.poll(LocalWorkerGroup); tk != nil {
		t.Fatalf("local worker got %s too", tk.AttemptID)
	}
	rt := r.poll("wg-a")
	if rt == nil {
		t.Fatal("no task for wg-a")
	}
	r.fc.Advance(10 * time.Second)
	r.poll("wg-a")
	if c, _ := r.e.ReportTaskProgress(context.Background(), rt.TaskID, nil); !c {
		t.Fatal("unacknowledged task kept past Options.AckTimeout")
	}
	id := rt.Attempt().Get("@instanceParent")
	if id == "" {
		id = rt.Attempt().Refs("@instanceParent")[0]
	}
	if a := r.e.Attempts(id)[0]; a.ErrorID != ErrorIDNotAcknowledged {
		t.Errorf("attempt %+v", a)
	}
}

// TestResumeRequeueEmitsEvent: attempts queued when the process stopped
// are queued again on resume with an attempt event, so pollers wake.
func TestResumeRequeueEmitsEvent(t *testing.T) {
	dir := t.TempDir()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	def := one("", `{"id":"A","type":"ShellCommandActivity","command":"x","workerGroup":"wg"}`)
	fc := clock.NewFake(t0)
	r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc, Remote: []string{"wg"}})
	e := r.e.engine
	e.mu.Lock()
	e.step() // queued, never handed out
	e.mu.Unlock()
	e.w.sync() // what the process wrote before it was killed

	r2 := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc, Remote: []string{"wg"}})
	evs, stop := r2.e.Subscribe()
	defer stop()
	e2 := r2.e.engine
	e2.mu.Lock()
	if err := e2.resumeInFlight(); err != nil {
		t.Fatal(err)
	}
	e2.mu.Unlock()
	select {
	case ev := <-evs:
		if ev.Kind != EventAttempt || ev.Status != WaitingForRunner || ev.Instance != iA {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event for the re-queued attempt")
	}
	if tk := r2.poll("wg"); tk == nil {
		t.Fatal("re-queued attempt not handed out")
	}
}
