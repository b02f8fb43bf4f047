package emr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsemr "github.com/aws/aws-sdk-go-v2/service/emr"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// Error ids of attempts that ran on EMR.
const (
	// ErrorIDStepFailed: a step ended FAILED, CANCELLED or INTERRUPTED.
	ErrorIDStepFailed = "EMR_StepFailed"
	// ErrorIDAPI: an EMR or S3 call failed (throttling after the SDK's
	// retries, a server error): the attempt is retried.
	ErrorIDAPI = "EMR_APIError"
	// ErrorIDCanceled: the attempt was stopped (attemptTimeout, cancel,
	// the cluster terminated) and its steps were canceled.
	ErrorIDCanceled = "EMR_StepsCanceled"
)

// maxPollErrors is how many DescribeStep failures in a row end an attempt.
const maxPollErrors = 5

// stepRunner runs the tasks of one cluster's worker group as steps.
type stepRunner struct{ cl *Cluster }

func failf(id, format string, args ...any) task.Result {
	return task.Result{Status: task.Failed, ErrorID: id, ErrorMessage: fmt.Sprintf(format, args...)}
}

// submitted is one step of the attempt on the cluster.
type submitted struct {
	id, name string
	state    emrtypes.StepState
}

// Run submits the attempt's steps, follows them to their end and reports
// the attempt's outcome; when ctx ends first it cancels the steps still
// pending or running.
func (r *stepRunner) Run(ctx context.Context, t *task.Task, logs task.Logs) task.Result {
	cl := r.cl
	id := cl.ID()
	a := t.Attempt()
	if a == nil {
		return failf(task.ErrorIDNoAttempt, "task %s carries no attempt object", t.TaskID)
	}
	logURI := aws.ToString(cl.request.LogUri)
	steps, uploads, err := Steps(ctx, t, cl.c.releaseBased(), cl.c.region(), Staging{Store: cl.p.opts.Store, Prefix: stagingPrefix(logURI, id, a.ID)})
	if err != nil {
		return failf(task.ErrorIDInvalidTask, "%v", err)
	}
	for _, uri := range sortedKeys(uploads) {
		if err := put(ctx, cl.p.opts.Store, uri, uploads[uri]); err != nil {
			return failf(ErrorIDAPI, "%s: upload %s: %v", a.ID, uri, err)
		}
		fmt.Fprintf(logs.Stderr, "dpl: uploaded %s\n", uri)
	}
	out, err := cl.client.AddJobFlowSteps(ctx, &awsemr.AddJobFlowStepsInput{JobFlowId: aws.String(id), Steps: steps})
	if err != nil {
		if ctx.Err() != nil {
			return failf(ErrorIDCanceled, "%s: stopped before its steps were submitted: %v", a.ID, context.Cause(ctx))
		}
		ce := apiError("AddJobFlowSteps", err).(*CallError)
		if ce.Rejected() {
			return failf(task.ErrorIDInvalidTask, "%s: cluster %s: %v", a.ID, id, ce)
		}
		return failf(ErrorIDAPI, "%s: cluster %s: %v", a.ID, id, ce)
	}
	if len(out.StepIds) != len(steps) {
		return failf(ErrorIDAPI, "%s: AddJobFlowSteps returned %d step ids for %d steps", a.ID, len(out.StepIds), len(steps))
	}
	subs := make([]*submitted, len(steps))
	for i, sid := range out.StepIds {
		subs[i] = &submitted{id: sid, name: aws.ToString(steps[i].Name), state: emrtypes.StepStatePending}
		hj := steps[i].HadoopJarStep
		fmt.Fprintf(logs.Stderr, "dpl: cluster %s step %s: %s: %s %s\n", id, sid, subs[i].name, aws.ToString(hj.Jar), strings.Join(hj.Args, " "))
		if logURI != "" {
			// emrStepLog: EMR writes the step's controller, stdout, stderr
			// and syslog there.
			fmt.Fprintf(logs.Stderr, "dpl: emrStepLog %s%s/steps/%s/\n", logURI, id, sid)
		}
	}
	var stepLog func(stepID string)
	if logURI != "" {
		stepLog = func(stepID string) {
			// emrStepLog: the attempt's current (at the end: last or
			// failed) step's log folder.
			v := logURI + id + "/steps/" + stepID + "/"
			_, _ = cl.api.ReportTaskProgress(context.WithoutCancel(ctx), t.TaskID, []task.Field{{Key: "emrStepLog", StringValue: &v}})
		}
	}
	return r.follow(ctx, a.ID, id, subs, logs.Stderr, stepLog)
}

