// Package ec2 is the Ec2Resource provider on Amazon EC2: RunInstances from
// the resource's fields, a user-data script that installs and starts `dpl
// taskrunner` for the resource instance's worker group against the run's
// endpoint (its key read from SSM Parameter Store with the instance's
// role, never written into user-data), readiness at the runner's first
// signed request, and TerminateInstances when the engine is done with it.
// Everything it creates carries the ownership tags of provider/awsprov.
package ec2

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
)

// TypeName is the resource type this provider serves.
const TypeName = "Ec2Resource"

// KindName names EC2 instances in ownership records and listings.
const KindName = "ec2-instance"

// AMI parameters: the latest Amazon Linux 2023 image of a region, as AWS
// publishes it in SSM Parameter Store.
const (
	AMIParameterX86   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	AMIParameterArm64 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
)

func init() {
	awsprov.Register(TypeName, func(env *awsprov.Env) provider.Provider { return New(env) })
	awsprov.RegisterKind(Kind{})
	// The runner keys the instances read: a killed run leaves them too.
	awsprov.RegisterKind(awsprov.RunnerKeyKind{})
}

// API is the part of the EC2 client the provider uses (tests wrap it to
// inject throttling and capacity errors).
type API interface {
	RunInstances(ctx context.Context, in *ec2.RunInstancesInput, optFns ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// Provider provisions Ec2Resources as EC2 instances.
type Provider struct {
	Env *awsprov.Env
	// NewEC2 and NewSSM build clients for a region's configuration
	// (default: the SDK's).
	NewEC2 func(cfg aws.Config) API
	NewSSM func(cfg aws.Config) awsprov.SSMAPI
	// Tries is how many times a throttled or capacity-limited call is
	// made (default 5), Backoff the wait before try n+1 (default 1s·2ⁿ,
	// at most 30s).
	Tries   int
	Backoff func(try int) time.Duration
	// Watch is how often the instance's state is checked, waiting for its
	// runner and then for as long as it runs (default 10s).
	Watch time.Duration
}

var _ awsprov.Planner = (*Provider)(nil)

// New returns the provider for env.
func New(env *awsprov.Env) *Provider {
	return &Provider{Env: env}
}

func (p *Provider) ec2For(cfg aws.Config) API {
	if p.NewEC2 != nil {
		return p.NewEC2(cfg)
	}
	return ec2.NewFromConfig(cfg)
}

func (p *Provider) ssmFor(cfg aws.Config) awsprov.SSMAPI {
	if p.NewSSM != nil {
		return p.NewSSM(cfg)
	}
	return ssm.NewFromConfig(cfg)
}

func (p *Provider) tries() int {
	if p.Tries > 0 {
		return p.Tries
	}
	return 5
}

func (p *Provider) backoff(try int) time.Duration {
	if p.Backoff != nil {
		return p.Backoff(try)
	}
	d := time.Second << try
	if d > 30*time.Second || d <= 0 {
		d = 30 * time.Second
	}
	return d
}

func (p *Provider) watch() time.Duration {
	if p.Watch > 0 {
		return p.Watch
	}
	return 10 * time.Second
}

// Provision starts the instance in the background: Provision itself
// returns at once; ready comes at the runner's first request to the
// endpoint, or with the reason the instance could not start.
func (p *Provider) Provision(ctx context.Context, spec provider.Spec, ready func(error)) (provider.Resource, error) {
	region := p.Env.Region(spec)
	cfg, err := p.Env.Config(region)
	if err != nil {
		return nil, err
	}
	if p.Env.Runner.Endpoint == "" || p.Env.Runner.Keys == nil {
		return nil, errors.New("Ec2Resource on AWS needs the run's endpoint for its task runner (dpl run --serve ADDR)")
	}
	inst := &instance{p: p, spec: spec, region: region, ec2: p.ec2For(cfg), ssm: p.ssmFor(cfg),
		param: awsprov.RunnerKeyParameter(spec.PipelineID, spec.Activation, spec.InstanceID),
		stop:  make(chan struct{}), started: make(chan struct{})}
	go inst.start(ready)
	return inst, nil
}

// instance is one provisioned Ec2Resource instance.
type instance struct {
	p      *Provider
	spec   provider.Spec
	region string
	ec2    API
	ssm    awsprov.SSMAPI
	param  string

	mu      sync.Mutex
	id      string // i-…, once RunInstances answered
	keyID   string
	stopped bool
	stop    chan struct{} // closed by Terminate
	started chan struct{} // closed when start is past RunInstances
}

func (r *instance) WorkerGroup() string { return r.spec.InstanceID }

// start creates (or, on resume, finds) the instance and waits for its
// runner.
func (r *instance) start(ready func(error)) {
	defer closeOnce(r.started)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	tags := awsprov.Tags(r.spec)
	keyID, secret, err := r.p.Env.Runner.Keys.Issue(r.spec.InstanceID)
	if err != nil {
		ready(fmt.Errorf("issuing the runner's endpoint key: %w", err))
		return
	}
	r.mu.Lock()
	r.keyID = keyID
	r.mu.Unlock()
	if err := awsprov.PutRunnerKey(ctx, r.ssm, r.param, keyID, secret, tags); err != nil {
		r.release(ctx)
		ready(err)
		return
	}
	var id string
	if r.spec.Resumed {
		// The run was stopped while this resource was up: reuse the
		// instance it started (its runner re-reads the new key).
		found, err := Kind{}.list(ctx, r.ec2, map[string]string{awsprov.TagPipeline: tags[awsprov.TagPipeline],
			awsprov.TagRun: tags[awsprov.TagRun], awsprov.TagInstance: tags[awsprov.TagInstance]}, []string{"pending", "running"})
		if err == nil && len(found) > 0 {
			id = found[0].ID
			r.p.Env.Log("%s: reusing EC2 instance %s after resume", r.spec.InstanceID, id)
			if len(found) > 1 {
				var extra []string
				for _, o := range found[1:] {
					extra = append(extra, o.ID)
				}
				_ = Kind{}.terminate(ctx, r.ec2, extra)
			}
		}
	}
	if id == "" {
		id, err = r.run(ctx, tags)
		if err != nil {
			r.release(ctx)
			ready(err)
			return
		}
	}
	r.mu.Lock()
	r.id = id
	stopped := r.stopped
	r.mu.Unlock()
	_ = r.p.Env.Record.Created(awsprov.Owned{Kind: KindName, Region: r.region, ID: id, Tags: tags})
	if stopped {
		// Terminate came while RunInstances was on its way.
		r.terminate(context.Background())
		return
	}
	closeOnce(r.started)
	r.awaitRunner(ctx, keyID, ready)
}

// runInstancesTimeout bounds one RunInstances call that a stop does not
// cancel.
const runInstancesTimeout = 2 * time.Minute

// run sends RunInstances, retrying throttling and capacity errors with
// back-off.
func (r *instance) run(ctx context.Context, tags map[string]string) (string, error) {
	ami, err := r.ami(ctx)
	if err != nil {
		return "", err
	}
	in, err := buildInput(r.p.Env, r.spec, r.region, ami, r.param)
	if err != nil {
		return "", err
	}
	in.ClientToken = aws.String(clientToken(r.spec))
	var out *ec2.RunInstancesOutput
	err = r.p.retry(ctx, "RunInstances", func() error {
		// A stop must not cancel the call itself: AWS may have created
		// the instance already, and only the answer names it. The call
		// runs to its answer (bounded) and start terminates what it made.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runInstancesTimeout)
		defer cancel()
		var err error
		out, err = r.ec2.RunInstances(callCtx, in)
		return err
	})
	if err != nil {
		return "", err
	}
	if len(out.Instances) == 0 || out.Instances[0].InstanceId == nil {
		return "", errors.New("ec2 RunInstances: the answer names no instance")
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	r.p.Env.Log("%s: started EC2 instance %s (%s) in %s", r.spec.InstanceID, id, in.InstanceType, r.region)
	return id, nil
}

// ami is the resource's imageId, else --default-ami, else the latest
// Amazon Linux 2023 image of the region and architecture.
func (r *instance) ami(ctx context.Context) (string, error) {
	if v, ok := r.spec.Field("imageId"); ok && v != "" {
		return v, nil
	}
	if r.p.Env.DefaultAMI != "" {
		return r.p.Env.DefaultAMI, nil
	}
	name := amiParameter(instanceType(r.spec, r.region))
	var out *ssm.GetParameterOutput
	err := r.p.retry(ctx, "ssm GetParameter "+name, func() error {
		var err error
		out, err = r.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%w (give the Ec2Resource an imageId, or dpl run --default-ami)", err)
	}
	return aws.ToString(out.Parameter.Value), nil
}

// awaitRunner waits for the runner's first signed request (ready), the
// instance ending first (ready with the reason), or Terminate. Once
// ready, it goes on watching the instance: one that ends by itself (by
// hand, a spot interruption, a failed host) is reported lost, so that its
// work is not left waiting for a runner that is gone.
func (r *instance) awaitRunner(ctx context.Context, keyID string, ready func(error)) {
	used := r.p.Env.Runner.Keys.Used(keyID)
	tick := time.NewTicker(r.p.watch())
	defer tick.Stop()
	up := false
	for {
		select {
		case <-used:
			r.p.Env.Log("%s: the task runner on %s polls the endpoint", r.spec.InstanceID, r.id)
			used, up = nil, true
			ready(nil)
		case <-ctx.Done():
			return
		case <-tick.C:
			state, reason, err := r.state(ctx)
			if err != nil {
				continue // asked again at the next tick
			}
			switch state {
			case "shutting-down", "terminated", "stopping", "stopped":
				if ctx.Err() != nil {
					return // Terminate's own doing
				}
				msg := fmt.Sprintf("EC2 instance %s is %s", r.id, state)
				if !up {
					msg += " before its task runner started"
				}
				if reason != "" {
					msg += ": " + reason
				}
				if up {
					r.p.Env.Log("%s: %s", r.spec.InstanceID, msg)
					r.spec.ReportLost(errors.New(msg))
					return
				}
				r.terminate(context.Background())
				ready(errors.New(msg))
				return
			}
		}
	}
}

func (r *instance) state(ctx context.Context) (state, reason string, err error) {
	out, err := r.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.id}})
	if err != nil {
		return "", "", err
	}
	for _, res := range out.Reservations {
		for _, i := range res.Instances {
			if i.State != nil {
				state = string(i.State.Name)
			}
			if i.StateReason != nil {
				reason = aws.ToString(i.StateReason.Message)
			}
		}
	}
	return state, reason, nil
}

// Terminate ends the instance, deletes the runner's key parameter and
// revokes its key.
func (r *instance) Terminate(ctx context.Context, why string) error {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	id := r.id
	r.mu.Unlock()
	closeOnce(r.stop)
	if id == "" {
		// start is still on its way: it terminates what it creates.
		select {
		case <-r.started:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
		id = r.id
		r.mu.Unlock()
		if id == "" {
			return nil
		}
	}
	r.p.Env.Log("%s: terminating EC2 instance %s (%s)", r.spec.InstanceID, id, why)
	return r.terminate(ctx)
}

func (r *instance) terminate(ctx context.Context) error {
	r.mu.Lock()
	id := r.id
	r.mu.Unlock()
	var err error
	if id != "" {
		err = r.p.retry(ctx, "TerminateInstances", func() error { return Kind{}.terminate(ctx, r.ec2, []string{id}) })
		if err == nil {
			_ = r.p.Env.Record.Terminated(awsprov.Owned{Kind: KindName, Region: r.region, ID: id, Tags: awsprov.Tags(r.spec)})
		}
	}
	r.release(ctx)
	return err
}

// release revokes the runner's key and deletes its parameter.
func (r *instance) release(ctx context.Context) {
	r.mu.Lock()
	keyID := r.keyID
	r.keyID = ""
	r.mu.Unlock()
	if keyID != "" {
		r.p.Env.Runner.Keys.Revoke(keyID)
	}
	if ctx.Err() != nil {
		ctx = context.Background()
	}
	_ = awsprov.DeleteRunnerKey(ctx, r.ssm, r.param)
}

// retryable are the errors worth another try after a pause: throttling
// and EC2's capacity errors.
var retryable = map[string]bool{
	"RequestLimitExceeded": true, "Throttling": true, "ThrottlingException": true,
	"InsufficientInstanceCapacity": true, "InsufficientCapacity": true,
	"InsufficientHostCapacity": true, "InsufficientReservedInstanceCapacity": true,
	"Unavailable": true, "ServiceUnavailable": true, "InternalError": true,
}

// retry calls f up to Tries times while it fails with a retryable error;
// the final error names the call and AWS's message.
func (p *Provider) retry(ctx context.Context, call string, f func() error) error {
	var err error
	for try := 0; ; try++ {
		err = f()
		if err == nil {
			return nil
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || !retryable[ae.ErrorCode()] || try+1 >= p.tries() {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", call, ctx.Err())
		case <-time.After(p.backoff(try)):
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := fmt.Sprintf("%s: %s: %s", call, ae.ErrorCode(), ae.ErrorMessage())
		if retryable[ae.ErrorCode()] {
			msg += fmt.Sprintf(" (after %d tries)", p.tries())
		}
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %w", call, err)
}

// clientToken makes RunInstances idempotent for one start of one
// instance (the SDK's own retries of a lost answer create nothing twice).
func clientToken(spec provider.Spec) string {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%s|%d|%x", spec.PipelineID, spec.Activation, spec.InstanceID, spec.Failures, nonce)))
	return hex.EncodeToString(sum[:])[:64]
}

func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// Kind lists and terminates dpl's EC2 instances by tag.
type Kind struct {
	// NewEC2 builds the client (default: the SDK's).
	NewEC2 func(cfg aws.Config) API
}

func (Kind) Name() string { return KindName }

func (k Kind) client(cfg aws.Config) API {
	if k.NewEC2 != nil {
		return k.NewEC2(cfg)
	}
	return ec2.NewFromConfig(cfg)
}

// List returns the instances not terminated (stopped ones still cost
// their volumes) that carry every tag in match.
func (k Kind) List(ctx context.Context, cfg aws.Config, match map[string]string) ([]awsprov.Owned, error) {
	owned, err := k.list(ctx, k.client(cfg), match, []string{"pending", "running", "stopping", "stopped"})
	for i := range owned {
		owned[i].Region = cfg.Region
	}
	return owned, err
}

func (Kind) list(ctx context.Context, c API, match map[string]string, states []string) ([]awsprov.Owned, error) {
	filters := []types.Filter{{Name: aws.String("instance-state-name"), Values: states}}
	if len(match) == 0 {
		filters = append(filters, types.Filter{Name: aws.String("tag-key"), Values: []string{awsprov.TagPipeline}})
	}
	for _, key := range awsprov.SortedKeys(match) {
		filters = append(filters, types.Filter{Name: aws.String("tag:" + key), Values: []string{match[key]}})
	}
	var out []awsprov.Owned
	pages := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: filters})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("ec2 DescribeInstances: %w", err)
		}
		for _, res := range page.Reservations {
			for _, i := range res.Instances {
				o := awsprov.Owned{Kind: KindName, ID: aws.ToString(i.InstanceId), Tags: map[string]string{}}
				if i.State != nil {
					o.State = string(i.State.Name)
				}
				if i.LaunchTime != nil {
					o.Time = *i.LaunchTime
				}
				for _, t := range i.Tags {
					if strings.HasPrefix(aws.ToString(t.Key), "dpl:") {
						o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
					}
				}
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// Terminate ends instances; ids already gone are fine.
func (k Kind) Terminate(ctx context.Context, cfg aws.Config, ids []string) error {
	return k.terminate(ctx, k.client(cfg), ids)
}

func (Kind) terminate(ctx context.Context, c API, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "InvalidInstanceID.NotFound" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ec2 TerminateInstances %v: %w", ids, err)
	}
	return nil
}

// Plan is the RunInstances request (user-data shown decoded) and the
// runner key parameter, as they would be sent.
func (p *Provider) Plan(env *awsprov.Env, spec provider.Spec) ([]awsprov.Request, error) {
	region := env.Region(spec)
	ami, note := "", ""
	switch v, ok := spec.Field("imageId"); {
	case ok && v != "":
		ami = v
	case env.DefaultAMI != "":
		ami = env.DefaultAMI
	default:
		param := amiParameter(instanceType(spec, region))
		ami = "<latest Amazon Linux 2023: ssm GetParameter " + param + ">"
		note = "ImageId is looked up at run time"
	}
	if env.Runner.Endpoint == "" {
		env2 := *env
		env2.Runner.Endpoint = "http://<dpl run --serve ADDR>"
		env = &env2
	}
	param := awsprov.RunnerKeyParameter(spec.PipelineID, spec.Activation, spec.InstanceID)
	in, err := buildInput(env, spec, region, ami, param)
	if err != nil {
		return nil, err
	}
	script, _ := base64.StdEncoding.DecodeString(aws.ToString(in.UserData))
	in.UserData = nil
	in.ClientToken = nil
	shown := map[string]any{"request": in, "userData (decoded)": strings.Split(strings.TrimSuffix(string(script), "\n"), "\n")}
	tags := awsprov.Tags(spec)
	return []awsprov.Request{
		{API: "PutParameter", Region: region, Note: "the runner's endpoint key, read by the instance with its role; deleted at termination",
			Input: map[string]any{"Name": param, "Type": "SecureString", "Value": "********", "Tags": tags}},
		{API: "RunInstances", Region: region, Note: note, Input: shown},
		{API: "TerminateInstances", Region: region, Note: "when the work on it is done, at terminateAfter, on failure or interrupt (unless --keep-resources)",
			Input: map[string]any{"InstanceIds": []string{"<the instance started>"}}},
	}, nil
}

// minutes rounds d up to whole minutes (shutdown -h +M).
func minutes(d time.Duration) string { return strconv.Itoa(int((d + time.Minute - 1) / time.Minute)) }
