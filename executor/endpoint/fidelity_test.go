package endpoint_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

func eq(field string, values ...string) types.Selector {
	return types.Selector{FieldName: aws.String(field), Operator: &types.Operator{Type: types.OperatorTypeEqual, Values: values}}
}

func refEq(field string, values ...string) types.Selector {
	return types.Selector{FieldName: aws.String(field), Operator: &types.Operator{Type: types.OperatorTypeReferenceEqual, Values: values}}
}

// queryAll pages through QueryObjects two ids at a time and checks the
// paging contract on every page: a page that says hasMoreResults has a
// marker beyond the previous one and is not empty.
func queryAll(t *testing.T, dp *datapipeline.Client, id, sphere string, sels ...types.Selector) []string {
	t.Helper()
	var out []string
	var marker *string
	last := -1
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("QueryObjects %s %v: no end after 1000 pages", sphere, sels)
		}
		in := &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String(sphere), Limit: aws.Int32(2), Marker: marker}
		if len(sels) > 0 {
			in.Query = &types.Query{Selectors: sels}
		}
		res, err := dp.QueryObjects(context.Background(), in)
		if err != nil {
			t.Fatalf("QueryObjects %s: %v", sphere, err)
		}
		out = append(out, res.Ids...)
		if !res.HasMoreResults {
			break
		}
		if len(res.Ids) == 0 {
			t.Fatalf("QueryObjects %s: an empty page claims hasMoreResults (marker %q)", sphere, aws.ToString(res.Marker))
		}
		n, err := strconv.Atoi(aws.ToString(res.Marker))
		if err != nil || n <= last {
			t.Fatalf("QueryObjects %s: marker %q does not progress from %d", sphere, aws.ToString(res.Marker), last)
		}
		last, marker = n, res.Marker
	}
	sort.Strings(out)
	return out
}

func fieldsOf(o types.PipelineObject) map[string][]string {
	m := map[string][]string{}
	for _, f := range o.Fields {
		m[aws.ToString(f.Key)] = append(m[aws.ToString(f.Key)], aws.ToString(f.StringValue)+aws.ToString(f.RefValue))
	}
	return m
}

// putFidelity creates a pipeline with testdata/fidelity.json.
func putFidelity(t *testing.T, dp *datapipeline.Client, unique string) string {
	t.Helper()
	ctx := context.Background()
	c, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("fidelity"), UniqueId: aws.String(unique)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(c.PipelineId)
	objs, params := apiDefinition(t, "testdata/fidelity.json")
	put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs,
		ParameterObjects: params, ParameterValues: pv("*myToken", "tok-5ecret-value")})
	if err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	return id
}

