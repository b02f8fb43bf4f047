package endpoint_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/dpl-dev/dpl/definition"
)

// apiDefinition reads a file-format fixture into the API shapes.
func apiDefinition(t *testing.T, path string) ([]types.PipelineObject, []types.ParameterObject) {
	t.Helper()
	d, err := definition.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []types.PipelineObject
	for _, o := range d.Objects {
		po := types.PipelineObject{Id: aws.String(o.ID), Name: aws.String(o.ID)}
		if o.HasName {
			po.Name = aws.String(o.Name)
		}
		for _, f := range o.Fields {
			for _, v := range f.Values {
				if v.IsRef {
					po.Fields = append(po.Fields, types.Field{Key: aws.String(f.Key), RefValue: aws.String(v.Ref)})
				} else {
					po.Fields = append(po.Fields, types.Field{Key: aws.String(f.Key), StringValue: aws.String(v.Str)})
				}
			}
		}
		objs = append(objs, po)
	}
	var params []types.ParameterObject
	for _, p := range d.Parameters {
		po := types.ParameterObject{Id: aws.String(p.ID)}
		for _, a := range p.Attrs {
			for _, v := range a.Values {
				po.Attributes = append(po.Attributes, types.ParameterAttribute{Key: aws.String(a.Key), StringValue: aws.String(v.Str)})
			}
		}
		params = append(params, po)
	}
	return objs, params
}

func pv(kv ...string) []types.ParameterValue {
	var out []types.ParameterValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.ParameterValue{Id: aws.String(kv[i]), StringValue: aws.String(kv[i+1])})
	}
	return out
}

