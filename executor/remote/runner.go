package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/task"
)

// Defaults of TaskRunner (runtime.md §4 and §5).
const (
	DefaultTasks             = 2
	DefaultProgressInterval  = 60 * time.Second
	DefaultHeartbeatInterval = 15 * time.Minute
	DefaultShutdownGrace     = 30 * time.Second
)

// ErrorShutdown is the errorId of tasks a runner gives back on shutdown.
const ErrorShutdown = "TaskRunnerShutdown"

// TaskRunner polls one worker group and runs tasks with Runner, Tasks at a
// time: it acknowledges each task with ReportTaskProgress, keeps reporting
// progress (a canceled answer stops the task), sends heartbeats, and
// reports the result with SetTaskStatus.
//
// When Run's context ends it stops polling, lets running tasks finish for
// ShutdownGrace, then cancels the rest and reports them FAILED with
// errorId TaskRunnerShutdown so that the service retries them elsewhere.
type TaskRunner struct {
	API         executor.API
	WorkerGroup string
	// ID is the taskrunnerId of heartbeats (default: random).
	ID       string
	Hostname string
	Tasks    int
	Runner   task.Runner
	// Logs opens an attempt's output streams (nil discards them).
	Logs                                               func(t *task.Task) (task.Logs, func(), error)
	ProgressInterval, HeartbeatInterval, ShutdownGrace time.Duration
	// Logf reports what the runner does (nil: silent).
	Logf func(format string, args ...any)

	ran, failed, returned atomic.Int64
}

// Stats are counts of tasks since Run started.
type Stats struct{ Finished, Failed, Returned int64 }

// Stats returns the runner's counts.
func (r *TaskRunner) Stats() Stats {
	return Stats{Finished: r.ran.Load(), Failed: r.failed.Load(), Returned: r.returned.Load()}
}

