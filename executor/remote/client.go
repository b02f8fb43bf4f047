// Package remote is dpl's task runner for a Data Pipeline endpoint reached
// over HTTP: Client speaks the service's API through aws-sdk-go-v2's
// datapipeline client (so it works against `dpl serve` or anything else
// that answers the protocol), and TaskRunner polls a worker group and runs
// what it gets with the same activity code as the local worker.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/aws/smithy-go"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/task"
)

// Client is executor.API over the service's HTTP API, on one endpoint or
// several that it fails over between (see Do).
type Client struct {
	// DP is the first endpoint's SDK client; calls through it do not fail
	// over (use Do).
	DP *datapipeline.Client

	endpoints []string
	clients   []*datapipeline.Client
	current   atomic.Int32
	logf      func(string, ...any)
	// pollHTTP waits past the server's long poll; the clients' own HTTP
	// client gives up sooner (CallTimeout), so that a stopped server
	// (SIGSTOP, a cut network: connections accepted, never answered) is
	// left for the next endpoint within seconds, not minutes.
	pollHTTP *http.Client
}

var _ executor.API = (*Client)(nil)

// ClientOptions configure Dial.
type ClientOptions struct {
	// Endpoint is the service URL, e.g. http://127.0.0.1:8642, or several
	// separated by commas: the client fails over between them.
	Endpoint string
	// Logf reports a change of endpoint (nil: silent).
	Logf func(format string, args ...any)
	// Region signs requests (default us-east-1, the Task Runner's default).
	Region string
	// Credentials override the default chain (environment, shared files).
	Credentials aws.CredentialsProvider
	// PollTimeout is the server's long poll; the HTTP timeout is set above
	// it (default executor.PollTimeout).
	PollTimeout time.Duration
	// CallTimeout bounds every other call (default DefaultCallTimeout).
	CallTimeout time.Duration
}

// DefaultCallTimeout bounds a call other than PollForTask.
const DefaultCallTimeout = 30 * time.Second

// Dial makes a Client for an endpoint with the default credential chain.
func Dial(ctx context.Context, o ClientOptions) (*Client, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = executor.PollTimeout
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(o.Region)}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	hc := &http.Client{Timeout: o.CallTimeout, Transport: tr}
	endpoints := splitEndpoints(o.Endpoint)
	c := &Client{endpoints: endpoints, logf: o.Logf, pollHTTP: &http.Client{Timeout: o.PollTimeout + 10*time.Second, Transport: tr}}
	for _, ep := range endpoints {
		c.clients = append(c.clients, datapipeline.NewFromConfig(cfg, func(do *datapipeline.Options) {
			if ep != "" {
				do.BaseEndpoint = aws.String(ep)
			}
			do.HTTPClient = hc
			if len(endpoints) > 1 {
				// Fail over soon rather than back off on a dead endpoint.
				do.RetryMaxAttempts = 2
			}
		}))
	}
	c.DP = c.clients[0]
	return c, nil
}

// mapErr turns the service's error codes into the engine's errors.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PipelineNotFoundException", "PipelineDeletedException":
			return fmt.Errorf("%s: %w: %s", op, executor.ErrPipelineNotFound, ae.ErrorMessage())
		case "TaskNotFoundException":
			return fmt.Errorf("%s: %w: %s", op, executor.ErrTaskNotFound, ae.ErrorMessage())
		case "InvalidRequestException":
			return fmt.Errorf("%s: %w: %s", op, executor.ErrInvalidRequest, ae.ErrorMessage())
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func fromWire(o types.PipelineObject) *task.Object {
	out := &task.Object{ID: aws.ToString(o.Id), Name: aws.ToString(o.Name)}
	for _, f := range o.Fields {
		out.Fields = append(out.Fields, task.Field{Key: aws.ToString(f.Key), StringValue: f.StringValue, RefValue: f.RefValue})
	}
	return out
}

func toWireFields(fs []task.Field) []types.Field {
	out := make([]types.Field, len(fs))
	for i, f := range fs {
		out[i] = types.Field{Key: aws.String(f.Key), StringValue: f.StringValue, RefValue: f.RefValue}
	}
	return out
}

// Activate implements executor.API.
func (c *Client) Activate(ctx context.Context, in executor.ActivateInput) error {
	req := &datapipeline.ActivatePipelineInput{PipelineId: aws.String(in.PipelineID)}
	for id, vs := range in.ParameterValues {
		for _, v := range vs {
			req.ParameterValues = append(req.ParameterValues, types.ParameterValue{Id: aws.String(id), StringValue: aws.String(v)})
		}
	}
	if !in.StartTimestamp.IsZero() {
		req.StartTimestamp = aws.Time(in.StartTimestamp)
	}
	err := c.Do(ctx, func(dp *datapipeline.Client) error { _, err := dp.ActivatePipeline(ctx, req); return err })
	return mapErr("ActivatePipeline", err)
}

// PollForTask implements executor.API; no retries, so that a canceled poll
// ends at once.
func (c *Client) PollForTask(ctx context.Context, in executor.PollInput) (*task.Task, error) {
	var out *datapipeline.PollForTaskOutput
	err := c.Do(ctx, func(dp *datapipeline.Client) (err error) {
		out, err = dp.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(in.WorkerGroup), Hostname: aws.String(in.Hostname)},
			func(o *datapipeline.Options) { o.RetryMaxAttempts, o.HTTPClient = 1, c.pollHTTP })
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, mapErr("PollForTask", err)
	}
	if out.TaskObject == nil || out.TaskObject.TaskId == nil {
		return nil, nil
	}
	t := &task.Task{TaskID: aws.ToString(out.TaskObject.TaskId), PipelineID: aws.ToString(out.TaskObject.PipelineId),
		AttemptID: aws.ToString(out.TaskObject.AttemptId), Objects: map[string]*task.Object{}}
	for id, o := range out.TaskObject.Objects {
		t.Objects[id] = fromWire(o)
	}
	return t, nil
}

