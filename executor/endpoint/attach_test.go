package endpoint_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/endpoint"
)

// TestAttachedEngine is `dpl run --serve`: an engine driven by its owner
// hands its worker-group work to remote runners through the server, and
// heartbeats answer terminate once the run ended.
func TestAttachedEngine(t *testing.T) {
	d, err := definition.ParseFile("testdata/groups.json")
	if err != nil {
		t.Fatal(err)
	}
	marks := t.TempDir()
	params := map[string][]string{"myMarkerDir": {marks}, "myRuns": {"2"}}
	groups := endpoint.WorkerGroups(d, params)
	if len(groups) != 2 || groups[0] != "wg-a" || groups[1] != "wg-b" {
		t.Fatalf("WorkerGroups = %v", groups)
	}
	eng, err := executor.New(executor.Options{Definition: d, PipelineID: "df-ATTACHED0000000000", Params: params,
		RetryDelay: 100 * time.Millisecond, Remote: groups})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := endpoint.NewAttached(endpoint.Options{StateDir: t.TempDir(), Credentials: endpoint.Credentials{testKey: testSecret}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Attach(eng, "groups", groups); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.CloseClientConnections(); srv.Close(); hs.Close() })
	h := &harness{t: t, srv: srv, url: hs.URL}
	dp := h.sdk()
	if st := h.state(dp, eng.PipelineID()); st != "SCHEDULED" {
		t.Fatalf("attached pipeline state %s", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h.runner("wg-a", 2)
	h.runner("wg-b", 2)
	sum, err := eng.Run(ctx)
	if err != nil || !sum.OK {
		t.Fatalf("run: %+v %v", sum, err)
	}
	if n := len(counts(doneLines(t, marks))); n != 4 {
		t.Fatalf("%d instances completed, want 4", n)
	}
	waitFor(t, 5*time.Second, "FINISHED", func() bool { return h.state(dp, eng.PipelineID()) == "FINISHED" })
	hb, err := dp.ReportTaskRunnerHeartbeat(ctx, &datapipeline.ReportTaskRunnerHeartbeatInput{TaskrunnerId: aws.String("x"), WorkerGroup: aws.String("wg-a")})
	if err != nil || !hb.Terminate {
		t.Fatalf("heartbeat after the run: %+v %v, want terminate", hb, err)
	}
}
