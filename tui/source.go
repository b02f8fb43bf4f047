// Package tui is dpl's interactive terminal UI: a graph of the pipeline's
// components, a grid of instances per schedule period, instance and
// attempt detail, logs, the event stream and the operator commands, over a
// running engine or a stored run.
//
// The UI reads everything through Source, defined here on the consumer
// side so that the engine, a stored run or a test fake can back it.
package tui

import (
	"context"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// Info names the run the UI shows.
type Info struct {
	PipelineID string
	Name       string
	Activation int // 0 when unknown
	StateDir   string
	// Endpoint is the API URL of a run attached to over HTTP (dpl tui
	// --endpoint); its logs are not available, only attempt errors.
	Endpoint string
	// ReadOnly disables every operator command (a stored run browsed
	// without an engine driving it).
	ReadOnly bool
	// Secrets are the run's secret values: the logs view masks them in
	// what commands wrote (the rest of the view comes masked already).
	Secrets []string
}

// Component is one node of the component graph with its outgoing links.
type Component struct {
	ID   string
	Name string
	Type string
	Kind string // activity, datanode, resource, precondition

	Inputs        []string // data nodes read
	Outputs       []string // data nodes written
	DependsOn     []string
	Preconditions []string
	RunsOn        string
}

// Source is what the UI needs of a run. Every method must be safe to call
// from the UI goroutine while the engine runs.
type Source interface {
	Info() Info
	// Components returns the graph's nodes; called once.
	Components() []Component
	// Instances returns a snapshot of every instance, in creation order.
	Instances() []runstore.Instance
	// Attempts returns an instance's attempts, oldest first.
	Attempts(instanceID string) []runstore.Attempt
	// Describe returns the effective fields of an instance or attempt with
	// expressions evaluated (runtime fields included).
	Describe(ctx context.Context, id string) ([]task.Field, error)
	// SetStatus applies an operator command (executor.CmdRerun, ...).
	SetStatus(ctx context.Context, ids []string, cmd string) error
}

// Options configure the UI.
type Options struct {
	Source Source
	// Events is the live event stream; nil for a stored run. Its closing
	// means the run ended.
	Events <-chan executor.Event
	// Subscribe, when set, opens a new event stream: after the run ended,
	// an operator command that reopens it (rerun, mark finished) makes the
	// engine run again, and the view follows it on a new stream.
	Subscribe func() (<-chan executor.Event, func())
	// History is what happened before the UI started (oldest first).
	History []executor.Event
	// Stop ends the run (it stays resumable); called when the operator
	// confirms quitting an active run. Nil: quitting never asks.
	Stop func()
	// Now is the clock for relative times; time.Now when nil.
	Now func() time.Time
	// Tick is the refresh interval for clocks and followed logs (default
	// one second; negative disables it, for tests).
	Tick time.Duration
	// NoMouse turns mouse reporting off.
	NoMouse bool
	// RunList says the view was opened from the run list: `:runs`
	// returns to it (Result.Runs).
	RunList bool
}