func TestGoSDK(t *testing.T) {
	h := startServer(t, nil)
	dp := h.sdk()
	ctx := context.Background()
	marks := t.TempDir()

	c1, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("sdk"), UniqueId: aws.String("tok"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("sdk"), UniqueId: aws.String("tok")})
	if err != nil || aws.ToString(c2.PipelineId) != aws.ToString(c1.PipelineId) {
		t.Fatalf("idempotent create: %v %v", c2, err)
	}
	id := aws.ToString(c1.PipelineId)

	// Tags: upsert, remove, at most 10.
	if _, err := dp.AddTags(ctx, &datapipeline.AddTagsInput{PipelineId: &id, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := dp.RemoveTags(ctx, &datapipeline.RemoveTagsInput{PipelineId: &id, TagKeys: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	var many []types.Tag
	for i := range 10 {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err = dp.AddTags(ctx, &datapipeline.AddTagsInput{PipelineId: &id, Tags: many})
	var inv *types.InvalidRequestException
	if !errors.As(err, &inv) {
		t.Fatalf("11 tags: want InvalidRequestException, got %v", err)
	}
	d, err := dp.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	desc := d.PipelineDescriptionList[0]
	if len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Value) != "2" {
		t.Fatalf("tags after add/remove: %+v", desc.Tags)
	}
	fields := map[string]string{}
	for _, f := range desc.Fields {
		fields[aws.ToString(f.Key)] = aws.ToString(f.StringValue)
	}
	if fields["@pipelineState"] != "PENDING" || fields["@sphere"] != "PIPELINE" || fields["uniqueId"] != "tok" || fields["@id"] != id {
		t.Fatalf("describe fields: %v", fields)
	}
	if _, err := time.Parse("2006-01-02T15:04:05", fields["@creationTime"]); err != nil {
		t.Fatalf("@creationTime %q: %v", fields["@creationTime"], err)
	}

	// Put, then Get latest vs active.
	objs, params := apiDefinition(t, "testdata/groups.json")
	put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs,
		ParameterObjects: params, ParameterValues: pv("myMarkerDir", marks, "myRuns", "2")})
	if err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	// A FATAL definition (an empty field) is refused and not saved.
	badObjs := append([]types.PipelineObject(nil), objs...)
	badObjs = append(badObjs, types.PipelineObject{Id: aws.String("Empty"), Name: aws.String("Empty"),
		Fields: []types.Field{{Key: aws.String("workerGroup"), StringValue: aws.String("")}}})
	_, err = dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: badObjs})
	if !errors.As(err, &inv) || !strings.Contains(inv.ErrorMessage(), "FATAL") {
		t.Fatalf("empty field: want InvalidRequestException with FATAL, got %v", err)
	}
	g, err := dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id})
	if err != nil || len(g.PipelineObjects) != len(objs) || len(g.ParameterValues) != 2 {
		t.Fatalf("get latest: %d objects, %d values, %v", len(g.PipelineObjects), len(g.ParameterValues), err)
	}
	ga, err := dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id, Version: aws.String("active")})
	if err != nil || len(ga.PipelineObjects) != 0 {
		t.Fatalf("get active before activation: %d objects, %v", len(ga.PipelineObjects), err)
	}
	val, err := dp.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs[:2]})
	if err != nil || val.Errored {
		t.Fatalf("validate Default+Hourly: %+v %v", val, err)
	}

	// DescribeObjects and QueryObjects on components before activation.
	q, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("COMPONENT")})
	if err != nil || len(q.Ids) != 4 {
		t.Fatalf("components before activation: %v %v", q, err)
	}

	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	h.runner("wg-a", 2)
	h.runner("wg-b", 1)
	waitFor(t, 60*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	ga, err = dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id, Version: aws.String("active")})
	if err != nil || len(ga.PipelineObjects) != len(objs) {
		t.Fatalf("get active after activation: %d objects, %v", len(ga.PipelineObjects), err)
	}

	// QueryObjects pages with limit and marker; DescribeObjects fields.
	var all []string
	var marker *string
	pages := 0
	for {
		out, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("INSTANCE"), Limit: aws.Int32(3), Marker: marker,
			Query: &types.Query{Selectors: []types.Selector{{FieldName: aws.String("@status"), Operator: &types.Operator{Type: types.OperatorTypeEqual, Values: []string{"FINISHED"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, out.Ids...)
		if !out.HasMoreResults {
			break
		}
		marker = out.Marker
	}
	sort.Strings(all)
	if len(all) != 4 || pages != 2 {
		t.Fatalf("paged query: %d pages, ids %v", pages, all)
	}
	att, err := dp.QueryObjects(ctx, &datapipeline.QueryObjectsInput{PipelineId: &id, Sphere: aws.String("ATTEMPT")})
	if err != nil || len(att.Ids) != 4 {
		t.Fatalf("attempts: %v %v", att, err)
	}
	do, err := dp.DescribeObjects(ctx, &datapipeline.DescribeObjectsInput{PipelineId: &id, ObjectIds: att.Ids[:1]})
	if err != nil {
		t.Fatal(err)
	}
	af := map[string]string{}
	for _, f := range do.PipelineObjects[0].Fields {
		af[aws.ToString(f.Key)] = aws.ToString(f.StringValue) + aws.ToString(f.RefValue)
	}
	if af["@sphere"] != "ATTEMPT" || af["@status"] != "FINISHED" || af["hostname"] == "" {
		t.Fatalf("attempt fields: %v", af)
	}
	ev, err := dp.EvaluateExpression(ctx, &datapipeline.EvaluateExpressionInput{PipelineId: &id, ObjectId: aws.String("@ActB_2024-01-01T01:00:00"),
		Expression: aws.String("#{format(@scheduledStartTime,'YYYY-MM-dd HH')}")})
	if err != nil || aws.ToString(ev.EvaluatedExpression) != "2024-01-01 01" {
		t.Fatalf("evaluate: %v %v", aws.ToString(ev.EvaluatedExpression), err)
	}

	// The task runner protocol's errors.
	_, err = dp.ReportTaskProgress(ctx, &datapipeline.ReportTaskProgressInput{TaskId: aws.String("no-such-task")})
	var tnf *types.TaskNotFoundException
	if !errors.As(err, &tnf) {
		t.Fatalf("progress of an unknown task: want TaskNotFoundException, got %v", err)
	}
	hb, err := dp.ReportTaskRunnerHeartbeat(ctx, &datapipeline.ReportTaskRunnerHeartbeatInput{TaskrunnerId: aws.String("r1"), WorkerGroup: aws.String("wg-a")})
	if err != nil || hb.Terminate {
		t.Fatalf("heartbeat: %+v %v", hb, err)
	}
	// An empty poll returns no task after the (short) poll timeout.
	pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if p, err := dp.PollForTask(pctx, &datapipeline.PollForTaskInput{WorkerGroup: aws.String("nobody")}); err == nil && p.TaskObject != nil {
		t.Fatalf("poll of an idle group returned a task")
	}

	// ListPipelines pages by 50.
	for i := range 55 {
		if _, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(fmt.Sprint("p", i)), UniqueId: aws.String(fmt.Sprint("u", i))}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	pg := datapipeline.NewListPipelinesPaginator(dp, &datapipeline.ListPipelinesInput{})
	n := 0
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, p := range out.PipelineIdList {
			seen[aws.ToString(p.Id)] = true
		}
	}
	if len(seen) != 56 || n != 2 {
		t.Fatalf("ListPipelines: %d pipelines in %d pages, want 56 in 2", len(seen), n)
	}

	if _, err := dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id})
	var del *types.PipelineDeletedException
	if !errors.As(err, &del) {
		t.Fatalf("after delete: want PipelineDeletedException, got %v", err)
	}
	_, err = dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String("df-00000000000000000000")})
	var nf *types.PipelineNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("delete unknown: want PipelineNotFoundException, got %v", err)
	}
}
