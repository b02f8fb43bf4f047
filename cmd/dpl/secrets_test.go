package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLIAll executes the root command and returns stdout and stderr
// together: a secret must appear in neither.
func runCLIAll(t *testing.T, args ...string) string {
	t.Helper()
	resetFlags(rootCmd)
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	if err := rootCmd.Execute(); err != nil {
		out.WriteString(err.Error())
	}
	return out.String()
}

// TestSecretsNeverPrinted grep-checks what validate (text, json, sarif;
// also with a syntax error on the secret's line), plan (text, json) and
// eval print for the values of `*` fields and `*` parameters, also when a
// secret parameter is expanded into an ordinary field.
func TestSecretsNeverPrinted(t *testing.T) {
	secrets := []string{"hunter2pw", "defaultpw77", "flagpw99", "valuespw55"}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "CASCADE"},
  {"id": "Db", "type": "JdbcDatabase", "connectionString": "jdbc:sqlite:x", "jdbcDriverClass": "x", "username": "u", "*password": "hunter2pw"},
  {"id": "Login", "type": "ShellCommandActivity", "workerGroup": "wg", "command": "login --pw=#{*myPw} --other=#{*myOther}",
   "myNote": "pw #{myPw}"}],
 "parameters": [{"id": "*myPw", "type": "String", "default": "defaultpw77"}, {"id": "*myOther", "type": "Integer"}],
 "values": {"*myOther": "valuespw55"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"objects": [
  {"id": "Default", "scheduleType": "ondemand"},
  {"id": "Db", "type": "JdbcDatabase", "*password": "hunter2pw" "username": "u"}],
 "parameters": [{"id": "*myPw", "default": "defaultpw77"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	brokenParam := filepath.Join(dir, "broken-param.json")
	if err := os.WriteFile(brokenParam, []byte(`{"objects": [{"id": "Default", "scheduleType": "ondemand"}],
 "parameters": [{"id": "*myPw", "default": "defaultpw77",, "type": "String"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var runs [][]string
	for _, f := range []string{good, broken, brokenParam} {
		for _, o := range []string{"text", "json", "sarif"} {
			runs = append(runs, []string{"validate", "--output", o, f})
		}
	}
	runs = append(runs,
		[]string{"validate", "--param", "*myPw=flagpw99", good},
		[]string{"plan", good},
		[]string{"plan", "--output", "json", good},
		[]string{"plan", "--output", "json", "--param", "*myPw=flagpw99", good},
		[]string{"eval", "--file", good, "--object", "Login", "#{command} #{myNote} #{*password}"},
		[]string{"eval", "--file", good, "--object", "Db", "--param", "*myPw=flagpw99", "#{*password} #{myPw}"},
	)
	for _, args := range runs {
		out := runCLIAll(t, args...)
		if out == "" {
			t.Errorf("dpl %s printed nothing; the check would be empty", strings.Join(args, " "))
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("dpl %s printed the secret %q:\n%s", strings.Join(args, " "), s, out)
			}
		}
	}
}