func (r *TaskRunner) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// Run polls and runs tasks until ctx ends or a heartbeat answers
// terminate, then shuts down as described on TaskRunner.
func (r *TaskRunner) Run(ctx context.Context) error {
	if r.API == nil || r.Runner == nil || r.WorkerGroup == "" {
		return errors.New("task runner: API, Runner and WorkerGroup are required")
	}
	n := r.Tasks
	if n <= 0 {
		n = DefaultTasks
	}
	if r.ProgressInterval <= 0 {
		r.ProgressInterval = DefaultProgressInterval
	}
	if r.HeartbeatInterval <= 0 {
		r.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if r.ShutdownGrace <= 0 {
		r.ShutdownGrace = DefaultShutdownGrace
	}
	if r.Hostname == "" {
		r.Hostname, _ = os.Hostname()
	}
	if r.ID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		r.ID = "dpl-" + hex.EncodeToString(b)
	}
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	// Tasks run under their own context: a shutdown gives them a grace period.
	taskCtx, cancelTasks := context.WithCancel(context.Background())
	defer cancelTasks()

	var hbErr atomic.Value
	// An empty poll also asks for a heartbeat (at most one a second): a
	// server whose run ended answers polls at once and heartbeats with
	// terminate, so the runner exits without waiting HeartbeatInterval.
	hbNow := make(chan struct{}, 1)
	go func() {
		for {
			last := time.Now()
			term, err := r.API.ReportTaskRunnerHeartbeat(pollCtx, executor.HeartbeatInput{TaskRunnerID: r.ID, WorkerGroup: r.WorkerGroup, Hostname: r.Hostname})
			if err != nil && pollCtx.Err() == nil {
				hbErr.Store(err)
				r.logf("heartbeat: %v", err)
			}
			if term {
				r.logf("the service asked this runner to terminate")
				stopPolling()
				return
			}
			select {
			case <-pollCtx.Done():
				return
			case <-time.After(r.HeartbeatInterval):
			case <-hbNow:
				if d := time.Second - time.Since(last); d > 0 {
					select {
					case <-pollCtx.Done():
						return
					case <-time.After(d):
					}
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			backoff := 100 * time.Millisecond
			for pollCtx.Err() == nil {
				t, err := r.API.PollForTask(pollCtx, executor.PollInput{WorkerGroup: r.WorkerGroup, Hostname: r.Hostname})
				if err != nil {
					if pollCtx.Err() != nil {
						return
					}
					r.logf("poll: %v (retrying in %s)", err, backoff)
					select {
					case <-pollCtx.Done():
						return
					case <-time.After(backoff):
					}
					backoff = min(backoff*2, 30*time.Second)
					continue
				}
				backoff = 100 * time.Millisecond
				if t != nil {
					r.runTask(pollCtx, taskCtx, t)
					continue
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
		return nil
	case <-pollCtx.Done():
	}
	select {
	case <-done:
	case <-time.After(r.ShutdownGrace):
		r.logf("shutdown grace of %s over: returning running tasks", r.ShutdownGrace)
		cancelTasks()
		<-done
	}
	return nil
}

// runTask runs one task to its end. stopping ends when the runner shuts
// down; taskCtx ends when the grace period is over.
func (r *TaskRunner) runTask(_, taskCtx context.Context, t *task.Task) {
	api := context.Background() // reports must get through during shutdown
	canceled, err := r.API.ReportTaskProgress(api, t.TaskID, nil)
	if err != nil {
		r.logf("%s: acknowledge: %v", t.AttemptID, err)
		return
	}
	if canceled {
		r.logf("%s: canceled before it started", t.AttemptID)
		return
	}
	r.logf("%s: started (task of %s)", t.AttemptID, t.PipelineID)
	ctx, cancel := context.WithCancel(taskCtx)
	defer cancel()
	var byService atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(r.ProgressInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			c, err := r.API.ReportTaskProgress(api, t.TaskID, nil)
			if err != nil {
				r.logf("%s: progress: %v", t.AttemptID, err)
				if errors.Is(err, executor.ErrTaskNotFound) {
					byService.Store(true)
					cancel()
					return
				}
				continue
			}
			if c {
				byService.Store(true)
				cancel()
				return
			}
		}
	}()
	logs := task.Logs{Stdout: io.Discard, Stderr: io.Discard}
	if r.Logs != nil {
		l, closeLogs, err := r.Logs(t)
		if err != nil {
			r.report(api, t, task.Result{Status: task.Failed, ErrorID: "LogError", ErrorMessage: err.Error()})
			return
		}
		defer closeLogs()
		logs = l
	}
	res := r.Runner.Run(ctx, t, logs)
	switch {
	case byService.Load():
		r.logf("%s: canceled by the service", t.AttemptID)
		return // no status needed after canceled=true
	case taskCtx.Err() != nil:
		r.returned.Add(1)
		r.report(api, t, task.Result{Status: task.Failed, ErrorID: ErrorShutdown,
			ErrorMessage: fmt.Sprintf("task runner %s on %s shut down before the task finished", r.ID, r.Hostname)})
		return
	}
	if res.Status == task.Finished || res.Status == task.False {
		r.ran.Add(1)
	} else {
		r.failed.Add(1)
	}
	r.report(api, t, res)
}

// report sends SetTaskStatus, retrying transient failures a few times.
func (r *TaskRunner) report(ctx context.Context, t *task.Task, res task.Result) {
	var err error
	for i := range 5 {
		if err = r.API.SetTaskStatus(ctx, t.TaskID, res); err == nil {
			r.logf("%s: %s", t.AttemptID, res.Status)
			return
		}
		if errors.Is(err, executor.ErrTaskNotFound) || errors.Is(err, executor.ErrInvalidRequest) {
			break
		}
		time.Sleep(time.Duration(i+1) * 200 * time.Millisecond)
	}
	r.logf("%s: set status %s: %v", t.AttemptID, res.Status, err)
}
