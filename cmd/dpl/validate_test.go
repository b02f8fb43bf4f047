package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runCLI executes the root command and returns stdout and the exit code
// main would use.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	resetFlags(rootCmd)
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&bytes.Buffer{})
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	err := rootCmd.Execute()
	code := exitOK
	if err != nil {
		code = exitUsage
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), code
}

func TestValidateExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"valid", []string{"validate", "../../fixtures/valid/ondemand.json"}, exitOK, "0 errors, 0 warnings in 1 file: valid"},
		{"warnings only", []string{"validate", "../../definition/testdata/invalid/limit-retries.json"}, exitOK, "LIMIT_EXCEEDED"},
		{"strict turns limits into errors", []string{"validate", "--strict", "../../definition/testdata/invalid/limit-retries.json"}, exitFailed, "error: Object \"Greet\""},
		{"errors", []string{"validate", "../../definition/testdata/invalid/missing-ref.json"}, exitFailed, "MISSING_REF"},
		{"not JSON", []string{"validate", "../../definition/testdata/invalid/syntax-trailing-comma.json"}, exitFailed, "^"},
		{"missing file", []string{"validate", "no/such/file.json"}, exitUsage, ""},
		{"bad output", []string{"validate", "-o", "xml", "../../fixtures/valid/ondemand.json"}, exitUsage, ""},
		{"bad param", []string{"validate", "--param", "novalue", "../../fixtures/valid/ondemand.json"}, exitUsage, ""},
		{"undeclared param", []string{"validate", "--param", "myNope=1", "../../fixtures/valid/parameters.json"}, exitUsage, ""},
		{"param override", []string{"validate", "--param", "myPeriod=2 days", "../../fixtures/valid/parameters.json"}, exitFailed, "allowedValues"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := runCLI(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, c.code, out)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("output lacks %q:\n%s", c.want, out)
			}
		})
	}
}

func TestValidateParamFileAndJSON(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "values.json")
	if err := os.WriteFile(pf, []byte(`{"values": {"myRetries": "many", "myBuckets": ["a", "b"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runCLI(t, "validate", "-o", "json", "--param-file", pf, "../../fixtures/valid/parameters.json")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, exitFailed, out)
	}
	var rep struct {
		File             string `json:"file"`
		Errored          bool   `json:"errored"`
		ValidationErrors []struct {
			ID string `json:"id"`
		} `json:"validationErrors"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	if !rep.Errored || len(rep.ValidationErrors) != 1 || rep.ValidationErrors[0].ID != "myRetries" {
		t.Errorf("want one error filed under myRetries: %+v", rep)
	}
	out, _ = runCLI(t, "validate", "-o", "json", "../../fixtures/valid/")
	var many []map[string]any
	if err := json.Unmarshal([]byte(out), &many); err != nil || len(many) < 9 {
		t.Fatalf("a directory gives an array of documents: %v (%d)", err, len(many))
	}
	for _, doc := range many {
		if doc["file"] == "" || doc["errored"] != false {
			t.Errorf("bad document %v", doc)
		}
	}
	out, code = runCLI(t, "validate", "-o", "sarif", "../../definition/testdata/invalid/missing-ref.json")
	if code != exitFailed || !strings.Contains(out, `"version": "2.1.0"`) {
		t.Errorf("sarif: exit %d\n%s", code, out)
	}
}

// resetFlags restores every flag to its default: cobra keeps flag values
// between Execute calls, and string arrays would accumulate.
func resetFlags(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	})
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}
