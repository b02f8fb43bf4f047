package worker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/task"
	"github.com/dpl-dev/dpl/executor/worker"
)

// standInAPI is a stand-in for a remote service: it hands out the tasks it
// is given, one per poll, and records what the loop reports. Polls with
// nothing to hand out wait for ctx (a long poll). Unused operations are
// the nil interface's: calling one panics the test.
type standInAPI struct {
	executor.API
	tasks    chan *task.Task
	mu       sync.Mutex
	progress int
	cancelAt int // answer canceled on this progress report (0: never)
	results  []task.Result
	reported chan struct{}
	// sent is the progress in the reports' fields, with how many results
	// had been reported before each.
	sent []sentProgress
}

type sentProgress struct {
	p             task.Progress
	resultsBefore int
}

func newStandIn(ts ...*task.Task) *standInAPI {
	a := &standInAPI{tasks: make(chan *task.Task, len(ts)), reported: make(chan struct{}, 10)}
	for _, t := range ts {
		a.tasks <- t
	}
	return a
}

func (a *standInAPI) PollForTask(ctx context.Context, _ executor.PollInput) (*task.Task, error) {
	select {
	case t := <-a.tasks:
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *standInAPI) ReportTaskProgress(_ context.Context, _ string, fields []task.Field) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := task.ProgressFromFields(fields); ok {
		a.sent = append(a.sent, sentProgress{p, len(a.results)})
	}
	a.progress++
	return a.cancelAt > 0 && a.progress >= a.cancelAt, nil
}

func (a *standInAPI) ReportTaskRunnerHeartbeat(context.Context, executor.HeartbeatInput) (bool, error) {
	return false, nil
}

func (a *standInAPI) SetTaskStatus(_ context.Context, _ string, r task.Result) error {
	a.mu.Lock()
	a.results = append(a.results, r)
	a.mu.Unlock()
	a.reported <- struct{}{}
	return nil
}

func (a *standInAPI) counts() (int, []task.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.progress, append([]task.Result(nil), a.results...)
}

// blockingRunner runs until its context ends, telling started and ended.
type blockingRunner struct{ started, ended chan struct{} }

func (r blockingRunner) Run(ctx context.Context, _ *task.Task, _ task.Logs) task.Result {
	close(r.started)
	<-ctx.Done()
	close(r.ended)
	return task.Result{Status: task.Failed, ErrorMessage: "stopped"}
}

// waitAfter blocks until n After calls are pending on the fake clock.
func waitAfter(t *testing.T, fc *clock.Fake, n int) {
	t.Helper()
	for fc.Waiters() < n {
		select {
		case <-fc.Changed():
		case <-time.After(30 * time.Second):
			t.Fatalf("the loop never waited on the clock (%d waiters, want %d)", fc.Waiters(), n)
		}
	}
}

