package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
)

type fakeEngine struct {
	insts []runstore.Instance
	calls []string
}

func (f *fakeEngine) PipelineID() string                 { return "df-TEST" }
func (f *fakeEngine) PipelineName() string               { return "test" }
func (f *fakeEngine) Activation() int                    { return 3 }
func (f *fakeEngine) Instances() []runstore.Instance     { return f.insts }
func (f *fakeEngine) Attempts(string) []runstore.Attempt { return nil }
func (f *fakeEngine) Secrets() []string                  { return []string{"s3cr3t-a", "s3cr3t-b"} }
func (f *fakeEngine) QueryObjects(context.Context, executor.QueryInput) (executor.QueryOutput, error) {
	return executor.QueryOutput{}, nil
}
func (f *fakeEngine) DescribeObjects(context.Context, executor.DescribeInput) (executor.DescribeOutput, error) {
	return executor.DescribeOutput{}, nil
}
func (f *fakeEngine) History(uint64) ([]executor.Event, error) {
	return []executor.Event{{Seq: 1, Kind: "status", Component: "A", Status: "RUNNING"}}, nil
}
func (f *fakeEngine) SetStatus(_ context.Context, p string, ids []string, status string) error {
	if status != "RERUN" {
		return fmt.Errorf("InvalidRequestException: %s not allowed here", status)
	}
	f.calls = append(f.calls, fmt.Sprint(p, ids, status))
	return nil
}

func TestServeAndClient(t *testing.T) {
	dir := t.TempDir()
	// A socket file left by a killed run is replaced.
	if err := os.WriteFile(SocketPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{insts: []runstore.Instance{{ID: "@A_1", Component: "A", Status: "RUNNING",
		ScheduledStart: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := Serve(ctx, dir, eng)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(SocketPath(dir)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v, mode %v; want 0600", err, fi.Mode())
	}
	c, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := &Snapshot{Pipeline: "df-TEST", Name: "test", Activation: 3, Instances: eng.insts}
	if !reflect.DeepEqual(snap, want) {
		t.Fatalf("snapshot %+v, want %+v", snap, want)
	}
	evs, err := c.Events(ctx, 0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %+v, %v", evs, err)
	}
	if ev := evs[0]; ev.Seq != 1 || ev.Kind != "status" || ev.Component != "A" || ev.Status != "RUNNING" {
		t.Fatalf("event %+v", ev)
	}
	// A view attached to the run masks its secrets in attempt logs.
	if secrets, err := c.Secrets(ctx); err != nil || !reflect.DeepEqual(secrets, []string{"s3cr3t-a", "s3cr3t-b"}) {
		t.Fatalf("secrets %q, %v", secrets, err)
	}
	if err := c.SetStatus(ctx, "", []string{"@A_1"}, "RERUN"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(eng.calls); got != "[df-TEST[@A_1]RERUN]" {
		t.Fatalf("SetStatus calls %s", got)
	}
	// The engine's refusal reaches the caller word for word.
	if err := c.SetStatus(ctx, "", []string{"@A_1"}, "PAUSE"); err == nil || err.Error() != "InvalidRequestException: PAUSE not allowed here" {
		t.Fatalf("refused SetStatus: %v", err)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := os.Stat(SocketPath(dir)); !os.IsNotExist(err) {
		t.Fatalf("socket not removed: %v", err)
	}
	if _, err := Dial(dir); !errors.Is(err, ErrNoRun) {
		t.Fatalf("Dial after the run: %v, want ErrNoRun", err)
	}
}

func TestLongStateFolder(t *testing.T) {
	dir := t.TempDir()
	for len(dir) < 150 {
		dir = filepath.Join(dir, "a-rather-deep-state-folder")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := SocketPath(dir)
	if len(sock) > maxSocketPath || filepath.Dir(sock) != filepath.Clean(os.TempDir()) {
		t.Fatalf("socket path for a long state folder: %s", sock)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := Serve(ctx, dir, &fakeEngine{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	if snap, err := c.Snapshot(ctx); err != nil || snap.Pipeline != "df-TEST" {
		t.Fatalf("snapshot %+v, %v", snap, err)
	}
	cancel()
	<-done
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left in the temporary folder: %v", err)
	}
}

// TestRealEngine: a run driven in this process, reached only through the
// socket: snapshot, attempts, query, evaluated describe, events after a
// sequence number, and a cancel that ends the run.
func TestRealEngine(t *testing.T) {
	src := []byte(`{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"nobody-polls"},
 {"id":"A","name":"A","type":"ShellCommandActivity","command":"echo #{@scheduledStartTime}"}]}`)
	d, err := definition.Parse("p.json", src)
	if err != nil {
		t.Fatal(err)
	}
	db, err := runstore.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: "df-REAL", Store: db, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ran := make(chan *executor.Summary, 1)
	go func() {
		sum, _ := eng.Run(ctx)
		ran <- sum
	}()
	done, err := Serve(ctx, dir, eng)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	var inst runstore.Instance
	deadline := time.Now().Add(10 * time.Second)
	for inst.Status != "WAITING_FOR_RUNNER" {
		if time.Now().After(deadline) {
			t.Fatalf("instance never waited for a runner: %+v", inst)
		}
		snap, err := c.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Instances) == 1 {
			inst = snap.Instances[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	atts, err := c.Attempts(ctx, inst.ID)
	if err != nil || len(atts) != 1 || atts[0].Status != "WAITING_FOR_RUNNER" {
		t.Fatalf("attempts %+v, %v", atts, err)
	}
	q, err := c.QueryObjects(ctx, executor.QueryInput{PipelineID: "df-REAL", Sphere: executor.SphereInstance})
	if err != nil || len(q.IDs) != 1 || q.IDs[0] != inst.ID {
		t.Fatalf("query %+v, %v", q, err)
	}
	desc, err := c.DescribeObjects(ctx, executor.DescribeInput{PipelineID: "df-REAL", ObjectIDs: []string{inst.ID}, EvaluateExpressions: true})
	if err != nil || len(desc.Objects) != 1 {
		t.Fatalf("describe %+v, %v", desc, err)
	}
	if got, want := desc.Objects[0].Get("command"), "echo "+inst.ScheduledStart.UTC().Format("2006-01-02T15:04:05"); got != want {
		t.Errorf("evaluated command %q, want %q", got, want)
	}
	if _, err := c.QueryObjects(ctx, executor.QueryInput{PipelineID: "df-OTHER", Sphere: executor.SphereInstance}); err == nil {
		t.Error("query of another pipeline: want the engine's refusal")
	}
	all, err := c.Events(ctx, 0)
	if err != nil || len(all) < 2 {
		t.Fatalf("events %d, %v", len(all), err)
	}
	second := all[1]
	rest, err := c.Events(ctx, second.Seq)
	if err != nil || len(rest) != len(all)-2 {
		t.Fatalf("events after seq %d: %d, want %d (%v)", second.Seq, len(rest), len(all)-2, err)
	}
	if err := c.SetStatus(ctx, "", []string{inst.ID}, executor.CmdTryCancel); err != nil {
		t.Fatal(err)
	}
	select {
	case sum := <-ran:
		if sum == nil || sum.OK {
			t.Fatalf("run after cancel: %+v, want not OK", sum)
		}
	case <-ctx.Done():
		t.Fatal("the run did not end after its only instance was canceled")
	}
	cancel()
	<-done
}
