package endpoint_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// TestDeletePipelineDropsStoredState: DeletePipeline removes the run's
// instances, attempts and events from the store, not only the registry.
func TestDeletePipelineDropsStoredState(t *testing.T) {
	db, err := runstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := startServer(t, func(o *endpoint.Options) { o.Store = db })
	dp := h.sdk()
	ctx := context.Background()
	cp, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("gone"), UniqueId: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cp.PipelineId)
	f := func(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }
	objs := []types.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{f("scheduleType", "ondemand")}},
		{Id: aws.String("R"), Name: aws.String("R"), Fields: []types.Field{f("type", "Ec2Resource"), f("role", "r"), f("resourceRole", "r")}},
		{Id: aws.String("A"), Name: aws.String("A"), Fields: []types.Field{f("type", "ShellCommandActivity"), f("command", "true"),
			{Key: aws.String("runsOn"), RefValue: aws.String("R")}}},
	}
	if put, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs}); err != nil || put.Errored {
		t.Fatalf("put: %+v %v", put, err)
	}
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the run to finish", func() bool { return h.state(dp, id) == "FINISHED" })
	if acts, _ := db.Activations(id); len(acts) == 0 {
		t.Fatal("no activation stored before the delete")
	}
	if _, err := dp.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pipeline(id); !errors.Is(err, runstore.ErrNotFound) {
		t.Errorf("pipeline record after delete: %v", err)
	}
	acts, _ := db.Activations(id)
	ins, _ := db.Instances(id, 1)
	if len(acts)+len(ins) != 0 {
		t.Errorf("after delete: %d activations, %d instances", len(acts), len(ins))
	}
}
