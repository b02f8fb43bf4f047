package remote_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/remote"
	"github.com/dpl-dev/dpl/executor/task"
)

// liveEndpoint serves an empty endpoint; close stops it.
func liveEndpoint(t *testing.T) (url string, close func()) {
	t.Helper()
	srv, err := endpoint.New(endpoint.Options{StateDir: t.TempDir(), Credentials: endpoint.Credentials{"AK": "SK"}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	stop := func() { hs.CloseClientConnections(); hs.Close(); srv.Close() }
	t.Cleanup(stop)
	return hs.URL, stop
}

// deadEndpoint is a loopback URL nothing listens on.
func deadEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func dialList(t *testing.T, list string, switches *[]string) *remote.Client {
	t.Helper()
	c, err := remote.Dial(context.Background(), remote.ClientOptions{Endpoint: list, Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
		Logf: func(f string, a ...any) { *switches = append(*switches, fmtS(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEndpointFailover: calls move past an endpoint that does not answer
// and stay on the one that does; answers of the API, errors included,
// never move them.
func TestEndpointFailover(t *testing.T) {
	ctx := context.Background()
	dead := deadEndpoint(t)
	a, stopA := liveEndpoint(t)
	b, _ := liveEndpoint(t)
	var switches []string
	c := dialList(t, dead+","+a+" , "+b, &switches)
	if _, err := c.ReportTaskRunnerHeartbeat(ctx, executor.HeartbeatInput{TaskRunnerID: "r", WorkerGroup: "g"}); err != nil {
		t.Fatalf("heartbeat with the first endpoint dead: %v", err)
	}
	if c.Endpoint() != a || len(switches) != 1 {
		t.Fatalf("now on %s after %v, want %s", c.Endpoint(), switches, a)
	}
	// An API error is an answer: no failover.
	err := c.SetTaskStatus(ctx, "no-such-task", task.Result{Status: task.Finished})
	if !errors.Is(err, executor.ErrTaskNotFound) || c.Endpoint() != a {
		t.Fatalf("unknown task: %v on %s; want TaskNotFound from %s", err, c.Endpoint(), a)
	}
	stopA()
	// Management calls through Do fail over too (dpl tui).
	err = c.Do(ctx, func(dp *datapipeline.Client) error {
		_, err := dp.ListPipelines(ctx, &datapipeline.ListPipelinesInput{})
		return err
	})
	if err != nil || c.Endpoint() != b {
		t.Fatalf("after %s stopped: %v, on %s; want %s", a, err, c.Endpoint(), b)
	}
	if _, err := c.QueryObjects(ctx, executor.QueryInput{PipelineID: "df-none", Sphere: executor.SphereInstance}); !errors.Is(err, executor.ErrPipelineNotFound) {
		t.Fatalf("query on %s: %v, want PipelineNotFound", c.Endpoint(), err)
	}
	// Every endpoint down: the last connection error comes back.
	only := dialList(t, dead+","+deadEndpoint(t), &switches)
	if _, err := only.ReportTaskRunnerHeartbeat(ctx, executor.HeartbeatInput{TaskRunnerID: "r"}); err == nil {
		t.Fatal("a heartbeat succeeded with every endpoint down")
	}
	if got := only.Endpoints(); len(got) != 2 || got[0] != dead {
		t.Fatalf("Endpoints() = %v", got)
	}
}
