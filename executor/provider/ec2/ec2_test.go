package ec2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	ec2prov "github.com/dpl-dev/dpl/executor/provider/ec2"
)

var seq atomic.Int64

func motoEnv(t *testing.T) *awsprov.Env {
	t.Helper()
	srv := mototest.Start(t)
	env, err := awsx.LoadConfig(context.Background(), awsx.Options{Region: "us-east-1", Endpoint: srv.Endpoint,
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	return &awsprov.Env{AWS: env, Record: awsprov.OpenRecord(t.TempDir()), DefaultAMI: "ami-12c6146b",
		Runner: awsprov.RunnerAccess{Endpoint: "http://127.0.0.1:1", Keys: &endpoint.KeyRing{}}}
}

func spec(fields map[string]string) provider.Spec {
	n := seq.Add(1)
	return provider.Spec{PipelineID: fmt.Sprintf("df-EC2TEST%d%d", os.Getpid(), n), Activation: 1, Object: "Box",
		InstanceID: fmt.Sprintf("@Box_%d_2024-01-01T00:00:00", n), Type: "Ec2Resource",
		Field: func(k string) (string, bool) { v, ok := fields[k]; return v, ok }}
}

// faultyEC2 wraps moto's EC2 and fails the first n RunInstances calls with
// code (a stand-in for AWS throttling or running out of capacity).
type faultyEC2 struct {
	ec2prov.API
	code  string
	n     int
	calls atomic.Int32
}

func (f *faultyEC2) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	if int(f.calls.Add(1)) <= f.n {
		return nil, &smithy.GenericAPIError{Code: f.code, Message: "stand-in fault: " + f.code}
	}
	return f.API.RunInstances(ctx, in, o...)
}

func provision(t *testing.T, p *ec2prov.Provider, s provider.Spec) (provider.Resource, error) {
	t.Helper()
	readyErr := make(chan error, 1)
	res, err := p.Provision(context.Background(), s, func(err error) { readyErr <- err })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readyErr:
		return res, err
	case <-time.After(2 * time.Minute):
		t.Fatal("ready never came")
	}
	return res, nil
}

func running(t *testing.T, env *awsprov.Env, s provider.Spec) []awsprov.Owned {
	t.Helper()
	found, err := ec2prov.Kind{}.List(context.Background(), env.AWS.ConfigFor("us-east-1"), map[string]string{awsprov.TagInstance: s.InstanceID, awsprov.TagPipeline: s.PipelineID})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// Throttling and capacity errors are retried with back-off; when they
// last, the start fails naming the call and AWS's message, and nothing is
// left running.
func TestRunInstancesFaultsRetriedThenClearFailure(t *testing.T) {
	env := motoEnv(t)
	for _, c := range []struct {
		code    string
		fail    int
		wantErr string
	}{
		{"RequestLimitExceeded", 2, ""},
		{"InsufficientInstanceCapacity", 99, "RunInstances: InsufficientInstanceCapacity: stand-in fault: InsufficientInstanceCapacity (after 4 tries)"},
		{"UnauthorizedOperation", 99, "RunInstances: UnauthorizedOperation"},
	} {
		t.Run(c.code, func(t *testing.T) {
			f := &faultyEC2{code: c.code, n: c.fail}
			var waits []time.Duration
			p := ec2prov.New(env)
			p.Tries = 4
			p.Backoff = func(try int) time.Duration {
				waits = append(waits, time.Millisecond<<try)
				return time.Millisecond << try
			}
			p.NewEC2 = func(cfg aws.Config) ec2prov.API { f.API = ec2.NewFromConfig(cfg); return f }
			s := spec(map[string]string{"instanceType": "t3.micro"})
			if c.wantErr == "" {
				// Ready comes only at the runner's first request: the
				// instance appearing after the faults is the success.
				res, err := p.Provision(context.Background(), s, func(err error) { t.Errorf("ready(%v) without a runner", err) })
				if err != nil {
					t.Fatal(err)
				}
				var found []awsprov.Owned
				for deadline := time.Now().Add(time.Minute); len(found) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					found = running(t, env, s)
				}
				if len(found) != 1 || f.calls.Load() != int32(c.fail+1) || len(waits) != c.fail {
					t.Fatalf("after %d %s: instances %v, %d calls, waits %v", c.fail, c.code, found, f.calls.Load(), waits)
				}
				if err := res.Terminate(context.Background(), "test"); err != nil {
					t.Fatal(err)
				}
				if left := running(t, env, s); len(left) != 0 {
					t.Errorf("still up after Terminate: %v", left)
				}
				return
			}
			res, err := provision(t, p, s)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if c.code == "UnauthorizedOperation" && f.calls.Load() != 1 {
				t.Errorf("a non-retryable error was tried %d times", f.calls.Load())
			}
			if left := running(t, env, s); len(left) != 0 {
				t.Errorf("left running after a failed start: %v", left)
			}
			_ = res.Terminate(context.Background(), "test")
		})
	}
}

