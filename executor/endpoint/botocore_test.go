package endpoint_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/remote"
)

// botocoreModel is the part of botocore's service-2.json the check reads.
type botocoreModel struct {
	Operations map[string]struct {
		Output *struct{ Shape string }  `json:"output"`
		Errors []struct{ Shape string } `json:"errors"`
	} `json:"operations"`
	Shapes map[string]*botoShape `json:"shapes"`
}

type botoShape struct {
	Type     string                            `json:"type"`
	Required []string                          `json:"required"`
	Members  map[string]struct{ Shape string } `json:"members"`
	Member   *struct{ Shape string }           `json:"member"`
	Key      *struct{ Shape string }           `json:"key"`
	Value    *struct{ Shape string }           `json:"value"`
	Enum     []string                          `json:"enum"`
	Min      *float64                          `json:"min"`
	Max      *float64                          `json:"max"`
	Pattern  string                            `json:"pattern"`
}

// loadBotocoreModel finds datapipeline's service-2.json in the installed
// botocore (DPL_BOTOCORE_MODEL names a file directly).
func loadBotocoreModel(t *testing.T) *botocoreModel {
	t.Helper()
	path := os.Getenv("DPL_BOTOCORE_MODEL")
	if path == "" {
		out, err := exec.Command("python3", "-c", "import botocore, os; print(os.path.dirname(botocore.__file__))").Output()
		if err != nil {
			t.Skip("SKIPPED: botocore's model is not available (no python3 with botocore; pip install botocore, or set DPL_BOTOCORE_MODEL to datapipeline's service-2.json)")
		}
		matches, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "data", "datapipeline", "*", "service-2.json*"))
		if len(matches) == 0 {
			t.Skip("SKIPPED: botocore is installed but has no datapipeline service-2.json")
		}
		sort.Strings(matches)
		path = matches[len(matches)-1]
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	var m botocoreModel
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Logf("botocore model: %s (%d operations)", path, len(m.Operations))
	return &m
}

// textPattern is the character class botocore gives most strings: any
// XML-legal character. Go's regexp has no surrogate escapes, so it is
// checked directly.
const textPattern = `[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*`

func validText(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\r' && r != '\n' && r != '\t' || r == 0xFFFE || r == 0xFFFF || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// check validates v against shape name; problems are appended with path.
func (m *botocoreModel) check(name, path string, v any, problems *[]string) {
	sh := m.Shapes[name]
	bad := func(format string, args ...any) {
		*problems = append(*problems, path+": "+fmt.Sprintf(format, args...))
	}
	if sh == nil {
		bad("unknown shape %s", name)
		return
	}
	length := func(n int) {
		if sh.Min != nil && float64(n) < *sh.Min {
			bad("length %d below min %v (%s)", n, *sh.Min, name)
		}
		if sh.Max != nil && float64(n) > *sh.Max {
			bad("length %d above max %v (%s)", n, *sh.Max, name)
		}
	}
	switch sh.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want a structure (%s), got %T", name, v)
			return
		}
		for _, r := range sh.Required {
			if obj[r] == nil {
				bad("required member %s missing (%s)", r, name)
			}
		}
		for k, mv := range obj {
			mem, ok := sh.Members[k]
			if !ok {
				bad("member %s is not in %s", k, name)
				continue
			}
			if mv != nil {
				m.check(mem.Shape, path+"."+k, mv, problems)
			}
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			bad("want a list (%s), got %T", name, v)
			return
		}
		length(len(arr))
		for i, e := range arr {
			m.check(sh.Member.Shape, fmt.Sprintf("%s[%d]", path, i), e, problems)
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want a map (%s), got %T", name, v)
			return
		}
		for k, e := range obj {
			m.check(sh.Key.Shape, path+"{key}", k, problems)
			m.check(sh.Value.Shape, path+"{"+k+"}", e, problems)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			bad("want a string (%s), got %T", name, v)
			return
		}
		length(utf8.RuneCountInString(s))
		if len(sh.Enum) > 0 && !contains(sh.Enum, s) {
			bad("%q is not one of %v (%s)", s, sh.Enum, name)
		}
		switch {
		case sh.Pattern == "":
		case sh.Pattern == textPattern:
			if !validText(s) {
				bad("%q has characters outside %s's pattern", s, name)
			}
		default:
			if re, err := regexp.Compile("^(?:" + sh.Pattern + ")$"); err == nil && !re.MatchString(s) {
				bad("%q does not match %s's pattern %s", s, name, sh.Pattern)
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a boolean (%s), got %T", name, v)
		}
	case "integer", "long":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			bad("want an integer (%s), got %v", name, v)
		}
	case "timestamp", "double", "float":
		if _, ok := v.(float64); !ok {
			bad("want a number (%s), got %T", name, v)
		}
	default:
		bad("shape type %s of %s not checked", sh.Type, name)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// exchange is one recorded response.
type exchange struct {
	op     string
	status int
	body   []byte
}

type recorder struct {
	next http.Handler
	mu   sync.Mutex
	log  []exchange
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := httptest.NewRecorder()
	rc.next.ServeHTTP(rw, r)
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	rc.mu.Lock()
	rc.log = append(rc.log, exchange{op: op, status: rw.Code, body: rw.Body.Bytes()})
	rc.mu.Unlock()
	for k, vs := range rw.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rw.Code)
	_, _ = w.Write(rw.Body.Bytes())
}

