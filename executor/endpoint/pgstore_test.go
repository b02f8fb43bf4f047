package endpoint_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/jackc/pgx/v5"

	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/pgstore"
	"github.com/dpl-dev/dpl/executor/remote"
)

// TestServeOnPostgres: a server whose store is PostgreSQL keeps pipelines,
// definitions and run state there: a new server with an empty state
// folder on the same schema lists the pipeline and its finished
// instances; a second server on a schema in use refuses to start.
func TestServeOnPostgres(t *testing.T) {
	dsn := os.Getenv("DPL_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("SKIPPED: DPL_TEST_PG_DSN is not set; run .ci/databases.sh (or source /tmp/dpl-databases.env) to test dpl serve on PostgreSQL")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "dpl_serve_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if conn, err := pgx.Connect(context.Background(), dsn); err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	ctx := context.Background()
	serve := func() (*datapipeline.Client, func()) {
		pg, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema, Exclusive: true})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		objects, _ := objstore.NewLocal(dir)
		srv, err := endpoint.New(endpoint.Options{StateDir: dir, Store: pg, Credentials: endpoint.Credentials{testKey: testSecret},
			Runner: activity.New(activity.Options{Root: dir, Store: objects}), Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		c, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: hs.URL, Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
		if err != nil {
			t.Fatal(err)
		}
		return c.DP, func() { hs.CloseClientConnections(); hs.Close(); srv.Close(); pg.Close() }
	}
	dp, stop := serve()
	id := putFidelity(t, dp, "pg")
	if _, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t}
	waitFor(t, 60*time.Second, "FINISHED", func() bool { return h.state(dp, id) == "FINISHED" })
	before := queryAll(t, dp, id, "INSTANCE", eq("@status", "FINISHED"))
	if len(before) != 6 {
		t.Fatalf("finished instances %v, want 6", before)
	}
	if _, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema, Exclusive: true}); err == nil || !strings.Contains(err.Error(), "another dpl serve") {
		t.Fatalf("a second serve on the schema in use: %v", err)
	}
	stop()

	dp2, stop2 := serve()
	defer stop2()
	l, err := dp2.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
	if err != nil || len(l.PipelineIdList) != 1 || aws.ToString(l.PipelineIdList[0].Id) != id {
		t.Fatalf("after restart on an empty state folder: %+v, %v", l, err)
	}
	if st := h.state(dp2, id); st != "FINISHED" {
		t.Fatalf("state after restart %s", st)
	}
	after := queryAll(t, dp2, id, "INSTANCE", eq("@status", "FINISHED"))
	if strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("instances after restart %v, before %v", after, before)
	}
	g, err := dp2.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: &id})
	if err != nil || len(g.PipelineObjects) != 6 {
		t.Fatalf("definition after restart: %d objects, %v", len(g.PipelineObjects), err)
	}
}