// The ready wait is cut short in the success case above by Terminate;
// this one checks what moto received and that Terminate ends it.
func TestProvisionSpotOnMotoAndTerminate(t *testing.T) {
	env := motoEnv(t)
	p := ec2prov.New(env)
	s := spec(map[string]string{"instanceType": "t3.micro", "spotBidPrice": "0.04", "useOnDemandOnLastAttempt": "true"})
	s.MaximumRetries = 1
	res, err := p.Provision(context.Background(), s, func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	var found []awsprov.Owned
	for deadline := time.Now().Add(time.Minute); len(found) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		found = running(t, env, s)
	}
	if len(found) != 1 {
		t.Fatalf("instances with the ownership tags: %v", found)
	}
	c := ec2.NewFromConfig(env.AWS.ConfigFor("us-east-1"))
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{found[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	inst := out.Reservations[0].Instances[0]
	if inst.InstanceType != "t3.micro" || inst.InstanceLifecycle != "spot" {
		t.Errorf("type %s lifecycle %q, want t3.micro on spot (first of 2 starts)", inst.InstanceType, inst.InstanceLifecycle)
	}
	if found[0].Tags[awsprov.TagRun] != "1" || found[0].Tags[awsprov.TagObject] != "Box" {
		t.Errorf("tags %v", found[0].Tags)
	}
	if err := res.Terminate(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	if left := running(t, env, s); len(left) != 0 {
		t.Errorf("still up after Terminate: %v", left)
	}
	if open, _ := env.Record.Open(); len(open) != 0 {
		t.Errorf("the ownership record still lists %v", open)
	}
	// The last start with useOnDemandOnLastAttempt goes on demand.
	s2 := s
	s2.Failures = 1
	plan, err := p.Plan(env, s2)
	if err != nil {
		t.Fatal(err)
	}
	if txt := fmt.Sprintf("%+v", plan[1].Input); strings.Contains(txt, "MarketType:spot") {
		t.Errorf("last start still on spot: %s", txt)
	}
}

// A subnet that does not exist: the start fails with EC2's message and
// no instance is left.
func TestNonexistentSubnetFailsClearly(t *testing.T) {
	env := motoEnv(t)
	s := spec(map[string]string{"instanceType": "t3.micro", "subnetId": "subnet-doesnotexist"})
	res, err := provision(t, ec2prov.New(env), s)
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "RunInstances: InvalidSubnetID.NotFound") {
		t.Fatalf("error %v, want RunInstances: InvalidSubnetID.NotFound", err)
	}
	if left := running(t, env, s); len(left) != 0 {
		t.Errorf("left running: %v", left)
	}
	_ = res.Terminate(context.Background(), "test")
}

// An instance that ends by itself after its runner started (terminated
// by hand here; a spot interruption or a failed host in life) is reported
// through Spec.Lost with EC2's state. The runner's first request is made
// by this test with the key the provider put in SSM: a stand-in for the
// task runner the instance's user-data would start (moto runs none).
func TestInstanceEndedAfterReadyIsReportedLost(t *testing.T) {
	env := motoEnv(t)
	srv, err := endpoint.New(endpoint.Options{StateDir: t.TempDir(), KeyRing: env.Runner.Keys.(*endpoint.KeyRing), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.CloseClientConnections(); srv.Close(); hs.Close() })
	env.Runner.Endpoint = hs.URL
	p := ec2prov.New(env)
	p.Watch = 50 * time.Millisecond
	s := spec(map[string]string{"instanceType": "t3.micro"})
	lost := make(chan error, 2)
	s.Lost = func(err error) { lost <- err }
	readyErr := make(chan error, 1)
	res, err := p.Provision(context.Background(), s, func(err error) { readyErr <- err })
	if err != nil {
		t.Fatal(err)
	}
	defer res.Terminate(context.Background(), "test cleanup")
	var found []awsprov.Owned
	for deadline := time.Now().Add(time.Minute); len(found) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		found = running(t, env, s)
	}
	if len(found) != 1 {
		t.Fatalf("instances with the ownership tags: %v", found)
	}
	// The runner stand-in: one PollForTask signed with the instance's key.
	cfg := env.AWS.ConfigFor("us-east-1")
	creds := aws.NewCredentialsCache(awsprov.RunnerKeyCredentials{SSM: ssm.NewFromConfig(cfg),
		Name: awsprov.RunnerKeyParameter(s.PipelineID, s.Activation, s.InstanceID)})
	dp := datapipeline.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds}, func(o *datapipeline.Options) {
		o.BaseEndpoint = aws.String(hs.URL)
	})
	pollCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, _ = dp.PollForTask(pollCtx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String(s.InstanceID)})
	cancel()
	select {
	case err := <-readyErr:
		if err != nil {
			t.Fatalf("ready(%v) after the runner's request", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ready never came after the runner's request")
	}
	select {
	case err := <-lost:
		t.Fatalf("lost (%v) while the instance runs", err)
	case <-time.After(300 * time.Millisecond):
	}
	c := ec2.NewFromConfig(cfg)
	if _, err := c.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{found[0].ID}}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lost:
		if want := "EC2 instance " + found[0].ID + " is "; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "before its task runner") {
			t.Errorf("lost: %v, want %q and its state", err, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the instance's end was not reported")
	}
	// The engine's answer to a loss is Terminate: it cleans up (the key
	// parameter goes) and nothing is reported twice.
	if err := res.Terminate(context.Background(), "resource lost"); err != nil {
		t.Fatal(err)
	}
	if _, err := (awsprov.RunnerKeyCredentials{SSM: ssm.NewFromConfig(cfg), Name: awsprov.RunnerKeyParameter(s.PipelineID, s.Activation, s.InstanceID)}).Retrieve(context.Background()); err == nil {
		t.Error("the runner's key parameter outlived Terminate")
	}
	select {
	case err := <-lost:
		t.Errorf("lost reported twice: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
}

// Runner key parameters a killed run left are listed as leftovers (by
// pipeline, through their tags) and deleted by the cleanup; parameters
// outside dpl's are not touched.
func TestRunnerKeyLeftoversListedAndDeletedOnMoto(t *testing.T) {
	env := motoEnv(t)
	cfg := env.AWS.ConfigFor("us-east-1")
	c := ssm.NewFromConfig(cfg)
	ctx := context.Background()
	a, b := spec(nil), spec(nil)
	for _, s := range []provider.Spec{a, b} {
		if err := awsprov.PutRunnerKey(ctx, c, awsprov.RunnerKeyParameter(s.PipelineID, s.Activation, s.InstanceID), "AKID", "secret", awsprov.Tags(s)); err != nil {
			t.Fatal(err)
		}
	}
	other := fmt.Sprintf("/dpl-other/%d-%d", time.Now().UnixNano(), seq.Add(1))
	if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(other), Value: aws.String("x"), Type: "String"}); err != nil {
		t.Fatal(err)
	}
	found, err := env.Leftovers(ctx, map[string]string{awsprov.TagPipeline: a.PipelineID})
	if err != nil {
		t.Fatal(err)
	}
	var keys []awsprov.Owned
	for _, o := range found {
		if o.Kind == awsprov.RunnerKeyKindName {
			keys = append(keys, o)
		}
	}
	if len(keys) != 1 || keys[0].ID != awsprov.RunnerKeyParameter(a.PipelineID, a.Activation, a.InstanceID) || keys[0].Tags[awsprov.TagInstance] != a.InstanceID {
		t.Fatalf("leftover keys of %s: %+v", a.PipelineID, keys)
	}
	all, err := awsprov.RunnerKeyKind{}.List(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, o := range all {
		ids[o.ID] = true
	}
	if !ids[keys[0].ID] || !ids[awsprov.RunnerKeyParameter(b.PipelineID, b.Activation, b.InstanceID)] || ids[other] {
		t.Errorf("every dpl runner key: %v", ids)
	}
	if err := env.Terminate(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(keys[0].ID)}); err == nil {
		t.Errorf("%s still there after the cleanup", keys[0].ID)
	}
	for _, name := range []string{awsprov.RunnerKeyParameter(b.PipelineID, b.Activation, b.InstanceID), other} {
		if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)}); err != nil {
			t.Errorf("%s (not asked for) is gone: %v", name, err)
		}
	}
}
