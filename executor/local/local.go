// Package local is the built-in task runner host: it polls the engine's API
// like a remote Task Runner would and runs each task with a task.Runner
// (package executor/activity), up to Parallel at a time. Attempt logs go
// to the files the engine assigned; cancellation from the engine (attempt
// timeout, TRY_CANCEL, Terminate) cancels the runner's context.
package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/task"
	"github.com/dpl-dev/dpl/executor/worker"
)

// Canceler is implemented by in-process engines: a channel closed when the
// engine ends a task, so cancellation needs no progress polling.
type Canceler = worker.Canceler

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
// when ctx ends and Run waits for them before returning; the engine
// recovers them on resume. It is the worker loop (package executor/worker)
// with the in-process policy: a failed poll or report stops the worker.
func (w *Worker) Run(ctx context.Context) error {
	host := w.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	l := &worker.Loop{API: w.API, Runner: w.Runner, WorkerGroup: w.WorkerGroup, Hostname: host, InProcess: true,
		Slots: w.Parallel, Clock: w.Clock, Logs: w.Logs, ProgressInterval: ProgressInterval}
	return l.Run(ctx)
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
		if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
			l.err = fmt.Errorf("log folder: %w", err)
		} else if l.f, err = os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
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
