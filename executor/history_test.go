package executor

import (
	"context"
	"testing"

	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// TestHistoryAcrossResume: History returns what happened before a resume
// (read from the store) followed by this session's events, numbered
// without gaps; afterSeq skips what a reader already has.
func TestHistoryAcrossResume(t *testing.T) {
	dir := t.TempDir()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	def := one(`"retryDelay":"1 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}`)
	fc := clock.NewFake(t0)
	r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc, PipelineName: "my pipeline"})
	if r.e.PipelineName() != "my pipeline" || r.e.Activation() != 1 {
		t.Errorf("name %q activation %d", r.e.PipelineName(), r.e.Activation())
	}
	e := r.e.engine
	e.mu.Lock()
	e.step()
	ta := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
	e.mu.Unlock()
	if err := r.e.SetTaskStatus(context.Background(), ta.TaskID, task.Result{Status: task.Finished}); err != nil {
		t.Fatal(err)
	}
	before, err := r.e.History(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 {
		t.Fatal("no history in the first session")
	}
	// Crash; the second session knows the name from the store.
	r2 := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	if !r2.e.Resumed() || r2.e.PipelineName() != "my pipeline" || r2.e.Activation() != 1 {
		t.Fatalf("resumed=%v name=%q activation=%d", r2.e.Resumed(), r2.e.PipelineName(), r2.e.Activation())
	}
	if s := r2.drive(always(ok())); !s.OK {
		t.Fatalf("not OK: %s", s.Reason)
	}
	all, err := r2.e.History(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= len(before) {
		t.Fatalf("history has %d events, the first session alone %d", len(all), len(before))
	}
	finishedA := false
	for k, ev := range all {
		if ev.Seq != uint64(k+1) {
			t.Fatalf("event %d has seq %d", k, ev.Seq)
		}
		if ev.Instance == iA && ev.Kind == EventStatus && ev.Status == Finished {
			finishedA = k < len(before) // A finished before the crash
		}
	}
	if !finishedA {
		t.Error("A's FINISHED from the first session is missing from the history")
	}
	if last := all[len(all)-1]; last.Kind != EventRun || last.Status != Finished {
		t.Errorf("last event %+v, want the run's end", last)
	}
	tail, err := r2.e.History(uint64(len(before)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != len(all)-len(before) || tail[0].Seq != uint64(len(before)+1) {
		t.Errorf("History(%d) gave %d events starting at %d", len(before), len(tail), tail[0].Seq)
	}
}

// TestHistoryInMemory: without a store the events are kept in memory.
func TestHistoryInMemory(t *testing.T) {
	r := newRun(t, one("", `{"id":"A","type":"ShellCommandActivity","command":"x"}`), Options{})
	r.drive(always(ok()))
	evs, err := r.e.History(0)
	if err != nil || len(evs) == 0 {
		t.Fatalf("history %d events, err %v", len(evs), err)
	}
	if r.e.PipelineName() != "test.json" {
		t.Errorf("name %q", r.e.PipelineName())
	}
}
