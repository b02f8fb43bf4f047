package local

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/task"
)

type funcRunner func(ctx context.Context, t *task.Task) task.Result

func (f funcRunner) Run(ctx context.Context, t *task.Task, _ task.Logs) task.Result { return f(ctx, t) }

func def(t *testing.T, n int, extra string) (*definition.Definition, []byte) {
	var objs []string
	objs = append(objs, `{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg","retryDelay":"10 minutes"`+extra+`}`)
	for k := range n {
		objs = append(objs, fmt.Sprintf(`{"id":"A%d","type":"ShellCommandActivity","command":"true"}`, k))
	}
	src := []byte(`{"objects":[` + strings.Join(objs, ",") + `]}`)
	d, err := definition.Parse("t.json", src)
	if err != nil {
		t.Fatal(err)
	}
	return d, src
}

// TestWorkerRunsEverything drives the real Run loop and the polling worker
// concurrently (meant for -race): flaky tasks are retried with a tiny
// --retry-delay, all finish.
func TestWorkerRunsEverything(t *testing.T) {
	d, src := def(t, 20, "")
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-T", RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	r := funcRunner(func(ctx context.Context, tk *task.Task) task.Result {
		calls.Add(1)
		// Every other activity fails its first attempt.
		if tk.Attempt().Get("@attempt") == "1" && strings.HasSuffix(tk.Attempt().Refs("@componentParent")[0], "1") {
			return task.Result{Status: task.Failed, ErrorMessage: "flaky"}
		}
		return task.Result{Status: task.Finished}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	w := &Worker{API: eng, Runner: r, Parallel: 4}
	go func() { done <- w.Run(ctx) }()
	events, _ := eng.Subscribe()
	var statusEvents atomic.Int64
	go func() {
		for ev := range events {
			if ev.Kind == executor.EventStatus {
				statusEvents.Add(1)
			}
		}
	}()
	sum, err := eng.Run(ctx)
	cancel()
	if err != nil || !sum.OK {
		t.Fatalf("run: %v %v %s", err, sum.Counts, sum.Reason)
	}
	if werr := <-done; werr != nil {
		t.Fatalf("worker: %v", werr)
	}
	if sum.Counts[executor.Finished] != 20 || calls.Load() != 22 {
		t.Errorf("counts %v after %d calls, want 20 finished after 22", sum.Counts, calls.Load())
	}
}

// TestAttemptTimeoutCancelsContext: the engine's attemptTimeout reaches the
// runner as a canceled context.
func TestAttemptTimeoutCancelsContext(t *testing.T) {
	d, src := def(t, 1, `,"attemptTimeout":"1 seconds","maximumRetries":"0"`)
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-T"})
	if err != nil {
		t.Fatal(err)
	}
	var canceled atomic.Bool
	r := funcRunner(func(ctx context.Context, tk *task.Task) task.Result {
		select {
		case <-ctx.Done():
			canceled.Store(true)
		case <-time.After(30 * time.Second):
		}
		return task.Result{Status: task.Finished}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- (&Worker{API: eng, Runner: r, Parallel: 1}).Run(ctx) }()
	sum, err := eng.Run(ctx)
	cancel()
	<-done
	if err != nil || sum.OK || sum.Counts[executor.Failed] != 1 {
		t.Fatalf("run: %v %+v", err, sum.Counts)
	}
	if !canceled.Load() {
		t.Error("runner context was not canceled")
	}
}

func TestLogFilesAreLazy(t *testing.T) {
	dir := t.TempDir()
	logs, closeLogs, err := LogFiles(dir)(&task.Task{PipelineID: "df-T", AttemptID: "@A_2024-01-01T00:00:00_Attempt=1"})
	if err != nil {
		t.Fatal(err)
	}
	out, errp := executor.LogPaths(dir, "df-T", "@A_2024-01-01T00:00:00_Attempt=1")
	fmt.Fprint(logs.Stdout, "hello")
	closeLogs()
	if b, err := os.ReadFile(out); err != nil || string(b) != "hello" {
		t.Errorf("stdout file %q %v", b, err)
	}
	if _, err := os.Stat(errp); !os.IsNotExist(err) {
		t.Errorf("stderr file created without output: %v", err)
	}
}

// TestExpressionErrorIsRetried: an attempt whose fields cannot be evaluated
// fails at hand-out; its retry must still happen on the real run loop
// (it used to wait for an unrelated wake-up).
func TestExpressionErrorIsRetried(t *testing.T) {
	src := []byte(`{"objects":[{"id":"Default","scheduleType":"ondemand","workerGroup":"wg","maximumRetries":"1"},
		{"id":"Bad","type":"ShellCommandActivity","command":"echo #{input.directoryPath}"}]}`)
	d, err := definition.Parse("t.json", src)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-E", RetryDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := &Worker{API: eng, Runner: funcRunner(func(context.Context, *task.Task) task.Result {
		return task.Result{Status: task.Finished}
	}), Parallel: 1}
	go w.Run(ctx)
	sum, err := eng.Run(ctx)
	if err != nil {
		t.Fatalf("run: %v (the retry never happened?)", err)
	}
	if sum.OK || sum.Counts[executor.Failed] != 1 {
		t.Fatalf("counts %v, want the instance FAILED after its retry", sum.Counts)
	}
	out, err := eng.QueryObjects(ctx, executor.QueryInput{PipelineID: eng.PipelineID(), Sphere: executor.SphereAttempt})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.IDs) != 2 {
		t.Errorf("attempts %v, want 2 (the first and its retry)", out.IDs)
	}
}

