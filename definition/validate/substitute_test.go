package validate

import (
	"os"
	"strings"
	"testing"
)

// TestSubstitutedValuesNameTheirSource: a value built from a parameter is
// checked after substitution, at the field, and the message names the
// parameter and where its value came from (default, values, --param).
func TestSubstitutedValuesNameTheirSource(t *testing.T) {
	src := `{"objects": [
  {"id": "Default", "scheduleType": "ondemand"},
  {"id": "Worker", "type": "Ec2Resource", "role": "R", "resourceRole": "RR", "terminateAfter": "#{myHours} hours"},
  {"id": "Greet", "type": "ShellCommandActivity", "runsOn": {"ref": "Worker"}, "command": "echo #{@scheduledStartTime}",
   "attemptTimeout": "#{format(@scheduledStartTime, 'H')} hours"}
 ],
 "parameters": [{"id": "myHours", "type": "String", "default": "2"}]}`
	tests := []struct {
		name   string
		values map[string][]string
		want   string // in the terminateAfter message; "" = no finding
	}{
		{"default is fine", nil, ""},
		{"--param", map[string][]string{"myHours": {"x"}}, `parameter myHours = "x" from --param`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Definition(parse(t, src), Options{Now: testNow, Values: tt.values})
			var msgs []string
			for _, d := range ds {
				msgs = append(msgs, d.Error())
			}
			got := find(ds, codeInvalidValue, "Worker")
			switch {
			case tt.want == "" && len(ds) != 0:
				t.Errorf("want no findings (run-time expressions are left to run time), got:\n%s", strings.Join(msgs, "\n"))
			case tt.want != "" && (got == nil || got.Field != "terminateAfter" || !strings.Contains(got.Message, tt.want) || got.Pos.Line != 3):
				t.Errorf("want terminateAfter at line 3 naming %q, got:\n%s", tt.want, strings.Join(msgs, "\n"))
			}
		})
	}
}

// TestRequiredParameterNamesItsFields: a required parameter without a
// value names the fields that read it; optional ones are silent.
func TestRequiredParameterNamesItsFields(t *testing.T) {
	src := `{"objects": [
  {"id": "Default", "scheduleType": "ondemand"},
  {"id": "Greet", "type": "ShellCommandActivity", "workerGroup": "wg",
   "command": "echo #{myName} #{myOpt}", "stdout": "#{myOptLog}"}
 ],
 "parameters": [{"id": "myName", "type": "String"}, {"id": "myOpt", "optional": "true"}, {"id": "myOptLog", "optional": "true"}]}`
	ds := Definition(parse(t, src), Options{Now: testNow})
	if len(ds) != 1 {
		t.Fatalf("want one finding (myName), got:\n%s", dump(ds))
	}
	if d := ds[0]; d.Code != codeMissingValue || d.ObjectID != "myName" || !strings.Contains(d.Message, "Greet.command (line 4)") {
		t.Errorf("got %s; want MISSING_PARAMETER_VALUE for myName naming Greet.command (line 4)", d.Error())
	}
}

// TestHintsAreDeterministic: when several names are equally close, the
// hint is the same every time (the first in order), not whichever a map
// iteration met first.
func TestHintsAreDeterministic(t *testing.T) {
	data, err := os.ReadFile("../testdata/invalid/param-suggest-tie.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		r, err := Bytes("tie.json", data, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Diagnostics) != 1 || r.Diagnostics[0].Hint != `did you mean "myAb"?` {
			t.Fatalf("run %d: want one finding with the hint did you mean \"myAb\"?, got:\n%s", i, dump(r.Diagnostics))
		}
	}
}
