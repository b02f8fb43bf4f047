package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsNeverShown runs a definition with a `*` field and a `*`
// parameter through every command and greps every output and every file
// dpl writes in the state folder for the secret values: zero hits. The
// command echoes the parameter to stderr and fails, so the value reaches
// an error message, events, the summary and an onFail alarm too.
func TestSecretsNeverShown(t *testing.T) {
	bin := dplBinary(t)
	const fieldSecret, paramSecret = "fld-S3cr3t-7f41", "prm-S3cr3t-9b22"
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	def := filepath.Join(dir, "p.json")
	src := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg","maximumRetries":"0"},
 {"id":"Db","name":"Db","type":"JdbcDatabase","connectionString":"jdbc:sqlite:x.db","jdbcDriverClass":"org.sqlite.JDBC","username":"u","*password":"` + fieldSecret + `"},
 {"id":"A","name":"A","type":"ShellCommandActivity","command":"echo token=#{*myToken} >&2; exit 3","onFail":{"ref":"Alarm"}},
 {"id":"Alarm","name":"Alarm","type":"SnsAlarm","topicArn":"arn:aws:sns:us-east-1:1:t","subject":"failed","message":"#{node.errorMessage}","role":"DataPipelineDefaultRole"}
],
 "parameters":[{"id":"*myToken","type":"String"}],
 "values":{"*myToken":"` + paramSecret + `"}}`
	os.WriteFile(def, []byte(src), 0o644)

	outputs := map[string][]byte{}
	runCmd := func(name string, args ...string) {
		out, _ := exec.Command(bin, args...).CombinedOutput()
		outputs[name] = out
	}
	for _, f := range []string{"text", "json", "sarif"} {
		runCmd("validate "+f, "validate", "--output", f, def)
	}
	runCmd("plan text", "plan", def)
	runCmd("plan json", "plan", "--output", "json", def)
	runCmd("run text", "run", "--headless", "--state-dir", state, def)
	runCmd("run jsonl", "run", "--headless", "--fresh", "--output", "jsonl", "--state-dir", state, def)
	runCmd("events text", "events", "--state-dir", state)
	runCmd("events jsonl", "events", "--output", "jsonl", "--state-dir", state)
	runCmd("runs text", "runs", "--state-dir", state)
	runCmd("runs json", "runs", "--output", "json", "--state-dir", state)
	if !bytes.Contains(outputs["run text"], []byte("token=")) {
		t.Fatalf("the failing command's stderr did not reach the run's output, so the test proves nothing:\n%s", outputs["run text"])
	}
	for name, out := range outputs {
		for _, s := range []string{fieldSecret, paramSecret} {
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("%s shows the secret %q:\n%s", name, s, out)
			}
		}
	}
	// Every file dpl wrote in the state folder (store, events, outbox,
	// logs written by dpl). Attempt logs hold the command's own output.
	files := 0
	filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if err == nil && d.IsDir() && p == state {
				if st, _ := os.Stat(p); st.Mode().Perm()&0o077 != 0 {
					t.Errorf("state folder mode %v, want 0700", st.Mode().Perm())
				}
			}
			return nil
		}
		rel, _ := filepath.Rel(state, p)
		if strings.HasPrefix(rel, "logs"+string(filepath.Separator)) {
			return nil
		}
		files++
		b, _ := os.ReadFile(p)
		for _, s := range []string{fieldSecret, paramSecret} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("state file %s holds the secret %q in clear", rel, s)
			}
		}
		return nil
	})
	if files < 5 {
		t.Errorf("only %d state files checked", files)
	}
}

// TestSecretsNeverShownInSyntaxErrors: validate's caret excerpt of a
// syntax error on a secret's line masks the value, in every format.
func TestSecretsNeverShownInSyntaxErrors(t *testing.T) {
	bin := dplBinary(t)
	const secret = "fld-S3cr3t-7f41"
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte(`{"objects":[
 {"id":"Db","name":"Db","type":"JdbcDatabase","connectionString":"jdbc:sqlite:x.db","*password":"`+secret+`" oops}]}`), 0o644)
	// A template whose broken line is an inline flow map holding the
	// secret (the value is not on a `*` key's own line).
	brokenYAML := filepath.Join(dir, "broken.yaml")
	os.WriteFile(brokenYAML, []byte("Resources:\n  P:\n    Type: AWS::DataPipeline::Pipeline\n    Properties:\n      PipelineObjects:\n        - Id: Db\n"+
		"          Fields: [{Key: type, StringValue: JdbcDatabase}, {Key: \"*password\", StringValue: "+secret+"}] x: y\n"), 0o644)
	for _, file := range []string{broken, brokenYAML} {
		for _, f := range []string{"text", "json", "sarif"} {
			out, _ := exec.Command(bin, "validate", "--output", f, file).CombinedOutput()
			if !bytes.Contains(bytes.ToLower(out), []byte("syntax")) && !bytes.Contains(out, []byte("invalid YAML")) {
				t.Fatalf("%s %s: no syntax error reported:\n%s", filepath.Base(file), f, out)
			}
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("validate --output %s %s shows the secret in its excerpt:\n%s", f, filepath.Base(file), out)
			}
		}
	}
}
