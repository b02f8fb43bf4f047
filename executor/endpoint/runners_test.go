package endpoint_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/endpoint"
)

var (
	buildOnce sync.Once
	dplBin    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dplBin != "" && buildErr == nil {
		os.RemoveAll(filepath.Dir(dplBin))
	}
	os.Exit(code)
}

// dplBinary builds cmd/dpl once per test process.
func dplBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dpl-endpoint-test")
		if err != nil {
			buildErr = err
			return
		}
		dplBin = filepath.Join(dir, "dpl")
		out, err := exec.Command("go", "build", "-o", dplBin, "github.com/dpl-dev/dpl/cmd/dpl").CombinedOutput()
		if err != nil {
			buildErr = err
			dplBin = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build dpl: %v\n%s", buildErr, dplBin)
	}
	return dplBin
}

type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	mu     sync.Mutex
}

// startRunner starts `dpl taskrunner` as a separate process.
func (h *harness) startRunner(t *testing.T, bin, group, out string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "taskrunner", "--endpoint", h.url, "--worker-group", group, "--tasks", "2",
		"--progress-interval", "300ms", "--heartbeat-interval", "1s", "--shutdown-grace", "20s", "--output", out)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{p: p}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return p
}

type lockedWriter struct{ p *proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// killHard simulates the runner's machine dying: its children's process
// groups (the activity runner starts each command in its own group) and
// the runner itself get SIGKILL.
func (p *proc) killHard(t *testing.T) {
	t.Helper()
	pid := p.cmd.Process.Pid
	// Freeze it first so that it cannot start another command while its
	// children are listed.
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	entries, _ := os.ReadDir("/proc")
	var children []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			children = append(children, child)
		}
	}
	// The runner first, so that it cannot report its commands' deaths.
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	for _, child := range children {
		_ = syscall.Kill(-child, syscall.SIGKILL)
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
}

func instanceStatuses(t *testing.T, dp *datapipeline.Client, id string) map[string]string {
	t.Helper()
	ctx := context.Background()
	q, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("INSTANCE"), Limit: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	if len(q.Ids) == 0 {
		return out
	}
	d, err := dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, ObjectIds: q.Ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range d.PipelineObjects {
		for _, f := range o.Fields {
			if aws.ToString(f.Key) == "@status" {
				out[aws.ToString(o.Id)] = aws.ToString(f.StringValue)
			}
		}
	}
	return out
}

func attemptErrors(t *testing.T, dp *datapipeline.Client, id string) map[string]int {
	t.Helper()
	ctx := context.Background()
	q, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("ATTEMPT"), Limit: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, ObjectIds: q.Ids})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, o := range d.PipelineObjects {
		for _, f := range o.Fields {
			if aws.ToString(f.Key) == "errorId" {
				out[aws.ToString(f.StringValue)]++
			}
		}
	}
	return out
}