// Progress is reported on the injected clock, and a canceled answer stops
// the task without a status report.
func TestProgressOnTheInjectedClock(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := newStandIn(&task.Task{TaskID: "t1", AttemptID: "a1"})
	api.cancelAt = 3 // the acknowledgement, one report, then canceled
	run := blockingRunner{started: make(chan struct{}), ended: make(chan struct{})}
	l := &worker.Loop{API: api, Runner: run, WorkerGroup: "g", Clock: fc, ProgressInterval: time.Minute, RetryPolls: true, GiveBack: true}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-run.started
	for want := 2; want <= 3; want++ {
		waitAfter(t, fc, 1)
		fc.Advance(time.Minute)
		for {
			if n, _ := api.counts(); n >= want {
				break
			}
			<-time.After(time.Millisecond)
		}
	}
	<-run.ended
	if n, res := api.counts(); n != 3 || len(res) != 0 {
		t.Fatalf("after cancel: %d progress reports, results %v; want 3 and none", n, res)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A runner that gives tasks back lets a running task go on for the grace
// period (on the injected clock), then cancels it and reports it FAILED
// with ErrorShutdown.
func TestGiveBackAfterGrace(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := newStandIn(&task.Task{TaskID: "t1", AttemptID: "a1"})
	run := blockingRunner{started: make(chan struct{}), ended: make(chan struct{})}
	l := &worker.Loop{API: api, Runner: run, WorkerGroup: "g", Clock: fc, ProgressInterval: time.Hour,
		RetryPolls: true, GiveBack: true, ShutdownGrace: 30 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-run.started
	waitAfter(t, fc, 1) // the progress timer
	cancel()
	waitAfter(t, fc, 2) // and the grace
	select {
	case <-run.ended:
		t.Fatal("the task was stopped before the grace period was over")
	default:
	}
	fc.Advance(30 * time.Second)
	<-run.ended
	<-api.reported
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, res := api.counts()
	if len(res) != 1 || res[0].ErrorID != worker.ErrorShutdown {
		t.Fatalf("results %+v, want one %s", res, worker.ErrorShutdown)
	}
	if st := l.Stats(); st.Returned != 1 {
		t.Errorf("stats %+v, want one returned", st)
	}
}

// completionAPI is a stand-in for an in-process engine whose activation
// has ended: polls answer at once with nothing, and Active is a channel
// the test closes to reopen it.
type completionAPI struct {
	executor.API
	mu     sync.Mutex
	polls  int
	active chan struct{}
	asked  chan struct{} // gets a value each time the loop asks for Active
}

func (a *completionAPI) PollForTask(ctx context.Context, _ executor.PollInput) (*task.Task, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.polls++
	return nil, ctx.Err()
}

func (a *completionAPI) Active() <-chan struct{} {
	a.mu.Lock()
	ch := a.active
	a.mu.Unlock()
	a.asked <- struct{}{}
	return ch
}

func (a *completionAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.polls
}

// An idle slot waits on the engine's completion signal after an empty
// poll instead of polling a finished engine again.
func TestIdleSlotWaitsOnCompletion(t *testing.T) {
	api := &completionAPI{active: make(chan struct{}), asked: make(chan struct{}, 4)}
	l := &worker.Loop{API: api, Runner: blockingRunner{}, Slots: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-api.asked
	if n := api.count(); n != 1 {
		t.Fatalf("%d polls before waiting on Active, want 1", n)
	}
	// Reopening (the channel closes) lets it poll once more, then wait on
	// the next channel.
	api.mu.Lock()
	old := api.active
	api.active = make(chan struct{})
	api.mu.Unlock()
	close(old)
	<-api.asked
	if n := api.count(); n != 2 {
		t.Fatalf("%d polls after one reopen, want 2", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// progressRunner reports its progress twice, then finishes.
type progressRunner struct{}

func (progressRunner) Run(ctx context.Context, _ *task.Task, _ task.Logs) task.Result {
	task.ReportProgress(ctx, task.Progress{Done: 1, Total: 2, Unit: "statements", Rows: 5})
	task.ReportProgress(ctx, task.Progress{Done: 2, Total: 2, Unit: "statements", Rows: 9})
	return task.Result{Status: task.Finished}
}

// Against a remote service the loop sends a runner's progress in
// ReportTaskProgress's fields; the latest one goes before the result,
// even when no progress tick came in between.
func TestRemoteProgressSentInFieldsBeforeTheResult(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := newStandIn(&task.Task{TaskID: "t1", AttemptID: "a1"})
	l := &worker.Loop{API: api, Runner: progressRunner{}, WorkerGroup: "g", Clock: fc, ProgressInterval: time.Hour, RetryPolls: true}
	runUntilReported(t, l, api)
	api.mu.Lock()
	defer api.mu.Unlock()
	want := task.Progress{Done: 2, Total: 2, Unit: "statements", Rows: 9}
	if len(api.sent) != 1 || api.sent[0].p != want || api.sent[0].resultsBefore != 0 {
		t.Fatalf("progress sent = %+v, want %+v once, before the result", api.sent, want)
	}
}

// finishRunner finishes at once.
type finishRunner struct{}

func (finishRunner) Run(context.Context, *task.Task, task.Logs) task.Result {
	return task.Result{Status: task.Finished}
}

// With AckDelay a task that ends before it is acknowledged by its result
// alone: no ReportTaskProgress at all.
func TestAckDelayQuickTaskSendsNoAcknowledgement(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := newStandIn(&task.Task{TaskID: "t1", AttemptID: "a1"})
	l := &worker.Loop{API: api, Runner: finishRunner{}, WorkerGroup: "g", Clock: fc, ProgressInterval: time.Minute,
		RetryPolls: true, GiveBack: true, AckDelay: time.Second}
	runUntilReported(t, l, api)
	if n, res := api.counts(); n != 0 || len(res) != 1 || res[0].Status != task.Finished {
		t.Fatalf("%d progress reports, results %+v; want none and one FINISHED", n, res)
	}
}

// With AckDelay a task still running AckDelay after it started is
// acknowledged then; a canceled answer to that acknowledgement stops it
// without a result.
func TestAckDelayLongTaskAcknowledgedLate(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := newStandIn(&task.Task{TaskID: "t1", AttemptID: "a1"})
	api.cancelAt = 2 // the acknowledgement, then canceled on the first progress report
	run := blockingRunner{started: make(chan struct{}), ended: make(chan struct{})}
	l := &worker.Loop{API: api, Runner: run, WorkerGroup: "g", Clock: fc, ProgressInterval: time.Minute,
		RetryPolls: true, GiveBack: true, AckDelay: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-run.started
	if n, _ := api.counts(); n != 0 {
		t.Fatalf("%d reports before the ack delay, want 0", n)
	}
	waitAfter(t, fc, 1)
	fc.Advance(time.Second)
	for n := 0; n < 1; n, _ = api.counts() {
		<-time.After(time.Millisecond)
	}
	select {
	case <-run.ended:
		t.Fatal("the task stopped at its acknowledgement")
	default:
	}
	waitAfter(t, fc, 1)
	fc.Advance(time.Minute) // the progress interval follows the acknowledgement
	<-run.ended
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, res := api.counts(); n != 2 || len(res) != 0 {
		t.Fatalf("%d progress reports, results %+v; want 2 and none", n, res)
	}
}

// gatedAPI holds every SetTaskStatus until the test opens the gate.
type gatedAPI struct {
	*standInAPI
	gate  chan struct{}
	polls chan struct{}
}

func (a *gatedAPI) PollForTask(ctx context.Context, in executor.PollInput) (*task.Task, error) {
	a.polls <- struct{}{}
	return a.standInAPI.PollForTask(ctx, in)
}

func (a *gatedAPI) SetTaskStatus(ctx context.Context, id string, r task.Result) error {
	<-a.gate
	return a.standInAPI.SetTaskStatus(ctx, id, r)
}

// countingRunner finishes at once and counts its runs.
type countingRunner struct{ n *atomic.Int32 }

func (r countingRunner) Run(context.Context, *task.Task, task.Logs) task.Result {
	r.n.Add(1)
	return task.Result{Status: task.Finished}
}

// With ReportBehind the slot polls for its next task while the last
// result is on its way, runs the next task only once that result was sent,
// and Run returns only after every result was sent.
func TestReportBehindOverlapsTheNextPoll(t *testing.T) {
	api := &gatedAPI{standInAPI: newStandIn(&task.Task{TaskID: "t1", AttemptID: "a1"}, &task.Task{TaskID: "t2", AttemptID: "a2"}),
		gate: make(chan struct{}), polls: make(chan struct{}, 8)}
	var ran atomic.Int32
	l := &worker.Loop{API: api, Runner: countingRunner{&ran}, WorkerGroup: "g", ProgressInterval: time.Minute,
		RetryPolls: true, GiveBack: true, AckDelay: time.Second, ReportBehind: true}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-api.polls // t1
	<-api.polls // t2, while t1's result waits at the gate
	time.Sleep(20 * time.Millisecond)
	if n := ran.Load(); n != 1 {
		t.Fatalf("%d tasks ran while the first result was in flight, want 1", n)
	}
	api.gate <- struct{}{} // t1's result
	<-api.reported
	<-api.polls // the next poll, after t2 ran: its result waits at the gate
	if n := ran.Load(); n != 2 {
		t.Fatalf("%d tasks ran, want 2", n)
	}
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned before the last result was sent")
	case <-time.After(20 * time.Millisecond):
	}
	api.gate <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, res := api.counts(); len(res) != 2 {
		t.Fatalf("results %+v, want 2", res)
	}
}

// latencyAPI answers every call after rtt (a round trip to the service)
// and hands out tasks without end.
type latencyAPI struct {
	executor.API
	rtt   time.Duration
	calls atomic.Int64
}

func (a *latencyAPI) call() { a.calls.Add(1); time.Sleep(a.rtt) }

func (a *latencyAPI) PollForTask(context.Context, executor.PollInput) (*task.Task, error) {
	a.call()
	return &task.Task{TaskID: "t", AttemptID: "a"}, nil
}

func (a *latencyAPI) ReportTaskProgress(context.Context, string, []task.Field) (bool, error) {
	a.call()
	return false, nil
}

func (a *latencyAPI) SetTaskStatus(context.Context, string, task.Result) error {
	a.call()
	return nil
}

// stopAfter finishes at once and ends the loop after n tasks.
type stopAfter struct {
	n    int64
	ran  atomic.Int64
	stop func()
}

func (r *stopAfter) Run(context.Context, *task.Task, task.Logs) task.Result {
	if r.ran.Add(1) == r.n {
		r.stop()
	}
	return task.Result{Status: task.Finished}
}

// BenchmarkRemoteTaskRoundTrips runs quick tasks through one slot against
// a service 500 µs away: acknowledging first and reporting in line (3
// round trips on the slot's path per task) against AckDelay and
// ReportBehind (2 calls per task, one of them off the path).
func BenchmarkRemoteTaskRoundTrips(b *testing.B) {
	for _, c := range []struct {
		name   string
		ack    time.Duration
		behind bool
	}{{"ack-first", 0, false}, {"deferred", time.Second, true}} {
		b.Run(c.name, func(b *testing.B) {
			api := &latencyAPI{rtt: 500 * time.Microsecond}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			run := &stopAfter{n: int64(b.N), stop: cancel}
			l := &worker.Loop{API: api, Runner: run, WorkerGroup: "g", ProgressInterval: time.Minute,
				GiveBack: true, ShutdownGrace: time.Minute, AckDelay: c.ack, ReportBehind: c.behind}
			b.ResetTimer()
			if err := l.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(api.calls.Load())/float64(b.N), "calls/task")
		})
	}
}

// runUntilReported runs l until api received its first result, then stops it.
func runUntilReported(t *testing.T, l *worker.Loop, api *standInAPI) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-api.reported
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
