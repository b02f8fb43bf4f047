// Package emr is the resource provider of EmrCluster on Amazon EMR: an
// EmrCluster instance becomes a cluster made by RunJobFlow from its fields
// (RunJobFlowRequest), and the activities that run on it (EmrActivity,
// HiveActivity, HiveCopyActivity, PigActivity, HadoopActivity) become its
// steps (Steps), submitted with AddJobFlowSteps by an in-process worker
// that polls the cluster's worker group, and followed with DescribeStep
// until they end. The cluster is terminated when the engine says its work
// is done (or at terminateAfter, on failure, or when the run stops).
//
// Everything goes through the Client interface (the SDK's *emr.Client
// satisfies it), so tests run it against moto, whose steps never run, with
// a stand-in that moves step states.
package emr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsemr "github.com/aws/aws-sdk-go-v2/service/emr"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"
	"github.com/aws/smithy-go"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/local"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/task"
)

// Client is the part of the EMR API the provider calls.
type Client interface {
	RunJobFlow(ctx context.Context, in *awsemr.RunJobFlowInput, opts ...func(*awsemr.Options)) (*awsemr.RunJobFlowOutput, error)
	DescribeCluster(ctx context.Context, in *awsemr.DescribeClusterInput, opts ...func(*awsemr.Options)) (*awsemr.DescribeClusterOutput, error)
	AddJobFlowSteps(ctx context.Context, in *awsemr.AddJobFlowStepsInput, opts ...func(*awsemr.Options)) (*awsemr.AddJobFlowStepsOutput, error)
	DescribeStep(ctx context.Context, in *awsemr.DescribeStepInput, opts ...func(*awsemr.Options)) (*awsemr.DescribeStepOutput, error)
	CancelSteps(ctx context.Context, in *awsemr.CancelStepsInput, opts ...func(*awsemr.Options)) (*awsemr.CancelStepsOutput, error)
	TerminateJobFlows(ctx context.Context, in *awsemr.TerminateJobFlowsInput, opts ...func(*awsemr.Options)) (*awsemr.TerminateJobFlowsOutput, error)
	ListClusters(ctx context.Context, in *awsemr.ListClustersInput, opts ...func(*awsemr.Options)) (*awsemr.ListClustersOutput, error)
	ListSteps(ctx context.Context, in *awsemr.ListStepsInput, opts ...func(*awsemr.Options)) (*awsemr.ListStepsOutput, error)
}

var _ Client = (*awsemr.Client)(nil)

// ClientsFrom returns a Client per region from an SDK configuration ("":
// the configuration's region); endpoint overrides (moto) come with cfg.
func ClientsFrom(cfg aws.Config) func(region string) Client {
	var mu sync.Mutex
	cache := map[string]Client{}
	return func(region string) Client {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cache[region]; ok {
			return c
		}
		c := awsemr.NewFromConfig(cfg, func(o *awsemr.Options) {
			if region != "" {
				o.Region = region
			}
		})
		cache[region] = c
		return c
	}
}

// Options configure the provider.
type Options struct {
	// Clients returns the EMR client of a region ("" for the default).
	Clients func(region string) Client
	// Store uploads generated scripts to S3 and reads scriptUri scripts.
	Store objstore.Store
	// Logs opens an attempt's log streams (local.LogFiles(stateDir));
	// nil discards what the steps' watcher writes.
	Logs func(t *task.Task) (task.Logs, func(), error)
	// Record keeps every cluster made in the state folder's ownership
	// record (nil: none).
	Record *awsprov.Record
	// DefaultRegion is where a cluster without a region field is made
	// (for the record; the clients know it).
	DefaultRegion string
	// PollInterval is the first wait between DescribeCluster and
	// DescribeStep calls (default 10s); it grows by half up to
	// MaxPollInterval (default 60s) while nothing changes.
	PollInterval, MaxPollInterval time.Duration
	// Slots is how many tasks of one cluster are submitted at once
	// (default 1: EMR runs steps one at a time unless told otherwise).
	Slots int
	// Clock times the polls (clock.Real when nil).
	Clock task.Clock
	// Logf reports what the provider does (nil: silent).
	Logf func(format string, args ...any)
}

// Provider creates EMR clusters for EmrCluster instances.
type Provider struct {
	opts Options

	mu       sync.Mutex
	api      executor.API
	clusters map[string]*Cluster // by resource instance id, every one started
	pending  sync.WaitGroup      // terminations under way
}

var _ provider.Provider = (*Provider)(nil)

