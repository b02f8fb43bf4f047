package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

func TestValidFixtures(t *testing.T) {
	files, err := filepath.Glob("../../fixtures/valid/*.json")
	if err != nil || len(files) < 9 {
		t.Fatalf("want a valid fixture per object family under fixtures/valid, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := File(f, Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Diagnostics) != 0 {
				t.Errorf("valid fixture has diagnostics:\n%s", dump(r.Diagnostics))
			}
		})
	}
}

// TestFamiliesCovered checks that the valid fixtures use every type of
// the catalogue at least once.
func TestFamiliesCovered(t *testing.T) {
	files, _ := filepath.Glob("../../fixtures/valid/*.json")
	used := map[string]bool{}
	for _, f := range files {
		d, err := definition.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range d.Objects {
			used[o.OwnType()] = true
		}
	}
	for _, name := range typeNames {
		if !used[name] && name != "MySqlDataNode" { // deprecated: only in a broken fixture
			t.Errorf("no valid fixture uses type %s", name)
		}
	}
}

func parse(t *testing.T, src string) *definition.Definition {
	t.Helper()
	d, err := definition.Parse("test.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func find(ds []definition.Diagnostic, code, id string) *definition.Diagnostic {
	for i := range ds {
		if ds[i].Code == code && ds[i].ObjectID == id {
			return &ds[i]
		}
	}
	return nil
}

// bigDefinition writes n shell activities (plus Default, a schedule and a
// resource) with extra fields per activity.
func bigDefinition(n, extraFields, valueLen int) string {
	var b strings.Builder
	b.WriteString(`{"objects": [
{"id": "Default", "name": "Default", "scheduleType": "cron", "schedule": {"ref": "Every"}, "role": "R", "resourceRole": "RR"},
{"id": "Every", "name": "Every", "type": "Schedule", "period": "1 day", "startDateTime": "2030-01-01T00:00:00"},
{"id": "Box", "name": "Box", "type": "Ec2Resource"}`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, ",\n{\"id\": \"Step%d\", \"name\": \"Step%d\", \"type\": \"ShellCommandActivity\", \"runsOn\": {\"ref\": \"Box\"}, \"command\": \"echo %s\"", i, i, strings.Repeat("x", valueLen))
		if i > 0 {
			fmt.Fprintf(&b, ", \"dependsOn\": {\"ref\": \"Step%d\"}", i-1)
		}
		for k := 0; k < extraFields; k++ {
			fmt.Fprintf(&b, ", \"myField%d\": \"v\"", k)
		}
		b.WriteString("}")
	}
	b.WriteString("\n]}\n")
	return b.String()
}

func TestLimits(t *testing.T) {
	cases := []struct {
		name            string
		n, fields, vlen int
		id, field       string
	}{
		{"objects", 100, 0, 1, "Step97", ""},
		{"fields per object", 1, 50, 1, "Step0", "myField47"}, // type, runsOn, command, then myField0.. : the 51st is myField47,
		{"value size", 1, 0, 10241, "Step0", "command"},
		{"object size", 1, 45, 300, "Step0", ""}, // 45 fields * ~10 + 10.3 KB value stays under the value limit
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := bigDefinition(c.n, c.fields, c.vlen)
			if c.name == "object size" {
				src = strings.Replace(src, `"echo `+strings.Repeat("x", 300), `"echo `+strings.Repeat("x", 10000)+`", "myBig": "`+strings.Repeat("y", 6000), 1)
			}
			for _, strict := range []bool{false, true} {
				d := parse(t, src)
				ds := Definition(d, Options{Strict: strict, Now: testNow})
				got := find(ds, codeLimit, c.id)
				if got == nil {
					t.Fatalf("strict=%v: no %s for %s:\n%s", strict, codeLimit, c.id, dump(ds))
				}
				if got.Field != c.field {
					t.Errorf("field = %q, want %q", got.Field, c.field)
				}
				wantSev := definition.SeverityWarning
				if strict {
					wantSev = definition.SeverityError
				}
				if got.Severity != wantSev {
					t.Errorf("strict=%v: severity %s", strict, got.Severity)
				}
			}
		})
	}
}

