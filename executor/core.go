package executor

import (
	"context"
	"errors"

	"github.com/dpl-dev/dpl/executor/store"
	"github.com/dpl-dev/dpl/executor/task"
)

var errTODO = errors.New("engine: not implemented yet")

type engine struct {
	pipelineID string
	resumed    bool
}

func newEngine(opts Options) (*engine, error)                   { return nil, errTODO }
func (e *engine) run(ctx context.Context) (*Summary, error)     { return nil, errTODO }
func (e *engine) subscribe() (<-chan Event, func())             { return nil, func() {} }
func (e *engine) instances() []store.Instance                   { return nil }
func (e *engine) attempts(string) []store.Attempt               { return nil }
func (e *engine) Activate(context.Context, ActivateInput) error { return errTODO }
func (e *engine) PollForTask(context.Context, PollInput) (*task.Task, error) {
	return nil, errTODO
}
func (e *engine) ReportTaskProgress(context.Context, string, []task.Field) (bool, error) {
	return false, errTODO
}
func (e *engine) ReportTaskRunnerHeartbeat(context.Context, HeartbeatInput) (bool, error) {
	return false, errTODO
}
func (e *engine) SetTaskStatus(context.Context, string, task.Result) error { return errTODO }
func (e *engine) QueryObjects(context.Context, QueryInput) (QueryOutput, error) {
	return QueryOutput{}, errTODO
}
func (e *engine) DescribeObjects(context.Context, DescribeInput) (DescribeOutput, error) {
	return DescribeOutput{}, errTODO
}
func (e *engine) SetStatus(context.Context, string, []string, string) error { return errTODO }
func (e *engine) EvaluateExpression(context.Context, string, string, string) (string, error) {
	return "", errTODO
}
