package activity

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// obj builds a task object from alternating key, value pairs; values
// starting with "ref:" become refs.
func obj(id string, kv ...string) *task.Object {
	o := &task.Object{ID: id, Name: id}
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if ref, ok := strings.CutPrefix(v, "ref:"); ok {
			o.Fields = append(o.Fields, task.Field{Key: kv[i], RefValue: &ref})
		} else {
			o.Fields = append(o.Fields, task.Field{Key: kv[i], StringValue: &v})
		}
	}
	return o
}

func newTask(attempt *task.Object, others ...*task.Object) *task.Task {
	t := &task.Task{TaskID: "t1", PipelineID: "df-test", AttemptID: attempt.ID, Objects: map[string]*task.Object{attempt.ID: attempt}}
	for _, o := range others {
		t.Objects[o.ID] = o
	}
	return t
}

func newRunner(t *testing.T) (*Runner, *objstore.Local) {
	t.Helper()
	root := t.TempDir()
	store, err := objstore.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return New(Options{Root: root, Store: store, KillGrace: 200 * time.Millisecond}), store
}

func run(t *testing.T, r *Runner, tk *task.Task) (task.Result, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	res := r.Run(context.Background(), tk, task.Logs{Stdout: &out, Stderr: &errb})
	return res, out.String(), errb.String()
}

func TestShellCommandActivity(t *testing.T) {
	cases := []struct {
		name       string
		fields     []string
		wantStatus task.Status
		wantOut    string
		wantErr    string
	}{
		{"echo", []string{"command", "echo hello"}, task.Finished, "hello\n", ""},
		{"arguments are positional", []string{"command", `printf '%s|' "$1" "$2" "$3"`, "scriptArgument", "a b", "scriptArgument", `it's "quoted"`, "scriptArgument", "$HOME"},
			task.Finished, `a b|it's "quoted"|$HOME|`, ""},
		{"exit status", []string{"command", "echo boom >&2; exit 3"}, task.Failed, "", "command exited with status 3: boom"},
		{"env from options", []string{"command", "echo $DPL_TEST_VAR"}, task.Finished, "from-options\n", ""},
		{"neither command nor script", []string{"stage", "false"}, task.Failed, "", "neither command nor scriptUri"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := newRunner(t)
			r.opts.Env = []string{"DPL_TEST_VAR=from-options"}
			a := obj("@Act_2024-01-01T00:00:00_Attempt=1", append([]string{"type", "ShellCommandActivity"}, c.fields...)...)
			res, out, _ := run(t, r, newTask(a))
			if res.Status != c.wantStatus {
				t.Fatalf("status = %s (%s), want %s", res.Status, res.ErrorMessage, c.wantStatus)
			}
			if c.wantOut != "" && out != c.wantOut {
				t.Errorf("stdout = %q, want %q", out, c.wantOut)
			}
			if !strings.Contains(res.ErrorMessage, c.wantErr) {
				t.Errorf("error = %q, want it to contain %q", res.ErrorMessage, c.wantErr)
			}
		})
	}
}

func TestShellStdoutFieldAppends(t *testing.T) {
	r, store := newRunner(t)
	local := filepath.Join(t.TempDir(), "logs", "out.txt")
	for i := 1; i <= 2; i++ {
		a := obj("@A_2024_Attempt="+strconv.Itoa(i), "type", "ShellCommandActivity", "command", "echo run"+strconv.Itoa(i)+"; echo err >&2",
			"stdout", local, "stderr", "s3://logs/err.txt")
		if res, _, _ := run(t, r, newTask(a)); res.Status != task.Finished {
			t.Fatalf("attempt %d: %s %s", i, res.Status, res.ErrorMessage)
		}
	}
	got, _ := os.ReadFile(local)
	if string(got) != "run1\nrun2\n" {
		t.Errorf("stdout file = %q, want both attempts appended", got)
	}
	rc, err := store.Open(context.Background(), "s3://logs/err.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if string(b) != "err\n" {
		t.Errorf("s3 stderr = %q", b)
	}
}

func TestCancelKillsProcessGroup(t *testing.T) {
	r, _ := newRunner(t)
	pidFile := filepath.Join(t.TempDir(), "pids")
	// The command leaves a grandchild that ignores SIGTERM.
	cmd := `sh -c 'trap "" TERM; sleep 1000' & echo $! > ` + pidFile + `; sleep 1000`
	a := obj("@Slow_Attempt=1", "type", "ShellCommandActivity", "command", cmd)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := r.Run(ctx, newTask(a), task.Logs{Stdout: io.Discard, Stderr: io.Discard})
	if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, "stopped") {
		t.Fatalf("got %s %q, want FAILED stopped", res.Status, res.ErrorMessage)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel took %s", time.Since(start))
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still alive after cancel", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShellPrecondition(t *testing.T) {
	r, _ := newRunner(t)
	for cmd, want := range map[string]task.Status{"true": task.Finished, "exit 1": task.False} {
		a := obj("@Ready_Attempt=1", "type", "ShellCommandPrecondition", "command", cmd)
		if res, _, _ := run(t, r, newTask(a)); res.Status != want {
			t.Errorf("%q: status %s, want %s", cmd, res.Status, want)
		}
	}
}