// ReportTaskProgress implements executor.API.
func (c *Client) ReportTaskProgress(ctx context.Context, taskID string, fields []task.Field) (bool, error) {
	var out *datapipeline.ReportTaskProgressOutput
	err := c.Do(ctx, func(dp *datapipeline.Client) (err error) {
		out, err = dp.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: aws.String(taskID), Fields: toWireFields(fields)})
		return err
	})
	if err != nil {
		return false, mapErr("ReportTaskProgress", err)
	}
	return out.Canceled, nil
}

// ReportTaskRunnerHeartbeat implements executor.API.
func (c *Client) ReportTaskRunnerHeartbeat(ctx context.Context, in executor.HeartbeatInput) (bool, error) {
	var out *datapipeline.ReportTaskRunnerHeartbeatOutput
	err := c.Do(ctx, func(dp *datapipeline.Client) (err error) {
		out, err = dp.ReportTaskRunnerHeartbeat(ctx, &datapipeline.ReportTaskRunnerHeartbeatInput{
			TaskrunnerId: aws.String(in.TaskRunnerID), WorkerGroup: aws.String(in.WorkerGroup), Hostname: aws.String(in.Hostname)})
		return err
	})
	if err != nil {
		return false, mapErr("ReportTaskRunnerHeartbeat", err)
	}
	return out.Terminate, nil
}

// SetTaskStatus implements executor.API.
func (c *Client) SetTaskStatus(ctx context.Context, taskID string, r task.Result) error {
	in := &datapipeline.SetTaskStatusInput{TaskId: aws.String(taskID), TaskStatus: types.TaskStatus(r.Status)}
	if r.ErrorID != "" {
		in.ErrorId = aws.String(r.ErrorID)
	}
	if r.ErrorMessage != "" {
		in.ErrorMessage = aws.String(r.ErrorMessage)
	}
	if r.ErrorStackTrace != "" {
		in.ErrorStackTrace = aws.String(r.ErrorStackTrace)
	}
	err := c.Do(ctx, func(dp *datapipeline.Client) error { _, err := dp.SetTaskStatus(ctx, in); return err })
	return mapErr("SetTaskStatus", err)
}

// QueryObjects implements executor.API.
func (c *Client) QueryObjects(ctx context.Context, in executor.QueryInput) (executor.QueryOutput, error) {
	req := &datapipeline.QueryObjectsInput{PipelineId: aws.String(in.PipelineID), Sphere: aws.String(string(in.Sphere))}
	if in.Marker != "" {
		req.Marker = aws.String(in.Marker)
	}
	if in.Limit > 0 {
		req.Limit = aws.Int32(int32(in.Limit))
	}
	if len(in.Selectors) > 0 {
		req.Query = &types.Query{}
		for _, s := range in.Selectors {
			req.Query.Selectors = append(req.Query.Selectors, types.Selector{FieldName: aws.String(s.FieldName),
				Operator: &types.Operator{Type: types.OperatorType(s.Operator), Values: s.Values}})
		}
	}
	var out *datapipeline.QueryObjectsOutput
	err := c.Do(ctx, func(dp *datapipeline.Client) (err error) { out, err = dp.QueryObjects(ctx, req); return err })
	if err != nil {
		return executor.QueryOutput{}, mapErr("QueryObjects", err)
	}
	return executor.QueryOutput{IDs: out.Ids, Marker: aws.ToString(out.Marker), HasMoreResults: out.HasMoreResults}, nil
}

// DescribeObjects implements executor.API.
func (c *Client) DescribeObjects(ctx context.Context, in executor.DescribeInput) (executor.DescribeOutput, error) {
	req := &datapipeline.DescribeObjectsInput{PipelineId: aws.String(in.PipelineID), ObjectIds: in.ObjectIDs, EvaluateExpressions: in.EvaluateExpressions}
	if in.Marker != "" {
		req.Marker = aws.String(in.Marker)
	}
	var out *datapipeline.DescribeObjectsOutput
	err := c.Do(ctx, func(dp *datapipeline.Client) (err error) { out, err = dp.DescribeObjects(ctx, req); return err })
	if err != nil {
		return executor.DescribeOutput{}, mapErr("DescribeObjects", err)
	}
	res := executor.DescribeOutput{Marker: aws.ToString(out.Marker), HasMoreResults: out.HasMoreResults}
	for _, o := range out.PipelineObjects {
		res.Objects = append(res.Objects, fromWire(o))
	}
	return res, nil
}

// SetStatus implements executor.API.
func (c *Client) SetStatus(ctx context.Context, pipelineID string, ids []string, status string) error {
	err := c.Do(ctx, func(dp *datapipeline.Client) error {
		_, err := dp.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: aws.String(pipelineID), ObjectIds: ids, Status: aws.String(status)})
		return err
	})
	return mapErr("SetStatus", err)
}

// EvaluateExpression implements executor.API.
func (c *Client) EvaluateExpression(ctx context.Context, pipelineID, objectID, expression string) (string, error) {
	var out *datapipeline.EvaluateExpressionOutput
	err := c.Do(ctx, func(dp *datapipeline.Client) (err error) {
		out, err = dp.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: aws.String(pipelineID), ObjectId: aws.String(objectID), Expression: aws.String(expression)})
		return err
	})
	if err != nil {
		return "", mapErr("EvaluateExpression", err)
	}
	return aws.ToString(out.EvaluatedExpression), nil
}
