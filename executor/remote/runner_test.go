package remote_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/remote"
)

func sf(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }

// setup serves an on-demand pipeline with one slow activity of group "g".
func setup(t *testing.T) (*remote.Client, string, string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := endpoint.New(endpoint.Options{StateDir: dir, Credentials: endpoint.Credentials{"AK": "SK"}, RetryDelay: 100 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.CloseClientConnections(); srv.Close(); hs.Close() })
	c, err := remote.Dial(context.Background(), remote.ClientOptions{Endpoint: hs.URL, Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cp, err := c.DP.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("slow"), UniqueId: aws.String("slow")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cp.PipelineId)
	objs := []types.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{sf("scheduleType", "ondemand"), sf("maximumRetries", "2")}},
		{Id: aws.String("Slow"), Name: aws.String("Slow"), Fields: []types.Field{sf("type", "ShellCommandActivity"), sf("workerGroup", "g"),
			sf("command", "sleep 30; echo done >> "+dir+"/done")}},
	}
	put, err := c.DP.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs})
	if err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	if _, err := c.DP.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	return c, id, dir
}

func start(t *testing.T, c *remote.Client, dir string, grace time.Duration) (*remote.TaskRunner, func(), func() string) {
	objects, _ := objstore.NewLocal(dir)
	var mu sync.Mutex
	var log strings.Builder
	r := &remote.TaskRunner{API: c, WorkerGroup: "g", Tasks: 1, Runner: activity.New(activity.Options{Root: dir, Store: objects, KillGrace: 200 * time.Millisecond}),
		ProgressInterval: 100 * time.Millisecond, HeartbeatInterval: time.Second, ShutdownGrace: grace,
		Logf: func(f string, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			log.WriteString(strings.TrimSpace(fmtS(f, a...)) + "\n")
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return r, stop, func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
}

func status(t *testing.T, c *remote.Client, id, obj string) string {
	out, err := c.DescribeObjects(context.Background(), executor.DescribeInput{PipelineID: id, ObjectIDs: []string{obj}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Objects[0].Get("@status")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A runner stopped with a short grace gives its task back (FAILED with
// TaskRunnerShutdown), and the service retries it as a new attempt.
func TestShutdownGivesTasksBack(t *testing.T) {
	c, id, dir := setup(t)
	r, stop, log := start(t, c, dir, 300*time.Millisecond)
	inst := ""
	waitFor(t, "the task to run", func() bool {
		q, err := c.QueryObjects(context.Background(), executor.QueryInput{PipelineID: id, Sphere: executor.SphereInstance})
		if err != nil || len(q.IDs) == 0 {
			return false
		}
		inst = q.IDs[0]
		return status(t, c, id, inst) == "RUNNING"
	})
	// RUNNING comes with the hand-out, before the poll's answer reaches the
	// runner: stopping then would lose the task in the canceled poll (and
	// leave it to the acknowledgement timeout). Stop once the runner has it.
	waitFor(t, "the runner to start the task", func() bool { return strings.Contains(log(), ": started") })
	stop()
	// The command sleeps 30 s: had the grace not stopped it, it would have
	// written its done file.
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		t.Fatal("the task ran to its end instead of being given back")
	}
	if st := r.Stats(); st.Returned != 1 {
		t.Fatalf("stats %+v, want one task given back", st)
	}
	att := inst + "_Attempt=1"
	out, err := c.DescribeObjects(context.Background(), executor.DescribeInput{PipelineID: id, ObjectIDs: []string{att}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Objects[0].Get("errorId"); got != remote.ErrorShutdown {
		t.Fatalf("attempt 1 errorId %q, want %s", got, remote.ErrorShutdown)
	}
	waitFor(t, "a second attempt", func() bool {
		q, _ := c.QueryObjects(context.Background(), executor.QueryInput{PipelineID: id, Sphere: executor.SphereAttempt})
		return len(q.IDs) == 2
	})
}

// TRY_CANCEL reaches a running remote task through ReportTaskProgress.
func TestServiceCancelStopsTask(t *testing.T) {
	c, id, dir := setup(t)
	_, _, log := start(t, c, dir, time.Second)
	inst := ""
	waitFor(t, "the task to run", func() bool {
		q, err := c.QueryObjects(context.Background(), executor.QueryInput{PipelineID: id, Sphere: executor.SphereInstance})
		if err != nil || len(q.IDs) == 0 {
			return false
		}
		inst = q.IDs[0]
		return status(t, c, id, inst) == "RUNNING"
	})
	// RUNNING comes with the hand-out; cancel once the runner acknowledged
	// (else it is "canceled before it started").
	waitFor(t, "the runner to start the task", func() bool { return strings.Contains(log(), ": started") })
	if err := c.SetStatus(context.Background(), id, []string{inst}, "TRY_CANCEL"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the runner to stop the task", func() bool { return strings.Contains(log(), "canceled by the service") })
	if st := status(t, c, id, inst); st != "CANCELED" {
		t.Fatalf("instance %s, want CANCELED", st)
	}
}

func fmtS(f string, a ...any) string { return fmt.Sprintf(f, a...) }
