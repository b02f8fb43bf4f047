package activity

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

func TestPipelineLogUriUploadsAttemptLogs(t *testing.T) {
	r, store := newRunner(t)
	a := obj("@Say_2024-01-01T00:00:00_Attempt=2", "type", "ShellCommandActivity",
		"command", "echo out-line; echo err-line >&2; exit 4",
		"pipelineLogUri", "s3://logs/prefix/",
		"@pipelineId", "df-LOGS",
		"@componentParent", "ref:Say",
		"@instanceParent", "ref:@Say_2024-01-01T00:00:00")
	res, out, errs := run(t, r, newTask(a))
	if res.Status != task.Failed {
		t.Fatalf("status = %s, want FAILED", res.Status)
	}
	if out != "out-line\n" || !strings.Contains(errs, "err-line") {
		t.Fatalf("local logs changed: stdout %q stderr %q", out, errs)
	}
	base := "s3://logs/prefix/df-LOGS/Say/@Say_2024-01-01T00:00:00/@Say_2024-01-01T00:00:00_Attempt=2/"
	for name, want := range map[string]string{"StdOut": "out-line\n", "StdErr": "err-line\n"} {
		rc, err := store.Open(context.Background(), base+name)
		if err != nil {
			t.Fatalf("%s not uploaded: %v", name, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestNoPipelineLogUriUploadsNothing(t *testing.T) {
	r, store := newRunner(t)
	a := obj("@Say_2024-01-01T00:00:00_Attempt=1", "type", "ShellCommandActivity", "command", "echo hi")
	if res, _, _ := run(t, r, newTask(a)); res.Status != task.Finished {
		t.Fatalf("status = %s (%s)", res.Status, res.ErrorMessage)
	}
	n := 0
	// The runner shares the store's root; any object would show up here.
	if err := store.List(context.Background(), "s3://logs/", func(objstore.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("%d objects written without pipelineLogUri", n)
	}
}

// System-managed preconditions are checked by the service, not a Task
// Runner, so they leave no attempt logs.
func TestPipelineLogUriSkipsServiceChecks(t *testing.T) {
	r, store := newRunner(t)
	a := obj("@Ready_2024-01-01T00:00:00_Attempt=1", "type", "S3KeyExists", "s3Key", "s3://data/missing",
		"pipelineLogUri", "s3://logs/p/", "@pipelineId", "df-LOGS")
	if res, _, _ := run(t, r, newTask(a)); res.Status != task.False {
		t.Fatalf("status = %s (%s), want FALSE", res.Status, res.ErrorMessage)
	}
	n := 0
	if err := store.List(context.Background(), "s3://logs/", func(objstore.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("%d log objects written for a service-run precondition", n)
	}
}
