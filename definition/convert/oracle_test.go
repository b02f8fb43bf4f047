package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

// The oracle script runs the AWS CLI v1's own translator. It reads a JSON
// request {"mode": "to_api"|"to_file", "paths": [...]} or {"docs": [...]}
// and answers one result per input: {"out": ...} or {"error": "..."}.
const oracleScript = `
import json, sys
import awscli.customizations.datapipeline.translator as t
req = json.load(sys.stdin)
out = []
def to_api(d):
    r = {"pipelineObjects": t.definition_to_api_objects(d)}
    p = t.definition_to_api_parameters(d)
    if p is not None:
        r["parameterObjects"] = p
    v = t.definition_to_parameter_values(d)
    if v is not None:
        r["parameterValues"] = v
    return r
for item in req["items"]:
    try:
        if req["mode"] == "to_api":
            with open(item, encoding="utf-8") as f:
                d = json.load(f)
            r = to_api(d)
        else:
            r = t.api_to_definition(item)
        out.append({"out": r, "text": json.dumps(r, indent=2, ensure_ascii=False) + "\n"})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`

type oracleResult struct {
	Out   json.RawMessage `json:"out"`
	Text  string          `json:"text"` // json.dumps(out, indent=2, ensure_ascii=False)
	Error string          `json:"error"`
}

// runOracle runs the CLI translator over items, skipping the test loudly
// when python3 or the awscli module is missing.
func runOracle(t *testing.T, mode string, items any) []oracleResult {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIP: python3 not found; the AWS CLI translator oracle cannot run")
	}
	if out, err := exec.Command(py, "-c", "import awscli.customizations.datapipeline.translator").CombinedOutput(); err != nil {
		t.Skipf("SKIP: python3 cannot import awscli.customizations.datapipeline.translator (AWS CLI v1 missing): %v\n%s", err, out)
	}
	req, err := json.Marshal(map[string]any{"mode": mode, "items": items})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", oracleScript)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle failed: %v\n%s", err, stderr.String())
	}
	var res []oracleResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	return res
}

// sameJSON compares two JSON documents structurally (array order matters,
// object key order does not) and returns a description of the first
// difference.
func sameJSON(a, b []byte) (bool, string) {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return false, "left: " + err.Error()
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return false, "right: " + err.Error()
	}
	if reflect.DeepEqual(va, vb) {
		return true, ""
	}
	return false, firstDiff("$", va, vb)
}

func firstDiff(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object vs %T", path, b)
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			if !reflect.DeepEqual(x[k], y[k]) {
				return firstDiff(path+"."+k, x[k], y[k])
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok {
			return fmt.Sprintf("%s: array vs %T", path, b)
		}
		for i := range min(len(x), len(y)) {
			if !reflect.DeepEqual(x[i], y[i]) {
				return firstDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i])
			}
		}
		if len(x) != len(y) {
			return fmt.Sprintf("%s: %d elements vs %d", path, len(x), len(y))
		}
	}
	return fmt.Sprintf("%s: %v vs %v", path, a, b)
}

// parseClean parses a corpus file, returning nil (and the reason) when
// dpl's reader reports errors: those files do not "parse" for the oracle.
func parseClean(t *testing.T, path string) (*Source, string) {
	t.Helper()
	s, err := ReadFile(path)
	if err != nil {
		return nil, err.Error()
	}
	if err := CheckLossless(s.Def); err != nil {
		return nil, err.Error()
	}
	return s, ""
}

