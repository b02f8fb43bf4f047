package session_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/session"
)

// pipeline is an on-demand pipeline of one shell command, run on a
// resource like a real definition.
func pipeline(command string) []byte {
	return []byte(`{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "role": "r", "resourceRole": "rr"},
  {"id": "Box", "type": "Ec2Resource"},
  {"id": "Step", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"}, "command": ` + mustJSON(command) + `}
]}`)
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// open starts a session over a fresh or existing state folder.
func open(t *testing.T, stateDir, command string) (*session.Session, func()) {
	t.Helper()
	// The pipeline id comes from the file's path: the same path resumes.
	file := filepath.Join(filepath.Dir(stateDir), "p.json")
	src := pipeline(command)
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := definition.Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve()
	pending := session.OpenStore(stateDir)
	db, err := pending.Wait()
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(session.Options{File: file, Definition: d, Source: src, Store: db, StateDir: stateDir,
		Runner: activity.New(activity.Options{Root: stateDir}), Parallel: 1, History: true,
		Warnf: func(format string, args ...any) { t.Logf("warning: "+format, args...) }})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return s, func() { db.Close() }
}

func TestSessionRunsToTheEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, closeDB := open(t, dir, "echo hi")
	defer closeDB()
	s.Start(context.Background())
	var statuses []string
	for ev := range s.Events {
		if ev.Kind == executor.EventStatus && ev.Instance != "" {
			statuses = append(statuses, ev.Instance+" "+string(ev.Status))
		}
	}
	sum, err := s.Wait()
	if err != nil || sum == nil || !sum.OK {
		t.Fatalf("Wait = %+v, %v; want a finished run", sum, err)
	}
	if s.Interrupted() {
		t.Error("Interrupted() after a run that finished on its own")
	}
	if len(statuses) == 0 {
		t.Error("no status events on Events")
	}
	// Every event of the stream is also in events.jsonl, in order.
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var ev executor.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("events.jsonl line %d: %v", n+1, err)
		}
	}
	hist, err := s.Engine.History(0)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(hist) {
		t.Errorf("events.jsonl has %d events, the store %d", n, len(hist))
	}
	// The control socket is gone once Wait returned.
	if _, err := os.Stat(filepath.Join(dir, "control.sock")); err == nil {
		t.Error("control.sock still there after Wait")
	}
}

func TestSessionStopKeepsTheRunResumable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, closeDB := open(t, dir, "sleep 60")
	s.Start(context.Background())
	for ev := range s.Events {
		if ev.Kind == executor.EventStatus && ev.Status == executor.Running && ev.Component == "Step" {
			s.Stop()
		}
	}
	sum, _ := s.Wait()
	if !s.Interrupted() {
		t.Fatalf("Interrupted() = false after Stop (summary %+v)", sum)
	}
	if sum != nil && sum.OK {
		t.Error("a stopped run reports OK")
	}
	closeDB()

	again, closeDB := open(t, dir, "sleep 60")
	defer closeDB()
	if !again.Engine.Resumed() {
		t.Error("the stopped run was not resumed by the next Open")
	}
	if len(again.History) != 0 {
		t.Error("History is read by Start, not Open")
	}
	ctx, cancel := context.WithCancel(context.Background())
	again.Start(ctx)
	if len(again.History) == 0 {
		t.Error("History of the resumed run is empty")
	}
	cancel()
	for range again.Events {
	}
	again.Wait()
	if !again.Interrupted() {
		t.Error("Interrupted() = false after Start's context ended")
	}
}

func TestBusyErrorNamesTheRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := session.BusyError(context.Background(), dir); err != nil {
		t.Fatalf("BusyError on an idle folder = %v", err)
	}
	s, closeDB := open(t, dir, "sleep 60")
	defer closeDB()
	s.Start(context.Background())
	defer func() {
		s.Stop()
		for range s.Events {
		}
		s.Wait()
	}()
	// The control socket is served once Start returned.
	if err := session.BusyError(context.Background(), dir); err == nil {
		t.Error("BusyError = nil while a run holds the folder")
	}
	if _, err := session.OpenStore(dir).Wait(); err == nil {
		t.Error("a second OpenStore on a folder in use succeeded")
	}
}