func put(t *testing.T, s objstore.Store, uri, body string) {
	t.Helper()
	w, err := s.Create(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestS3Preconditions(t *testing.T) {
	r, store := newRunner(t)
	put(t, store, "s3://bucket/in/data.csv", "a,b\n")
	cases := []struct {
		typ, key, val string
		want          task.Status
	}{
		{"S3KeyExists", "s3Key", "s3://bucket/in/data.csv", task.Finished},
		{"S3KeyExists", "s3Key", "s3://bucket/in/missing.csv", task.False},
		{"S3PrefixNotEmpty", "s3Prefix", "s3://bucket/in/", task.Finished},
		{"S3PrefixNotEmpty", "s3Prefix", "s3://bucket/out/", task.False},
	}
	for _, c := range cases {
		a := obj("@P_Attempt=1", "type", c.typ, c.key, c.val)
		if res, _, _ := run(t, r, newTask(a)); res.Status != c.want {
			t.Errorf("%s %s: %s (%s), want %s", c.typ, c.val, res.Status, res.ErrorMessage, c.want)
		}
	}
	node := obj("@In_2024", "type", "S3DataNode", "directoryPath", "s3://bucket/in")
	a := obj("@E_Attempt=1", "type", "Exists", "node", "ref:@In_2024")
	if res, _, _ := run(t, r, newTask(a, node)); res.Status != task.Finished {
		t.Errorf("Exists on a filled directory: %s %s", res.Status, res.ErrorMessage)
	}
}

func TestStagingRoundTrip(t *testing.T) {
	r, store := newRunner(t)
	put(t, store, "s3://bucket/in/a.txt", "hello\n")
	put(t, store, "s3://bucket/in/sub/b.txt", "world\n")
	in := obj("@In_2024", "type", "S3DataNode", "directoryPath", "s3://bucket/in")
	out := obj("@Out_2024", "type", "S3DataNode", "directoryPath", "s3://bucket/out")
	a := obj("@Copy_Attempt=1", "type", "ShellCommandActivity", "stage", "true",
		"input", "ref:@In_2024", "output", "ref:@Out_2024",
		"command", `cat ${INPUT1_STAGING_DIR}/a.txt ${INPUT1_STAGING_DIR}/sub/b.txt > ${OUTPUT1_STAGING_DIR}/joined.txt`)
	if res, _, errs := run(t, r, newTask(a, in, out)); res.Status != task.Finished {
		t.Fatalf("%s %s %s", res.Status, res.ErrorMessage, errs)
	}
	rc, err := store.Open(context.Background(), "s3://bucket/out/joined.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if string(b) != "hello\nworld\n" {
		t.Errorf("output = %q", b)
	}
}

func TestUnsupportedTypesFailLoudly(t *testing.T) {
	r, _ := newRunner(t)
	a := obj("@Ddb_Attempt=1", "type", "DynamoDBTableExists", "tableName", "t")
	res, _, stderr := run(t, r, newTask(a))
	if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, "--backend aws") || !strings.Contains(stderr, "not supported") {
		t.Errorf("got %s %q %q", res.Status, res.ErrorMessage, stderr)
	}
	res, _, _ = run(t, r, newTask(obj("@Hive_Attempt=1", "type", "HiveActivity")))
	if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, "needs hiveScript or scriptUri") || res.ErrorID != task.ErrorIDInvalidTask {
		t.Errorf("HiveActivity without a script: %s %s %q", res.Status, res.ErrorID, res.ErrorMessage)
	}
	res, _, _ = run(t, r, newTask(obj("@X_Attempt=1", "type", "Nope")))
	if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, `"Nope"`) {
		t.Errorf("unknown type: %s %q", res.Status, res.ErrorMessage)
	}
}

func BenchmarkShellTrue(b *testing.B) {
	root := b.TempDir()
	r := New(Options{Root: root})
	a := obj("@T_Attempt=1", "type", "ShellCommandActivity", "command", "true")
	tk := newTask(a)
	logs := task.Logs{Stdout: io.Discard, Stderr: io.Discard}
	for b.Loop() {
		if res := r.Run(context.Background(), tk, logs); res.Status != task.Finished {
			b.Fatal(res.ErrorMessage)
		}
	}
}