// New returns a provider; Attach the engine before the run starts.
func New(opts Options) *Provider {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 10 * time.Second
	}
	if opts.MaxPollInterval < opts.PollInterval {
		opts.MaxPollInterval = max(60*time.Second, opts.PollInterval)
	}
	if opts.Slots < 1 {
		opts.Slots = 1
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	return &Provider{opts: opts, clusters: map[string]*Cluster{}}
}

// Attach gives the provider the engine whose tasks its clusters run: each
// cluster's worker polls it for the work of the cluster's worker group.
func (p *Provider) Attach(api executor.API) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.api = api
}

func (p *Provider) logf(format string, args ...any) {
	if p.opts.Logf != nil {
		p.opts.Logf(format, args...)
	}
}

// Provision builds the RunJobFlow request (a field that cannot become one
// is an error: nothing is started) and creates the cluster in the
// background; ready is called once it is WAITING or RUNNING.
func (p *Provider) Provision(_ context.Context, spec provider.Spec, ready func(error)) (provider.Resource, error) {
	p.mu.Lock()
	api := p.api
	p.mu.Unlock()
	if api == nil {
		return nil, errors.New("the EMR provider is not attached to an engine")
	}
	if p.opts.Clients == nil {
		return nil, errors.New("the EMR provider has no AWS client")
	}
	c, err := newCluster(spec)
	if err != nil {
		return nil, err
	}
	in, err := c.request()
	if err != nil {
		return nil, err
	}
	for _, u := range Unsupported(spec) {
		p.logf("%s: %v", spec.InstanceID, u)
	}
	ctx, stop := context.WithCancel(context.Background())
	region := c.region()
	if region == "" {
		region = p.opts.DefaultRegion
	}
	logs := p.opts.Logs
	if logs == nil {
		if dir := stateDirOf(spec); dir != "" {
			logs = local.LogFiles(dir)
		}
	}
	cl := &Cluster{p: p, spec: spec, c: c, client: p.opts.Clients(c.region()), request: in, region: region, logs: logs,
		ctx: ctx, stop: stop, started: make(chan struct{}), workerDone: make(chan struct{})}
	p.mu.Lock()
	p.clusters[spec.InstanceID] = cl
	p.mu.Unlock()
	go cl.start(api, ready)
	return cl, nil
}