// TestQueryObjectsAnyField: selectors on definition fields (type, a ref
// through REF_EQ, a user field, name) and runtime fields, in every sphere,
// before and after activation; secrets cannot be probed.
func TestQueryObjectsAnyField(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	id := putFidelity(t, dp, "q")

	comps := []struct {
		name string
		sels []types.Selector
		want []string
	}{
		{"type", []types.Selector{eq("type", "ShellCommandActivity")}, []string{"Blue", "Red"}},
		{"runsOn REF_EQ", []types.Selector{refEq("runsOn", "Box")}, []string{"Blue", "Red"}},
		{"user field", []types.Selector{eq("myTeam", "blue")}, []string{"Blue"}},
		{"name", []types.Selector{eq("name", "Red work")}, []string{"Red"}},
		{"two selectors", []types.Selector{eq("type", "ShellCommandActivity"), eq("myTeam", "red")}, []string{"Red"}},
		{"dependsOn REF_EQ", []types.Selector{refEq("dependsOn", "Blue")}, []string{"Red"}},
		{"inherited from Default", []types.Selector{eq("scheduleType", "cron"), eq("type", "Ec2Resource")}, []string{"Box"}},
		{"a secret's value", []types.Selector{eq("*password", "hunter2-secret")}, nil},
		{"no such field", []types.Selector{eq("myNothing", "x")}, nil},
	}
	check := func(phase string) {
		for _, c := range comps {
			if c.name == "inherited from Default" && phase == "before activation" {
				continue // the definition as put: Box itself has no scheduleType
			}
			if got := queryAll(t, dp, id, "COMPONENT", c.sels...); !slices.Equal(got, c.want) {
				t.Errorf("%s: COMPONENT %s: %v, want %v", phase, c.name, got, c.want)
			}
		}
	}
	check("before activation")
	if got := queryAll(t, dp, id, "INSTANCE", eq("type", "ShellCommandActivity")); len(got) != 0 {
		t.Errorf("instances before activation: %v", got)
	}
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	check("after activation")

	blue := []string{"@Blue_2024-01-01T00:00:00", "@Blue_2024-01-01T01:00:00"}
	red := []string{"@Red_2024-01-01T00:00:00", "@Red_2024-01-01T01:00:00"}
	for _, c := range []struct {
		sphere, name string
		sels         []types.Selector
		want         []string
	}{
		{"INSTANCE", "type", []types.Selector{eq("type", "ShellCommandActivity")}, append(append([]string{}, blue...), red...)},
		// An instance runs on the resource's instance of its period.
		{"INSTANCE", "runsOn REF_EQ", []types.Selector{refEq("runsOn", "@Box_2024-01-01T01:00:00")}, []string{blue[1], red[1]}},
		{"INSTANCE", "user field and @status", []types.Selector{eq("myTeam", "red"), eq("@status", "FINISHED")}, red},
		{"INSTANCE", "@componentParent REF_EQ", []types.Selector{refEq("@componentParent", "Red")}, red},
		{"INSTANCE", "a secret's value", []types.Selector{eq("*password", "hunter2-secret")}, nil},
	} {
		if got := queryAll(t, dp, id, c.sphere, c.sels...); !slices.Equal(got, c.want) {
			t.Errorf("after activation: %s %s: %v, want %v", c.sphere, c.name, got, c.want)
		}
	}
	atts := queryAll(t, dp, id, "ATTEMPT", eq("myTeam", "red"))
	if len(atts) != 2 {
		t.Fatalf("ATTEMPT myTeam=red: %v, want 2 attempts", atts)
	}
	for _, a := range atts {
		if !strings.HasPrefix(a, "@Red_") {
			t.Errorf("ATTEMPT myTeam=red matched %s", a)
		}
	}
	if got := queryAll(t, dp, id, "ATTEMPT", refEq("runsOn", "@Box_2024-01-01T00:00:00"), eq("type", "ShellCommandActivity")); len(got) != 2 {
		t.Errorf("ATTEMPT runsOn=@Box_2024-01-01T00:00:00 type=ShellCommandActivity: %v, want 2", got)
	}
	// An unknown operator is the caller's error.
	_, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("INSTANCE"),
		Query: &types.Query{Selectors: []types.Selector{{FieldName: aws.String("x"), Operator: &types.Operator{Type: "LIKE", Values: []string{"a"}}}}}})
	var inv *types.InvalidRequestException
	if !errors.As(err, &inv) {
		t.Errorf("operator LIKE: want InvalidRequestException, got %v", err)
	}
}

// TestQueryPagesNeverEmptyWithMore: with a selector that matches only the
// last objects, no page claims more results without ids.
func TestQueryPagesNeverEmptyWithMore(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	id := putFidelity(t, dp, "pages")
	if _, err := dp.ActivatePipeline(context.Background(), &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	all := queryAll(t, dp, id, "INSTANCE")
	last := queryAll(t, dp, id, "INSTANCE", eq("@scheduledStartTime", "2024-01-01T01:00:00"), eq("myTeam", "red"))
	if len(all) < 5 || !slices.Equal(last, []string{"@Red_2024-01-01T01:00:00"}) {
		t.Fatalf("all %v; last-only query %v", all, last)
	}
	// One page with a limit larger than the sphere says there is no more.
	res, err := dp.QueryObjects(context.Background(), &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("INSTANCE"), Limit: aws.Int32(1000),
		Query: &types.Query{Selectors: []types.Selector{eq("myTeam", "nobody")}}})
	if err != nil || len(res.Ids) != 0 || res.HasMoreResults || res.Marker != nil {
		t.Fatalf("empty result: %+v %v", res, err)
	}
}

