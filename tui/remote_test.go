package tui

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/remote"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// startServe runs a real dpl serve endpoint on a loopback port (the
// executor/endpoint tests' way) and returns a signed client.
func startServe(t *testing.T) (*remote.Client, string) {
	t.Helper()
	dir := t.TempDir()
	objects, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := endpoint.New(endpoint.Options{StateDir: dir, Credentials: endpoint.Credentials{"AKIDTUI": "tui-secret"},
		Runner: activity.New(activity.Options{Root: dir, Store: objects}), RetryDelay: 100 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			hs.CloseClientConnections()
			srv.Close()
			hs.Close()
		})
	})
	c, err := remote.Dial(context.Background(), remote.ClientOptions{Endpoint: hs.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTUI", "tui-secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	return c, hs.URL
}

func sf(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }
func rf(k, v string) types.Field { return types.Field{Key: aws.String(k), RefValue: aws.String(v)} }

// remotePipeline creates and activates an on-demand pipeline: Hello
// succeeds, Broken (which depends on it, and inherits its command and
// runsOn through parent) fails without retries.
func remotePipeline(t *testing.T, c *remote.Client) string {
	t.Helper()
	ctx := context.Background()
	cp, err := c.DP.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("tui-remote"), UniqueId: aws.String("tui")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cp.PipelineId)
	objs := []types.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{sf("scheduleType", "ondemand"),
			sf("failureAndRerunMode", "CASCADE"), sf("maximumRetries", "0")}},
		{Id: aws.String("Box"), Name: aws.String("Box"), Fields: []types.Field{sf("type", "Ec2Resource"), sf("terminateAfter", "1 hour"), sf("role", "DataPipelineDefaultRole"), sf("resourceRole", "DataPipelineDefaultResourceRole")}},
		{Id: aws.String("ShellBase"), Name: aws.String("ShellBase"), Fields: []types.Field{rf("runsOn", "Box"), sf("command", "echo kaputt >&2; exit 3")}},
		{Id: aws.String("Hello"), Name: aws.String("Hello"), Fields: []types.Field{sf("type", "ShellCommandActivity"), sf("command", "echo hello"), rf("runsOn", "Box")}},
		{Id: aws.String("Broken"), Name: aws.String("Broken"), Fields: []types.Field{sf("type", "ShellCommandActivity"), rf("parent", "ShellBase"), rf("dependsOn", "Hello")}},
	}
	put, err := c.DP.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &id, PipelineObjects: objs})
	if err != nil {
		t.Fatal(err)
	}
	if put.Errored {
		t.Fatalf("definition refused: %+v", put.ValidationErrors)
	}
	if _, err := c.DP.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &id}); err != nil {
		t.Fatal(err)
	}
	return id
}

