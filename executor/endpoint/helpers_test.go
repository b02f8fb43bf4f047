package endpoint_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/local"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/remote"
)

const (
	testKey    = "AKIDDPLTEST"
	testSecret = "dpl-test-secret"
)

type harness struct {
	t     *testing.T
	srv   *endpoint.Server
	url   string
	dir   string
	close func()
}

// startServer runs an endpoint on a loopback port with SigV4 credentials.
func startServer(t *testing.T, mod func(*endpoint.Options)) *harness {
	t.Helper()
	dir := t.TempDir()
	objects, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := endpoint.Options{StateDir: dir, Credentials: endpoint.Credentials{testKey: testSecret},
		Runner:     activity.New(activity.Options{Root: dir, Store: objects}),
		RetryDelay: 100 * time.Millisecond, Logf: t.Logf}
	if mod != nil {
		mod(&opts)
	}
	srv, err := endpoint.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	var once sync.Once
	closeFn := func() {
		once.Do(func() {
			hs.CloseClientConnections()
			srv.Close()
			hs.Close()
		})
	}
	t.Cleanup(closeFn)
	return &harness{t: t, srv: srv, url: hs.URL, dir: opts.StateDir, close: closeFn}
}

func (h *harness) sdk() *datapipeline.Client {
	c, err := remote.Dial(context.Background(), remote.ClientOptions{Endpoint: h.url,
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	if err != nil {
		h.t.Fatal(err)
	}
	return c.DP
}

// runner starts an in-process remote task runner on group; stop it with
// the returned function.
func (h *harness) runner(group string, tasks int) (*remote.TaskRunner, func()) {
	h.t.Helper()
	c, err := remote.Dial(context.Background(), remote.ClientOptions{Endpoint: h.url,
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	if err != nil {
		h.t.Fatal(err)
	}
	root := filepath.Join(h.dir, "runner-"+group)
	objects, err := objstore.NewLocal(root)
	if err != nil {
		h.t.Fatal(err)
	}
	r := &remote.TaskRunner{API: c, WorkerGroup: group, Tasks: tasks,
		Runner: activity.New(activity.Options{Root: root, Store: objects}), Logs: local.LogFiles(root),
		ProgressInterval: 200 * time.Millisecond, HeartbeatInterval: time.Second, ShutdownGrace: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = r.Run(ctx) }()
	stop := func() { cancel(); wg.Wait() }
	h.t.Cleanup(stop)
	return r, stop
}

// state returns the pipeline's @pipelineState.
func (h *harness) state(dp *datapipeline.Client, id string) string {
	out, err := dp.DescribePipelines(context.Background(), &datapipeline.DescribePipelinesInput{PipelineIds: []string{id}})
	if err != nil {
		h.t.Fatalf("describe %s: %v", id, err)
	}
	for _, f := range out.PipelineDescriptionList[0].Fields {
		if aws.ToString(f.Key) == "@pipelineState" {
			return aws.ToString(f.StringValue)
		}
	}
	return ""
}

// waitFor polls cond every 100 ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// doneLines reads the marker file the fixture's commands append to.
func doneLines(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "done"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

func counts(lines []string) map[string]int {
	m := map[string]int{}
	for _, l := range lines {
		m[l]++
	}
	return m
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}