func TestParameterOverridesAndSecrets(t *testing.T) {
	src := `{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "ondemand", "role": "R", "resourceRole": "RR"},
  {"id": "Run", "name": "Run", "type": "ShellCommandActivity", "workerGroup": "wg", "command": "login #{*myToken} #{myMode}"}
],
"parameters": [
  {"id": "*myToken", "type": "String", "allowedValues": ["alpha-secret", "beta-secret"]},
  {"id": "myMode", "type": "String"}
],
"values": {"*myToken": "gamma-secret", "myMode": "fast"}}`
	ds := Definition(parse(t, src), Options{Now: testNow})
	got := find(ds, codeParamValue, "*myToken")
	if got == nil {
		t.Fatalf("no allowedValues error for *myToken:\n%s", dump(ds))
	}
	for _, d := range ds {
		if strings.Contains(d.Error(), "gamma-secret") {
			t.Errorf("secret value printed: %s", d.Error())
		}
	}
	// --param overrides the file's value: now valid.
	ds = Definition(parse(t, src), Options{Now: testNow, Values: map[string][]string{"*myToken": {"beta-secret"}}})
	if Errored(ds) {
		t.Errorf("override not applied:\n%s", dump(ds))
	}
	// Once values are supplied, a required parameter without one is an error.
	src2 := strings.Replace(src, `"myMode": "fast"`, `"other": "x"`, 1)
	ds = Definition(parse(t, src2), Options{Now: testNow, Values: map[string][]string{"*myToken": {"beta-secret"}}})
	if d := find(ds, codeMissingValue, "myMode"); d == nil || d.Severity != definition.SeverityError {
		t.Errorf("want MISSING_PARAMETER_VALUE error for myMode:\n%s", dump(ds))
	}
}

func TestParameterSubstitutionInSchedule(t *testing.T) {
	src := `{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "cron", "schedule": {"ref": "S"}, "role": "R", "resourceRole": "RR"},
  {"id": "S", "name": "S", "type": "Schedule", "period": "#{myPeriod}", "startDateTime": "#{myStart}"},
  {"id": "Run", "name": "Run", "type": "ShellCommandActivity", "workerGroup": "wg", "command": "true"}
],
"parameters": [{"id": "myPeriod", "type": "String"}, {"id": "myStart", "type": "String"}],
"values": {"myPeriod": "5 minutes", "myStart": "tomorrow"}}`
	ds := Definition(parse(t, src), Options{Now: testNow})
	p := find(ds, codeInvalidValue, "S")
	if p == nil || p.Field != "period" || !strings.Contains(p.Message, "from #{myPeriod}") {
		t.Errorf("want the substituted period reported:\n%s", dump(ds))
	}
	var start bool
	for _, d := range ds {
		start = start || (d.Field == "startDateTime" && d.Message == "value must be a literal datetime value.")
	}
	if !start {
		t.Errorf("want the substituted startDateTime reported:\n%s", dump(ds))
	}
}

func TestInheritedReportedOnce(t *testing.T) {
	src, err := os.ReadFile("../testdata/invalid/inherited-value.json")
	if err != nil {
		t.Fatal(err)
	}
	ds := Definition(parse(t, string(src)), Options{Now: testNow})
	n := 0
	for _, d := range ds {
		if d.Field == "maximumRetries" {
			n++
			if d.ObjectID != "Default" || !strings.Contains(d.Hint, "inherited by ") {
				t.Errorf("filed under %q with hint %q; want it under Default, the object that writes it, naming an heir", d.ObjectID, d.Hint)
			}
		}
	}
	if n != 1 {
		t.Errorf("inherited bad value reported %d times, want once:\n%s", n, dump(ds))
	}
}

func TestScanExpressions(t *testing.T) {
	cases := []struct {
		in       string
		names    []string
		problems int
	}{
		{"plain", nil, 0},
		{"#{myA}-#{format(@scheduledStartTime,'YYYY}')}", []string{"myA", "@scheduledStartTime", "format()"}, 0},
		{"#{input.directoryPath}/#{node.myX}", []string{"input", "node"}, 0},
		{"#{", nil, 1},
		{"a #{} b", nil, 1},
		{"#{*myPass}", []string{"*myPass"}, 0},
	}
	for _, c := range cases {
		names, problems := scanExpressions(c.in)
		var got []string
		for _, n := range names {
			s := n.Name
			if n.Func {
				s += "()"
			}
			got = append(got, s)
		}
		if strings.Join(got, ",") != strings.Join(c.names, ",") || len(problems) != c.problems {
			t.Errorf("scan(%q) = %v, %d problems; want %v, %d", c.in, got, len(problems), c.names, c.problems)
		}
	}
}
