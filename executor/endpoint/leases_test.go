package endpoint_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/dpl-dev/dpl/executor/endpoint"
)

func setupGroups(t *testing.T, h *harness, dp *datapipeline.Client, marks string, values ...string) string {
	t.Helper()
	ctx := context.Background()
	c, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("g"), UniqueId: aws.String(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(c.PipelineId)
	objs, params := apiDefinition(t, "testdata/groups.json")
	put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs, ParameterObjects: params,
		ParameterValues: pv(append([]string{"myMarkerDir", marks}, values...)...)})
	if err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestUnacknowledgedTaskHandedOutAgain: a runner that takes a task and
// never acknowledges it loses it after the ack timeout; another runner
// gets it as a new attempt, and the first is told canceled.
func TestUnacknowledgedTaskHandedOutAgain(t *testing.T) {
	h := startServer(t, func(o *endpoint.Options) { o.AckTimeout = 500 * time.Millisecond })
	dp := h.sdk()
	ctx := context.Background()
	marks := t.TempDir()
	id := setupGroups(t, h, dp, marks, "myRuns", "1")

	p, err := dp.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg-a"), Hostname: aws.String("silent")})
	if err != nil || p.TaskObject == nil {
		t.Fatalf("poll: %v %v", p, err)
	}
	first := p.TaskObject
	if aws.ToString(first.PipelineId) != id || first.Objects[aws.ToString(first.AttemptId)].Id == nil {
		t.Fatalf("task object: %+v", first)
	}
	// While the lease holds, nobody else gets the task.
	pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	p2, err := dp.PollForTask(pctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg-a")})
	cancel()
	if err == nil && p2.TaskObject != nil {
		t.Fatalf("the task was handed out twice while its lease held: %s", aws.ToString(p2.TaskObject.AttemptId))
	}
	h.runner("wg-a", 1)
	h.runner("wg-b", 1)
	waitFor(t, 30*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })

	prog, err := dp.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: first.TaskId})
	if err != nil || !prog.Canceled {
		t.Fatalf("late acknowledgement: canceled=%v err=%v, want canceled", prog != nil && prog.Canceled, err)
	}
	if _, err := dp.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: first.TaskId, TaskStatus: types.TaskStatusFinished}); err != nil {
		t.Fatalf("late SetTaskStatus: %v", err)
	}
	errs := attemptErrors(t, dp, id)
	if errs["TaskNotAcknowledged"] != 1 {
		t.Fatalf("attempt errors %v, want one TaskNotAcknowledged", errs)
	}
	if n := counts(doneLines(t, marks))["@ActA_2024-01-01T00:00:00"]; n != 1 {
		t.Fatalf("ActA completed %d times", n)
	}
}

// TestServerRestartResumes: a scheduled pipeline survives a server
// restart on the same state folder and finishes afterwards.
func TestServerRestartResumes(t *testing.T) {
	h1 := startServer(t, nil)
	dp1 := h1.sdk()
	marks := t.TempDir()
	id := setupGroups(t, h1, dp1, marks, "myRuns", "2")
	dir := h1.dir
	h1.close()

	h2 := startServer(t, func(o *endpoint.Options) { o.StateDir = dir })
	dp2 := h2.sdk()
	if st := h2.state(dp2, id); st != "SCHEDULED" {
		t.Fatalf("after restart: %s, want SCHEDULED", st)
	}
	h2.runner("wg-a", 2)
	h2.runner("wg-b", 2)
	waitFor(t, 30*time.Second, "FINISHED", func() bool { return h2.state(dp2, id) == "FINISHED" })
	if n := len(counts(doneLines(t, marks))); n != 4 {
		t.Fatalf("%d instances completed, want 4", n)
	}
	// The definition and the finished run are still answered after another restart.
	h2.close()
	h3 := startServer(t, func(o *endpoint.Options) { o.StateDir = dir })
	dp3 := h3.sdk()
	if st := h3.state(dp3, id); st != "FINISHED" {
		t.Fatalf("after second restart: %s", st)
	}
	if got := len(instanceStatuses(t, dp3, id)); got != 4 {
		t.Fatalf("instances after restart: %d, want 4", got)
	}
}