// commonErrors are the protocol-level errors every AWS JSON service may
// answer, outside each operation's modeled errors.
var commonErrors = map[string]bool{
	"MissingAuthenticationTokenException": true, "UnrecognizedClientException": true, "InvalidSignatureException": true,
	"IncompleteSignatureException": true, "SerializationException": true, "UnknownOperationException": true,
	"ThrottlingException": true, "RequestEntityTooLargeException": true,
}

// TestBotocoreShapes drives every operation of the API — successes and the
// modeled errors — through the Go SDK and checks each response body
// against botocore's model: output shapes (required members, no unknown
// members, types, enums, lengths, patterns) and error codes listed for
// the operation.
func TestBotocoreShapes(t *testing.T) {
	model := loadBotocoreModel(t)
	// The checker itself finds a wrong type, an unknown member and a
	// missing required member.
	var probe []string
	model.check("ListPipelinesOutput", "probe", map[string]any{"pipelineIdList": []any{map[string]any{"id": 5.0}}, "extra": true}, &probe)
	model.check("CreatePipelineOutput", "probe", map[string]any{}, &probe)
	if len(probe) != 3 {
		t.Fatalf("the shape checker missed problems: %v", probe)
	}
	dir := t.TempDir()
	objects, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := endpoint.New(endpoint.Options{StateDir: dir, Credentials: endpoint.Credentials{testKey: testSecret},
		Runner:     activity.New(activity.Options{Root: dir, Store: objects}),
		RetryDelay: 100 * time.Millisecond, PollTimeout: 300 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: srv}
	hs := httptest.NewServer(rec)
	t.Cleanup(func() { hs.CloseClientConnections(); srv.Close(); hs.Close() })
	c, err := remote.Dial(context.Background(), remote.ClientOptions{Endpoint: hs.URL,
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	if err != nil {
		t.Fatal(err)
	}
	dp := c.DP
	ctx := context.Background()
	h := &harness{t: t, srv: srv, url: hs.URL, dir: dir}

	cr, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("shapes"), UniqueId: aws.String("shapes"),
		Description: aws.String("all operations"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cr.PipelineId)
	_, _ = dp.AddTags(ctx, &datapipeline.AddTagsInput{PipelineId: &id, Tags: []types.Tag{{Key: aws.String("k2"), Value: aws.String("v2")}}})
	_, _ = dp.RemoveTags(ctx, &datapipeline.RemoveTagsInput{PipelineId: &id, TagKeys: []string{"k2"}})
	_, _ = dp.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
	_, _ = dp.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{id}})
	_, _ = dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id})
	objs, params := apiDefinition(t, "testdata/fidelity.json")
	withWorker := append(append([]types.PipelineObject(nil), objs...), types.PipelineObject{Id: aws.String("Remote"), Name: aws.String("Remote"),
		Fields: []types.Field{sf("type", "ShellCommandActivity"), sf("workerGroup", "shapes"), sf("command", "true"), rf("dependsOn", "Red")}})
	// Warnings (a deprecated field) and errors (a missing command).
	_, _ = dp.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{PipelineId: &id, PipelineObjects: append(withWorker,
		types.PipelineObject{Id: aws.String("Broken"), Name: aws.String("Broken"), Fields: []types.Field{sf("type", "ShellCommandActivity"), sf("startAt", "FIRST_ACTIVATION_DATE_TIME")}})})
	if put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: withWorker,
		ParameterObjects: params, ParameterValues: pv("*myToken", "t0ken-value")}); err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	_, _ = dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("COMPONENT")})
	_, _ = dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, ObjectIds: []string{"Blue", "Db"}})
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id, StartTimestamp: aws.Time(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))}); err != nil {
		t.Fatal(err)
	}
	_, _ = dp.ReportTaskRunnerHeartbeat(ctx, &datapipeline.ReportTaskRunnerHeartbeatInput{TaskrunnerId: aws.String("r1"), WorkerGroup: aws.String("shapes"), Hostname: aws.String("h")})
	// Work every task of the group: the first fails, the others finish.
	tasks := 0
	deadline := time.Now().Add(60 * time.Second)
	for h.state(dp, id) != "FINISHED" {
		if time.Now().After(deadline) {
			t.Fatalf("not FINISHED after 60 s (%d tasks worked)", tasks)
		}
		p, err := dp.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("shapes"), Hostname: aws.String("h")})
		if err != nil {
			t.Fatal(err)
		}
		if p.TaskObject == nil {
			continue
		}
		tasks++
		tid := p.TaskObject.TaskId
		_, _ = dp.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: tid, Fields: []types.Field{sf("myProgress", "50%")}})
		if tasks == 1 {
			_, _ = dp.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: tid, TaskStatus: types.TaskStatusFailed,
				ErrorId: aws.String("E"), ErrorMessage: aws.String("m"), ErrorStackTrace: aws.String("s")})
		} else {
			_, _ = dp.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: tid, TaskStatus: types.TaskStatusFinished})
		}
	}
	for _, sphere := range []string{"COMPONENT", "INSTANCE", "ATTEMPT"} {
		q, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String(sphere), Limit: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String(sphere), Marker: q.Marker,
			Query: &types.Query{Selectors: []types.Selector{eq("type", "ShellCommandActivity")}}})
		for _, evaluate := range []bool{false, true} {
			_, _ = dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, ObjectIds: q.Ids, EvaluateExpressions: evaluate})
		}
	}
	_, _ = dp.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: &id, ObjectId: aws.String("@Red_2024-01-01T00:00:00"), Expression: aws.String("#{command}")})
	_, _ = dp.SetStatus(ctx, &datapipeline.SetStatusInput{PipelineId: &id, ObjectIds: []string{"@Blue_2024-01-01T00:00:00"}, Status: aws.String("RERUN")})
	_, _ = dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id, Version: aws.String("active")})
	_, _ = dp.DeactivatePipeline(ctx, &datapipeline.DeactivatePipelineInput{PipelineId: &id, CancelActive: aws.Bool(true)})
	// Modeled errors.
	_, _ = dp.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{"df-00000000000000000000"}})
	_, _ = dp.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: &id, ObjectId: aws.String("NoSuch"), Expression: aws.String("x")})
	_, _ = dp.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: aws.String("no-such-task")})
	_, _ = dp.SetTaskStatus(ctx, &datapipeline.SetTaskStatusInput{TaskId: aws.String("no-such-task"), TaskStatus: types.TaskStatusFinished})
	_, _ = dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id, ParameterValues: pv("myUndeclared", "x")})
	_, _ = dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("NOPE")})
	_, _ = dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &id})
	_, _ = dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &id})
	_, _ = dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id})
	_, _ = dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs})
	_, _ = dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("x"), UniqueId: aws.String(strings.Repeat("u", 2000))})
	_, _ = dp.PollForTask(ctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("idle")})
	// Protocol-level refusals through raw calls.
	call(t, hs.URL, "DataPipeline.ListPipelines", "application/x-amz-json-1.1", []byte(`{}`), "", "", nil)
	call(t, hs.URL, "DataPipeline.CreatePipeline", "application/x-amz-json-1.1", []byte(`{"name": 5}`), testKey, testSecret, nil)

	rec.mu.Lock()
	log := append([]exchange(nil), rec.log...)
	rec.mu.Unlock()
	seen := map[string]bool{}
	valid, errorsSeen := 0, 0
	for _, ex := range log {
		if ex.status != http.StatusOK {
			errorsSeen++
		}
		seen[ex.op] = true
		op, ok := model.Operations[ex.op]
		if !ok {
			t.Errorf("%s: not an operation of the model", ex.op)
			continue
		}
		var problems []string
		var body any
		if err := json.Unmarshal(bytes.TrimSpace(ex.body), &body); err != nil && len(bytes.TrimSpace(ex.body)) > 0 {
			problems = append(problems, "not JSON: "+err.Error())
		}
		if ex.status == http.StatusOK {
			switch {
			case op.Output == nil:
				if m, ok := body.(map[string]any); body != nil && (!ok || len(m) > 0) {
					problems = append(problems, fmt.Sprintf("the operation has no output, got %s", ex.body))
				}
			default:
				if body == nil {
					body = map[string]any{}
				}
				model.check(op.Output.Shape, ex.op, body, &problems)
			}
		} else {
			obj, _ := body.(map[string]any)
			typ, _ := obj["__type"].(string)
			_, code, _ := strings.Cut(typ, "#")
			modeled := false
			for _, e := range op.Errors {
				modeled = modeled || e.Shape == code
			}
			switch {
			case modeled:
				delete(obj, "__type")
				model.check(code, ex.op+"!"+code, obj, &problems)
			case commonErrors[code]:
				if _, ok := obj["message"].(string); !ok {
					problems = append(problems, code+" without a message")
				}
			default:
				problems = append(problems, fmt.Sprintf("error %q (HTTP %d) is not among %s's modeled errors", code, ex.status, ex.op))
			}
		}
		if len(problems) == 0 {
			valid++
			continue
		}
		t.Errorf("%s (HTTP %d): %s\n%s", ex.op, ex.status, strings.Join(problems, "; "), truncate(ex.body, 600))
	}
	for name := range model.Operations {
		if !seen[name] {
			t.Errorf("operation %s was not exercised", name)
		}
	}
	t.Logf("botocore shapes: %d/%d responses valid (%d of them errors) over %d operations", valid, len(log), errorsSeen, len(seen))
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