// Clusters lists the clusters this provider started, oldest first.
func (p *Provider) Clusters() []ClusterInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ClusterInfo
	for _, c := range p.clusters {
		out = append(out, c.Info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// TerminateAll terminates every cluster still up (dpl interrupted, or the
// run over) and waits for every termination: nothing it made is left
// running unless an error says so.
func (p *Provider) TerminateAll(ctx context.Context, why string) error {
	p.mu.Lock()
	var all []*Cluster
	for _, c := range p.clusters {
		all = append(all, c)
	}
	p.mu.Unlock()
	for _, c := range all {
		_ = c.Terminate(ctx, why)
	}
	return p.Wait(ctx)
}

// Detach stops the workers of every cluster and leaves the clusters up
// (`--keep-resources`, or a process going away that a resumed run takes
// over): their running steps are canceled, nothing is terminated.
func (p *Provider) Detach() {
	p.mu.Lock()
	var all []*Cluster
	for _, c := range p.clusters {
		all = append(all, c)
	}
	p.mu.Unlock()
	for _, c := range all {
		c.mu.Lock()
		c.terminated = true // a later Terminate is a no-op
		c.mu.Unlock()
		c.stop()
		<-c.started
		<-c.workerDone
	}
}

// Wait waits for the terminations under way and returns their errors.
func (p *Provider) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { p.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, c := range p.clusters {
		c.mu.Lock()
		if c.termErr != nil {
			errs = append(errs, c.termErr)
		}
		c.mu.Unlock()
	}
	return errors.Join(errs...)
}

// ClusterInfo describes one cluster the provider started.
type ClusterInfo struct {
	Instance   string // the EmrCluster instance
	ClusterID  string // j-...; "" until RunJobFlow answered
	LogURI     string
	Started    time.Time
	Terminated bool // TerminateJobFlows succeeded
}

// Cluster is one EmrCluster instance's cluster.
type Cluster struct {
	p       *Provider
	spec    provider.Spec
	c       *cluster
	client  Client
	request *awsemr.RunJobFlowInput
	api     executor.API                                // the engine its worker serves
	region  string                                      // where it is made
	logs    func(*task.Task) (task.Logs, func(), error) // the attempts' log files

	ctx  context.Context // ends on Terminate: stops the start-up wait and the worker
	stop context.CancelFunc

	started    chan struct{} // closed once RunJobFlow answered (id set or failed)
	workerDone chan struct{} // closed when the worker (if any) returned

	mu         sync.Mutex
	id         string
	startedAt  time.Time
	terminated bool  // Terminate was called (or the cluster ended)
	gone       bool  // TerminateJobFlows succeeded
	termErr    error // why TerminateJobFlows failed
}

// WorkerGroup is the resource instance's id: only this cluster's worker
// polls it.
func (c *Cluster) WorkerGroup() string { return c.spec.InstanceID }

// Info describes the cluster.
func (c *Cluster) Info() ClusterInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ClusterInfo{Instance: c.spec.InstanceID, ClusterID: c.id, LogURI: aws.ToString(c.request.LogUri), Started: c.startedAt, Terminated: c.gone}
}

// ID is the cluster id (j-...), "" before RunJobFlow answered.
func (c *Cluster) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

func (c *Cluster) start(api executor.API, ready func(error)) {
	c.api = api
	c.mu.Lock()
	c.startedAt = time.Now()
	c.mu.Unlock()
	var id string
	if c.spec.Resumed {
		var err error
		if id, err = c.adoptable(); err != nil {
			c.p.logf("%s: looking for the cluster of the stopped dpl process: %v", c.spec.InstanceID, err)
		}
	}
	if id != "" {
		c.p.logf("%s: going on with cluster %s, made for this instance before dpl stopped", c.spec.InstanceID, id)
		c.cancelLeftoverSteps(id)
	} else {
		// A Terminate must not cancel the call itself: EMR may have made
		// the cluster already, and only the answer names it; shutdown
		// terminates it once the id is known.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 2*time.Minute)
		out, err := c.client.RunJobFlow(callCtx, c.request)
		cancel()
		if err != nil {
			close(c.started)
			close(c.workerDone)
			ready(apiError("RunJobFlow", err))
			return
		}
		id = aws.ToString(out.JobFlowId)
		c.p.logf("%s: cluster %s created (RunJobFlow)", c.spec.InstanceID, id)
	}
	c.mu.Lock()
	c.id = id
	c.mu.Unlock()
	c.record(true)
	close(c.started)
	if err := c.waitReady(id); err != nil {
		close(c.workerDone)
		// A cluster that ended by itself or never got ready is gone or
		// going: make sure of it.
		if terr := c.terminateCluster(context.Background(), id); terr != nil {
			err = errors.Join(err, terr)
		} else {
			c.mu.Lock()
			c.terminated, c.gone = true, true
			c.mu.Unlock()
		}
		ready(err)
		return
	}
	c.mu.Lock()
	if c.terminated {
		c.mu.Unlock()
		close(c.workerDone)
		ready(errors.New("terminated before it was ready"))
		return
	}
	c.mu.Unlock()
	w := &local.Worker{API: api, PipelineID: c.spec.PipelineID, Runner: &stepRunner{cl: c}, Parallel: c.p.opts.Slots,
		WorkerGroup: c.WorkerGroup(), Hostname: "emr:" + id, Logs: c.logs}
	go func() {
		defer close(c.workerDone)
		if err := w.Run(c.ctx); err != nil && c.ctx.Err() == nil {
			c.p.logf("%s: worker of cluster %s: %v", c.spec.InstanceID, id, err)
		}
	}()
	ready(nil)
	go c.watch(id)
}

// watch polls DescribeCluster (every MaxPollInterval) while the cluster
// works for the run: one that ends by itself (terminated by hand, a
// failed bootstrap on a replaced node, an EC2 outage) is reported lost,
// so that its work does not wait on a cluster that is gone.
func (c *Cluster) watch(id string) {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.p.opts.Clock.After(c.p.opts.MaxPollInterval):
		}
		out, err := c.client.DescribeCluster(c.ctx, &awsemr.DescribeClusterInput{ClusterId: aws.String(id)})
		if c.ctx.Err() != nil {
			return // Terminate's own doing
		}
		if err != nil || out.Cluster == nil || out.Cluster.Status == nil {
			continue // asked again at the next tick
		}
		switch st := out.Cluster.Status.State; st {
		case emrtypes.ClusterStateTerminating, emrtypes.ClusterStateTerminated, emrtypes.ClusterStateTerminatedWithErrors:
			msg := fmt.Sprintf("EMR cluster %s is %s", id, st)
			if r := out.Cluster.Status.StateChangeReason; r != nil {
				msg += ": " + string(r.Code) + ": " + aws.ToString(r.Message)
			}
			c.p.logf("%s: %s", c.spec.InstanceID, msg)
			c.spec.ReportLost(errors.New(msg))
			return
		}
	}
}