func rel(path string) string {
	if r, err := filepath.Rel(corpusDirNoSkip(), path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

func corpusDirNoSkip() string {
	for _, d := range []string{os.Getenv("DPL_CORPUS"), "../../../shared/corpus/files", "/work/shared/corpus/files"} {
		if d != "" {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return d
			}
		}
	}
	return ""
}

// oracleInputs lists the fixtures and, when present, the corpus files.
func oracleInputs(t *testing.T) (files []string, fixtures int) {
	t.Helper()
	fx, err := filepath.Glob("testdata/defs/*.json")
	if err != nil || len(fx) == 0 {
		t.Fatalf("no fixtures in testdata/defs: %v", err)
	}
	if dir := corpusDirNoSkip(); dir != "" {
		files, err = definition.ExpandPaths([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("NOTE: corpus of real definitions not found (set DPL_CORPUS); comparing fixtures only")
	}
	return append(fx, files...), len(fx)
}

// TestOracleFileToAPI: dpl's file -> API translation equals the AWS CLI's
// for every fixture and corpus file both can read, structurally and byte
// for byte against json.dumps(indent=2, ensure_ascii=False).
func TestOracleFileToAPI(t *testing.T) {
	files, nfx := oracleInputs(t)
	res := runOracle(t, "to_api", files)
	compared, fixtures, cliRejects, dplRejects, notFile := 0, 0, 0, 0, 0
	for i, path := range files {
		s, why := parseClean(t, path)
		r := res[i]
		if s != nil && s.Def.Format != definition.FormatFile {
			// API-shaped input. Under "objects" the CLI would send each
			// member's "fields" list as a stringValue (which the service
			// rejects); dpl reads them as the API objects they are.
			notFile++
			t.Logf("not compared: %s is %s-shaped", rel(path), s.Def.Format)
			continue
		}
		switch {
		case r.Error != "" && s == nil:
			cliRejects++
			dplRejects++
			t.Logf("both reject %s (cli: %s)", rel(path), firstLine(r.Error))
			continue
		case r.Error != "":
			cliRejects++
			t.Errorf("%s: the CLI rejects it (%s) but dpl converts it", rel(path), r.Error)
			continue
		case s == nil:
			dplRejects++
			t.Errorf("%s: the CLI translates it but dpl refuses: %s", rel(path), why)
			continue
		}
		compared++
		if i < nfx {
			fixtures++
		}
		got := ToAPI(s.Def, s.Opts).MarshalIndent()
		if ok, diff := sameJSON(got, r.Out); !ok {
			t.Errorf("%s: file -> API differs from the CLI translator: %s", rel(path), diff)
		} else if string(got) != r.Text {
			t.Errorf("%s: file -> API has the CLI's content but not json.dumps(indent=2) layout:\n%s", rel(path), lineDiff(string(got), r.Text))
		}
	}
	t.Logf("file -> API: %d files (%d fixtures + %d corpus) compared with the CLI translator; %d rejected by the CLI, %d rejected by dpl, %d API-shaped not compared", compared, fixtures, compared-fixtures, cliRejects, dplRejects, notFile)
	if compared == 0 {
		t.Fatal("no corpus file could be compared")
	}
}

// TestOracleAPIToFile: for each corpus file, the CLI's own API form is
// translated back by both the CLI (api_to_definition) and dpl; the results
// must be equal.
func TestOracleAPIToFile(t *testing.T) {
	files, nfx := oracleInputs(t)
	apiRes := runOracle(t, "to_api", files)
	// Inputs: the CLI's own API form of every file-format input, and the
	// API-format inputs as they are.
	var docs []json.RawMessage
	var names []string
	fixtures := 0
	for i, r := range apiRes {
		s, _ := parseClean(t, files[i])
		if s == nil {
			continue
		}
		switch {
		case s.Def.Format == definition.FormatAPI && s.Def.Objects != nil && s.Raw.Get("pipelineObjects") != nil:
			raw, err := os.ReadFile(files[i])
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, raw)
		case s.Def.Format == definition.FormatFile && r.Error == "":
			docs = append(docs, r.Out)
		default:
			continue
		}
		names = append(names, files[i])
		if i < nfx {
			fixtures++
		}
	}
	back := runOracle(t, "to_file", docs)
	compared := 0
	for i, doc := range docs {
		if back[i].Error != "" {
			t.Errorf("%s: CLI reverse translation failed: %s", rel(names[i]), back[i].Error)
			continue
		}
		s, err := Read(names[i]+" (api)", doc)
		if err != nil {
			t.Errorf("%s: dpl cannot read the CLI's API form: %v", rel(names[i]), err)
			continue
		}
		if err := CheckLossless(s.Def); err != nil {
			t.Errorf("%s: dpl reports errors in the CLI's API form: %v", rel(names[i]), err)
			continue
		}
		compared++
		got := ToFile(s.Def, s.Opts).MarshalIndent()
		if ok, diff := sameJSON(got, back[i].Out); !ok {
			t.Errorf("%s: API -> file differs from the CLI's api_to_definition: %s", rel(names[i]), diff)
		} else if string(got) != back[i].Text {
			t.Errorf("%s: API -> file has the CLI's content but not its layout:\n%s", rel(names[i]), lineDiff(string(got), back[i].Text))
		}
	}
	t.Logf("API -> file: %d files (%d fixtures + %d corpus) compared with the CLI's reverse translation", compared, fixtures, compared-fixtures)
	if compared == 0 {
		t.Fatal("no corpus file could be compared")
	}
}

// lineDiff shows the first differing line of two texts.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  dpl: %q\n  cli: %q", i+1, x, y)
		}
	}
	return "(equal)"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
