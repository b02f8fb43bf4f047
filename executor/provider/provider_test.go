package provider_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/local"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/task"
)

// testProvider is a test-only provider of Ec2Resource, registered from
// this test package: nothing in the engine knows it. Its resources become
// ready (or fail) when the test says so, from another goroutine, as a
// cloud provider's would.
type testProvider struct {
	mu         sync.Mutex
	specs      []provider.Spec
	terminated []string
	provisions chan func(error) // each Provision's ready, for the test to call
}

func (p *testProvider) Provision(_ context.Context, spec provider.Spec, ready func(error)) (provider.Resource, error) {
	p.mu.Lock()
	p.specs = append(p.specs, spec)
	p.mu.Unlock()
	p.provisions <- ready
	return testResource{p: p, id: spec.InstanceID}, nil
}

type testResource struct {
	p  *testProvider
	id string
}

func (testResource) WorkerGroup() string { return "" }

func (r testResource) Terminate(_ context.Context, why string) error {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	r.p.terminated = append(r.p.terminated, r.id+": "+why)
	return nil
}

const ec2Def = `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","maximumRetries":"%s","retryDelay":"1 seconds"},
 {"id":"Box","type":"Ec2Resource","instanceType":"#{myType}","terminateAfter":"2 hours","actionOnTaskFailure":"terminate"%s},
 {"id":"Work","type":"ShellCommandActivity","command":"true","runsOn":{"ref":"Box"}}],
 "parameters":[{"id":"myType","type":"String","default":"m5.large"}]}`

type funcRunner func(ctx context.Context, t *task.Task) task.Result

func (f funcRunner) Run(ctx context.Context, t *task.Task, _ task.Logs) task.Result { return f(ctx, t) }

