package endpoint_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition/validate"
	"github.com/dpl-dev/dpl/executor/endpoint"
)

// cli runs the real AWS CLI against the harness.
type cli struct {
	t   *testing.T
	h   *harness
	bin string
}

func newCLI(t *testing.T, h *harness) *cli {
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("SKIPPED: the AWS CLI (aws) is not installed; install awscli to run the CLI compatibility tests")
	}
	return &cli{t: t, h: h, bin: bin}
}

// run returns stdout, stderr and whether the command succeeded.
func (c *cli) run(args ...string) (string, string, bool) {
	c.t.Helper()
	args = append([]string{"datapipeline"}, args...)
	args = append(args, "--endpoint-url", c.h.url, "--region", "us-east-1", "--output", "json")
	cmd := exec.Command(c.bin, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_PAGER=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, ok := c.run(args...)
	if !ok {
		c.t.Fatalf("aws datapipeline %s failed:\n%s%s", strings.Join(args, " "), out, errs)
	}
	return out
}

func (c *cli) fails(code string, args ...string) string {
	c.t.Helper()
	out, errs, ok := c.run(args...)
	if ok {
		c.t.Fatalf("aws datapipeline %s succeeded, want %s:\n%s", strings.Join(args, " "), code, out)
	}
	if !strings.Contains(errs, "("+code+")") {
		c.t.Fatalf("aws datapipeline %s: want error %s, got:\n%s", strings.Join(args, " "), code, errs)
	}
	return errs
}

type row struct{ name, start, status string }

// listRuns reads `aws datapipeline list-runs --output json`: the CLI's
// QueryObjects + DescribeObjects client, one object per instance.
func listRuns(out string) []row {
	var objs []map[string]any
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		return nil
	}
	var rows []row
	for _, o := range objs {
		s := func(k string) string { v, _ := o[k].(string); return v }
		rows = append(rows, row{s("@componentParent"), s("@scheduledStartTime"), s("@status")})
	}
	return rows
}

