package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// Defaults from runtime.md §3.5.
const (
	DefaultMaximumRetries = 2
	DefaultRetryDelay     = 10 * time.Minute
)

// ErrDefinitionChanged is returned by New when the state folder holds an
// unfinished activation of the same pipeline made from a different
// definition; Options.Fresh starts a new activation instead.
var ErrDefinitionChanged = errors.New("the definition changed since the unfinished run was started")

// ActivationEndedError is New's answer with Options.KeepEnded when the
// latest activation ended and the run asked for is that same one: nothing
// is started. Summary is how it ended, from the store.
type ActivationEndedError struct {
	Summary *Summary
	Ended   time.Time
	State   string // runstore.ActFinished or ActFailed
}

func (e *ActivationEndedError) Error() string {
	s := e.Summary
	outcome := fmt.Sprintf("%s, %d instances", e.State, len(s.Instances))
	if !s.OK && s.Reason != "" {
		outcome = e.State + ": " + s.Reason
	}
	return fmt.Sprintf("activation %d of %s already ended at %s (%s); nothing was run — --fresh starts activation %d",
		s.Activation, s.PipelineID, fmtTime(e.Ended), outcome, s.Activation+1)
}

// Options configure an Engine.
type Options struct {
	// Definition is the parsed definition (validated by the caller).
	Definition *definition.Definition
	// Source is the definition's bytes; its hash identifies the version.
	Source []byte
	// PipelineID and PipelineName identify the pipeline (PipelineIDFor
	// gives a stable id for a local file).
	PipelineID   string
	PipelineName string
	// Store persists the run; nil keeps everything in memory. A store
	// opened with store.OpenReadOnly is only looked at (dpl tui on a
	// stored run): New finds the activation to show and writes nothing.
	Store runstore.Backend
	// StateDir holds attempt logs (logs/) and resource working folders
	// (resources/). Required when Store is set.
	StateDir string
	// Clock is the time source (clock.Real when nil).
	Clock task.Clock
	// Notifier publishes SnsAlarms; nil only emits alarm events.
	Notifier Notifier
	// Params are parameter values (id → values), overriding the
	// definition's values and defaults.
	Params map[string][]string
	// StartTimestamp is ActivatePipeline's startTimestamp (zero: now).
	StartTimestamp time.Time
	// RetryDelay, when > 0, replaces every retryDelay (--retry-delay).
	RetryDelay time.Duration
	// Until bounds unbounded schedules: no instance starts at or after it.
	// Zero with an unbounded schedule runs until canceled.
	Until time.Time
	// Fresh starts a new activation even if an unfinished one exists.
	Fresh bool
	// Latest reopens the most recent activation even when it ended (for
	// operator commands such as RERUN on a stopped run).
	Latest bool
	// Activation, with Latest on a read-only store, opens that activation
	// (its seq) instead of the most recent: the TUI's run list browsing
	// an earlier run.
	Activation int
	// KeepEnded makes New return an *ActivationEndedError instead of
	// starting a new activation when the latest one ended and was asked
	// for the same way (definition, parameters, Until): running the same
	// command again reports how it ended (dpl run; Fresh starts another).
	KeepEnded bool
	// Remote lists worker groups that are served by runners outside the
	// engine's process; all other work is routed to LocalWorkerGroup.
	Remote []string
	// RemoteAll routes the work of every workerGroup (evaluated per
	// component) to remote runners, as if each were listed in Remote;
	// WorkerGroups tells which groups that gives. Work without a
	// workerGroup, and work on a runsOn resource, stays local.
	RemoteAll bool
	// AckTimeout and ProgressTimeout bound task ownership of remote runners
	// (runtime.md §5): a task not acknowledged within AckTimeout, or whose
	// progress reports stop for the component's reportProgressTimeout
	// (else ProgressTimeout), is failed (errorId TaskNotAcknowledged or
	// TaskRunnerLost) and retried per its policy. Zero: the package
	// defaults AckTimeout and ProgressTimeout.
	AckTimeout, ProgressTimeout time.Duration
	// Registry gives the provider of each resource type (provider.Default
	// when nil); types without one run on the local worker
	// (provider/local).
	Registry *provider.Registry
}

// Summary is how a run ended.
type Summary struct {
	PipelineID string
	Activation int
	Resumed    bool
	// OK is true when every instance finished (or was skipped).
	OK bool
	// Reason explains why the run stopped when not OK (what is stuck and
	// on what, or what failed).
	Reason    string
	Counts    map[Status]int
	Instances []runstore.Instance
}

