// Package local is the built-in task runner host: it polls the engine's API
// like a remote Task Runner would and runs each task with a task.Runner
// (package executor/activity), up to Parallel at a time. Attempt logs go
// to the files the engine assigned; cancellation from the engine (attempt
// timeout, TRY_CANCEL, Terminate) cancels the runner's context.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/task"
)

// Canceler is implemented by in-process engines: a channel closed when the
// engine ends a task, so cancellation needs no progress polling.
type Canceler interface {
	TaskCanceled(taskID string) <-chan struct{}
}

// queuedStatus is implemented by in-process engines: SetTaskStatus that
// does not wait for the store, so a slot takes its next task at once
// (see executor's SetTaskStatusQueued for what a crash then means).
type queuedStatus interface {
	SetTaskStatusQueued(ctx context.Context, taskID string, r task.Result) error
}

// activity is implemented by in-process engines: a channel closed while
// the activation is open. Once it has ended PollForTask returns at once,
// so the worker waits on it instead of polling a finished engine.
type activity interface {
	Active() <-chan struct{}
}

// ProgressInterval is how often a task's progress is reported when the API
// is not in-process (runtime.md §5 recommends every 60 s).
const ProgressInterval = 60 * time.Second

// Worker polls an engine and runs what it gets.
type Worker struct {
	// API is the engine (or a client of a remote one).
	API executor.API
	// PipelineID is reported with heartbeats.
	PipelineID string
	// Runner executes tasks.
	Runner task.Runner
	// Parallel is the number of tasks run at once (slots); at least 1.
	Parallel int
	// WorkerGroup to poll; executor.LocalWorkerGroup when empty.
	WorkerGroup string
	// Hostname reported to the engine.
	Hostname string
	// Clock for progress reports (clock.Real when nil).
	Clock task.Clock
	// Logs opens an attempt's output files; nil discards output. The CLI
	// uses LogFiles(stateDir).
	Logs func(t *task.Task) (task.Logs, func(), error)
}

// Run polls and runs tasks until ctx ends. In-flight tasks are canceled
// when ctx ends and Run waits for them before returning.
func (w *Worker) Run(ctx context.Context) error { return w.run(ctx) }

func (w *Worker) run(ctx context.Context) error {
	n := max(w.Parallel, 1)
	if w.Clock == nil {
		w.Clock = clock.Real{}
	}
	group := w.WorkerGroup
	if group == "" {
		group = executor.LocalWorkerGroup
	}
	host := w.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t, err := w.API.PollForTask(ctx, executor.PollInput{WorkerGroup: group, Hostname: host})
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					errs <- fmt.Errorf("poll for task: %w", err)
					return
				}
				if t == nil {
					if a, ok := w.API.(activity); ok {
						select {
						case <-a.Active():
						case <-ctx.Done():
							return
						}
					}
					continue
				}
				if err := w.runTask(ctx, t); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(ch chan error) []error {
	var out []error
	for e := range ch {
		out = append(out, e)
	}
	return out
}

func (w *Worker) runTask(ctx context.Context, t *task.Task) error {
	canceled, err := w.API.ReportTaskProgress(ctx, t.TaskID, nil) // the acknowledgement
	if err != nil {
		return fmt.Errorf("acknowledge task %s: %w", t.TaskID, err)
	}
	if canceled {
		return nil
	}
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	if c, ok := w.API.(Canceler); ok {
		ch := c.TaskCanceled(t.TaskID)
		go func() {
			select {
			case <-ch:
				cancel()
			case <-stop:
			}
		}()
	} else {
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-w.Clock.After(ProgressInterval):
					if c, err := w.API.ReportTaskProgress(ctx, t.TaskID, nil); err == nil && c {
						cancel()
						return
					}
				}
			}
		}()
	}
	logs := task.Logs{Stdout: io.Discard, Stderr: io.Discard}
	if w.Logs != nil {
		l, closeLogs, err := w.Logs(t)
		if err != nil {
			return w.API.SetTaskStatus(ctx, t.TaskID, task.Result{Status: task.Failed, ErrorID: "LogError", ErrorMessage: err.Error()})
		}
		defer closeLogs()
		logs = l
	}
	res := w.Runner.Run(tctx, t, logs)
	if tctx.Err() != nil && ctx.Err() == nil {
		return nil // the engine ended the task; no status needed
	}
	if ctx.Err() != nil {
		return nil // shutting down: the engine recovers the attempt on resume
	}
	report := w.API.SetTaskStatus
	if q, ok := w.API.(queuedStatus); ok {
		report = q.SetTaskStatusQueued
	}
	if err := report(ctx, t.TaskID, res); err != nil {
		return fmt.Errorf("set status of task %s: %w", t.TaskID, err)
	}
	return nil
}

// LogFiles returns a Logs function writing each attempt's streams to
// executor.LogPaths under stateDir. A file is created on the first byte
// written, so silent tasks cost no file system work (and have no file).
func LogFiles(stateDir string) func(t *task.Task) (task.Logs, func(), error) {
	return func(t *task.Task) (task.Logs, func(), error) {
		out, errp := executor.LogPaths(stateDir, t.PipelineID, t.AttemptID)
		fo, fe := &lazyFile{path: out}, &lazyFile{path: errp}
		return task.Logs{Stdout: fo, Stderr: fe}, func() { fo.Close(); fe.Close() }, nil
	}
}

// lazyFile creates its file on the first Write.
type lazyFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
	err  error
}

func (l *lazyFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil && l.err == nil {
		if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
			l.err = fmt.Errorf("log folder: %w", err)
		} else if l.f, err = os.Create(l.path); err != nil {
			l.err = fmt.Errorf("log file: %w", err)
		}
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