func TestBashSyntaxHintAndShellOption(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("SKIPPING: bash is not installed")
	}
	cmd := `a=hello; echo ${a/hello/bye}; [[ -n "$a" ]] && echo ok`
	r, _ := newRunner(t)
	res, _, _ := run(t, r, newTask(obj("@B_Attempt=1", "type", "ShellCommandActivity", "command", cmd)))
	if sh, _ := os.Readlink("/bin/sh"); strings.Contains(sh, "dash") {
		if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, "DPL_SHELL=bash") {
			t.Errorf("under dash: %s %q, want a DPL_SHELL=bash hint", res.Status, res.ErrorMessage)
		}
	}
	r.opts.Shell = "bash"
	res, out, _ := run(t, r, newTask(obj("@B_Attempt=2", "type", "ShellCommandActivity", "command", cmd)))
	if res.Status != task.Finished || out != "bye\nok\n" {
		t.Errorf("with bash: %s %q %q", res.Status, res.ErrorMessage, out)
	}
}

// TestScriptUriGetsScriptArguments: a script fetched from scriptUri gets
// scriptArgument as $1…$n exactly like command, for activities and
// preconditions, with and without staging.
func TestScriptUriGetsScriptArguments(t *testing.T) {
	script := `printf '%s|' "$#" "$1" "$2" "$3"` + "\n" + `[ -n "$OUTPUT1_STAGING_DIR" ] && echo staged > "$OUTPUT1_STAGING_DIR/flag"; exit 0` + "\n"
	cases := []struct {
		name, typ string
		stage     bool
		want      task.Status
	}{
		{"activity", "ShellCommandActivity", false, task.Finished},
		{"activity with stage", "ShellCommandActivity", true, task.Finished},
		{"precondition", "ShellCommandPrecondition", false, task.Finished},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, store := newRunner(t)
			put(t, store, "s3://bucket/scripts/run.sh", script)
			fields := []string{"type", c.typ, "scriptUri", "s3://bucket/scripts/run.sh",
				"scriptArgument", "two words", "scriptArgument", "--date=2024-01-01", "scriptArgument", "$HOME"}
			var others []*task.Object
			if c.stage {
				fields = append(fields, "stage", "true", "output", "ref:@Out_2024")
				others = append(others, obj("@Out_2024", "type", "S3DataNode", "directoryPath", "s3://bucket/out"))
			}
			res, out, errs := run(t, r, newTask(obj("@S_Attempt=1", fields...), others...))
			if res.Status != c.want {
				t.Fatalf("status %s (%s), want %s", res.Status, res.ErrorMessage, c.want)
			}
			if want := `3|two words|--date=2024-01-01|$HOME|`; out != want {
				t.Errorf("script saw %q, want %q", out, want)
			}
			if strings.Contains(errs, "ignored") {
				t.Errorf("stderr still warns the arguments are ignored: %q", errs)
			}
			if c.stage {
				if _, err := store.Stat(context.Background(), "s3://bucket/out/flag"); err != nil {
					t.Errorf("staged output of a scriptUri activity not uploaded: %v", err)
				}
			}
		})
	}
}

// TestPermanentFailureIDs: failures no retry can fix carry the error ids
// the engine does not retry; an ordinary non-zero exit does not.
func TestPermanentFailureIDs(t *testing.T) {
	cases := []struct {
		name      string
		fields    []string
		permanent bool
	}{
		{"missing program", []string{"type", "ShellCommandActivity", "command", "dpl-no-such-program-4711 --flag"}, true},
		{"exit 127 without a missing program", []string{"type", "ShellCommandActivity", "command", "exit 127"}, false},
		{"ordinary failure", []string{"type", "ShellCommandActivity", "command", "echo no >&2; exit 1"}, false},
		{"unsupported type", []string{"type", "PigActivity"}, true},
		{"no command", []string{"type", "ShellCommandActivity"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := newRunner(t)
			res, _, _ := run(t, r, newTask(obj("@P_Attempt=1", c.fields...)))
			if res.Status != task.Failed {
				t.Fatalf("status %s, want FAILED", res.Status)
			}
			if got := task.Permanent(res.ErrorID); got != c.permanent {
				t.Errorf("errorId %q (%s): permanent %v, want %v", res.ErrorID, res.ErrorMessage, got, c.permanent)
			}
		})
	}
	r, _ := newRunner(t)
	r.opts.Shell, r.shellName, r.shellPath = "dpl-no-such-shell", "dpl-no-such-shell", ""
	res, _, _ := run(t, r, newTask(obj("@P_Attempt=1", "type", "ShellCommandActivity", "command", "true")))
	if !task.Permanent(res.ErrorID) || !strings.Contains(res.ErrorMessage, "dpl-no-such-shell") {
		t.Errorf("missing shell: %s %q %q, want a permanent failure naming it", res.Status, res.ErrorID, res.ErrorMessage)
	}
}
