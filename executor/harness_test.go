package executor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// t0 is the fake clock's start in tests: after every schedule used below,
// so instances are backfill and runnable at once unless a test says so.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// outcome is what a fake runner decides for a task: a result, or hang
// (the task stays running until the engine cancels it).
type outcome struct {
	res  task.Result
	hang bool
}

func ok() outcome { return outcome{res: task.Result{Status: task.Finished}} }
func fail(msg string) outcome {
	return outcome{res: task.Result{Status: task.Failed, ErrorID: "Test", ErrorMessage: msg}}
}
func falsy() outcome              { return outcome{res: task.Result{Status: task.False}} }
func hang() outcome               { return outcome{hang: true} }
func always(o outcome) runnerFunc { return func(*task.Task) outcome { return o } }

type runnerFunc func(t *task.Task) outcome

// run is a deterministic harness: it hands out every queued task, applies
// the fake runner, and when nothing else can happen moves the fake clock
// to the engine's next timer. It records every task handed out.
type run struct {
	t     *testing.T
	e     *Engine
	fc    *clock.Fake
	tasks []*task.Task
	at    map[string][]time.Time // component → times its tasks were handed out
	hung  []*task.Task
}

func newDef(t *testing.T, js string) *definition.Definition {
	t.Helper()
	d, err := definition.Parse("test.json", []byte(js))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d
}

func newRun(t *testing.T, js string, opts Options) *run {
	t.Helper()
	fc := clock.NewFake(t0)
	opts.Definition = newDef(t, js)
	opts.Source = []byte(js)
	if opts.Clock == nil {
		opts.Clock = fc
	} else {
		fc = opts.Clock.(*clock.Fake)
	}
	if opts.PipelineID == "" {
		opts.PipelineID = "df-TEST"
	}
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &run{t: t, e: e, fc: fc, at: map[string][]time.Time{}}
}

// drive runs to the end (or maxSteps clock moves) and returns the summary.
func (r *run) drive(fn runnerFunc) *Summary {
	r.t.Helper()
	e := r.e.engine
	ctx := context.Background()
	e.mu.Lock()
	if e.resumed {
		if err := e.resumeInFlight(); err != nil {
			r.t.Fatal(err)
		}
	}
	e.mu.Unlock()
	for moves := 0; moves < 10000; {
		e.mu.Lock()
		e.step()
		r.checkCounters()
		done, reason := e.finishedCheck()
		if done {
			s := e.finish(reason)
			e.mu.Unlock()
			return s
		}
		e.mu.Unlock()
		progressed := false
		for {
			e.mu.Lock()
			tk := e.handout(PollInput{WorkerGroup: LocalWorkerGroup, Hostname: "test"})
			e.mu.Unlock()
			if tk == nil {
				break
			}
			progressed = true
			r.tasks = append(r.tasks, tk)
			comp := tk.Attempt().Refs("@componentParent")[0]
			r.at[comp] = append(r.at[comp], r.fc.Now())
			o := fn(tk)
			if o.hang {
				r.hung = append(r.hung, tk)
				continue
			}
			if err := r.e.SetTaskStatus(ctx, tk.TaskID, o.res); err != nil {
				r.t.Fatalf("SetTaskStatus: %v", err)
			}
		}
		if progressed {
			continue
		}
		e.mu.Lock()
		next, ok := e.nextWake()
		e.mu.Unlock()
		if !ok {
			r.t.Fatalf("engine idle without finishing")
		}
		r.fc.Set(next)
		moves++
	}
	r.t.Fatalf("run did not end")
	return nil
}

func (r *run) inst(id string) runstore.Instance {
	r.t.Helper()
	for _, i := range r.e.Instances() {
		if i.ID == id {
			return i
		}
	}
	r.t.Fatalf("no instance %s; have %v", id, ids(r.e.Instances()))
	return runstore.Instance{}
}

func ids(is []runstore.Instance) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.ID+"="+i.Status)
	}
	return out
}

func (r *run) status(id string) Status { return Status(r.inst(id).Status) }

func (r *run) wantStatus(id string, want Status) {
	r.t.Helper()
	if got := r.status(id); got != want {
		r.t.Errorf("%s: status %s, want %s (all: %s)", id, got, want, strings.Join(ids(r.e.Instances()), " "))
	}
}

// checkCounters verifies the incremental dependency counters against a
// full recount (called with the engine locked).
func (r *run) checkCounters() {
	r.t.Helper()
	e := r.e.engine
	if len(e.invalid) > 0 {
		r.t.Fatalf("the state machine refused transitions: %v", e.invalid)
	}
	for _, i := range e.order {
		notOK, bad := 0, 0
		for _, w := range i.waits {
			d := e.insts[w]
			if d == nil || !depOK(Status(d.Status)) {
				notOK++
			}
			if d != nil && Status(d.Status).Bad() {
				bad++
			}
		}
		if notOK != i.notOK || bad != i.bad {
			r.t.Fatalf("%s: counters notOK=%d bad=%d, recount %d %d", i.ID, i.notOK, i.bad, notOK, bad)
		}
		for _, w := range i.waits[:i.scan] {
			if d := e.insts[w]; d == nil || !depOK(Status(d.Status)) {
				r.t.Fatalf("%s: scan cursor %d passes %s which is not done", i.ID, i.scan, w)
			}
		}
	}
}
