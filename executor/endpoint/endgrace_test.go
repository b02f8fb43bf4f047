package endpoint_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/remote"
)

// TestServeEngineEndGrace is `dpl run --serve` ending: after the run ends
// the server keeps answering for EndGrace, heartbeats say terminate and
// waiting polls return, so remote runners (whose periodic heartbeat is an
// hour away) exit cleanly before the server closes.
func TestServeEngineEndGrace(t *testing.T) {
	d, err := definition.ParseFile("testdata/groups.json")
	if err != nil {
		t.Fatal(err)
	}
	marks := t.TempDir()
	params := map[string][]string{"myMarkerDir": {marks}, "myRuns": {"1"}}
	eng, err := executor.New(executor.Options{Definition: d, PipelineID: "df-ENDGRACE0000000000", Params: params,
		RetryDelay: 100 * time.Millisecond, RemoteAll: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const grace = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	served := make(chan time.Time, 1)
	go func() {
		err := endpoint.ServeEngineOn(ctx, l, eng, "groups", eng.WorkerGroups(), endpoint.Options{StateDir: t.TempDir(),
			Credentials: endpoint.Credentials{testKey: testSecret}, EndGrace: grace, Logf: t.Logf})
		if err != nil {
			t.Errorf("serve: %v", err)
		}
		served <- time.Now()
	}()

	type runnerEnd struct {
		group string
		at    time.Time
		log   string
	}
	ends := make(chan runnerEnd, 2)
	for _, g := range eng.WorkerGroups() {
		c, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: "http://" + l.Addr().String(),
			Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
		if err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(t.TempDir(), g)
		objects, err := objstore.NewLocal(root)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var log strings.Builder
		r := &remote.TaskRunner{API: c, WorkerGroup: g, Tasks: 1, Runner: activity.New(activity.Options{Root: root, Store: objects}),
			ProgressInterval: 200 * time.Millisecond, HeartbeatInterval: time.Hour, ShutdownGrace: time.Second,
			Logf: func(f string, a ...any) { mu.Lock(); fmt.Fprintf(&log, f+"\n", a...); mu.Unlock() }}
		go func() {
			_ = r.Run(ctx)
			mu.Lock()
			defer mu.Unlock()
			ends <- runnerEnd{g, time.Now(), log.String()}
		}()
	}
	sum, err := eng.Run(ctx)
	if err != nil || !sum.OK {
		t.Fatalf("run: %+v %v", sum, err)
	}
	ended := time.Now()
	for range 2 {
		select {
		case e := <-ends:
			if !strings.Contains(e.log, "asked this runner to terminate") {
				t.Errorf("runner %s stopped without being told to terminate:\n%s", e.group, e.log)
			}
			if d := e.at.Sub(ended); d > grace {
				t.Errorf("runner %s exited %s after the run ended, after the grace", e.group, d)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a runner did not exit after the run ended")
		}
	}
	select {
	case at := <-served:
		if d := at.Sub(ended); d < grace-500*time.Millisecond {
			t.Errorf("server closed %s after the run ended, before the grace of %s", d, grace)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not close after the grace period")
	}
}