func waitPoll(t *testing.T, s *RemoteSource, what string, cond func([]runstore.Instance) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := s.poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if cond(s.Instances()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; instances: %+v", what, s.Instances())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func instanceOfComp(insts []runstore.Instance, comp string) *runstore.Instance {
	for i := range insts {
		if insts[i].Component == comp {
			return &insts[i]
		}
	}
	return nil
}

// TestRemoteSource attaches to a real endpoint: components from the
// definition, instances and attempts through QueryObjects/DescribeObjects,
// the view, the errorMessage-only logs, a rerun through SetStatus and the
// polled events.
func TestRemoteSource(t *testing.T) {
	c, url := startServe(t)
	pid := remotePipeline(t, c)
	ctx := context.Background()

	picked, err := PickRemotePipeline(ctx, c)
	if err != nil || picked != pid {
		t.Fatalf("PickRemotePipeline = %q, %v; want %s", picked, err, pid)
	}
	src, err := NewRemote(ctx, c, url, pid)
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Info(); got.Name != "tui-remote" || got.PipelineID != pid || got.Endpoint != url {
		t.Fatalf("Info = %+v", got)
	}
	comps := map[string]Component{}
	for _, c := range src.Components() {
		comps[c.ID] = c
	}
	if len(comps) != 3 || comps["Hello"].Kind != "activity" || comps["Box"].Kind != "resource" || comps["Broken"].RunsOn != "Box" ||
		strings.Join(comps["Broken"].DependsOn, ",") != "Hello" {
		t.Fatalf("components = %+v", comps)
	}

	waitPoll(t, src, "Broken to fail", func(in []runstore.Instance) bool {
		b := instanceOfComp(in, "Broken")
		return b != nil && b.Status == string(executor.Failed)
	})
	insts := src.Instances()
	hello, broken := instanceOfComp(insts, "Hello"), instanceOfComp(insts, "Broken")
	if hello == nil || hello.Status != string(executor.Finished) || hello.Kind != "activity" || hello.ScheduledStart.IsZero() {
		t.Fatalf("Hello instance = %+v", hello)
	}
	atts := src.Attempts(broken.ID)
	if len(atts) != 1 || atts[0].N != 1 || atts[0].Status != string(executor.Failed) || atts[0].ErrorMessage == "" || broken.Attempts != 1 {
		t.Fatalf("Broken attempts = %+v (instance %+v)", atts, broken)
	}

	events := src.Watch(t.Context(), 100*time.Millisecond)
	m := New(Options{Source: src, Events: events, Tick: -1})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	v := m.View()
	for _, want := range []string{"tui-remote", "⇄ 127.0.0.1", "Hello", "Broken", "✓ finished", "✗ failed"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}

	m.openLogs(broken.ID, -1)
	v = m.View()
	firstLine := strings.SplitN(atts[0].ErrorMessage, "\n", 2)[0]
	if !strings.Contains(v, "errorMessage only") || !strings.Contains(v, firstLine) {
		t.Errorf("logs view should show the attempt's errorMessage %q:\n%s", firstLine, v)
	}
	m.pop()

	// Rerun through the model's action path: the server makes a second
	// attempt, and the watcher reports it (the rerun may fail again
	// between two polls, so the status alone may not change).
	cmd := m.send(executor.CmdRerun, broken.ID)
	msg := cmd().(actionMsg)
	if msg.err != nil {
		t.Fatalf("rerun: %v", msg.err)
	}
	m.Update(msg)
	deadline := time.After(30 * time.Second)
	sawStatus := false
	for !sawStatus {
		select {
		case ev := <-events:
			if ev.Kind == executor.EventAttempt && ev.Instance == broken.ID && ev.Attempt != atts[0].ID && ev.Error != "" {
				sawStatus = true
			}
		case <-deadline:
			_ = src.poll(ctx)
			t.Fatalf("no event for the rerun attempt: %+v %+v (poll error %v)", instanceOfComp(src.Instances(), "Broken"), src.Attempts(broken.ID), src.Err())
		}
	}
	waitPoll(t, src, "a second attempt", func(in []runstore.Instance) bool {
		b := instanceOfComp(in, "Broken")
		return b != nil && b.Attempts == 2
	})
}

// TestDiffSnapshots checks the events made of two polls.
func TestDiffSnapshots(t *testing.T) {
	before := []runstore.Instance{{ID: "a", Component: "A", Status: "RUNNING"}, {ID: "b", Component: "B", Status: "WAITING_ON_DEPENDENCIES"}}
	after := []runstore.Instance{{ID: "a", Component: "A", Status: "FINISHED"}, {ID: "b", Component: "B", Status: "WAITING_ON_DEPENDENCIES"},
		{ID: "c", Component: "C", Status: "CREATING"}}
	ba := map[string][]runstore.Attempt{"a": {{ID: "a1", Status: "RUNNING"}}}
	aa := map[string][]runstore.Attempt{"a": {{ID: "a1", Status: "FINISHED"}}, "b": {{ID: "b1", Status: "WAITING_FOR_RUNNER"}}}
	evs := diffSnapshots(before, after, ba, aa, time.Unix(0, 0))
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Kind)+":"+e.Instance+e.Attempt+":"+string(e.Prev)+">"+string(e.Status))
	}
	want := "status:a:RUNNING>FINISHED attempt:aa1:>FINISHED attempt:bb1:>WAITING_FOR_RUNNER status:c:>CREATING"
	if strings.Join(got, " ") != want {
		t.Fatalf("events = %s\nwant     %s", strings.Join(got, " "), want)
	}
}

// TestRemoteSourceFailsOver: `dpl tui --endpoint DEAD,LIVE` attaches
// through the endpoint that answers (the client's failover, issue 18).
func TestRemoteSourceFailsOver(t *testing.T) {
	c, url := startServe(t)
	pid := remotePipeline(t, c)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	ctx := context.Background()
	both, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: dead + "," + url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTUI", "tui-secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	picked, err := PickRemotePipeline(ctx, both)
	if err != nil || picked != pid {
		t.Fatalf("PickRemotePipeline through %s,%s = %q, %v", dead, url, picked, err)
	}
	src, err := NewRemote(ctx, both, dead+","+url, pid)
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Info(); got.PipelineID != pid || len(src.Components()) != 3 {
		t.Fatalf("Info = %+v, %d components", got, len(src.Components()))
	}
	if both.Endpoint() != url {
		t.Fatalf("current endpoint %s, want the live %s", both.Endpoint(), url)
	}
}