// Engine runs one pipeline. It implements API for that pipeline.
type Engine struct {
	*engine
}

var _ API = (*Engine)(nil)

// New prepares an engine: it loads the store's latest activation of the
// pipeline and resumes it when unfinished (returning ErrDefinitionChanged
// when the definition differs, unless Fresh), or creates a new activation.
// Nothing runs until Run.
func New(opts Options) (*Engine, error) {
	e, err := newEngine(opts)
	if err != nil {
		return nil, err
	}
	return &Engine{e}, nil
}

// Run drives the state machine until every instance is terminal, nothing
// can make progress any more, or ctx ends (then the state stays resumable
// and ctx.Err() is returned with the summary so far).
//
// Run may be called again on the same engine after it returned: when
// SetStatus (RERUN, MARK_FINISHED, ...) reopened the ended activation, the
// next Run continues it (subscribe again: streams close when a Run ends).
// Never call Run twice at the same time.
func (e *Engine) Run(ctx context.Context) (*Summary, error) { return e.run(ctx) }

// Subscribe returns a channel of every event from now on (the store's log
// has the history). The channel is never blocked on: a slow subscriber
// gets its events queued. Call cancel to stop receiving; the channel is
// closed when the run ends or on cancel.
func (e *Engine) Subscribe() (events <-chan Event, cancel func()) { return e.subscribe() }

// Instances returns a snapshot of every instance created so far, in
// creation order.
func (e *Engine) Instances() []runstore.Instance { return e.instances() }

// Attempts returns a snapshot of an instance's attempts, oldest first.
func (e *Engine) Attempts(instanceID string) []runstore.Attempt { return e.attempts(instanceID) }

// Active returns a channel that is closed while the activation is open.
// Once it has ended (Run finished or was interrupted) PollForTask answers
// at once with no task; in-process pollers wait on Active instead of
// polling a finished engine, and wake when an operator command reopens it.
func (e *Engine) Active() <-chan struct{} { return e.active() }

// PipelineID returns the id of the pipeline the engine runs.
func (e *Engine) PipelineID() string { return e.pipelineID }

// Resumed reports whether New continued an unfinished activation.
func (e *Engine) Resumed() bool { return e.resumed }

// Secrets are the secret values of the run (`*` parameters and fields):
// views that show what commands wrote themselves (attempt logs) mask them
// with definition.MaskText, as the engine masks its own messages.
func (e *Engine) Secrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.secrets...)
}

// Follows says why New started a new activation after an ended one of the
// same pipeline with Options.KeepEnded (the definition, parameters or
// bounds changed), or "" when there was none or Fresh asked for it.
func (e *Engine) Follows() string { return e.follows }

// ReleaseTask gives a task back without counting a failure: its attempt
// ends CANCELED (errorId TaskReleased) and a new attempt is queued at once,
// without retryDelay and without using one of maximumRetries. Runners use
// it for work they return on shutdown; SetTaskStatus FAILED with errorId
// TaskRunnerShutdown (what remote runners send) does the same.
func (e *Engine) ReleaseTask(taskID string) error { return e.releaseTask(taskID, "") }

// Settled returns a channel closed once Run has settled what a previous
// process left in flight: from then on HoldsTask knows the tasks whose
// leases were kept across the restart.
func (e *Engine) Settled() <-chan struct{} { return e.settled }

// HoldsTask reports whether the engine knows a task it handed out that is
// still running — also one kept across a restart (its lease).
func (e *Engine) HoldsTask(taskID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	return a != nil && Status(a.Status) == Running
}

// WorkerGroups returns the worker groups whose work goes to remote runners
// (Options.Remote, or with RemoteAll every workerGroup the definition
// uses), sorted.
func (e *Engine) WorkerGroups() []string { return e.remoteGroups() }

// PipelineName returns the pipeline's name: Options.PipelineName, else the
// stored pipeline's name, else the definition file's base name.
func (e *Engine) PipelineName() string { return e.name }

// Activation returns the number of the activation the engine runs (1, 2,
// ... per pipeline; the store's Activation.Seq).
func (e *Engine) Activation() int { return e.act.Seq }

// History returns the events of the current activation with Seq > afterSeq,
// oldest first, including those written before a resume (read from the
// store) and those of this process. Pass 0 for everything. Together with
// Subscribe it gives a gap-free stream: subscribe first, then read History
// up to the first subscribed event's Seq, and drop duplicates by Seq.
func (e *Engine) History(afterSeq uint64) ([]Event, error) { return e.history(afterSeq) }
