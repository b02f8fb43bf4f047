// Package worker is the one task-runner loop: poll a worker group, run each
// task with a task.Runner, watch for cancellation, report the result. The
// built-in local worker (executor/local) and the remote task runner
// (executor/remote) are this loop with different policies; all waiting is
// on the injected clock, and an in-process engine's end is a signal the
// loop waits on, not something it polls for.
package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/task"
)

// ErrorShutdown is the errorId of tasks a runner gives back on shutdown.
const ErrorShutdown = executor.ErrorIDRunnerShutdown

// Canceler is implemented by in-process engines: a channel closed when the
// engine ends a task, so cancellation needs no progress polling.
type Canceler interface {
	TaskCanceled(taskID string) <-chan struct{}
}

// ProcessRecorder is implemented by in-process engines: it records the
// process groups an attempt starts, so that after a crash of dpl the next
// run can stop what is left of them before running the attempt again.
type ProcessRecorder interface {
	RecordProcess(taskID string, p task.Process)
}

// ProgressRecorder is implemented by in-process engines: it keeps the
// progress a runner reports (task.ReportProgress) on the attempt. Remote
// engines get it in ReportTaskProgress's fields instead.
type ProgressRecorder interface {
	RecordProgress(taskID string, p task.Progress)
}

// progressEvery spaces the progress an in-process engine records: a script
// of many quick statements is not a store write per statement. The last
// report is always recorded, when the task ends.
const progressEvery = 250 * time.Millisecond

// QueuedReporter is implemented by in-process engines: SetTaskStatus that
// does not wait for the store, so a slot takes its next task at once (see
// executor's SetTaskStatusQueued for what a crash then means).
type QueuedReporter interface {
	SetTaskStatusQueued(ctx context.Context, taskID string, r task.Result) error
}

// Completion is implemented by in-process engines: a channel closed while
// the activation is open. Once it has ended PollForTask returns at once, so
// an idle slot waits on it instead of polling a finished engine.
type Completion interface {
	Active() <-chan struct{}
}

// Loop polls one worker group and runs what it gets, Slots at a time.
type Loop struct {
	API         executor.API
	Runner      task.Runner
	WorkerGroup string
	Hostname    string
	// InProcess: the loop runs inside the engine's process (PollInput).
	InProcess bool
	Slots     int
	// Clock times progress reports, heartbeats, back-off and the shutdown
	// grace (clock.Real when nil).
	Clock task.Clock
	// Logs opens an attempt's output streams (nil discards them).
	Logs func(t *task.Task) (task.Logs, func(), error)
	// ProgressInterval is how often a running task reports progress when
	// the API is not a Canceler.
	ProgressInterval time.Duration

	// Remote policy. With RetryPolls a failed poll is retried with
	// back-off (else it ends Run with the error). With HeartbeatInterval
	// the loop sends heartbeats and stops when one answers terminate; an
	// empty poll also asks for one (at most a second apart), so a server
	// whose run ended is left at once. With GiveBack, tasks still running
	// ShutdownGrace after ctx ends are canceled and reported FAILED with
	// ErrorShutdown so the service retries them; without it they are
	// canceled when ctx ends and not reported (an in-process engine
	// recovers them on resume).
	RetryPolls        bool
	HeartbeatInterval time.Duration
	RunnerID          string
	GiveBack          bool
	ShutdownGrace     time.Duration
	// AckDelay (with GiveBack, for an API that is not a Canceler) starts a
	// task at once and sends its acknowledgement — the first
	// ReportTaskProgress — only if it still runs AckDelay later: a task
	// that ends sooner is acknowledged by its SetTaskStatus, one round
	// trip fewer. It must stay well below the service's ack timeout
	// (2 minutes). 0 acknowledges before the task starts.
	AckDelay time.Duration
	// ReportBehind (with GiveBack) sends a task's result while its slot
	// already polls for the next task: at most one result per slot is in
	// flight (the slot waits for it before it runs the next task), and Run
	// returns only once every result was sent or given up on.
	ReportBehind bool

	// Logf reports what the loop does (nil: silent).
	Logf func(format string, args ...any)

	ran, failed, returned atomic.Int64
}

// Stats are counts of tasks since Run started.
type Stats struct{ Finished, Failed, Returned int64 }

// Stats returns the loop's counts.
func (l *Loop) Stats() Stats {
	return Stats{Finished: l.ran.Load(), Failed: l.failed.Load(), Returned: l.returned.Load()}
}

func (l *Loop) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

// sleep waits d on the loop's clock, or until ctx ends (false).
func (l *Loop) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-l.Clock.After(d):
		return true
	}
}

