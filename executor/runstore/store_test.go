package runstore

import (
	"fmt"
	"testing"
	"time"
)

func TestActivationsInstancesEvents(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.PutPipeline(&Pipeline{ID: "df-A", Name: "a", Created: now}); err != nil {
		t.Fatal(err)
	}
	for seq := 1; seq <= 2; seq++ {
		if err := db.PutActivation(&Activation{Pipeline: "df-A", Seq: seq, Hash: "h", State: ActRunning}); err != nil {
			t.Fatal(err)
		}
	}
	// A change too big for one badger transaction is split, not refused.
	var c Change
	for k := range 20000 {
		c.Instances = append(c.Instances, &Instance{ID: fmt.Sprintf("@X_%05d", k), Component: "X", Status: "WAITING_ON_DEPENDENCIES"})
		c.Events = append(c.Events, Event{Seq: uint64(k + 1), Data: []byte(`{"event":"status"}`)})
	}
	if err := db.Write("df-A", 2, c); err != nil {
		t.Fatal(err)
	}
	if err := db.Write("df-A", 2, Change{Attempts: []*Attempt{{ID: "@X_00001_Attempt=1", Instance: "@X_00001", N: 1, Status: "RUNNING"}}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Everything survives a reopen.
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	last, err := db.Latest("df-A")
	if err != nil || last.Seq != 2 || !last.Resumable() {
		t.Fatalf("latest %+v %v", last, err)
	}
	ins, err := db.Instances("df-A", 2)
	if err != nil || len(ins) != 20000 {
		t.Fatalf("%d instances, %v", len(ins), err)
	}
	if other, _ := db.Instances("df-A", 1); len(other) != 0 {
		t.Errorf("activation 1 has %d instances", len(other))
	}
	atts, _ := db.Attempts("df-A", 2)
	if len(atts) != 1 || atts[0].Status != "RUNNING" {
		t.Errorf("attempts %+v", atts)
	}
	n, err := db.LastEventSeq("df-A", 2)
	if err != nil || n != 20000 {
		t.Errorf("last event %d %v", n, err)
	}
	var got []uint64
	if err := db.Events("df-A", 2, 19997, func(e Event) error { got = append(got, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[19998 19999 20000]" {
		t.Errorf("events after 19997: %v", got)
	}
	if _, err := db.Pipeline("df-nope"); err != ErrNotFound {
		t.Errorf("missing pipeline: %v", err)
	}
}

// TestDeletePipeline removes one pipeline's records and keeps another's,
// even when one id is a prefix of the other.
func TestDeletePipeline(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"df-A", "df-AB"} {
		if err := db.PutPipeline(&Pipeline{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutDefinition(id, "h", []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if err := db.PutActivation(&Activation{Pipeline: id, Seq: 1, Hash: "h", State: ActRunning}); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(id, 1, Change{Instances: []*Instance{{ID: "@X_1"}}, Attempts: []*Attempt{{ID: "@X_1_Attempt=1"}},
			Events: []Event{{Seq: 1, Data: []byte(`{}`)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeletePipeline("df-A"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pipeline("df-A"); err != ErrNotFound {
		t.Errorf("pipeline still there: %v", err)
	}
	if _, err := db.Definition("df-A", "h"); err != ErrNotFound {
		t.Errorf("definition still there: %v", err)
	}
	as, _ := db.Activations("df-A")
	is, _ := db.Instances("df-A", 1)
	ts, _ := db.Attempts("df-A", 1)
	n, _ := db.LastEventSeq("df-A", 1)
	if len(as)+len(is)+len(ts) != 0 || n != 0 {
		t.Errorf("left: %d activations, %d instances, %d attempts, last event %d", len(as), len(is), len(ts), n)
	}
	if _, err := db.Pipeline("df-AB"); err != nil {
		t.Errorf("df-AB lost: %v", err)
	}
	if is, _ := db.Instances("df-AB", 1); len(is) != 1 {
		t.Errorf("df-AB has %d instances", len(is))
	}
	if err := db.DeletePipeline("a/b"); err == nil {
		t.Error("an id with a slash was accepted")
	}
}

// BenchmarkOpenClose is the store's fixed cost per `dpl run`.
func BenchmarkOpenClose(b *testing.B) {
	for b.Loop() {
		db, err := Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite is one small state change (an instance, an attempt and
// two events), as the engine writes per step of a task.
func BenchmarkWrite(b *testing.B) {
	db, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ev := []byte(`{"time":"2026-01-01T00:00:00Z","seq":1,"event":"status","pipeline":"df-0123456789ABCDEF012","component":"T1","instance":"@T1_2026-01-01T00:00:00","status":"RUNNING","previous":"WAITING_FOR_RUNNER"}`)
	n := uint64(0)
	for b.Loop() {
		n += 2
		id := fmt.Sprintf("@T%d_2026-01-01T00:00:00", n)
		c := Change{Instances: []*Instance{{ID: id, Component: "T", Status: "RUNNING", Kind: "activity"}},
			Attempts: []*Attempt{{ID: id + "_Attempt=1", Instance: id, N: 1, Status: "RUNNING"}},
			Events:   []Event{{Seq: n - 1, Data: ev}, {Seq: n, Data: ev}}}
		if err := db.Write("df-B", 1, c); err != nil {
			b.Fatal(err)
		}
	}
}