// newEngine is an engine over ec2Def whose registry has p for Ec2Resource.
func newEngine(t *testing.T, p *testProvider, retries, extra string) *executor.Engine {
	t.Helper()
	src := []byte(fmt.Sprintf(ec2Def, retries, extra))
	d, err := definition.Parse("ec2.json", src)
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.RegisterProvider("Ec2Resource", p)
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-EC2", StateDir: t.TempDir(), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// start runs the definition on an engine whose registry has p for
// Ec2Resource, with the local worker; it returns the engine and a wait
// for the summary.
func start(t *testing.T, p *testProvider, retries, extra string, ran *[]string) (*executor.Engine, func() *executor.Summary) {
	t.Helper()
	eng := newEngine(t, p, retries, extra)
	var mu sync.Mutex
	runner := funcRunner(func(_ context.Context, tk *task.Task) task.Result {
		mu.Lock()
		defer mu.Unlock()
		*ran = append(*ran, tk.Attempt().Get("@resourceInstance"))
		return task.Result{Status: task.Finished}
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wdone := make(chan error, 1)
	go func() { wdone <- (&local.Worker{API: eng, Runner: runner, Parallel: 1}).Run(ctx) }()
	sums := make(chan *executor.Summary, 1)
	go func() {
		s, err := eng.Run(ctx)
		if err != nil {
			t.Error(err)
		}
		sums <- s
	}()
	return eng, func() *executor.Summary {
		s := <-sums
		cancel()
		if err := <-wdone; err != nil {
			t.Errorf("worker: %v", err)
		}
		return s
	}
}

func status(eng *executor.Engine, prefix string) string {
	for _, i := range eng.Instances() {
		if strings.HasPrefix(i.ID, prefix) {
			return i.Status
		}
	}
	return ""
}

func TestTestProviderRunsAnEc2Resource(t *testing.T) {
	p := &testProvider{provisions: make(chan func(error), 1)}
	var ran []string
	eng, wait := start(t, p, "0", "", &ran)
	ready := <-p.provisions
	// Provisioned, not ready: the resource is CREATING and its work waits.
	if st := status(eng, "@Box_"); st != string(executor.Creating) {
		t.Fatalf("Box is %s before ready, want CREATING", st)
	}
	if len(ran) != 0 {
		t.Fatalf("work ran before its resource was ready: %v", ran)
	}
	ready(nil)
	sum := wait()
	if !sum.OK {
		t.Fatalf("run: %s %v", sum.Reason, sum.Counts)
	}
	if len(ran) != 1 || !strings.HasPrefix(ran[0], "@Box_") {
		t.Errorf("tasks ran on %v, want one on the Box instance", ran)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.specs) != 1 {
		t.Fatalf("%d provisions, want 1", len(p.specs))
	}
	s := p.specs[0]
	if s.Type != "Ec2Resource" || !strings.HasPrefix(s.InstanceID, "@Box_") || s.PipelineID != "df-EC2" {
		t.Errorf("spec %+v", s)
	}
	if s.TerminateAfter != 2*time.Hour || s.ActionOnTaskFailure != "terminate" || s.ActionOnResourceFailure != "retryall" {
		t.Errorf("spec policies: terminateAfter %s, actionOnTaskFailure %q, actionOnResourceFailure %q", s.TerminateAfter, s.ActionOnTaskFailure, s.ActionOnResourceFailure)
	}
	if v, ok := s.Field("instanceType"); !ok || v != "m5.large" {
		t.Errorf("instanceType = %q %v, want the parameter's m5.large", v, ok)
	}
	if len(p.terminated) != 1 || !strings.Contains(p.terminated[0], "no work left") {
		t.Errorf("terminated %v, want one with no work left", p.terminated)
	}
	if st := status(eng, "@Box_"); st != string(executor.Finished) {
		t.Errorf("Box is %s, want FINISHED", st)
	}
}

// A resource that cannot start (ready with an error) fails with
// actionOnResourceFailure retrynone, and its work is CANCELED.
func TestTestProviderStartFailure(t *testing.T) {
	p := &testProvider{provisions: make(chan func(error), 1)}
	var ran []string
	eng, wait := start(t, p, "2", `,"actionOnResourceFailure":"retrynone"`, &ran)
	ready := <-p.provisions
	ready(errors.New("no capacity in the zone"))
	sum := wait()
	if sum.OK {
		t.Fatal("run succeeded on a resource that never started")
	}
	if st := status(eng, "@Box_"); st != string(executor.Failed) {
		t.Errorf("Box is %s, want FAILED", st)
	}
	if st := status(eng, "@Work_"); st != string(executor.Canceled) {
		t.Errorf("Work is %s, want CANCELED", st)
	}
	if len(ran) != 0 {
		t.Errorf("work ran: %v", ran)
	}
	for _, i := range eng.Instances() {
		if strings.HasPrefix(i.ID, "@Box_") && !strings.Contains(i.ErrorMessage, "no capacity in the zone") {
			t.Errorf("Box error %q does not carry the provider's reason", i.ErrorMessage)
		}
	}
}

// The activity half of the registry: a type registered once runs through
// the activity runner (here through the registry the runner reads).
func TestRegistryHoldsActivities(t *testing.T) {
	reg := provider.NewRegistry()
	reg.RegisterActivity("HiveActivity", func(context.Context, *task.Task, task.Logs) task.Result {
		return task.Result{Status: task.Finished}
	})
	f, ok := reg.Activity("HiveActivity")
	if !ok || f(context.Background(), &task.Task{}, task.Logs{}).Status != task.Finished {
		t.Fatal("registered activity not returned")
	}
	c := reg.Clone()
	c.RegisterProvider("EmrCluster", &testProvider{})
	if _, ok := reg.Provider("EmrCluster"); ok {
		t.Error("a clone's registration changed the original")
	}
	provs, acts := c.Types()
	if strings.Join(provs, ",") != "EmrCluster" || strings.Join(acts, ",") != "HiveActivity" {
		t.Errorf("types %v %v", provs, acts)
	}
}

// A resource its provider never reports ready fails at initTimeout (on the
// engine's clock), and its work is CANCELED; the provider is told to
// terminate it.
func TestTestProviderInitTimeout(t *testing.T) {
	p := &testProvider{provisions: make(chan func(error), 1)}
	src := []byte(fmt.Sprintf(ec2Def, "0", `,"initTimeout":"30 minutes"`))
	d, err := definition.Parse("ec2.json", src)
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.RegisterProvider("Ec2Resource", p)
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-EC2", Clock: fc, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *executor.Summary, 1)
	go func() {
		s, err := eng.Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	<-p.provisions // never answered
	var sum *executor.Summary
	for sum == nil {
		changed := fc.Changed()
		if at, ok := fc.Next(); ok { // the engine waits on the clock: move it there
			fc.Set(at)
		}
		select {
		case sum = <-done:
		case <-changed:
		}
	}
	if st := status(eng, "@Box_"); st != string(executor.Failed) {
		t.Errorf("Box is %s, want FAILED", st)
	}
	if st := status(eng, "@Work_"); st != string(executor.Canceled) {
		t.Errorf("Work is %s, want CANCELED", st)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.terminated) != 1 || !strings.Contains(p.terminated[0], "initTimeout") {
		t.Errorf("terminated %v, want one naming initTimeout", p.terminated)
	}
}

// A resource that ends by itself while its work runs (Spec.Lost: an EC2
// instance terminated by hand or by a spot interruption) is FAILED with
// the provider's reason, its running work is CANCELED and the provider is
// told to terminate it; a loss reported after the end changes nothing.
func TestTestProviderResourceLostWhileRunning(t *testing.T) {
	p := &testProvider{provisions: make(chan func(error), 1)}
	eng := newEngine(t, p, "3", "")
	working := make(chan struct{})
	stopped := make(chan error, 1)
	runner := funcRunner(func(ctx context.Context, _ *task.Task) task.Result {
		close(working)
		<-ctx.Done() // the work outlasts its machine
		stopped <- ctx.Err()
		return task.Result{Status: task.Failed, ErrorMessage: "stopped"}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go (&local.Worker{API: eng, Runner: runner, Parallel: 1}).Run(ctx)
	sums := make(chan *executor.Summary, 1)
	go func() {
		s, _ := eng.Run(ctx)
		sums <- s
	}()
	(<-p.provisions)(nil)
	<-working
	p.mu.Lock()
	lost := p.specs[0].Lost
	p.mu.Unlock()
	if lost == nil {
		t.Fatal("the engine gave the provider no Lost callback")
	}
	lost(errors.New("EC2 instance i-1 is terminated: Server.SpotInstanceTermination"))
	var sum *executor.Summary
	select {
	case sum = <-sums:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end after its resource was lost")
	}
	if sum.OK {
		t.Error("run succeeded although its resource was lost")
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Error("the running task was not stopped")
	}
	for _, i := range eng.Instances() {
		switch {
		case strings.HasPrefix(i.ID, "@Box_"):
			if i.Status != string(executor.Failed) || !strings.Contains(i.ErrorMessage, "resource lost: EC2 instance i-1 is terminated: Server.SpotInstanceTermination") {
				t.Errorf("Box is %s (%q), want FAILED naming the loss", i.Status, i.ErrorMessage)
			}
		case strings.HasPrefix(i.ID, "@Work_"):
			if i.Status != string(executor.Canceled) {
				t.Errorf("Work is %s, want CANCELED", i.Status)
			}
		}
	}
	lost(errors.New("reported twice")) // stale: ignored
	time.Sleep(50 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.terminated) != 1 || !strings.Contains(p.terminated[0], "resource lost") {
		t.Errorf("terminated %v, want one naming the loss", p.terminated)
	}
}
