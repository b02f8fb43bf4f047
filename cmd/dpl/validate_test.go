package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/errcode"
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
	return out.String(), errcode.ExitCode(err)
}

func TestValidateExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"valid", []string{"validate", "../../fixtures/valid/ondemand.json"}, errcode.ExitOK, "0 errors, 0 warnings in 1 file: valid"},
		{"warnings only", []string{"validate", "../../definition/testdata/invalid/limit-retries.json"}, errcode.ExitOK, "LIMIT_EXCEEDED"},
		{"strict turns limits into errors", []string{"validate", "--strict", "../../definition/testdata/invalid/limit-retries.json"}, errcode.ExitFailed, "error: Object \"Greet\""},
		{"errors", []string{"validate", "../../definition/testdata/invalid/missing-ref.json"}, errcode.ExitFailed, "MISSING_REF"},
		{"not JSON", []string{"validate", "../../definition/testdata/invalid/syntax-trailing-comma.json"}, errcode.ExitFailed, "^"},
		{"missing file", []string{"validate", "no/such/file.json"}, errcode.ExitUsage, ""},
		{"bad output", []string{"validate", "-o", "xml", "../../fixtures/valid/ondemand.json"}, errcode.ExitUsage, ""},
		{"bad param", []string{"validate", "--param", "novalue", "../../fixtures/valid/ondemand.json"}, errcode.ExitUsage, ""},
		{"undeclared param", []string{"validate", "--param", "myNope=1", "../../fixtures/valid/parameters.json"}, errcode.ExitUsage, ""},
		{"param override", []string{"validate", "--param", "myPeriod=2 days", "../../fixtures/valid/parameters.json"}, errcode.ExitFailed, "allowedValues"},
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
	if code != errcode.ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, errcode.ExitFailed, out)
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
	if code != errcode.ExitFailed || !strings.Contains(out, `"version": "2.1.0"`) {
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