// follow polls the steps in order until all completed, one failed, or ctx
// ends.
func (r *stepRunner) follow(ctx context.Context, attempt, cluster string, subs []*submitted, log io.Writer, stepLog func(string)) task.Result {
	cl := r.cl
	wait := cl.p.opts.PollInterval
	errorsInRow := 0
	reported := -1
	for i := 0; i < len(subs); {
		s := subs[i]
		if stepLog != nil && reported != i {
			stepLog(s.id)
			reported = i
		}
		out, err := cl.client.DescribeStep(ctx, &awsemr.DescribeStepInput{ClusterId: aws.String(cluster), StepId: aws.String(s.id)})
		if ctx.Err() != nil {
			return r.cancel(attempt, cluster, subs[i:], ctx, log)
		}
		if err != nil {
			errorsInRow++
			fmt.Fprintf(log, "dpl: %v\n", apiError("DescribeStep", err))
			if errorsInRow >= maxPollErrors {
				r.cancel(attempt, cluster, subs[i:], ctx, log)
				return failf(ErrorIDAPI, "%s: step %s: %v (%d times in a row)", attempt, s.id, apiError("DescribeStep", err), errorsInRow)
			}
		} else {
			errorsInRow = 0
			var st emrtypes.StepState
			var status *emrtypes.StepStatus
			if out.Step != nil && out.Step.Status != nil {
				status = out.Step.Status
				st = status.State
			}
			if st != s.state {
				fmt.Fprintf(log, "dpl: step %s (%s): %s\n", s.id, s.name, st)
				s.state = st
				wait = cl.p.opts.PollInterval
			}
			switch st {
			case emrtypes.StepStateCompleted:
				i++
				continue
			case emrtypes.StepStateFailed, emrtypes.StepStateCancelled, emrtypes.StepStateInterrupted:
				r.cancelSteps(cluster, subs[i+1:], log)
				return failf(ErrorIDStepFailed, "%s: step %s (%s) %s%s", attempt, s.id, s.name, st, stepReason(status))
			}
		}
		select {
		case <-ctx.Done():
			return r.cancel(attempt, cluster, subs[i:], ctx, log)
		case <-cl.p.opts.Clock.After(wait):
		}
		wait = min(wait*3/2, cl.p.opts.MaxPollInterval)
	}
	return task.Result{Status: task.Finished}
}

// stepReason is EMR's account of a failed step: its failure details and
// the log file that says more.
func stepReason(st *emrtypes.StepStatus) string {
	if st == nil {
		return ""
	}
	var parts []string
	if f := st.FailureDetails; f != nil {
		if v := aws.ToString(f.Reason); v != "" {
			parts = append(parts, v)
		}
		if v := aws.ToString(f.Message); v != "" {
			parts = append(parts, v)
		}
		if v := aws.ToString(f.LogFile); v != "" {
			parts = append(parts, "log "+v)
		}
	}
	if r := st.StateChangeReason; r != nil && aws.ToString(r.Message) != "" {
		parts = append(parts, aws.ToString(r.Message))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

// cancel cancels the steps left when the attempt is stopped.
func (r *stepRunner) cancel(attempt, cluster string, left []*submitted, ctx context.Context, log io.Writer) task.Result {
	r.cancelSteps(cluster, left, log)
	return failf(ErrorIDCanceled, "%s: stopped (%v); steps %s canceled on cluster %s", attempt, context.Cause(ctx), ids(left), cluster)
}

func ids(subs []*submitted) string {
	var out []string
	for _, s := range subs {
		out = append(out, s.id)
	}
	return strings.Join(out, ", ")
}

// cancelSteps asks EMR to cancel steps that have not ended (a running step
// is interrupted); it outlives the attempt's context.
func (r *stepRunner) cancelSteps(cluster string, left []*submitted, log io.Writer) {
	var todo []string
	for _, s := range left {
		switch s.state {
		case emrtypes.StepStateCompleted, emrtypes.StepStateFailed, emrtypes.StepStateCancelled, emrtypes.StepStateInterrupted:
			continue
		}
		todo = append(todo, s.id)
	}
	if len(todo) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := r.cl.client.CancelSteps(ctx, &awsemr.CancelStepsInput{ClusterId: aws.String(cluster), StepIds: todo,
		StepCancellationOption: emrtypes.StepCancellationOptionSendInterrupt})
	if err != nil {
		fmt.Fprintf(log, "dpl: %v (steps %s)\n", apiError("CancelSteps", err), strings.Join(todo, ", "))
		return
	}
	for _, info := range out.CancelStepsInfoList {
		fmt.Fprintf(log, "dpl: cancel step %s: %s %s\n", aws.ToString(info.StepId), info.Status, aws.ToString(info.Reason))
	}
}

// put writes content to uri.
// stagingPrefix is the S3 folder of an attempt's generated scripts, under
// the cluster's log location ("" without one).
func stagingPrefix(logURI, clusterID, attemptID string) string {
	if logURI == "" {
		return ""
	}
	return logURI + clusterID + "/dpl-staging/" + safeName(attemptID) + "/"
}

func put(ctx context.Context, st objstore.Store, uri, content string) error {
	if st == nil {
		return errors.New("no object store")
	}
	w, err := st.Create(ctx, uri)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, content); err != nil {
		objstore.Abort(w, err)
		return err
	}
	return w.Close()
}
