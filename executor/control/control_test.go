package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/store"
)

type fakeEngine struct {
	insts []store.Instance
	calls []string
}

func (f *fakeEngine) PipelineID() string          { return "df-TEST" }
func (f *fakeEngine) PipelineName() string        { return "test" }
func (f *fakeEngine) Activation() int             { return 3 }
func (f *fakeEngine) Instances() []store.Instance { return f.insts }
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
	eng := &fakeEngine{insts: []store.Instance{{ID: "@A_1", Component: "A", Status: "RUNNING",
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
	evs, err := c.Events(ctx)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %s, %v", evs, err)
	}
	var ev executor.Event
	if err := json.Unmarshal(evs[0], &ev); err != nil || ev.Component != "A" || ev.Status != "RUNNING" {
		t.Fatalf("event %s decoded to %+v, %v", evs[0], ev, err)
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

func TestServeRefusesOverlongPath(t *testing.T) {
	dir := t.TempDir()
	for len(dir) < 120 {
		dir = filepath.Join(dir, "deeper-folder")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Serve(context.Background(), dir, &fakeEngine{}); err == nil {
		t.Fatal("Serve on a socket path over the unix limit: want an error")
	}
}