// waitReady polls DescribeCluster until the cluster can take steps.
func (c *Cluster) waitReady(id string) error {
	wait := c.p.opts.PollInterval
	last := emrtypes.ClusterState("")
	for {
		out, err := c.client.DescribeCluster(c.ctx, &awsemr.DescribeClusterInput{ClusterId: aws.String(id)})
		if c.ctx.Err() != nil {
			return fmt.Errorf("cluster %s: terminated while starting", id)
		}
		if err != nil {
			return apiError("DescribeCluster", err)
		}
		var st emrtypes.ClusterState
		var reason string
		if out.Cluster != nil && out.Cluster.Status != nil {
			st = out.Cluster.Status.State
			if r := out.Cluster.Status.StateChangeReason; r != nil {
				reason = string(r.Code) + ": " + aws.ToString(r.Message)
			}
		}
		switch st {
		case emrtypes.ClusterStateWaiting, emrtypes.ClusterStateRunning:
			return nil
		case emrtypes.ClusterStateTerminating, emrtypes.ClusterStateTerminated, emrtypes.ClusterStateTerminatedWithErrors:
			return fmt.Errorf("cluster %s is %s before it was ready: %s", id, st, reason)
		}
		if st != last {
			c.p.logf("%s: cluster %s is %s", c.spec.InstanceID, id, st)
			last = st
		}
		select {
		case <-c.ctx.Done():
			return fmt.Errorf("cluster %s: terminated while starting", id)
		case <-c.p.opts.Clock.After(wait):
		}
		wait = min(wait*3/2, c.p.opts.MaxPollInterval)
	}
}

// Terminate stops the cluster's worker (its running steps are canceled)
// and terminates the cluster, in the background: the engine calls it
// holding its lock, which the worker needs to give its tasks back. A
// cluster whose RunJobFlow is still on its way is terminated as soon as
// it has an id. Provider.Wait waits for the terminations.
func (c *Cluster) Terminate(_ context.Context, why string) error {
	c.mu.Lock()
	if c.terminated {
		c.mu.Unlock()
		return nil
	}
	c.terminated = true
	c.mu.Unlock()
	c.stop()
	c.p.pending.Add(1)
	go func() {
		defer c.p.pending.Done()
		err := c.shutdown(why)
		c.mu.Lock()
		c.termErr = err
		c.gone = err == nil && c.id != ""
		c.mu.Unlock()
		if err != nil {
			c.p.logf("%s: %v", c.spec.InstanceID, err)
		}
	}()
	return nil
}

func (c *Cluster) shutdown(why string) error {
	<-c.started
	// The worker cancels its steps on the way out.
	select {
	case <-c.workerDone:
	case <-time.After(2 * time.Minute):
	}
	id := c.ID()
	if id == "" {
		return nil // RunJobFlow failed: nothing was made
	}
	c.p.logf("%s: terminating cluster %s (%s)", c.spec.InstanceID, id, why)
	return c.terminateCluster(context.Background(), id)
}

func (c *Cluster) terminateCluster(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, err := c.client.TerminateJobFlows(ctx, &awsemr.TerminateJobFlowsInput{JobFlowIds: []string{id}}); err != nil {
		return fmt.Errorf("cluster %s: %w", id, apiError("TerminateJobFlows", err))
	}
	c.record(false)
	return nil
}

// stateDirOf is the state folder of the run, from the resource's working
// folder (executor.ResourceDir); "" when the run keeps none.
func stateDirOf(spec provider.Spec) string {
	if spec.WorkDir == "" {
		return ""
	}
	dir := filepath.Dir(filepath.Dir(filepath.Dir(spec.WorkDir)))
	if executor.ResourceDir(dir, spec.PipelineID, spec.InstanceID) != filepath.Clean(spec.WorkDir) {
		return ""
	}
	return dir
}

// apiError names the call and AWS's error code and message.
func apiError(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &CallError{Op: op, Code: ae.ErrorCode(), Message: ae.ErrorMessage(), err: err}
	}
	return &CallError{Op: op, Message: err.Error(), err: err}
}

// CallError is an EMR API call that failed.
type CallError struct {
	Op, Code, Message string
	err               error
}

func (e *CallError) Error() string {
	if e.Code == "" {
		return "EMR " + e.Op + ": " + e.Message
	}
	return "EMR " + e.Op + ": " + e.Code + ": " + e.Message
}

func (e *CallError) Unwrap() error { return e.err }

// Rejected reports whether AWS refused the request as invalid (no retry
// can fix it), as opposed to throttling or a server error.
func (e *CallError) Rejected() bool {
	switch e.Code {
	case "ValidationException", "InvalidRequestException":
		return true
	}
	return false
}
