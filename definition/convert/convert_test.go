package convert

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

var update = flag.Bool("update", false, "rewrite testdata/**/*.golden files")

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (go test -update to accept):\n%s", name, lineDiff(string(got), string(want)))
	}
}

func mustRead(t *testing.T, name string, data []byte) *Source {
	t.Helper()
	s, err := Read(name, data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func readFixture(t *testing.T, path string) *Source {
	t.Helper()
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// roundTripInputs are the fixtures plus the corpus files dpl reads without
// errors.
func roundTripInputs(t *testing.T) []string {
	t.Helper()
	fx, _ := filepath.Glob("testdata/defs/*.json")
	yml, _ := filepath.Glob("testdata/defs/*.yaml")
	fx = append(fx, yml...)
	var corpus []string
	if dir := corpusDirNoSkip(); dir != "" {
		corpus, _ = definition.ExpandPaths([]string{dir})
	} else {
		t.Log("NOTE: corpus not found (set DPL_CORPUS); fixtures only")
	}
	return append(fx, corpus...)
}

// assertSame fails unless a and b mean the same definition. Besides Diff
// it checks object order and names directly, so a Diff bug cannot hide a
// lossy conversion.
func assertSame(t *testing.T, what string, a, b *definition.Definition) {
	t.Helper()
	if r := Diff(a, b, DiffOptions{}); !r.Equal() {
		t.Errorf("%s: differs:\n%s", what, r.Text())
		return
	}
	if len(a.Objects) != len(b.Objects) || len(a.Parameters) != len(b.Parameters) {
		t.Errorf("%s: %d/%d objects, %d/%d parameters", what, len(a.Objects), len(b.Objects), len(a.Parameters), len(b.Parameters))
		return
	}
	for i, o := range a.Objects {
		p := b.Objects[i]
		if o.ID != p.ID || o.Name != p.Name || valued(o.Fields) != valued(p.Fields) {
			t.Errorf("%s: object %d is %q/%q with %d fields, then %q/%q with %d", what, i, o.ID, o.Name, valued(o.Fields), p.ID, p.Name, valued(p.Fields))
		}
		for _, f := range o.Fields {
			if len(f.Values) == 0 {
				continue // an empty list sends nothing
			}
			g := p.Field(f.Key)
			if g == nil || !equalValues(f.Values, g.Values) {
				t.Errorf("%s: object %q field %q lost or changed", what, o.ID, f.Key)
			}
		}
	}
}

// valued counts the fields that hold at least one value.
func valued(fs []*definition.Field) int {
	n := 0
	for _, f := range fs {
		if len(f.Values) > 0 {
			n++
		}
	}
	return n
}

// TestRoundTrips: file -> API -> file and file -> CloudFormation (JSON and
// YAML) -> file keep every object, field and value.
func TestRoundTrips(t *testing.T) {
	n := 0
	for _, path := range roundTripInputs(t) {
		s, err := ReadFile(path)
		if err != nil || CheckLossless(s.Def) != nil {
			continue // unreadable corpus files are covered by the oracle test's counts
		}
		n++
		orig := s.Def
		api := ToAPI(orig, s.Opts).MarshalIndent()
		viaAPI := mustRead(t, path+" (api)", api)
		if viaAPI.Def.Format != definition.FormatAPI {
			t.Errorf("%s: API output read back as %s", path, viaAPI.Def.Format)
		}
		file := ToFile(viaAPI.Def, viaAPI.Opts).MarshalIndent()
		back := mustRead(t, path+" (api->file)", file)
		assertSame(t, path+": file -> API -> file", orig, back.Def)
		for _, o := range back.Def.Objects {
			if !o.HasName {
				t.Errorf("%s: API -> file dropped the name of %q", path, o.ID)
			}
		}

		cfn := ToCloudFormation(orig, s.Opts)
		cj := mustRead(t, path+" (cfn)", cfn.MarshalIndent())
		if cj.Def.Format != definition.FormatCloudFormation {
			t.Errorf("%s: CloudFormation output read back as %s", path, cj.Def.Format)
		}
		assertSame(t, path+": file -> CloudFormation JSON -> file", orig, mustRead(t, path, ToFile(cj.Def, cj.Opts).MarshalIndent()).Def)
		y, err := cfn.MarshalYAML()
		if err != nil {
			t.Fatal(err)
		}
		cy := mustRead(t, path+" (cfn yaml)", y)
		if !cy.YAML || cy.Def.Format != definition.FormatCloudFormation {
			t.Errorf("%s: CloudFormation YAML read back as %s (yaml=%v)", path, cy.Def.Format, cy.YAML)
		}
		if err := CheckLossless(cy.Def); err != nil {
			t.Errorf("%s: CloudFormation YAML: %v", path, err)
		}
		assertSame(t, path+": file -> CloudFormation YAML -> file", orig, cy.Def)
	}
	t.Logf("round trips checked on %d definitions", n)
}

// TestFormat: fmt is idempotent, and a definition diffed with its
// formatted self is empty, on fixtures and the corpus (every format).
func TestFormat(t *testing.T) {
	inputs := append(roundTripInputs(t), "testdata/fmt/odd.json", "testdata/diff/old.json")
	n := 0
	for _, path := range inputs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path, data); err != nil {
			continue // not JSON: nothing to format
		}
		n++
		once, err := Format(path, data)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		twice, err := Format(path, once)
		if err != nil {
			t.Errorf("%s: formatting the formatted output: %v", path, err)
			continue
		}
		if !bytes.Equal(once, twice) {
			t.Errorf("%s: fmt is not idempotent:\n%s", path, lineDiff(string(twice), string(once)))
		}
		a, b := mustRead(t, path, data), mustRead(t, path, once)
		if r := Diff(a.Def, b.Def, DiffOptions{}); !r.Equal() {
			t.Errorf("%s: diff with formatted self:\n%s", path, r.Text())
		}
		if r := Diff(a.Def, b.Def, DiffOptions{Effective: true}); !r.Equal() {
			t.Errorf("%s: effective diff with formatted self:\n%s", path, r.Text())
		}
		if a.Def.Format != b.Def.Format || a.YAML != b.YAML {
			t.Errorf("%s: fmt changed the format from %s to %s", path, a.Def.Format, b.Def.Format)
		}
	}
	t.Logf("fmt idempotence and empty self-diff checked on %d definitions", n)
}

// TestFormatGolden pins the canonical layout, including values the model
// does not keep exactly (numbers, booleans, one-element lists, unknown
// top-level keys) and YAML comments.
func TestFormatGolden(t *testing.T) {
	for _, name := range []string{"fmt/odd.json", "defs/cfn.yaml", "defs/api.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		out, err := Format(name, data)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".fmt.golden", out)
	}
}

func TestFormatKeepsValues(t *testing.T) {
	data, err := os.ReadFile("testdata/fmt/odd.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Format("odd.json", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"maximumRetries": 3,`, `"stage": true,`, `"scriptArgument": [` + "\n" + `        "only one"`,
		`"*password": "hunter2"`, `"comment": "top-level keys the CLI ignores are kept"`,
		`"command": "echo é / <b>"`, `"myA": [` + "\n" + `      "1"`, `"unknownField": "kept"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("formatted output lacks %q:\n%s", want, out)
		}
	}
	first := strings.Index(string(out), `"id": "Default"`)
	alpha := strings.Index(string(out), `"id": "Alpha"`)
	zeta := strings.Index(string(out), `"id": "Zeta"`)
	if !(first >= 0 && first < alpha && alpha < zeta) {
		t.Errorf("objects not ordered Default, Alpha, Zeta:\n%s", out)
	}
}

func TestConvertOutputs(t *testing.T) {
	s := readFixture(t, "testdata/defs/basic.json")
	golden(t, "defs/basic.api.golden", ToAPI(s.Def, s.Opts).MarshalIndent())
	cfn := ToCloudFormation(s.Def, Options{CloudFormation: CloudFormationOptions{Name: "basic", Activate: false}})
	golden(t, "defs/basic.cfn.golden", cfn.MarshalIndent())
	y, err := cfn.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "defs/basic.cfn.yaml.golden", y)
	a := readFixture(t, "testdata/defs/api.json")
	golden(t, "defs/api.file.golden", ToFile(a.Def, a.Opts).MarshalIndent())
	// HTML metacharacters stay literal.
	if out := string(ToAPI(s.Def, s.Opts).MarshalIndent()); !strings.Contains(out, `"Copy <input> & load"`) {
		t.Errorf("HTML characters escaped in API output")
	}
}

func TestCloudFormationPropertiesCarried(t *testing.T) {
	s := readFixture(t, "testdata/defs/cfn.yaml")
	c := s.Opts.CloudFormation
	if c.Name != "hello" || c.Activate || c.LogicalID != "Hello" {
		t.Errorf("read Name=%q Activate=%v LogicalID=%q, want hello false Hello", c.Name, c.Activate, c.LogicalID)
	}
	out := string(ToCloudFormation(s.Def, s.Opts).MarshalIndent())
	for _, want := range []string{`"Hello": {`, `"Name": "hello"`, `"Activate": false`} {
		if !strings.Contains(out, want) {
			t.Errorf("CloudFormation output lacks %s", want)
		}
	}
}

func TestDiffGolden(t *testing.T) {
	old := readFixture(t, "testdata/diff/old.json")
	cur := readFixture(t, "testdata/diff/new.json")
	r := Diff(old.Def, cur.Def, DiffOptions{})
	golden(t, "diff/own.txt.golden", []byte(r.Text()))
	j, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff/own.json.golden", j)
	old, cur = readFixture(t, "testdata/diff/old.json"), readFixture(t, "testdata/diff/new.json")
	re := Diff(old.Def, cur.Def, DiffOptions{Effective: true})
	golden(t, "diff/effective.txt.golden", []byte(re.Text()))
	for _, secret := range []string{"old-secret", "new-secret", "k-old", "k-new", "v-old", "v-new"} {
		for _, out := range []string{r.Text(), string(j), re.Text()} {
			if strings.Contains(out, secret) {
				t.Errorf("secret %q shown in diff output", secret)
			}
		}
	}
}

func TestDiffDetects(t *testing.T) {
	base := `{"objects":[{"id":"A","type":"T","f":"1","r":{"ref":"B"},"l":["x","y"]},{"id":"B","type":"U"}],"values":{"myV":"1"}}`
	cases := []struct {
		name, other string
		equal       bool
	}{
		{"same", base, true},
		{"reordered and relaid", `{"values":{"myV":["1"]},"objects":[{"id":"B","type":"U"},{"l":["x","y"],"r":[{"ref":"B"}],"f":["1"],"type":"T","id":"A","name":"A"}]}`, true},
		{"value changed", strings.Replace(base, `"f":"1"`, `"f":"2"`, 1), false},
		{"list order matters", strings.Replace(base, `["x","y"]`, `["y","x"]`, 1), false},
		{"ref vs string", strings.Replace(base, `{"ref":"B"}`, `"B"`, 1), false},
		{"name changed", strings.Replace(base, `"id":"B"`, `"id":"B","name":"Bee"`, 1), false},
		{"field removed", strings.Replace(base, `"f":"1",`, ``, 1), false},
		{"value changed", strings.Replace(base, `"myV":"1"`, `"myV":"2"`, 1), false},
		{"object added", strings.Replace(base, `{"id":"B","type":"U"}`, `{"id":"B","type":"U"},{"id":"C"}`, 1), false},
	}
	a := mustRead(t, "base", []byte(base))
	for _, c := range cases {
		b := mustRead(t, c.name, []byte(c.other))
		if got := Diff(a.Def, b.Def, DiffOptions{}).Equal(); got != c.equal {
			t.Errorf("%s: Equal() = %v, want %v", c.name, got, c.equal)
		}
	}
	// The same definition in the three formats is equal.
	for _, to := range []definition.Format{definition.FormatAPI, definition.FormatCloudFormation, definition.FormatFile} {
		n, err := To(a.Def, to, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r := Diff(a.Def, mustRead(t, string(to), n.MarshalIndent()).Def, DiffOptions{}); !r.Equal() {
			t.Errorf("file vs %s form differs:\n%s", to, r.Text())
		}
	}
}

func TestGraphGolden(t *testing.T) {
	for _, name := range []string{"basic.json", "cfn.yaml"} {
		s := readFixture(t, filepath.Join("testdata/defs", name))
		g := BuildGraph(s.Def)
		golden(t, "defs/"+name+".dot.golden", []byte(g.DOT()))
		golden(t, "defs/"+name+".mermaid.golden", []byte(g.Mermaid()))
	}
	// A dangling ref becomes a missing node; ids needing quotes are quoted.
	s := mustRead(t, "x", []byte(`{"objects":[{"id":"My \"odd\" id","type":"CopyActivity","input":{"ref":"Nowhere"}}]}`))
	g := BuildGraph(s.Def)
	dot, mm := g.DOT(), g.Mermaid()
	for _, want := range []string{`"My \"odd\" id" -> "Nowhere" [label="input"]`, `"Nowhere\n(missing)"`} {
		if !strings.Contains(dot, want) {
			t.Errorf("dot lacks %s:\n%s", want, dot)
		}
	}
	for _, want := range []string{`n0("My #quot;odd#quot; id<br/>CopyActivity")`, `n1["Nowhere<br/>(missing)"]`, `n0 -->|"input"| n1`, "class n1 missing"} {
		if !strings.Contains(mm, want) {
			t.Errorf("mermaid lacks %s:\n%s", want, mm)
		}
	}
}

// TestYAMLPositions: a YAML template is read with positions in the YAML
// source, for the model and for diagnostics.
func TestYAMLPositions(t *testing.T) {
	data, err := os.ReadFile("testdata/defs/cfn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := definition.ParseYAML("cfn.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	o := d.Object("Say")
	if o == nil {
		t.Fatal("object Say missing")
	}
	cmd := o.Field("command")
	if cmd == nil || !strings.Contains(lines[cmd.Values[0].Pos.Line-1], `"echo #{myMessage}"`) {
		t.Errorf("command value at %v, want the StringValue line", cmd.Values[0].Pos)
	}
	if !strings.Contains(lines[o.IDPos.Line-1], "Id: Say") || int(o.IDPos.Col) != strings.Index(lines[o.IDPos.Line-1], "Say")+1 {
		t.Errorf("id at %v, want the Id: Say line and column", o.IDPos)
	}
	bad := strings.Replace(string(data), `StringValue: "echo #{myMessage}"`, `StringValue: !Ref Env`, 1)
	d, err = definition.ParseYAML("bad.yaml", []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	badLines := strings.Split(bad, "\n")
	for _, dg := range d.Diagnostics {
		// An unresolvable !Ref is a CFN_UNRESOLVED warning at the value.
		if dg.Severity != definition.SeverityError && dg.Code != definition.CodeCFNUnresolved || dg.Pos.Line < 1 || int(dg.Pos.Line) > len(badLines) {
			continue
		}
		// The reader files it at the field entry (- Key: command) or its value.
		line := badLines[dg.Pos.Line-1]
		if strings.Contains(line, "Key: command") && int(dg.Pos.Col) == strings.Index(line, "Key")+1 || strings.Contains(line, "!Ref Env") {
			found = true
		}
	}
	if !found {
		t.Errorf("no diagnostic located at the !Ref value: %v", d.Diagnostics)
	}
	if _, err := definition.ParseYAML("broken.yaml", []byte("a: [1, 2\nb: c\n")); err == nil {
		t.Error("broken YAML accepted")
	} else if se, ok := err.(*definition.SyntaxError); !ok || se.Pos.Line < 1 {
		t.Errorf("broken YAML: %v, want a positioned *SyntaxError", err)
	}
}

func BenchmarkToAPI(b *testing.B) {
	s, err := ReadFile("testdata/defs/basic.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ToAPI(s.Def, s.Opts).MarshalIndent()
	}
}

func BenchmarkFormat(b *testing.B) {
	data, err := os.ReadFile("testdata/defs/basic.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Format("basic.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
