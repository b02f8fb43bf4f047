package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync/atomic"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/task"
	"github.com/dpl-dev/dpl/executor/worker"
)

// Defaults of TaskRunner (runtime.md §4 and §5).
const (
	DefaultTasks             = 2
	DefaultProgressInterval  = 60 * time.Second
	DefaultHeartbeatInterval = 15 * time.Minute
	DefaultShutdownGrace     = 30 * time.Second
	// DefaultAckDelay: a task that ends within it is acknowledged by its
	// result alone (see TaskRunner.AckDelay).
	DefaultAckDelay = 100 * time.Millisecond
)

// ErrorShutdown is the errorId of tasks a runner gives back on shutdown.
const ErrorShutdown = worker.ErrorShutdown

// TaskRunner polls one worker group and runs tasks with Runner, Tasks at a
// time: it acknowledges each task with ReportTaskProgress (unless it ends
// within AckDelay), keeps reporting progress (a canceled answer stops the
// task), sends heartbeats, and reports the result with SetTaskStatus —
// while the slot already polls for its next task.
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
	// AckDelay: a task starts at once and is acknowledged (the first
	// ReportTaskProgress) only if it still runs AckDelay later; one that
	// ends sooner is acknowledged by its SetTaskStatus, which the service
	// accepts until the ack timeout (2 minutes; dpl serve --ack-timeout).
	// Keep it well below that timeout. 0: DefaultAckDelay; negative:
	// acknowledge before the task starts.
	AckDelay time.Duration
	// Logf reports what the runner does (nil: silent).
	Logf func(format string, args ...any)
	// Clock times progress, heartbeats and the grace (clock.Real when nil).
	Clock task.Clock

	loop atomic.Pointer[worker.Loop]
}

// Stats are counts of tasks since Run started.
type Stats = worker.Stats

// Stats returns the runner's counts.
func (r *TaskRunner) Stats() Stats {
	if l := r.loop.Load(); l != nil {
		return l.Stats()
	}
	return Stats{}
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
	if r.AckDelay == 0 {
		r.AckDelay = DefaultAckDelay
	}
	if r.Hostname == "" {
		r.Hostname, _ = os.Hostname()
	}
	if r.ID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		r.ID = "dpl-" + hex.EncodeToString(b)
	}
	l := &worker.Loop{API: r.API, Runner: r.Runner, WorkerGroup: r.WorkerGroup, Hostname: r.Hostname, Slots: n,
		Clock: r.Clock, Logs: r.Logs, ProgressInterval: r.ProgressInterval, Logf: r.Logf,
		RetryPolls: true, HeartbeatInterval: r.HeartbeatInterval, RunnerID: r.ID, GiveBack: true, ShutdownGrace: r.ShutdownGrace,
		AckDelay: max(r.AckDelay, 0), ReportBehind: true}
	r.loop.Store(l)
	return l.Run(ctx)
}
