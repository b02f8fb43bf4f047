package awsprov

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
)

// instanceTypeFindings are the instance-type findings validate reports on src.
func instanceTypeFindings(t *testing.T, name string, src []byte) []definition.Diagnostic {
	t.Helper()
	d, err := definition.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	var out []definition.Diagnostic
	for _, dg := range validate.Definition(d, validate.Options{Now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}) {
		if dg.Code == "INVALID_FIELD_VALUE" && strings.Contains(dg.Field, "nstanceType") {
			out = append(out, dg)
		}
	}
	return out
}

func TestValidateWarnsAboutUnknownInstanceTypes(t *testing.T) {
	src := `{"objects":[
{"id":"Default","name":"Default","scheduleType":"ondemand","role":"R","resourceRole":"RR","coreInstanceType":"M3.XLarge"},
{"id":"Box","name":"Box","type":"Ec2Resource","instanceType":"m5.larg"},
{"id":"Param","name":"Param","type":"Ec2Resource","instanceType":"#{myInstanceType}"},
{"id":"Fine","name":"Fine","type":"Ec2Resource","instanceType":"t1.micro"},
{"id":"Big","name":"Big","type":"EmrCluster","masterInstanceType":"m1.medium","taskInstanceType":"quantum.huge"},
{"id":"Other","name":"Other","type":"EmrCluster"}
],"parameters":[{"id":"myInstanceType","type":"String","default":"m5.large"}]}
`
	got := instanceTypeFindings(t, "types.json", []byte(src))
	want := []struct{ object, field, pos, hint string }{
		{"Default", "coreInstanceType", "types.json:2:", `did you mean "m3.xlarge"?`},
		{"Box", "instanceType", "types.json:3:", `did you mean "m5.large"?`},
		{"Big", "taskInstanceType", "types.json:6:", "RunJobFlow will refuse it"},
	}
	if len(got) != len(want) {
		t.Fatalf("findings:\n%v\nwant %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Severity != definition.SeverityWarning || g.ObjectID != w.object || g.Field != w.field ||
			!strings.HasPrefix(g.Pos.String(), w.pos) || !strings.Contains(g.Hint, w.hint) {
			t.Errorf("finding %d: %s (hint %q), want a warning on %s.%s at %s with %q", i, g.Error(), g.Hint, w.object, w.field, w.pos, w.hint)
		}
	}
	// Inherited by two clusters, the written field is reported once.
	if !strings.Contains(got[0].Message, "inherits it") {
		t.Errorf("inherited finding %q does not name the inheriting object", got[0].Message)
	}
}

func TestSuggestInstanceType(t *testing.T) {
	for in, want := range map[string]string{
		"m5.large": "m5.large", "M5.LARGE": "m5.large", " m5.large ": "m5.large",
		"m5.larg": "m5.large", "c5.2xlarg": "c5.2xlarge", "quantum.huge": "",
	} {
		if got := SuggestInstanceType(in); got != want {
			t.Errorf("SuggestInstanceType(%q) = %q, want %q", in, got, want)
		}
	}
}

// Real definitions name only types EC2 has: no finding on any of them.
func TestCorpusInstanceTypesAreKnown(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "corpus", "files")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if len(files) == 0 {
		t.Skipf("no corpus under %s: the check over real definitions did not run", dir)
	}
	checked := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "nstanceType") {
			continue
		}
		d, err := definition.Parse(f, src)
		if err != nil {
			continue // other formats and broken files are other tests' business
		}
		checked++
		for _, dg := range checkInstanceTypes(d, validate.Options{}) {
			t.Errorf("%s", dg.Error())
		}
	}
	t.Logf("%d corpus definitions with instance types checked", checked)
}
