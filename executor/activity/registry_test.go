package activity

import (
	"context"
	"io"
	"testing"

	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/task"
)

func typedTask(typ string) *task.Task {
	return &task.Task{TaskID: "t", AttemptID: "a", Objects: map[string]*task.Object{
		"a": {ID: "a", Fields: []task.Field{{Key: "type", StringValue: &typ}}}}}
}

var discard = task.Logs{Stdout: io.Discard, Stderr: io.Discard}

// A type registered in the registry runs through the Runner, also over a
// built-in of the same type; the built-ins stay for the rest, and the
// caller's registry is not changed by the Runner's own additions.
func TestRegistryTypesRunThroughTheRunner(t *testing.T) {
	reg := provider.NewRegistry()
	reg.RegisterActivity("MyActivity", func(context.Context, *task.Task, task.Logs) task.Result {
		return task.Result{Status: task.Finished, ErrorMessage: "MyActivity from the registry"}
	})
	reg.RegisterActivity("ShellCommandActivity", func(context.Context, *task.Task, task.Logs) task.Result {
		return task.Result{Status: task.Finished, ErrorMessage: "shell from the registry"}
	})
	r := New(Options{Root: t.TempDir(), Registry: reg})
	for typ, want := range map[string]string{"MyActivity": "MyActivity from the registry", "ShellCommandActivity": "shell from the registry"} {
		if res := r.Run(context.Background(), typedTask(typ), discard); res.Status != task.Finished || res.ErrorMessage != want {
			t.Errorf("%s: %+v, want the registered runner's result", typ, res)
		}
	}
	if _, ok := r.Registry().Activity("CopyActivity"); !ok {
		t.Error("built-in CopyActivity missing from the runner's registry")
	}
	if _, ok := reg.Activity("CopyActivity"); ok {
		t.Error("the runner's built-ins leaked into the caller's registry")
	}
	res := New(Options{Root: t.TempDir()}).Run(context.Background(), typedTask("MyActivity"), discard)
	if res.Status != task.Failed || res.ErrorID != task.ErrorIDUnknownType {
		t.Errorf("without the registration MyActivity = %+v, want an unknown type", res)
	}
}