// TestRemoteRunners runs a pipeline on two `dpl taskrunner` processes of
// different worker groups; one is killed (with its commands) mid-task and
// restarted, the other is stopped with SIGTERM and restarted. Every
// instance must complete exactly once.
//
// The server runs on a fake clock that only this test moves, and only
// while the killed runner's task is the one remote task in flight: a lease
// expires because the test says so, never because a loaded machine
// delayed a live runner's progress report (which would run the task twice,
// as the service's at-least-once hand-out does).
func TestRemoteRunners(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: builds dpl and runs task runner processes")
	}
	bin := dplBinary(t)
	fc := clock.NewFake(time.Now())
	h := startServer(t, func(o *endpoint.Options) {
		o.AckTimeout, o.ProgressTimeout = 3*time.Second, 3*time.Second
		o.Clock = fc
	})
	dp := h.sdk()
	ctx := context.Background()
	marks := t.TempDir()
	c, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("runners"), UniqueId: aws.String("r")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(c.PipelineId)
	objs, params := apiDefinition(t, "testdata/groups.json")
	const runs = 8
	// The service has no sub-minute periods (validate refuses "3 seconds"
	// once substituted): an empty myProgressTimeout leaves
	// reportProgressTimeout unset, so the server's 3-second ProgressTimeout
	// applies.
	put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs, ParameterObjects: params,
		ParameterValues: pv("myMarkerDir", marks, "myRuns", strconv.Itoa(runs), "mySleep", "1", "myProgressTimeout", "",
			"myGate", filepath.Join(marks, "gate"))})
	if err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	outA, outB := t.TempDir(), t.TempDir()
	a := h.startRunner(t, bin, "wg-a", outA)
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}

	// Kill runner A while it runs ActA tasks. ActA waits for the gate file,
	// still closed: a command killed cannot have done its work already
	// (killing one whose result was on its way would run it twice).
	waitFor(t, 60*time.Second, "runner A to start two tasks", func() bool {
		return strings.Count(a.log(), ": started") >= 2
	})
	a.killHard(t)
	if n := len(doneLines(t, marks)); n != 0 {
		t.Fatalf("%d tasks completed behind the closed gate", n)
	}
	if err := os.WriteFile(filepath.Join(marks, "gate"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("runner A killed; its log:\n%s", a.log())
	// Only A's tasks are handed out (B is not started yet): past their
	// lease, they fail as lost and are retried (RetryDelay 100ms).
	fc.Advance(4 * time.Second)
	// Both of A's attempts must have failed before the clock moves on:
	// a retry scheduled after the advance would wait on a fake clock
	// nothing advances again.
	waitFor(t, 60*time.Second, "both lost attempts to fail", func() bool {
		errs := attemptErrors(t, dp, id)
		return errs["TaskRunnerLost"]+errs["TaskNotAcknowledged"]+errs["TaskStalled"] >= 2
	})
	fc.Advance(time.Second)
	a2 := h.startRunner(t, bin, "wg-a", outA)
	b := h.startRunner(t, bin, "wg-b", outB)

	// Stop runner B with SIGTERM while it works; it finishes its tasks.
	waitFor(t, 60*time.Second, "an ActB task to run", func() bool {
		for inst, st := range instanceStatuses(t, dp, id) {
			if strings.HasPrefix(inst, "@ActB_") && st == "RUNNING" {
				return true
			}
		}
		return false
	})
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("runner B after SIGTERM: %v\n%s", err, b.log())
	}
	if !strings.Contains(b.log(), "0 given back") {
		t.Fatalf("runner B gave tasks back instead of finishing them:\n%s", b.log())
	}
	b2 := h.startRunner(t, bin, "wg-b", outB)

	waitFor(t, 90*time.Second, "the pipeline to finish", func() bool { return h.state(dp, id) == "FINISHED" })
	st := instanceStatuses(t, dp, id)
	if len(st) != 2*runs {
		t.Fatalf("%d instances, want %d", len(st), 2*runs)
	}
	for inst, s := range st {
		if s != "FINISHED" {
			t.Errorf("%s is %s", inst, s)
		}
	}
	done := counts(doneLines(t, marks))
	if len(done) != 2*runs {
		t.Fatalf("%d distinct instances completed, want %d: %v", len(done), 2*runs, done)
	}
	for inst, n := range done {
		if n != 1 {
			t.Errorf("%s completed %d times", inst, n)
		}
		if st[inst] != "FINISHED" {
			t.Errorf("%s completed but is %s", inst, st[inst])
		}
	}
	errs := attemptErrors(t, dp, id)
	// The server's lease watch (TaskRunnerLost) or the engine's own
	// (TaskStalled) fails the lost attempt; either way it runs again.
	if errs["TaskRunnerLost"]+errs["TaskNotAcknowledged"]+errs["TaskStalled"] == 0 {
		t.Errorf("no attempt was handed out again after the kill; attempt errors: %v", errs)
	}
	for id := range errs {
		switch id {
		case "TaskRunnerLost", "TaskNotAcknowledged", "TaskStalled":
		default:
			t.Errorf("unexpected attempt failure %s (all: %v)", id, errs)
		}
	}
	t.Logf("attempt errors: %v", errs)
	_ = a2.cmd.Process.Signal(syscall.SIGTERM)
	_ = b2.cmd.Process.Signal(syscall.SIGTERM)
	_ = a2.cmd.Wait()
	_ = b2.cmd.Wait()
	t.Logf("runner A2:\n%s\nrunner B2:\n%s", a2.log(), b2.log())
}
