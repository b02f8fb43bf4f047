package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/errcode"
)

// TestPlanParamFile: plan takes --param-file like run and validate, and
// --param wins over it.
func TestPlanParamFile(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join(dir, "p.json")
	vals := filepath.Join(dir, "values.json")
	if err := os.WriteFile(def, []byte(`{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE"},
  {"id": "Greet", "type": "ShellCommandActivity", "workerGroup": "wg", "command": "echo #{myName} #{myTimes}"}],
 "parameters": [{"id": "myName", "type": "String"}, {"id": "myTimes", "type": "Integer"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vals, []byte(`{"values": {"myName": "from-file", "myTimes": "2"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--output", "json", "--param-file", vals, def}, `"command": "echo from-file 2"`},
		{[]string{"plan", "--output", "json", "--param-file", vals, "--param", "myName=flag", def}, `"command": "echo flag 2"`},
	} {
		out, code := runCLI(t, tc.args...)
		if code != errcode.ExitOK || !strings.Contains(out, tc.want) {
			t.Errorf("dpl %s: exit %d, want %s in:\n%s", strings.Join(tc.args, " "), code, tc.want, out)
		}
	}
}