// Run polls and runs tasks until ctx ends (or a heartbeat answers
// terminate), then shuts down per the policy, waiting for its tasks.
func (l *Loop) Run(ctx context.Context) error {
	if l.API == nil || l.Runner == nil {
		return errors.New("worker: API and Runner are required")
	}
	if l.Clock == nil {
		l.Clock = clock.Real{}
	}
	if l.WorkerGroup == "" {
		l.WorkerGroup = executor.LocalWorkerGroup
	}
	n := max(l.Slots, 1)
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	// Tasks of a runner that gives them back run under their own context,
	// so that shutting down leaves them a grace period.
	taskCtx, cancelTasks := context.WithCancel(ctx)
	if l.GiveBack {
		taskCtx, cancelTasks = context.WithCancel(context.Background())
	}
	defer cancelTasks()

	hbNow := make(chan struct{}, 1)
	var hbDone sync.WaitGroup
	if l.HeartbeatInterval > 0 {
		hbDone.Add(1)
		go func() { defer hbDone.Done(); l.heartbeats(pollCtx, stopPolling, hbNow) }()
	}
	completion, _ := l.API.(Completion)

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// behind is closed when the slot's last result was sent
			// (ReportBehind).
			var behind chan struct{}
			defer func() {
				if behind != nil {
					<-behind
				}
			}()
			backoff := 100 * time.Millisecond
			for pollCtx.Err() == nil {
				t, err := l.API.PollForTask(pollCtx, executor.PollInput{WorkerGroup: l.WorkerGroup, Hostname: l.Hostname, InProcess: l.InProcess})
				if err != nil {
					if pollCtx.Err() != nil {
						return
					}
					if !l.RetryPolls {
						errs <- fmt.Errorf("poll for task: %w", err)
						return
					}
					l.logf("poll: %v (retrying in %s)", err, backoff)
					if !l.sleep(pollCtx, backoff) {
						return
					}
					backoff = min(backoff*2, 30*time.Second)
					continue
				}
				backoff = 100 * time.Millisecond
				if t != nil {
					if behind != nil {
						<-behind // one result in flight per slot
						behind = nil
					}
					report := l.report
					var ch chan struct{}
					if l.ReportBehind && l.GiveBack {
						ch = make(chan struct{})
						report = func(ctx context.Context, t *task.Task, res task.Result) error {
							behind = ch
							go func() { defer close(ch); _ = l.report(ctx, t, res) }()
							return nil
						}
					}
					err := l.runTask(taskCtx, t, report)
					if err != nil && taskCtx.Err() == nil {
						errs <- err
						return
					}
					continue
				}
				if completion != nil {
					select {
					case <-completion.Active():
					case <-pollCtx.Done():
						return
					}
				}
				select {
				case hbNow <- struct{}{}:
				default:
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-pollCtx.Done():
		if l.GiveBack {
			select {
			case <-done:
			case <-l.Clock.After(l.ShutdownGrace):
				l.logf("shutdown grace of %s over: returning running tasks", l.ShutdownGrace)
			}
		}
		cancelTasks()
		<-done
	}
	stopPolling()
	hbDone.Wait()
	close(errs)
	var all []error
	for e := range errs {
		all = append(all, e)
	}
	return errors.Join(all...)
}

func (l *Loop) heartbeats(ctx context.Context, stop func(), now <-chan struct{}) {
	for {
		last := l.Clock.Now()
		term, err := l.API.ReportTaskRunnerHeartbeat(ctx, executor.HeartbeatInput{TaskRunnerID: l.RunnerID, WorkerGroup: l.WorkerGroup, Hostname: l.Hostname})
		if err != nil && ctx.Err() == nil {
			l.logf("heartbeat: %v", err)
		}
		if term {
			l.logf("the service asked this runner to terminate")
			stop()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-l.Clock.After(l.HeartbeatInterval):
		case <-now:
			if d := time.Second - l.Clock.Now().Sub(last); d > 0 && !l.sleep(ctx, d) {
				return
			}
		}
	}
}

// reportFunc sends a task's result (Loop.report, or a deferred send).
type reportFunc func(ctx context.Context, t *task.Task, res task.Result) error

// runTask runs one task to its end. ctx ends when the task must stop
// because the loop shuts down. An error stops the slot.
func (l *Loop) runTask(ctx context.Context, t *task.Task, report reportFunc) error {
	// Reports must get through while a runner that gives tasks back shuts
	// down.
	api := context.WithoutCancel(ctx)
	_, canceler := l.API.(Canceler)
	deferAck := l.AckDelay > 0 && l.GiveBack && !canceler
	if !deferAck {
		canceled, err := l.API.ReportTaskProgress(api, t.TaskID, nil) // the acknowledgement
		if err != nil {
			if !l.GiveBack {
				return fmt.Errorf("acknowledge task %s: %w", t.TaskID, err)
			}
			l.logf("%s: acknowledge: %v", t.AttemptID, err)
			return nil
		}
		if canceled {
			l.logf("%s: canceled before it started", t.AttemptID)
			return nil
		}
	}
	l.logf("%s: started (task of %s)", t.AttemptID, t.PipelineID)
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var byEngine atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	if c, ok := l.API.(Canceler); ok {
		ch := c.TaskCanceled(t.TaskID)
		go func() {
			select {
			case <-ch:
				byEngine.Store(true)
				cancel()
			case <-stop:
			}
		}()
	}
	var latest atomic.Pointer[task.Progress] // remote: sent with the next progress report
	// lastProgress records the report held back, before the result.
	lastProgress := func() {
		if p := latest.Swap(nil); p != nil {
			if _, err := l.API.ReportTaskProgress(api, t.TaskID, p.Fields()); err != nil {
				l.logf("%s: progress: %v", t.AttemptID, err)
			}
		}
	}
	if rec, ok := l.API.(ProgressRecorder); ok {
		var mu sync.Mutex
		var last time.Time
		var pending *task.Progress
		tctx = task.WithProgressHook(tctx, func(p task.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if now := l.Clock.Now(); now.Sub(last) >= progressEvery || p.Total > 0 && p.Done >= p.Total {
				last, pending = now, nil
				rec.RecordProgress(t.TaskID, p)
				return
			}
			pending = &p
		})
		lastProgress = func() {
			mu.Lock()
			defer mu.Unlock()
			if pending != nil {
				rec.RecordProgress(t.TaskID, *pending)
				pending = nil
			}
		}
	} else {
		tctx = task.WithProgressHook(tctx, func(p task.Progress) { latest.Store(&p) })
	}
	if !canceler {
		first := l.ProgressInterval
		if deferAck {
			first = l.AckDelay // the acknowledgement, unless the task ends first
		}
		go l.watchProgress(api, t, stop, first, &latest, func() { byEngine.Store(true); cancel() })
	}
	logs := task.Logs{Stdout: io.Discard, Stderr: io.Discard}
	if l.Logs != nil {
		lg, closeLogs, err := l.Logs(t)
		if err != nil {
			return report(api, t, task.Result{Status: task.Failed, ErrorID: "LogError", ErrorMessage: err.Error()})
		}
		defer closeLogs()
		logs = lg
	}
	if rec, ok := l.API.(ProcessRecorder); ok {
		tctx = task.WithProcessHook(tctx, func(p task.Process) { rec.RecordProcess(t.TaskID, p) })
	}
	res := l.Runner.Run(tctx, t, logs)
	lastProgress()
	switch {
	case byEngine.Load():
		l.logf("%s: canceled by the service", t.AttemptID)
		return nil // no status needed after canceled=true
	case ctx.Err() != nil && l.GiveBack:
		l.returned.Add(1)
		return report(api, t, task.Result{Status: task.Failed, ErrorID: ErrorShutdown,
			ErrorMessage: fmt.Sprintf("task runner %s on %s shut down before the task finished", l.RunnerID, l.Hostname)})
	case ctx.Err() != nil:
		return nil // shutting down: the engine recovers the attempt on resume
	}
	if res.Status == task.Finished || res.Status == task.False {
		l.ran.Add(1)
	} else {
		l.failed.Add(1)
	}
	return report(api, t, res)
}

// watchProgress reports progress first after first, then every
// ProgressInterval until stop; a canceled answer (or a task the service
// no longer knows) calls cancel.
func (l *Loop) watchProgress(ctx context.Context, t *task.Task, stop <-chan struct{}, first time.Duration, latest *atomic.Pointer[task.Progress], cancel func()) {
	for wait := first; ; wait = l.ProgressInterval {
		select {
		case <-stop:
			return
		case <-l.Clock.After(wait):
		}
		var fields []task.Field
		if p := latest.Swap(nil); p != nil {
			fields = p.Fields()
		}
		c, err := l.API.ReportTaskProgress(ctx, t.TaskID, fields)
		if err != nil {
			l.logf("%s: progress: %v", t.AttemptID, err)
			if errors.Is(err, executor.ErrTaskNotFound) {
				cancel()
				return
			}
			continue
		}
		if c {
			cancel()
			return
		}
	}
}

// ReportRetryFor is how long a remote runner retries sending a result
// that fails for a reason other than an answer of the API.
const ReportRetryFor = time.Minute

// report sends the result. An in-process engine takes it queued; a remote
// one gets a few retries of transient failures, which are then logged (the
// service's timeouts take over). For the local worker a failed report
// stops the slot.
func (l *Loop) report(ctx context.Context, t *task.Task, res task.Result) error {
	if q, ok := l.API.(QueuedReporter); ok {
		if err := q.SetTaskStatusQueued(ctx, t.TaskID, res); err != nil {
			return fmt.Errorf("set status of task %s: %w", t.TaskID, err)
		}
		return nil
	}
	var err error
	// Retried for as long as a failover of the service may take (the
	// task's lease outlasts it): a result given up on is a task run again.
	giveUp := time.Now().Add(ReportRetryFor)
	for i := 0; ; i++ {
		if err = l.API.SetTaskStatus(ctx, t.TaskID, res); err == nil {
			l.logf("%s: %s", t.AttemptID, res.Status)
			return nil
		}
		if !l.GiveBack || errors.Is(err, executor.ErrTaskNotFound) || errors.Is(err, executor.ErrInvalidRequest) || ctx.Err() != nil || time.Now().After(giveUp) {
			break
		}
		l.sleep(ctx, min(time.Duration(i+1)*200*time.Millisecond, 2*time.Second))
	}
	if !l.GiveBack {
		return fmt.Errorf("set status of task %s: %w", t.TaskID, err)
	}
	l.logf("%s: set status %s: %v", t.AttemptID, res.Status, err)
	return nil
}
