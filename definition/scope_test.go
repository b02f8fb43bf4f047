package definition

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition/expr"
)

const scopeFixture = `{
  "objects": [
    {"id": "Default", "name": "Default", "scheduleType": "cron", "myBucket": "s3://bucket", "myRetries": "#{myCount}"},
    {"id": "Base", "name": "Base", "myDir": "#{myBucket}/base"},
    {"id": "In", "name": "In", "type": "S3DataNode", "directoryPath": "#{myBucket}/in/#{format(@scheduledStartTime,'YYYY-MM-dd')}"},
    {"id": "Out", "name": "Out", "type": "S3DataNode", "parent": {"ref": "Base"}, "directoryPath": "#{myDir}/out"},
    {"id": "Act", "name": "Copy", "type": "CopyActivity", "input": {"ref": "In"}, "output": {"ref": "Out"},
     "myTags": ["a", "#{myList}"], "myLoop": "#{myLoop}", "onFail": {"ref": "Alarm"}},
    {"id": "Alarm", "name": "Alarm", "type": "SnsAlarm", "message": "#{node.name} failed at #{node.@scheduledStartTime}"}
  ],
  "parameters": [
    {"id": "myCount", "type": "Integer", "default": "3"},
    {"id": "myRate", "type": "Double", "default": "0.5"},
    {"id": "myList", "type": "String", "isArray": "true", "default": ["x", "y"]},
    {"id": "myEnv", "type": "String", "default": "dev"}
  ],
  "values": {"myEnv": "test"}
}`

