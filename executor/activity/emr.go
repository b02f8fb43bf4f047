package activity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/dpl-dev/dpl/executor/activity/hive"
	"github.com/dpl-dev/dpl/executor/activity/hosttools"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/task"
)

// StepHandler runs an EmrActivity step natively when it recognises it
// (for example the DynamoDB export/import tools); handled=false passes the
// step on.
type StepHandler func(ctx context.Context, t *task.Task, step string, logs task.Logs) (handled bool, err error)

func runEmrActivity(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	dir, err := r.workDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err)
	}
	env := append(os.Environ(), r.opts.Env...)
	for _, c := range a.All("preStepCommand") {
		if err := r.exec(ctx, []string{r.opts.Shell, "-c", c}, dir, env, logs.Stdout, logs.Stderr); err != nil {
			return stepFailure(ctx, "preStepCommand", c, err)
		}
	}
	for i, step := range a.All("step") {
		args := awsx.SplitStep(step)
		fmt.Fprintf(logs.Stderr, "dpl: step %d: %s\n", i+1, strings.Join(args, " "))
		if err := r.runStep(ctx, t, step, args, dir, env, logs); err != nil {
			return stepFailure(ctx, fmt.Sprintf("step %d", i+1), step, err)
		}
	}
	for _, c := range a.All("postStepCommand") {
		if err := r.exec(ctx, []string{r.opts.Shell, "-c", c}, dir, env, logs.Stdout, logs.Stderr); err != nil {
			return stepFailure(ctx, "postStepCommand", c, err)
		}
	}
	return finished()
}

func stepFailure(ctx context.Context, what, step string, err error) task.Result {
	if ctx.Err() != nil {
		return failf("Runner_Canceled", "%s stopped: %v", what, context.Cause(ctx))
	}
	var missing *hosttools.MissingError
	switch {
	case hive.IsPermanent(err):
		// A Hive script outside the subset or with an error cannot succeed.
		return failf(task.ErrorIDInvalidTask, "%s (%s) failed: %v", what, step, err)
	case errors.As(err, &missing):
		return failf(task.ErrorIDCommandNotFound, "%s (%s) failed: %v", what, step, err)
	}
	return failf("Runner_StepFailed", "%s (%s) failed: %v", what, step, err)
}

// runStep runs one step on the local "cluster": command-runner.jar runs its
// command, script-runner.jar its script; registered handlers take the jars
// they know; anything else needs a real cluster.
func (r *Runner) runStep(ctx context.Context, t *task.Task, step string, args []string, dir string, env []string, logs task.Logs) error {
	for _, h := range r.opts.StepHandlers {
		handled, err := h(ctx, t, step, logs)
		if handled {
			return err
		}
	}
	if handled, err := r.runEMRToolStep(ctx, t, args, dir, env, logs); handled {
		return err
	}
	jar := path.Base(args[0])
	switch {
	case jar == "command-runner.jar":
		if len(args) < 2 {
			return fmt.Errorf("command-runner.jar needs a command")
		}
		return r.exec(ctx, args[1:], dir, env, logs.Stdout, logs.Stderr)
	case jar == "script-runner.jar":
		if len(args) < 2 {
			return fmt.Errorf("script-runner.jar needs a script")
		}
		adir, err := r.attemptDir(t)
		if err != nil {
			return err
		}
		script, err := r.fetchScript(ctx, args[1], adir)
		if err != nil {
			return fmt.Errorf("fetch script %s: %w", args[1], err)
		}
		return r.exec(ctx, append([]string{r.opts.Shell, script}, args[2:]...), dir, env, logs.Stdout, logs.Stderr)
	}
	if why := awsx.UnsupportedStepReason(step); why != "" {
		return fmt.Errorf("the local runner cannot run this step: %s", why)
	}
	if _, ok := awsx.ParseDynamoDBToolStep(step); ok {
		return fmt.Errorf("the DynamoDB %s step needs the AWS backend: run with --backend aws (and --aws-endpoint for a local DynamoDB)", path.Base(args[0]))
	}
	return fmt.Errorf("the local runner cannot run %s: it needs Hadoop on an EMR cluster (locally only command-runner.jar, script-runner.jar and the DynamoDB export/import tools run)", args[0])
}
