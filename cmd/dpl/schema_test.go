package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/errcode"
	"github.com/dpl-dev/dpl/schemas"
)

func runSchema(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newSchemaCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestSchemaCommand(t *testing.T) {
	out, err := runSchema(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range schemas.TypeNames() {
		if !strings.Contains(out, "  "+name+" ") {
			t.Errorf("list lacks %s", name)
		}
	}
	if !strings.Contains(out, "Data nodes:") || !strings.Contains(out, "(deprecated: use SqlDataNode)") {
		t.Errorf("list:\n%s", out)
	}

	out, err = runSchema(t, "Schedule")
	want, _ := schemas.Schema("Schedule")
	if err != nil || out != string(want) {
		t.Errorf("dpl schema Schedule: %v\n%s", err, out)
	}

	_, err = runSchema(t, "Shedule")
	if errcode.ExitCode(err) != errcode.ExitUsage || !strings.Contains(err.Error(), `did you mean "Schedule"`) {
		t.Errorf("unknown type: %v", err)
	}

	path := filepath.Join(t.TempDir(), "bundle.json")
	if _, err := runSchema(t, "--bundle", "-o", path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || doc["title"] != "AWS Data Pipeline definition" {
		t.Errorf("bundle: %v %v", err, doc["title"])
	}

	if _, err := runSchema(t, "--bundle", "Schedule"); errcode.ExitCode(err) != errcode.ExitUsage {
		t.Errorf("--bundle with TYPE: %v", err)
	}
	out, err = runSchema(t, "--catalog")
	if err != nil || !strings.Contains(out, `"family": "activity"`) {
		t.Errorf("--catalog: %v", err)
	}
}