func TestAWSCLI(t *testing.T) {
	h := startServer(t, nil)
	c := newCLI(t, h)
	dp := h.sdk()
	marks := t.TempDir()

	// create-pipeline is idempotent on (name, uniqueId).
	var created struct{ PipelineID string }
	mustJSON(t, c.ok("create-pipeline", "--name", "groups", "--unique-id", "u-1", "--description", "two groups", "--tags", "key=team,value=data"), &created)
	if !regexp.MustCompile(`^df-[A-Z0-9]{19}$`).MatchString(created.PipelineID) {
		t.Fatalf("pipeline id %q is not shaped like df-XXXXXXXXXXXXXXXXXXX", created.PipelineID)
	}
	var again struct{ PipelineID string }
	mustJSON(t, c.ok("create-pipeline", "--name", "groups", "--unique-id", "u-1"), &again)
	if again.PipelineID != created.PipelineID {
		t.Fatalf("same uniqueId gave a new pipeline: %s then %s", created.PipelineID, again.PipelineID)
	}
	id := created.PipelineID

	// put-pipeline-definition with the CLI's file translation and values.
	var put struct {
		Errored            bool
		ValidationErrors   []json.RawMessage
		ValidationWarnings []json.RawMessage
	}
	mustJSON(t, c.ok("put-pipeline-definition", "--pipeline-id", id, "--pipeline-definition", "file://testdata/groups.json",
		"--parameter-values", "myMarkerDir="+marks, "mySleep=2", "myGate="+filepath.Join(marks, "gate")), &put)
	if put.Errored || len(put.ValidationErrors) > 0 {
		t.Fatalf("put: errored=%v errors=%s", put.Errored, put.ValidationErrors)
	}

	// validate-pipeline-definition takes API-shaped objects.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`[{"id":"Default","name":"Default","fields":[{"key":"scheduleType","stringValue":"ondemand"},{"key":"workerGroup","stringValue":"wg"}]},
 {"id":"NoCommand","name":"NoCommand","fields":[{"key":"type","stringValue":"ShellCommandActivity"}]}]`), 0o644)
	var val struct {
		Errored          bool
		ValidationErrors []struct {
			ID     string
			Errors []string
		}
	}
	mustJSON(t, c.ok("validate-pipeline-definition", "--pipeline-id", id, "--pipeline-objects", "file://"+bad), &val)
	if !val.Errored || len(val.ValidationErrors) == 0 || val.ValidationErrors[0].ID != "NoCommand" {
		t.Fatalf("validate of a ShellCommandActivity without command: %+v", val)
	}
	if !strings.Contains(strings.Join(val.ValidationErrors[0].Errors, " "), "command") {
		t.Fatalf("the error does not name the missing field: %v", val.ValidationErrors[0].Errors)
	}
	// Validation stores nothing: the latest definition is still the put one.
	var got struct {
		Objects []struct{ ID string }
		Values  map[string]any
	}
	mustJSON(t, c.ok("get-pipeline-definition", "--pipeline-id", id), &got)
	var ids []string
	for _, o := range got.Objects {
		ids = append(ids, o.ID)
	}
	sort.Strings(ids)
	if strings.Join(ids, ",") != "ActA,ActB,Default,Hourly" || got.Values["myMarkerDir"] != marks {
		t.Fatalf("get-pipeline-definition: objects %v values %v", ids, got.Values)
	}
	// Nothing active yet.
	c.ok("get-pipeline-definition", "--pipeline-id", id, "--version", "active")

	c.ok("activate-pipeline", "--pipeline-id", id)
	if st := h.state(dp, id); st != "SCHEDULED" {
		t.Fatalf("state after activation %s, want SCHEDULED", st)
	}
	h.runner("wg-a", 2)
	h.runner("wg-b", 2)

	// list-runs while it runs shows a RUNNING instance of ActA: ActA waits
	// for the gate file, opened once the row was seen (a CLI call can take
	// longer than a task on a loaded machine).
	var during []row
	waitFor(t, 20*time.Second, "a RUNNING row in list-runs", func() bool {
		during = listRuns(c.ok("list-runs", "--pipeline-id", id))
		for _, r := range during {
			if r.status == "RUNNING" && r.name == "ActA" {
				return true
			}
		}
		return false
	})
	if err := os.WriteFile(filepath.Join(marks, "gate"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the pipeline to finish", func() bool { return h.state(dp, id) == "FINISHED" })
	after := listRuns(c.ok("list-runs", "--pipeline-id", id))
	if len(after) != 6 {
		t.Fatalf("list-runs after the run: %d rows, want 6 (3 ActA + 3 ActB):\n%v", len(after), after)
	}
	for _, r := range after {
		if r.status != "FINISHED" {
			t.Fatalf("row %+v not FINISHED", r)
		}
	}
	for id, n := range counts(doneLines(t, marks)) {
		if n != 1 {
			t.Fatalf("%s ran %d times", id, n)
		}
	}
	if n := len(doneLines(t, marks)); n != 6 {
		t.Fatalf("%d instances completed, want 6", n)
	}

	// query-objects and describe-objects on instances.
	var q struct{ Ids []string }
	mustJSON(t, c.ok("query-objects", "--pipeline-id", id, "--sphere", "INSTANCE", "--objects-query",
		`{"selectors":[{"fieldName":"@componentParent","operator":{"type":"EQ","values":["ActB"]}}]}`), &q)
	if len(q.Ids) != 3 {
		t.Fatalf("query-objects ActB instances: %v", q.Ids)
	}
	var desc struct {
		PipelineObjects []struct {
			ID     string
			Fields []struct{ Key, StringValue string }
		}
	}
	mustJSON(t, c.ok("describe-objects", "--pipeline-id", id, "--object-ids", "@ActA_2024-01-01T00:00:00", "--evaluate-expressions"), &desc)
	fields := map[string]string{}
	for _, f := range desc.PipelineObjects[0].Fields {
		fields[f.Key] = f.StringValue
	}
	if fields["@status"] != "FINISHED" || !strings.Contains(fields["command"], marks) {
		t.Fatalf("describe-objects: %v", fields)
	}

	// evaluate-expression in an instance's context.
	var ev struct{ EvaluatedExpression string }
	mustJSON(t, c.ok("evaluate-expression", "--pipeline-id", id, "--object-id", "@ActA_2024-01-01T01:00:00",
		"--expression", "#{@scheduledStartTime} in #{myMarkerDir}"), &ev)
	if want := "2024-01-01T01:00:00 in " + marks; ev.EvaluatedExpression != want {
		t.Fatalf("evaluate-expression = %q, want %q", ev.EvaluatedExpression, want)
	}

	// set-status RERUN runs one instance again; bad statuses are refused.
	c.fails("InvalidRequestException", "set-status", "--pipeline-id", id, "--object-ids", "@ActA_2024-01-01T01:00:00", "--status", "EXPLODE")
	c.ok("set-status", "--pipeline-id", id, "--object-ids", "@ActA_2024-01-01T01:00:00", "--status", "RERUN")
	waitFor(t, 30*time.Second, "the rerun", func() bool {
		return counts(doneLines(t, marks))["@ActA_2024-01-01T01:00:00"] == 2
	})
	waitFor(t, 30*time.Second, "the pipeline to finish again", func() bool { return h.state(dp, id) == "FINISHED" })

	// A second pipeline deactivated while a task runs: the task is canceled.
	var p2 struct{ PipelineID string }
	mustJSON(t, c.ok("create-pipeline", "--name", "slow", "--unique-id", "u-2"), &p2)
	marks2 := t.TempDir()
	c.ok("put-pipeline-definition", "--pipeline-id", p2.PipelineID, "--pipeline-definition", "file://testdata/groups.json",
		"--parameter-values", "myMarkerDir="+marks2, "mySleep=30", "myRuns=1")
	c.ok("activate-pipeline", "--pipeline-id", p2.PipelineID)
	waitFor(t, 20*time.Second, "slow ActA to run", func() bool {
		for _, r := range listRuns(c.ok("list-runs", "--pipeline-id", p2.PipelineID)) {
			if r.status == "RUNNING" {
				return true
			}
		}
		return false
	})
	c.ok("deactivate-pipeline", "--pipeline-id", p2.PipelineID)
	if st := h.state(dp, p2.PipelineID); st != "INACTIVE" {
		t.Fatalf("state after deactivate %s, want INACTIVE", st)
	}
	rows := listRuns(c.ok("list-runs", "--pipeline-id", p2.PipelineID))
	if len(rows) != 1 || rows[0].status != "CANCELED" {
		t.Fatalf("after deactivate: %v, want the running ActA CANCELED", rows)
	}
	if n := len(doneLines(t, marks2)); n != 0 {
		t.Fatalf("the canceled task completed anyway (%d lines)", n)
	}

	// delete-pipeline: gone from the list, later calls say it was deleted.
	c.ok("delete-pipeline", "--pipeline-id", id)
	var list struct{ PipelineIDList []struct{ ID string } }
	mustJSON(t, c.ok("list-pipelines"), &list)
	for _, p := range list.PipelineIDList {
		if p.ID == id {
			t.Fatalf("deleted pipeline %s still listed", id)
		}
	}
	c.fails("PipelineDeletedException", "describe-pipelines", "--pipeline-ids", id)
	c.fails("PipelineNotFoundException", "get-pipeline-definition", "--pipeline-id", "df-NOSUCHPIPELINE00000")
}

// TestAWSCLICorpus puts real definitions through the CLI's file
// translation; the server's validation agrees with dpl validate on the file.
func TestAWSCLICorpus(t *testing.T) {
	const dir = "/work/shared/corpus/files"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("SKIPPED: corpus folder " + dir + " is absent")
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			data, _ := os.ReadFile(p)
			var top map[string]json.RawMessage
			if json.Unmarshal(data, &top) == nil && top["objects"] != nil {
				files = append(files, p)
			}
		}
		return nil
	})
	sort.Strings(files)
	if len(files) > 12 {
		files = files[:12] // each CLI call costs a Python start-up
	}
	if len(files) == 0 {
		t.Skip("SKIPPED: no file-format definitions in the corpus")
	}
	h := startServer(t, func(o *endpoint.Options) { o.MaxObjects = 1000 })
	c := newCLI(t, h)
	var created struct{ PipelineID string }
	mustJSON(t, c.ok("create-pipeline", "--name", "corpus", "--unique-id", "corpus"), &created)
	for _, f := range files {
		out, errs, ok := c.run("put-pipeline-definition", "--pipeline-id", created.PipelineID, "--pipeline-definition", "file://"+f)
		res, err := validate.File(f, validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			// The CLI translation itself may refuse (parameters with refs);
			// the server must then have said why in the service's shape.
			if !strings.Contains(errs, "An error occurred") && !strings.Contains(errs, "Error") {
				t.Fatalf("%s: put failed without an error message: %s", f, errs)
			}
			t.Logf("%s: refused: %s", f, strings.TrimSpace(errs))
			continue
		}
		var put struct{ Errored bool }
		mustJSON(t, out, &put)
		if put.Errored != res.Errored() {
			t.Errorf("%s: server errored=%v, dpl validate on the file errored=%v\n%s", f, put.Errored, res.Errored(), out)
		}
		var got struct{ Objects []json.RawMessage }
		mustJSON(t, c.ok("get-pipeline-definition", "--pipeline-id", created.PipelineID), &got)
		if len(got.Objects) != len(res.Definition.Objects) {
			t.Errorf("%s: get-pipeline-definition returned %d objects, the file has %d", f, len(got.Objects), len(res.Definition.Objects))
		}
	}
}
