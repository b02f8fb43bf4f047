package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// scopeDef chains user fields 20 deep (deeper than the engine's old limit
// of 16, within the one limit definition.MaxNesting), reads a typed
// parameter, an optional parameter without a value, and a self-reference.
func scopeDef() string {
	var chain strings.Builder
	for i := 1; i < 20; i++ {
		fmt.Fprintf(&chain, `"myF%d": "#{myF%d}", `, i, i+1)
	}
	return `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE", ` + chain.String() + `"myF20": "end"},
  {"id": "A", "type": "ShellCommandActivity", "workerGroup": "wg", "command": "echo #{myCount + 1}[#{myOpt}]",
   "stdout": "#{myOpt}"},
  {"id": "Loop", "type": "SnsAlarm", "topicArn": "arn:aws:sns:us-east-1:1:t", "subject": "s", "message": "m",
   "myLoop": "#{myLoop}#{myLoop}#{myLoop}"}
 ],
 "parameters": [
  {"id": "myCount", "type": "Integer", "default": "3"},
  {"id": "myOpt", "optional": "true"}
 ]}`
}

// TestEngineUsesDefinitionResolver: the engine's expressions and
// definition.Resolver (validate, plan, eval) give the same answers, with
// the same nesting limit and optional-parameter rules.
func TestEngineUsesDefinitionResolver(t *testing.T) {
	ctx := context.Background()
	js := scopeDef()
	r := newRun(t, js, Options{})
	d := newDef(t, js)
	d.Resolve()
	res := definition.NewResolver(d, nil)
	tests := []struct{ in, want string }{
		{"#{myF1}", "end"},
		{"#{command}", "echo 4[]"},
		{"#{myCount * 2}", "6"},
		{"[#{myOpt}]", "[]"},
	}
	for _, tt := range tests {
		got, err := r.e.EvaluateExpression(ctx, "df-TEST", "A", tt.in)
		if err != nil || got != tt.want {
			t.Errorf("engine %s = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		v, err := res.Eval(tt.in, res.Scope(d.Object("A"), nil))
		if err != nil || v.String() != tt.want {
			t.Errorf("resolver %s = %q, %v; want %q", tt.in, v.String(), err, tt.want)
		}
	}
	if _, err := r.e.EvaluateExpression(ctx, "df-TEST", "Loop", "#{myLoop}"); err == nil || !strings.Contains(err.Error(), "refer to itself") {
		t.Errorf("self-reference: %v, want a cycle error", err)
	}
	if _, err := res.Eval("#{myLoop}", res.Scope(d.Object("Loop"), nil)); !errors.Is(err, definition.ErrFieldCycle) {
		t.Errorf("resolver self-reference: %v, want ErrFieldCycle", err)
	}
	// stdout is only #{myOpt}: absent, as if not written.
	objs, err := r.e.DescribeObjects(ctx, DescribeInput{ObjectIDs: []string{"A"}, EvaluateExpressions: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range objs.Objects[0].Fields {
		if f.Key == "stdout" {
			t.Errorf("stdout = %v, want the field absent (optional parameter without a value)", f)
		}
	}
}

// TestRunsOnFromDefaultSkipsResources: runsOn written on Default is for
// the activities; the Ec2Resource that inherits from Default does not run
// on itself (which once left the run waiting forever), and the run ends.
func TestRunsOnFromDefaultSkipsResources(t *testing.T) {
	js := `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE", "runsOn": {"ref": "Worker"}},
  {"id": "Worker", "type": "Ec2Resource", "instanceType": "t3.micro", "terminateAfter": "1 hour"},
  {"id": "Greet", "type": "ShellCommandActivity", "command": "echo hi"}
 ]}`
	r := newRun(t, js, Options{})
	if got := r.e.engine.comps["Worker"].eff.Get("runsOn"); got != nil {
		t.Fatalf("Worker's effective runsOn = %v, want none", got.Values)
	}
	if got := r.e.engine.comps["Greet"].eff.Refs("runsOn"); len(got) != 1 || got[0] != "Worker" {
		t.Fatalf("Greet's runsOn = %v, want [Worker] from Default", got)
	}
	r.drive(always(ok()))
	var greet runstore.Instance
	for _, i := range r.e.engine.order {
		if i.Component == "Greet" {
			greet = i.Instance
		}
	}
	if Status(greet.Status) != Finished {
		t.Errorf("Greet ended %s, want FINISHED", greet.Status)
	}
}

// TestDescribeMasksExpandedSecrets: what viewers get (DescribeObjects:
// the TUI, dpl serve) shows a secret parameter expanded into an ordinary
// field masked; the task handed to the runner carries the real value.
func TestDescribeMasksExpandedSecrets(t *testing.T) {
	ctx := context.Background()
	js := `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE"},
  {"id": "Login", "type": "ShellCommandActivity", "workerGroup": "wg", "command": "login --pw=#{*myPw}"}],
 "parameters": [{"id": "*myPw", "type": "String", "default": "topsecret42"}]}`
	r := newRun(t, js, Options{})
	var executed string
	r.drive(func(tk *task.Task) outcome {
		executed = tk.Attempt().Get("command")
		return ok()
	})
	if executed != "login --pw=topsecret42" {
		t.Errorf("the runner got command %q, want the real value", executed)
	}
	objs, err := r.e.DescribeObjects(ctx, DescribeInput{ObjectIDs: []string{"Login"}, EvaluateExpressions: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := objs.Objects[0].Get("command"); got != "login --pw="+definition.Mask {
		t.Errorf("described command = %q, want the secret masked", got)
	}
}
