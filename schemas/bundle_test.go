package schemas

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

func compileBundle(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource("file:///bundle.json", bytes.NewReader(Bundle())); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("file:///bundle.json")
	if err != nil {
		t.Fatalf("bundle does not compile: %v", err)
	}
	return s
}

func decode(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBundleAcceptsSample(t *testing.T) {
	s := compileBundle(t)
	data, err := os.ReadFile(filepath.Join("testdata", "sample-definition.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(decode(t, data)); err != nil {
		t.Fatalf("%#v", err)
	}
}

func TestBundleRejects(t *testing.T) {
	s := compileBundle(t)
	base, err := os.ReadFile(filepath.Join("testdata", "sample-definition.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
		where          string // instance location that must appear in the error
	}{
		{"unknown field", `"stage": "true"`, `"stagee": "true"`, "/objects/5"},
		{"bad period", `"period": "1 day"`, `"period": "1 fortnight"`, "/objects/1/period"},
		{"string for ref", `"runsOn": {"ref": "Worker"}`, `"runsOn": "Worker"`, "/objects/5/runsOn"},
		{"unknown type", `"type": "CSV"`, `"type": "Csv"`, "/objects/4/type"},
		{"field on Default unknown to all types", `"scheduleType": "cron",`, `"scheduleTyp": "cron",`, "/objects/0"},
		{"bad parameter id", `{"id": "myRetries"`, `{"id": "retries"`, "/parameters/1/id"},
		{"value for non-my name", `"myInputPath": "s3`, `"inputPath": "s3`, "/values/inputPath"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(base, []byte(tc.old)) {
				t.Fatalf("fixture lacks %s", tc.old)
			}
			doc := bytes.Replace(base, []byte(tc.old), []byte(tc.new), 1)
			err := s.Validate(decode(t, doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(leafLocations(err.(*jsonschema.ValidationError)), tc.where+" ") {
				t.Errorf("no error at %s:\n%#v", tc.where, err)
			}
		})
	}
}

func leafLocations(ve *jsonschema.ValidationError) string {
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)
	var b strings.Builder
	for _, l := range leaves {
		b.WriteString(l.InstanceLocation + " ")
	}
	return b.String()
}

// TestBundleOnCorpus reports how many corpus files in the file format the
// editor bundle accepts; files it rejects are logged with the first reasons.
func TestBundleOnCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "files")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not present at %s", dir)
	}
	s := compileBundle(t)
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	ok, rejected := 0, 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		var v any
		if json.Unmarshal(data, &v) != nil {
			continue
		}
		if !fileFormat(v) {
			continue // API format or not a definition
		}
		if err := s.Validate(v); err != nil {
			rejected++
			t.Logf("%s: %s", filepath.Base(f), leafLocations(err.(*jsonschema.ValidationError)))
			continue
		}
		ok++
	}
	t.Logf("bundle accepts %d file-format corpus files, rejects %d", ok, rejected)
	if ok == 0 {
		t.Error("bundle accepts no corpus file")
	}
}

// fileFormat reports whether v is a definition in the file format (objects
// without API-style "fields" lists).
func fileFormat(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	objs, ok := m["objects"].([]any)
	if !ok {
		return false
	}
	for _, o := range objs {
		if om, ok := o.(map[string]any); ok && om["fields"] != nil {
			return false
		}
	}
	return true
}
