package endpoint_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/remote"
	"github.com/dpl-dev/dpl/executor/task"
)

func sf(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }
func rf(k, v string) types.Field { return types.Field{Key: aws.String(k), RefValue: aws.String(v)} }

// loadDefinition has comps activities of one worker group on a schedule
// of runs occurrences: comps*runs tasks, all due at once (a backfill).
func loadDefinition(comps, runs int) []types.PipelineObject {
	objs := []types.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{sf("scheduleType", "cron"), rf("schedule", "Sched"),
			sf("role", "r"), sf("resourceRole", "rr"), sf("maximumRetries", "0")}},
		{Id: aws.String("Sched"), Name: aws.String("Sched"), Fields: []types.Field{sf("type", "Schedule"), sf("period", "15 minutes"),
			sf("startDateTime", "2024-01-01T00:00:00"), sf("occurrences", fmt.Sprint(runs))}},
	}
	for i := range comps {
		id := fmt.Sprintf("Load%02d", i)
		objs = append(objs, types.PipelineObject{Id: aws.String(id), Name: aws.String(id), Fields: []types.Field{
			sf("type", "ShellCommandActivity"), sf("workerGroup", "load"), sf("command", "true")}})
	}
	return objs
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// TestLoad: 200 concurrent pollers over loopback HTTP (SigV4-signed SDK
// calls) take 2,000 tasks; each is acknowledged and finished. It checks
// that no task is handed out twice and every instance finished with one
// attempt, and logs tasks/s and hand-out latency (numbers are reported,
// not asserted).
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: load test")
	}
	const pollers, comps, runs = 200, 20, 100
	const total = comps * runs
	h := startServer(t, func(o *endpoint.Options) {
		o.Runner, o.PollTimeout, o.MaxObjects = nil, 2*time.Second, 1000
		// 200 pollers share one loopback address: the per-IP rate limit (tested by
		// TestRateLimitThrottles) would measure throttling, not hand-out.
		o.RateLimit = -1
	})
	dp := h.sdk()
	ctx := context.Background()
	c, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("load"), UniqueId: aws.String("load")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(c.PipelineId)
	put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: loadDefinition(comps, runs)})
	if err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	client, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: h.url, PollTimeout: 2 * time.Second,
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	handed := map[string]int{} // attempt id → times handed out
	taskIDs := map[string]bool{}
	var lat []time.Duration
	var done atomic.Int64
	runCtx, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, pollers)
	start := time.Now()
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	for range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil && done.Load() < total {
				t0 := time.Now()
				tk, err := client.PollForTask(runCtx, executor.PollInput{WorkerGroup: "load", Hostname: "load"})
				if err != nil {
					if runCtx.Err() == nil {
						errs <- err
					}
					return
				}
				if tk == nil {
					continue
				}
				d := time.Since(t0)
				mu.Lock()
				handed[tk.AttemptID]++
				dup := taskIDs[tk.TaskID]
				taskIDs[tk.TaskID] = true
				lat = append(lat, d)
				mu.Unlock()
				if dup {
					errs <- fmt.Errorf("task id %s handed out twice", tk.TaskID)
				}
				if _, err := client.ReportTaskProgress(runCtx, tk.TaskID, nil); err != nil {
					errs <- err
					return
				}
				if err := client.SetTaskStatus(runCtx, tk.TaskID, task.Result{Status: task.Finished}); err != nil {
					errs <- err
					return
				}
				if done.Add(1) == total {
					stop() // ends the others' long polls
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := done.Load(); n != total {
		t.Fatalf("%d of %d tasks done before the 3-minute bound", n, total)
	}
	for a, n := range handed {
		if n != 1 {
			t.Errorf("attempt %s handed out %d times", a, n)
		}
	}
	if len(handed) != total {
		t.Errorf("%d distinct attempts handed out, want %d", len(handed), total)
	}
	waitFor(t, 30*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	q, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("ATTEMPT"), Limit: aws.Int32(5000)})
	if err != nil || len(q.Ids) != total {
		t.Fatalf("attempts in the engine: %d, want %d (%v)", len(q.Ids), total, err)
	}
	fin, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("INSTANCE"), Limit: aws.Int32(5000),
		Query: &types.Query{Selectors: []types.Selector{{FieldName: aws.String("@status"), Operator: &types.Operator{Type: types.OperatorTypeEqual, Values: []string{"FINISHED"}}}}}})
	if err != nil || len(fin.Ids) != total {
		t.Fatalf("finished instances: %d, want %d (%v)", len(fin.Ids), total, err)
	}
	t.Logf("load: %d tasks, %d pollers: %.0f tasks/s (%s from activation to the last SetTaskStatus); hand-out latency p50 %s, p99 %s, max %s; no task handed out twice",
		total, pollers, float64(total)/elapsed.Seconds(), elapsed.Round(time.Millisecond),
		percentile(lat, 0.50).Round(time.Microsecond), percentile(lat, 0.99).Round(time.Microsecond), percentile(lat, 1).Round(time.Microsecond))
}