// TestSecretsMasked: `*` fields and `*` parameters never show in
// DescribeObjects (evaluated or not), EvaluateExpression or query results;
// GetPipelineDefinition returns the definition as put (see secrets.go).
func TestSecretsMasked(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	id := putFidelity(t, dp, "secrets")
	const pw, token = "hunter2-secret", "tok-5ecret-value"
	noSecret := func(what string, objs []types.PipelineObject) {
		t.Helper()
		for _, o := range objs {
			for k, vs := range fieldsOf(o) {
				for _, v := range vs {
					if strings.Contains(v, pw) || strings.Contains(v, token) {
						t.Errorf("%s: %s field %s shows a secret: %q", what, aws.ToString(o.Id), k, v)
					}
				}
			}
		}
	}
	before, err := dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, ObjectIds: []string{"Db", "Red"}})
	if err != nil {
		t.Fatal(err)
	}
	noSecret("components before activation", before.PipelineObjects)
	if got := fieldsOf(before.PipelineObjects[0])["*password"]; !slices.Equal(got, []string{"********"}) {
		t.Errorf("Db *password before activation: %v, want the mask", got)
	}
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	for _, evaluate := range []bool{false, true} {
		d, err := dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, EvaluateExpressions: evaluate,
			ObjectIds: []string{"Db", "Red", "@Red_2024-01-01T00:00:00"}})
		if err != nil {
			t.Fatal(err)
		}
		noSecret("DescribeObjects evaluate="+strconv.FormatBool(evaluate), d.PipelineObjects)
		if evaluate {
			if cmd := fieldsOf(d.PipelineObjects[2])["command"]; !slices.Equal(cmd, []string{"echo token=********"}) {
				t.Errorf("evaluated command: %v, want the token masked", cmd)
			}
		}
	}
	for obj, expr := range map[string]string{
		"Db":                        "#{*password}",
		"@Red_2024-01-01T00:00:00":  "#{*myToken}",
		"@Blue_2024-01-01T00:00:00": "#{command}",
		"@Red_2024-01-01T01:00:00":  "x#{command}y",
	} {
		ev, err := dp.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: &id, ObjectId: aws.String(obj), Expression: aws.String(expr)})
		if err != nil {
			t.Fatalf("evaluate %s on %s: %v", expr, obj, err)
		}
		if v := aws.ToString(ev.EvaluatedExpression); strings.Contains(v, pw) || strings.Contains(v, token) || !strings.Contains(v, "********") {
			t.Errorf("EvaluateExpression %s on %s = %q: secret not masked", expr, obj, v)
		}
	}
	g, err := dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range g.PipelineObjects {
		if aws.ToString(o.Id) == "Db" && !slices.Equal(fieldsOf(o)["*password"], []string{pw}) {
			t.Errorf("GetPipelineDefinition returns Db *password %v, want the value as put", fieldsOf(o)["*password"])
		}
	}
}

// TestActivationFidelity: undeclared parameter ids are refused; the active
// version shows the activation's values; a fractional startTimestamp (the
// Java and Go SDKs send milliseconds) runs like the whole second.
func TestActivationFidelity(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	id := putFidelity(t, dp, "act")
	_, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id, ParameterValues: pv("myUndeclared", "x")})
	var inv *types.InvalidRequestException
	if !errors.As(err, &inv) || !strings.Contains(inv.ErrorMessage(), "myUndeclared") {
		t.Fatalf("undeclared parameter: want InvalidRequestException naming it, got %v", err)
	}
	if h.state(dp, id) != "PENDING" {
		t.Fatalf("a refused activation changed the state to %s", h.state(dp, id))
	}
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id, ParameterValues: pv("*myToken", "other-token")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	for version, want := range map[string]string{"active": "other-token", "latest": "tok-5ecret-value"} {
		g, err := dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id, Version: aws.String(version)})
		if err != nil {
			t.Fatal(err)
		}
		if len(g.ParameterValues) != 1 || aws.ToString(g.ParameterValues[0].StringValue) != want {
			t.Errorf("GetPipelineDefinition %s: parameterValues %+v, want *myToken=%s", version, g.ParameterValues, want)
		}
	}

	// Fractional start: intervals before startTimestamp are SKIPPED, so
	// one at the same whole second must not be.
	c, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("frac"), UniqueId: aws.String("frac")})
	if err != nil {
		t.Fatal(err)
	}
	fid := aws.ToString(c.PipelineId)
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour)
	objs := []types.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{sf("scheduleType", "cron"), rf("schedule", "S"), sf("maximumRetries", "0")}},
		{Id: aws.String("S"), Name: aws.String("S"), Fields: []types.Field{sf("type", "Schedule"), sf("period", "1 hour"), sf("startDateTime", start.Format("2006-01-02T15:04:05")), sf("occurrences", "2")}},
		{Id: aws.String("Box"), Name: aws.String("Box"), Fields: []types.Field{sf("type", "Ec2Resource"), sf("role", "r"), sf("resourceRole", "rr"), sf("terminateAfter", "1 hour")}},
		{Id: aws.String("A"), Name: aws.String("A"), Fields: []types.Field{sf("type", "ShellCommandActivity"), rf("runsOn", "Box"), sf("command", "true")}},
	}
	if put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &fid, PipelineObjects: objs}); err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	// aws.Time keeps the milliseconds; the SDK sends 1717000000.123.
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &fid, StartTimestamp: aws.Time(start.Add(123 * time.Millisecond))}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "FINISHED", func() bool { return h.state(dp, fid) == "FINISHED" })
	finished := queryAll(t, dp, fid, "INSTANCE", eq("@status", "FINISHED"), eq("type", "ShellCommandActivity"))
	skipped := queryAll(t, dp, fid, "INSTANCE", eq("@status", "SKIPPED"))
	want := []string{"@A_" + start.Format("2006-01-02T15:04:05"), "@A_" + start.Add(time.Hour).Format("2006-01-02T15:04:05")}
	if !slices.Equal(finished, want) || len(skipped) != 0 {
		t.Fatalf("fractional startTimestamp: finished %v, skipped %v; want %v finished", finished, skipped, want)
	}
}

