package executor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// crashWhileRunning starts an engine on db, hands out one task of A and
// drops the engine without any shutdown, as kill -9 would.
func crashWhileRunning(t *testing.T, def string, db *runstore.DB, dir string, fc *clock.Fake) {
	t.Helper()
	r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	e := r.e.engine
	e.mu.Lock()
	if e.resumed {
		if err := e.resumeInFlight(); err != nil {
			e.mu.Unlock()
			t.Fatal(err)
		}
	}
	e.step()
	tk := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
	e.mu.Unlock()
	if tk == nil {
		t.Fatal("nothing handed out before the crash")
	}
	e.w.sync()
}

// TestCrashDoesNotUseRetries: a crash of dpl is not the task's failure.
// With maximumRetries 0 the attempt that was running runs again on resume,
// at once and without counting a failure; three crashes in a row fail the
// instance with a message saying so; a crash after an attempt reported a
// result starts the count again.
func TestCrashDoesNotUseRetries(t *testing.T) {
	def := one(`"maximumRetries":"0","retryDelay":"10 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`)

	t.Run("resume reruns at once", func(t *testing.T) {
		dir := t.TempDir()
		db, err := runstore.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		fc := clock.NewFake(t0)
		crashWhileRunning(t, def, db, dir, fc)
		r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
		s := r.drive(always(ok()))
		if !s.OK {
			t.Fatalf("resumed run failed: %s", s.Reason)
		}
		if len(r.at["A"]) != 1 || !r.at["A"][0].Equal(t0) {
			t.Errorf("A handed out at %v after resume, want once at once (no retryDelay)", r.at["A"])
		}
		in := r.inst(iA)
		if in.Failures != 0 || in.Crashes != 0 {
			t.Errorf("failures %d, crashes %d after the rerun finished; want 0 and 0", in.Failures, in.Crashes)
		}
		atts := r.e.Attempts(iA)
		if len(atts) != 2 || atts[0].ErrorID != ErrorIDCrashed || atts[0].Status != string(Canceled) || !strings.Contains(atts[0].ErrorMessage, "without using a retry") {
			t.Errorf("attempts %+v", atts)
		}
	})

	t.Run("three crashes in a row fail", func(t *testing.T) {
		dir := t.TempDir()
		db, err := runstore.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		fc := clock.NewFake(t0)
		for range MaxCrashes {
			crashWhileRunning(t, def, db, dir, fc)
		}
		r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
		s := r.drive(always(ok()))
		if s.OK {
			t.Fatal("run OK after a crash loop, want the instance FAILED")
		}
		r.wantStatus(iA, Failed)
		if len(r.at["A"]) != 0 {
			t.Errorf("A ran again after %d crashes", MaxCrashes)
		}
		in := r.inst(iA)
		if in.ErrorID != ErrorIDCrashLoop || !strings.Contains(in.ErrorMessage, "killed 3 times in a row") {
			t.Errorf("error %s %q, want the crash loop named", in.ErrorID, in.ErrorMessage)
		}
		if n := len(r.e.Attempts(iA)); n != MaxCrashes {
			t.Errorf("%d attempts, want %d (one per crash)", n, MaxCrashes)
		}
	})

	t.Run("a result resets the count", func(t *testing.T) {
		dir := t.TempDir()
		db, err := runstore.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		two := one(`"maximumRetries":"1","retryDelay":"1 minutes"`, `{"id":"A","type":"ShellCommandActivity","command":"x"}`)
		fc := clock.NewFake(t0)
		crashWhileRunning(t, two, db, dir, fc)
		crashWhileRunning(t, two, db, dir, fc)
		// The third session: the rerun reports a failure (its one retry is
		// used), then dpl crashes twice more while the retry runs.
		r := newRun(t, two, Options{Store: db, StateDir: dir, Clock: fc})
		e := r.e.engine
		e.mu.Lock()
		if err := e.resumeInFlight(); err != nil {
			t.Fatal(err)
		}
		e.step()
		tk := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
		e.mu.Unlock()
		if err := r.e.SetTaskStatus(context.Background(), tk.TaskID, task.Result{Status: task.Failed, ErrorID: "Test", ErrorMessage: "boom"}); err != nil {
			t.Fatal(err)
		}
		fc.Advance(2 * time.Minute)
		e.mu.Lock()
		e.step()
		if tk = e.handout(PollInput{WorkerGroup: LocalWorkerGroup}); tk == nil {
			e.mu.Unlock()
			t.Fatal("retry not handed out")
		}
		e.mu.Unlock()
		e.w.sync()
		crashWhileRunning(t, two, db, dir, fc)
		r = newRun(t, two, Options{Store: db, StateDir: dir, Clock: fc})
		if s := r.drive(always(ok())); !s.OK {
			t.Fatalf("run failed (%s): the crashes before the reported failure must not count", s.Reason)
		}
	})
}