// pollCounter counts the worker's polls and its waits on Active, so a
// test can see whether the worker spins on a finished engine.
type pollCounter struct {
	*executor.Engine
	polls   atomic.Int64
	waiting chan struct{} // one send per call of Active
}

func (p *pollCounter) PollForTask(ctx context.Context, in executor.PollInput) (*task.Task, error) {
	p.polls.Add(1)
	return p.Engine.PollForTask(ctx, in)
}

func (p *pollCounter) Active() <-chan struct{} {
	ch := p.Engine.Active()
	p.waiting <- struct{}{}
	return ch
}

// TestWorkerWaitsOnFinishedEngine: once the run has ended, each slot polls
// once more, finds the engine finished and waits for it to reopen (the
// bug was a busy loop on PollForTask, a whole core with the TUI open); an
// operator RERUN reopens the run and the waiting slots run the new attempt.
func TestWorkerWaitsOnFinishedEngine(t *testing.T) {
	d, src := def(t, 1, "")
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-T"})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	r := funcRunner(func(context.Context, *task.Task) task.Result {
		calls.Add(1)
		return task.Result{Status: task.Finished}
	})
	const slots = 3
	api := &pollCounter{Engine: eng, waiting: make(chan struct{}, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- (&Worker{API: api, Runner: r, Parallel: slots}).Run(ctx) }()
	if sum, err := eng.Run(ctx); err != nil || !sum.OK {
		t.Fatalf("run: %v %+v", err, sum)
	}
	for range slots {
		select {
		case <-api.waiting:
		case <-time.After(10 * time.Second):
			t.Fatalf("the worker never waited on the finished engine (%d polls so far)", api.polls.Load())
		}
	}
	before := api.polls.Load()
	// Every slot is now blocked in Active: a spinning slot would poll again
	// without calling Active (the channel is buffered, so it never blocks).
	select {
	case <-api.waiting:
		t.Fatalf("a slot woke up on a finished engine")
	default:
	}
	if got := api.polls.Load(); got != before {
		t.Fatalf("%d polls after the run ended and every slot waits", got-before)
	}

	// RERUN reopens the activation; Run continues it and the slots wake.
	id := eng.Instances()[0].ID
	if err := eng.SetStatus(ctx, "df-T", []string{id}, executor.CmdRerun); err != nil {
		t.Fatal(err)
	}
	if sum, err := eng.Run(ctx); err != nil || !sum.OK {
		t.Fatalf("second run: %v %+v", err, sum)
	}
	if calls.Load() != 2 {
		t.Errorf("%d tasks run, want 2 (the first and the rerun)", calls.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