// TestTaskProtocolFidelity: errorStackTrace from SetTaskStatus is kept on
// the attempt and the instance; deleting a deleted pipeline is
// PipelineNotFoundException (DeletePipeline's model has no
// PipelineDeletedException).
func TestTaskProtocolFidelity(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	c, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("stack"), UniqueId: aws.String("stack")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(c.PipelineId)
	objs := []types.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{sf("scheduleType", "ondemand"), sf("maximumRetries", "0")}},
		{Id: aws.String("W"), Name: aws.String("W"), Fields: []types.Field{sf("type", "ShellCommandActivity"), sf("workerGroup", "stack"), sf("command", "true")}},
	}
	if put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs}); err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var task *types.TaskObject
	for task == nil && pctx.Err() == nil {
		p, err := dp.PollForTask(pctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("stack")})
		if err != nil {
			t.Fatal(err)
		}
		task = p.TaskObject
	}
	if task == nil {
		t.Fatal("no task handed out")
	}
	if _, err := dp.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: task.TaskId}); err != nil {
		t.Fatal(err)
	}
	const stack = "java.lang.RuntimeException: boom\n\tat Step.run(Step.java:42)"
	if _, err := dp.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: task.TaskId, TaskStatus: types.TaskStatusFailed,
		ErrorId: aws.String("Boom"), ErrorMessage: aws.String("it broke"), ErrorStackTrace: aws.String(stack)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	ids := append(queryAll(t, dp, id, "ATTEMPT"), queryAll(t, dp, id, "INSTANCE", eq("@status", "FAILED"))...)
	if len(ids) != 2 {
		t.Fatalf("one attempt and one failed instance expected: %v", ids)
	}
	d, err := dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, ObjectIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range d.PipelineObjects {
		f := fieldsOf(o)
		if !slices.Equal(f["errorStackTrace"], []string{stack}) || !slices.Equal(f["errorId"], []string{"Boom"}) {
			t.Errorf("%s: errorId %v errorStackTrace %q, want Boom and the runner's stack", aws.ToString(o.Id), f["errorId"], f["errorStackTrace"])
		}
	}

	if _, err := dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &id})
	var nf *types.PipelineNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("deleting a deleted pipeline: want PipelineNotFoundException, got %v", err)
	}
}

// TestAPIMessagesSpeakTheAPI: validation messages name no dpl flags, and
// SerializationException messages name the request's members, not Go's.
func TestAPIMessagesSpeakTheAPI(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	c, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("words"), UniqueId: aws.String("words")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(c.PipelineId)
	objs := []types.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{sf("scheduleType", "ondemand"), sf("maximumRetries", "9")}},
		{Id: aws.String("W"), Name: aws.String("W"), Fields: []types.Field{sf("type", "ShellCommandActivity"), sf("workerGroup", "g"), sf("command", "echo #{myNeeded}")}},
	}
	params := []types.ParameterObject{{Id: aws.String("myNeeded"), Attributes: []types.ParameterAttribute{{Key: aws.String("type"), StringValue: aws.String("String")}}}}
	v, err := dp.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs, ParameterObjects: params})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range v.ValidationWarnings {
		msgs = append(msgs, w.Warnings...)
	}
	for _, e := range v.ValidationErrors {
		msgs = append(msgs, e.Errors...)
	}
	if len(msgs) < 2 {
		t.Fatalf("want warnings for the missing value and the retry limit, got %+v", v)
	}
	for _, m := range msgs {
		if strings.Contains(m, "--") {
			t.Errorf("message names a command-line flag: %q", m)
		}
	}
	for name, body := range map[string]string{
		"wrong type":    `{"name": 5, "uniqueId": "u"}`,
		"nested":        `{"pipelineId":"df-X","pipelineObjects":[{"id":"a","name":"a","fields":[{"key":7}]}]}`,
		"not an object": `[1,2]`,
		"truncated":     `{"name": "x", `,
	} {
		target := "DataPipeline.CreatePipeline"
		if name == "nested" {
			target = "DataPipeline.PutPipelineDefinition"
		}
		r := call(t, h.url, target, "application/x-amz-json-1.1", []byte(body), testKey, testSecret, nil)
		if r.code != "SerializationException" || r.status != 400 {
			t.Errorf("%s: %d %s, want 400 SerializationException", name, r.status, r.code)
		}
		for _, goism := range []string{"Go ", "struct {", "Go struct", "json:", "int64", "main.", "endpoint."} {
			if strings.Contains(r.msg, goism) {
				t.Errorf("%s: message %q shows Go internals (%q)", name, r.msg, goism)
			}
		}
		if name == "nested" && !strings.Contains(r.msg, "pipelineObjects.fields.key") {
			t.Errorf("nested: message %q does not name pipelineObjects.fields.key", r.msg)
		}
	}
}