func TestScope(t *testing.T) {
	d, err := Parse("scope.json", []byte(scopeFixture))
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve()
	start := time.Date(2011, 5, 24, 17, 10, 0, 0, time.UTC)
	rt := map[string]expr.Value{"@scheduledStartTime": expr.DateTime(start)}
	act := d.Object("Act")
	sc := d.Scope(act, ScopeOptions{Runtime: rt, Params: map[string][]string{"myRate": {"2.5"}}})

	tests := []struct{ in, want string }{
		{"#{input.directoryPath}", "s3://bucket/in/2011-05-24"}, // referenced object shares the interval
		{"#{output.directoryPath}", "s3://bucket/base/out"},     // parent chain, then Default
		{"#{name} #{id} #{@id}", "Copy Act Act"},
		{"#{scheduleType}", "cron"}, // inherited from Default
		{"#{myRetries + 1}", "4"},   // Integer parameter default through a Default field
		{"#{myRate * 2}", "5.0"},    // supplied value wins, typed Double
		{"#{myEnv}", "test"},        // values section wins over default
		{"#{myTags}", "[a, x, y]"},  // list field flattened with an array parameter
		{"#{input}", "In"},          // a ref renders as its id
		{"#{format(@scheduledStartTime,'HH:mm')}", "17:10"},
	}
	for _, tt := range tests {
		tp, err := expr.ParseTemplate(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		v, err := tp.Eval(sc)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if v.String() != tt.want {
			t.Errorf("%s = %q, want %q", tt.in, v.String(), tt.want)
		}
	}

	if _, err := expr.EvalString("#{input.@status}", sc); !errors.Is(err, expr.ErrUnknown) {
		t.Errorf("runtime field the caller did not supply, through a ref: err %v, want ErrUnknown", err)
	}
	other := d.Scope(act, ScopeOptions{Runtime: rt, RefRuntime: func(o *Object) map[string]expr.Value {
		return map[string]expr.Value{"@scheduledStartTime": expr.DateTime(start.AddDate(0, 0, -1))}
	}})
	if got, err := expr.EvalString("#{input.directoryPath}", other); err != nil || got != "s3://bucket/in/2011-05-23" {
		t.Errorf("RefRuntime: %q, %v", got, err)
	}
	if _, err := expr.EvalString("#{myNothing}", sc); !errors.Is(err, expr.ErrUnknown) {
		t.Errorf("unknown name: err %v, want ErrUnknown", err)
	}
	if _, err := expr.EvalString("#{myLoop}", sc); !errors.Is(err, ErrFieldCycle) {
		t.Errorf("self-referencing field: err %v, want ErrFieldCycle", err)
	}
	if _, err := expr.EvalString("#{node.name}", sc); !errors.Is(err, expr.ErrUnknown) {
		t.Errorf("node without a node: err %v, want ErrUnknown", err)
	}

	alarm := d.Scope(d.Object("Alarm"), ScopeOptions{Node: act, NodeRuntime: rt})
	got, err := expr.EvalString(d.Effective(d.Object("Alarm")).Str("message"), alarm)
	if err != nil || got != "Copy failed at 2011-05-24T17:10:00" {
		t.Errorf("node traversal = %q, %v", got, err)
	}

	bad := d.Scope(act, ScopeOptions{Params: map[string][]string{"myCount": {"three"}}})
	if _, err := expr.EvalString("#{myCount}", bad); err == nil {
		t.Error("Integer parameter with value \"three\": want an error")
	}
}

const optionalFixture = `{
  "objects": [
    {"id": "Default", "scheduleType": "ondemand", "stdout": "/tmp/default.log"},
    {"id": "A", "type": "ShellCommandActivity", "workerGroup": "wg",
     "command": "run --tag=#{myTag} #{*myPw}", "stdout": "#{myLog}", "scriptArgument": ["a", "#{myTag}", "#{myArg}"],
     "myNote": "pw is #{*myPw}", "*password": "hunter2"}
  ],
  "parameters": [
    {"id": "myTag", "optional": "true"},
    {"id": "myLog", "optional": "true"},
    {"id": "myArg", "default": "b"},
    {"id": "*myPw", "default": "s3cr3t"}
  ]
}`

// TestResolverOptionalParameters: an optional parameter without a value
// is an empty string inside a longer value and makes a value that is only
// a reference to it absent (an inherited value shows through).
func TestResolverOptionalParameters(t *testing.T) {
	d, err := Parse("optional.json", []byte(optionalFixture))
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve()
	r := NewResolver(d, nil)
	a := d.Object("A")
	e := r.Effective(a)
	if got := e.Str("stdout"); got != "/tmp/default.log" {
		t.Errorf("stdout = %q, want Default's value once #{myLog} is absent", got)
	}
	if f := e.Get("scriptArgument"); f == nil || len(f.Values) != 2 || f.Values[1].Str != "#{myArg}" {
		t.Errorf("scriptArgument = %+v, want [a #{myArg}]", f)
	}
	got, err := expr.EvalString("#{command}", r.Scope(a, nil))
	if err != nil || got != "run --tag= s3cr3t" {
		t.Errorf("command = %q, %v", got, err)
	}
	if p := r.Param("myArg"); p.Source != FromDefault || !strings.HasPrefix(p.Describe(), "its default (line ") {
		t.Errorf("myArg source %q %q", p.Source, p.Describe())
	}
	if p := r.Param("myTag"); p.HasValue() || !p.Optional {
		t.Errorf("myTag %+v", p)
	}
	if d.Effective(a).Str("stdout") != "#{myLog}" {
		t.Error("the definition's own effective fields must stay as written")
	}
}

// TestResolverMasked: the display view masks secret parameters expanded
// into other fields and `*` fields; the plain resolver has the values.
func TestResolverMasked(t *testing.T) {
	d, err := Parse("optional.json", []byte(optionalFixture))
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve()
	r := NewResolver(d, map[string][]string{"*myPw": {"fromflag"}})
	a := d.Object("A")
	for in, want := range map[string]string{"#{myNote}": "pw is ********", "#{*password}": "********", "#{myPw}": "********"} {
		if got, err := expr.EvalString(in, r.Masked().Scope(a, nil)); err != nil || got != want {
			t.Errorf("masked %s = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, _ := expr.EvalString("#{myNote}", r.Scope(a, nil)); got != "pw is fromflag" {
		t.Errorf("unmasked = %q", got)
	}
	secrets := r.Secrets()
	if strings.Join(secrets, ",") != "fromflag,hunter2" {
		t.Errorf("Secrets() = %q", secrets)
	}
	if got := MaskText("login hunter2 with fromflag", secrets); got != "login ******** with ********" {
		t.Errorf("MaskText = %q", got)
	}
}
