package activity

import (
	"context"
	"fmt"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/task"
)

// registerAWS plugs the AWS backend in: DynamoDB preconditions and the
// EMR DynamoDB export/import tool steps, run natively against the tables.
func (r *Runner) registerAWS(env *awsx.Env) {
	r.handlers["DynamoDBTableExists"] = func(ctx context.Context, _ *Runner, t *task.Task, _ task.Logs) task.Result {
		a := t.Attempt()
		table := a.Get("tableName")
		ok, err := env.TableExists(ctx, regionOf(t, a), table)
		return check(ok, err, "DynamoDBTableExists "+table)
	}
	r.handlers["DynamoDBDataExists"] = func(ctx context.Context, _ *Runner, t *task.Task, _ task.Logs) task.Result {
		a := t.Attempt()
		table := a.Get("tableName")
		ok, err := env.DataExists(ctx, regionOf(t, a), table)
		return check(ok, err, "DynamoDBDataExists "+table)
	}
	r.opts.StepHandlers = append(r.opts.StepHandlers, func(ctx context.Context, t *task.Task, step string, logs task.Logs) (bool, error) {
		ts, ok := awsx.ParseDynamoDBToolStep(step)
		if !ok {
			return false, nil
		}
		region := stepRegion(t, ts)
		logf := func(format string, args ...any) { fmt.Fprintf(logs.Stderr, "dpl: "+format+"\n", args...) }
		return true, env.RunToolStep(ctx, ts, region, r.opts.Store, logf)
	})
}

// regionOf is an object's own region, else that of the node it guards.
func regionOf(t *task.Task, o *task.Object) string {
	if r := o.Get("region"); r != "" {
		return r
	}
	if n := t.Ref(o, "node"); n != nil {
		return n.Get("region")
	}
	return ""
}

// stepRegion picks the region a DynamoDB tool step talks to: the table's
// DynamoDBDataNode region, else the EmrCluster's, else the region of the
// tool jar's bucket (the samples pick the jar of the table's region).
func stepRegion(t *task.Task, ts awsx.ToolStep) string {
	a := t.Attempt()
	for _, key := range []string{"input", "output"} {
		for _, id := range a.Refs(key) {
			if n := t.Objects[id]; n != nil && n.Get("type") == "DynamoDBDataNode" && n.Get("tableName") == ts.Table && n.Get("region") != "" {
				return n.Get("region")
			}
		}
	}
	if rs := t.Ref(a, "runsOn"); rs != nil && rs.Get("region") != "" {
		return rs.Get("region")
	}
	return ts.JarRegion
}
