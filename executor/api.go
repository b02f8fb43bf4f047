package executor

import (
	"context"
	"errors"
	"time"

	"github.com/dpl-dev/dpl/executor/task"
)

// API is the subset of the AWS Data Pipeline API the engine serves: the
// management operations of runtime.md §7.2 that act on a running pipeline
// and the task runner protocol of §5. The built-in local worker, the HTTP
// endpoint and remote task runners all go through it, so they see the
// engine exactly as a client of the service would.
//
// Every method takes the pipeline id; an id the engine does not run gives
// an error wrapping ErrPipelineNotFound.
type API interface {
	// Activate starts (or, for on-demand pipelines, starts another run of)
	// the pipeline. A zero StartTimestamp means "now"; a later one marks
	// earlier intervals SKIPPED.
	Activate(ctx context.Context, in ActivateInput) error

	// PollForTask hands out the next task for workerGroup, long-polling up
	// to PollTimeout on the engine's clock. It returns (nil, nil) when no
	// work arrived in time, and ctx.Err() when ctx ends first.
	PollForTask(ctx context.Context, in PollInput) (*task.Task, error)

	// ReportTaskProgress acknowledges a task (the first call) and keeps
	// ownership; canceled tells the runner to stop (attempt timeout,
	// TRY_CANCEL, Terminate, resource timeout). fields are stored on the
	// attempt (e.g. percentComplete).
	ReportTaskProgress(ctx context.Context, taskID string, fields []task.Field) (canceled bool, err error)

	// ReportTaskRunnerHeartbeat records that a runner is alive; terminate
	// asks it to exit (its resource was shut down, or the run ended).
	ReportTaskRunnerHeartbeat(ctx context.Context, in HeartbeatInput) (terminate bool, err error)

	// SetTaskStatus reports a task's final result: FINISHED, FAILED or (for
	// preconditions) FALSE, with the error fields stored on the attempt.
	SetTaskStatus(ctx context.Context, taskID string, r task.Result) error

	// QueryObjects returns the ids of objects of a sphere matching every
	// selector, paged like the service (runtime.md §7.3).
	QueryObjects(ctx context.Context, in QueryInput) (QueryOutput, error)

	// DescribeObjects returns components, instances or attempts with their
	// fields, runtime fields included; with EvaluateExpressions the #{...}
	// in their values are evaluated in each object's context.
	DescribeObjects(ctx context.Context, in DescribeInput) (DescribeOutput, error)

	// SetStatus applies an operator command: PAUSE/RESUME on components,
	// TRY_CANCEL/RERUN/MARK_FINISHED on instances (case-insensitive).
	SetStatus(ctx context.Context, pipelineID string, objectIDs []string, status string) error

	// EvaluateExpression evaluates the #{...} in expression in the context
	// of objectID (component, instance or attempt).
	EvaluateExpression(ctx context.Context, pipelineID, objectID, expression string) (string, error)
}

// Errors the API returns, named after the service's error codes.
var (
	ErrPipelineNotFound = errors.New("PipelineNotFoundException: pipeline not found")
	ErrTaskNotFound     = errors.New("TaskNotFoundException: task not found")
	ErrInvalidRequest   = errors.New("InvalidRequestException")
)

// PollTimeout is how long PollForTask waits for work (runtime.md §5).
const PollTimeout = 90 * time.Second

// Task ownership (runtime.md §5), applied to tasks handed to worker groups
// outside the process (Options.Remote): a task not acknowledged within
// AckTimeout, or without a progress report within the component's
// reportProgressTimeout (default ProgressTimeout), is failed as stalled and
// retried per its policy. The built-in worker dies with the engine, so its
// tasks need no such watch. Options.AckTimeout and ProgressTimeout
// override these defaults.
const (
	AckTimeout      = 2 * time.Minute
	ProgressTimeout = 15 * time.Minute
)

// ActivateInput is ActivatePipeline's request.
type ActivateInput struct {
	PipelineID      string
	ParameterValues map[string][]string // id → values (arrays repeat)
	StartTimestamp  time.Time           // zero: now
}

// PollInput is PollForTask's request.
type PollInput struct {
	// WorkerGroup is matched exactly. A resource instance's runner polls
	// with ResourceWorkerGroup(instanceID); LocalWorkerGroup is served
	// every task the engine routes to the built-in worker.
	WorkerGroup string
	Hostname    string
	// InProcess says the runner lives in this dpl process (the local
	// worker, an EMR cluster's step worker) and dies with it: a restart
	// does not keep the lease of its tasks, as it does for remote runners.
	InProcess bool
	// NoWait makes the poll a non-blocking try: a task if one is queued
	// now, else (nil, nil) at once.
	NoWait bool
}

// LocalWorkerGroup is the worker group of the built-in local worker: it
// receives work of every worker group and resource the engine was told to
// run locally (by default: all of them).
const LocalWorkerGroup = "dpl:local"

// Error ids of attempts the engine ends for a remote runner.
const (
	// ErrorIDNotAcknowledged: the runner did not acknowledge in time.
	ErrorIDNotAcknowledged = "TaskNotAcknowledged"
	// ErrorIDRunnerLost: the runner stopped reporting progress.
	ErrorIDRunnerLost = "TaskRunnerLost"
	// ErrorIDRunnerShutdown: a runner gave the task back (shutdown); with
	// SetTaskStatus FAILED it is a release, not a failure (ReleaseTask).
	ErrorIDRunnerShutdown = "TaskRunnerShutdown"
	// ErrorIDReleased marks the attempt ended by ReleaseTask.
	ErrorIDReleased = "TaskReleased"
)

// ResourceWorkerGroup is the synthetic worker group of a resource instance
// (runtime.md §5: managed runners get theirs internally).
func ResourceWorkerGroup(resourceInstanceID string) string {
	return "dpl:resource:" + resourceInstanceID
}

// HeartbeatInput is ReportTaskRunnerHeartbeat's request.
type HeartbeatInput struct {
	TaskRunnerID string
	WorkerGroup  string
	Hostname     string
}

// Operator types of QueryObjects selectors.
const (
	OpEQ      = "EQ"
	OpRefEQ   = "REF_EQ"
	OpLE      = "LE"
	OpGE      = "GE"
	OpBetween = "BETWEEN"
)

// Selector is one QueryObjects condition: FieldName Operator Values.
type Selector struct {
	FieldName string
	Operator  string
	Values    []string
}

// QueryInput is QueryObjects' request. Limit 0 means the service default
// (100). Marker is the opaque value of a previous QueryOutput.
type QueryInput struct {
	PipelineID string
	Sphere     Sphere
	Selectors  []Selector
	Marker     string
	Limit      int
}

// QueryOutput is QueryObjects' response. As in the service a page may be
// empty while HasMoreResults is true: keep paging.
type QueryOutput struct {
	IDs            []string
	Marker         string
	HasMoreResults bool
}

// DescribeInput is DescribeObjects' request.
type DescribeInput struct {
	PipelineID          string
	ObjectIDs           []string
	EvaluateExpressions bool
	Marker              string
}

// DescribeOutput is DescribeObjects' response; objects use the task
// runner's API shape.
type DescribeOutput struct {
	Objects        []*task.Object
	Marker         string
	HasMoreResults bool
}