// TestDeactivateLetsRunningFinish: cancelActive=false lets the running
// task finish (DEACTIVATING, then INACTIVE); activating again resumes the
// run where it stopped.
func TestDeactivateLetsRunningFinish(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	marks := t.TempDir()
	id := setupGroups(t, h, dp, marks, "myRuns", "1", "mySleep", "1")
	h.runner("wg-a", 1)
	waitFor(t, 20*time.Second, "ActA to run", func() bool { return instanceStatuses(t, dp, id)["@ActA_2024-01-01T00:00:00"] == "RUNNING" })
	if _, err := dp.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: &id, CancelActive: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if st := h.state(dp, id); st != "DEACTIVATING" && st != "INACTIVE" {
		t.Fatalf("right after deactivate: %s", st)
	}
	waitFor(t, 20*time.Second, "INACTIVE", func() bool { return h.state(dp, id) == "INACTIVE" })
	st := instanceStatuses(t, dp, id)
	if st["@ActA_2024-01-01T00:00:00"] != "FINISHED" {
		t.Fatalf("ActA after a non-canceling deactivate: %v", st)
	}
	if st["@ActB_2024-01-01T00:00:00"] == "FINISHED" {
		t.Fatalf("ActB ran although the pipeline was inactive and nobody polls wg-b")
	}
	h.runner("wg-b", 1)
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	if done := counts(doneLines(t, marks)); len(done) != 2 || done["@ActA_2024-01-01T00:00:00"] != 1 {
		t.Fatalf("after resuming: %v, want ActA and ActB once each", done)
	}
}

// TestLeaseSurvivesRestart (issue 18 item 3): a task handed out before a
// server restart keeps its lease: the new server accepts the original
// runner's ReportTaskProgress and SetTaskStatus under the same task id,
// hands the task to nobody else meanwhile, and the task ran once.
func TestLeaseSurvivesRestart(t *testing.T) {
	h1 := startServer(t, func(o *endpoint.Options) { o.AckTimeout = time.Minute })
	dp1 := h1.sdk()
	ctx := context.Background()
	marks := t.TempDir()
	id := setupGroups(t, h1, dp1, marks, "myRuns", "1")
	p, err := dp1.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg-a"), Hostname: aws.String("holder")})
	if err != nil || p.TaskObject == nil {
		t.Fatalf("poll: %v %v", p, err)
	}
	task := p.TaskObject
	dir := h1.dir
	h1.close()

	h2 := startServer(t, func(o *endpoint.Options) { o.StateDir = dir; o.AckTimeout = time.Minute })
	dp2 := h2.sdk()
	// Nobody else gets the task while its lease holds.
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	p2, err := dp2.PollForTask(pctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("wg-a"), Hostname: aws.String("other")})
	cancel()
	if err == nil && p2.TaskObject != nil {
		t.Fatalf("after the restart the leased task was handed out again: %s", aws.ToString(p2.TaskObject.AttemptId))
	}
	prog, err := dp2.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: task.TaskId})
	if err != nil || prog.Canceled {
		t.Fatalf("the original runner's progress after the restart: canceled=%v err=%v", prog != nil && prog.Canceled, err)
	}
	if _, err := dp2.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: types.TaskStatusFinished}); err != nil {
		t.Fatalf("the original runner's SetTaskStatus after the restart: %v", err)
	}
	st := instanceStatuses(t, dp2, id)
	if st["@ActA_2024-01-01T00:00:00"] != "FINISHED" {
		t.Fatalf("ActA after the kept lease reported FINISHED: %v", st)
	}
	if errs := attemptErrors(t, dp2, id); len(errs) != 0 {
		t.Fatalf("attempt errors %v: the restart must not end the held attempt", errs)
	}
}
