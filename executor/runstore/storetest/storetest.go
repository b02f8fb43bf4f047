// Package storetest is the conformance suite of runstore.Backend: every
// backend (badger, PostgreSQL) runs Run against a fresh, empty instance.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// Open returns a fresh, empty backend; the suite closes it.
type Open func(t *testing.T) runstore.Backend

// Run runs every conformance test as a subtest.
func Run(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, runstore.Backend)
	}{
		{"Pipelines", testPipelines},
		{"Definitions", testDefinitions},
		{"Activations", testActivations},
		{"WriteAndRead", testWriteAndRead},
		{"Events", testEvents},
		{"LargeWrite", testLargeWrite},
		{"ConcurrentWrites", testConcurrentWrites},
		{"DeletePipeline", testDeletePipeline},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := open(t)
			defer func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			c.fn(t, b)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func testPipelines(t *testing.T, b runstore.Backend) {
	if _, err := b.Pipeline("df-none"); !errors.Is(err, runstore.ErrNotFound) {
		t.Fatalf("unknown pipeline: %v, want ErrNotFound", err)
	}
	if ps, err := b.Pipelines(); err != nil || len(ps) != 0 {
		t.Fatalf("empty backend lists %v, %v", ps, err)
	}
	for _, id := range []string{"df-B", "df-A", "df-C"} {
		must(t, b.PutPipeline(&runstore.Pipeline{ID: id, Name: "n" + id, File: "/f/" + id, Created: t0}))
	}
	must(t, b.PutPipeline(&runstore.Pipeline{ID: "df-A", Name: "renamed", Created: t0.Add(time.Hour)}))
	p, err := b.Pipeline("df-A")
	if err != nil || p.Name != "renamed" || !p.Created.Equal(t0.Add(time.Hour)) || p.File != "" {
		t.Fatalf("Pipeline after replace: %+v, %v", p, err)
	}
	ps, err := b.Pipelines()
	must(t, err)
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"df-A", "df-B", "df-C"}) {
		t.Fatalf("Pipelines order %v, want id order", ids)
	}
}

func testDefinitions(t *testing.T, b runstore.Backend) {
	if _, err := b.Definition("df-A", "h1"); !errors.Is(err, runstore.ErrNotFound) {
		t.Fatalf("unknown definition: %v, want ErrNotFound", err)
	}
	data := []byte("{\"objects\": [ ]}\n\x00\xff")
	must(t, b.PutDefinition("df-A", "h1", data))
	must(t, b.PutDefinition("df-A", "h2", []byte("other")))
	got, err := b.Definition("df-A", "h1")
	if err != nil || string(got) != string(data) {
		t.Fatalf("Definition = %q, %v; want the bytes as put", got, err)
	}
	if _, err := b.Definition("df-B", "h1"); !errors.Is(err, runstore.ErrNotFound) {
		t.Fatalf("another pipeline's definition: %v, want ErrNotFound", err)
	}
}

func testActivations(t *testing.T, b runstore.Backend) {
	if _, err := b.Latest("df-A"); !errors.Is(err, runstore.ErrNotFound) {
		t.Fatalf("Latest without activations: %v, want ErrNotFound", err)
	}
	// Seq order is numeric: 2 before 10.
	for _, seq := range []int{10, 2, 1} {
		must(t, b.PutActivation(&runstore.Activation{Pipeline: "df-A", Seq: seq, Hash: fmt.Sprint("h", seq), Started: t0,
			StartTimestamp: t0.Add(time.Duration(seq) * time.Hour), Params: map[string][]string{"myA": {"1", "2"}},
			RetryDelay: time.Second, State: runstore.ActRunning}))
	}
	must(t, b.PutActivation(&runstore.Activation{Pipeline: "df-B", Seq: 99, State: runstore.ActRunning}))
	must(t, b.PutActivation(&runstore.Activation{Pipeline: "df-A", Seq: 2, Hash: "h2", State: runstore.ActFinished, Ended: t0.Add(time.Minute), Reason: "done"}))
	as, err := b.Activations("df-A")
	must(t, err)
	var seqs []int
	for _, a := range as {
		seqs = append(seqs, a.Seq)
	}
	if !slices.Equal(seqs, []int{1, 2, 10}) {
		t.Fatalf("Activations order %v, want 1 2 10", seqs)
	}
	if as[1].State != runstore.ActFinished || as[1].Reason != "done" || as[1].Resumable() {
		t.Fatalf("replaced activation: %+v", as[1])
	}
	l, err := b.Latest("df-A")
	if err != nil || l.Seq != 10 || !slices.Equal(l.Params["myA"], []string{"1", "2"}) || l.RetryDelay != time.Second || !l.StartTimestamp.Equal(t0.Add(10*time.Hour)) {
		t.Fatalf("Latest = %+v, %v", l, err)
	}
}

func testWriteAndRead(t *testing.T, b runstore.Backend) {
	ins := []*runstore.Instance{
		{ID: "@B_2024", Component: "B", Status: "WAITING_ON_DEPENDENCIES", ScheduledStart: t0, WaitingOn: []string{"@A_2024"}},
		{ID: "@A_2024", Component: "A", Status: "RUNNING", ActualStart: t0, Attempts: 1},
	}
	att := &runstore.Attempt{ID: "@A_2024_Attempt=1", Instance: "@A_2024", N: 1, Status: "RUNNING", TaskID: "t-1", Group: "wg", Acked: true, LastProgress: t0}
	must(t, b.Write("df-A", 1, runstore.Change{Instances: ins, Attempts: []*runstore.Attempt{att}, Events: []runstore.Event{{Seq: 1, Data: []byte(`{"e":1}`)}}}))
	// Another activation of the same pipeline is separate.
	must(t, b.Write("df-A", 2, runstore.Change{Instances: []*runstore.Instance{{ID: "@A_2024", Status: "FINISHED"}}}))
	// A later write replaces a record.
	done := *att
	done.Status, done.ErrorStack, done.ActualEnd = "FAILED", "stack\ntrace", t0.Add(time.Minute)
	must(t, b.Write("df-A", 1, runstore.Change{Attempts: []*runstore.Attempt{&done}}))

	got, err := b.Instances("df-A", 1)
	must(t, err)
	if len(got) != 2 || got[0].ID != "@A_2024" || got[1].ID != "@B_2024" || got[0].Attempts != 1 || !slices.Equal(got[1].WaitingOn, []string{"@A_2024"}) {
		t.Fatalf("Instances = %+v, want @A then @B with their fields", got)
	}
	ats, err := b.Attempts("df-A", 1)
	must(t, err)
	if len(ats) != 1 || ats[0].Status != "FAILED" || ats[0].ErrorStack != "stack\ntrace" || ats[0].TaskID != "t-1" || !ats[0].Acked || !ats[0].ActualEnd.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Attempts = %+v", ats)
	}
	other, err := b.Instances("df-A", 2)
	if err != nil || len(other) != 1 || other[0].Status != "FINISHED" {
		t.Fatalf("activation 2: %+v, %v", other, err)
	}
	if none, err := b.Instances("df-Z", 1); err != nil || len(none) != 0 {
		t.Fatalf("unknown pipeline's instances: %v, %v", none, err)
	}
}

func testEvents(t *testing.T, b runstore.Backend) {
	if n, err := b.LastEventSeq("df-A", 1); err != nil || n != 0 {
		t.Fatalf("LastEventSeq without events = %d, %v", n, err)
	}
	var evs []runstore.Event
	for n := uint64(1); n <= 300; n++ {
		evs = append(evs, runstore.Event{Seq: n, Data: fmt.Appendf(nil, `{"n":%d,"s":"é\u0000"}`, n)})
	}
	must(t, b.Write("df-A", 1, runstore.Change{Events: evs[:256]}))
	must(t, b.Write("df-A", 1, runstore.Change{Events: evs[256:]}))
	must(t, b.Write("df-A", 2, runstore.Change{Events: []runstore.Event{{Seq: 1000, Data: []byte("x")}}}))
	if n, err := b.LastEventSeq("df-A", 1); err != nil || n != 300 {
		t.Fatalf("LastEventSeq = %d, %v; want 300", n, err)
	}
	var got []runstore.Event
	must(t, b.Events("df-A", 1, 255, func(e runstore.Event) error { got = append(got, e); return nil }))
	if len(got) != 45 || got[0].Seq != 256 || got[44].Seq != 300 || string(got[0].Data) != string(evs[255].Data) {
		t.Fatalf("Events after 255: %d events, first %+v", len(got), got[0])
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq != got[i-1].Seq+1 {
			t.Fatalf("Events out of order at %d: %d after %d", i, got[i].Seq, got[i-1].Seq)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := b.Events("df-A", 1, 0, func(runstore.Event) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("an error from fn: %v after %d events, want it returned after 1", err, n)
	}
}

func testLargeWrite(t *testing.T, b runstore.Backend) {
	const n = 5000
	c := runstore.Change{}
	for i := range n {
		c.Instances = append(c.Instances, &runstore.Instance{ID: fmt.Sprintf("@X_%05d", i), Component: "X", Status: "WAITING_ON_DEPENDENCIES", ScheduledStart: t0.Add(time.Duration(i) * time.Minute)})
		c.Events = append(c.Events, runstore.Event{Seq: uint64(i + 1), Data: []byte(`{}`)})
	}
	must(t, b.Write("df-L", 1, c))
	got, err := b.Instances("df-L", 1)
	if err != nil || len(got) != n || got[n-1].ID != fmt.Sprintf("@X_%05d", n-1) {
		t.Fatalf("after writing %d instances: %d read, %v", n, len(got), err)
	}
	if last, err := b.LastEventSeq("df-L", 1); err != nil || last != n {
		t.Fatalf("LastEventSeq = %d, %v", last, err)
	}
}

func testConcurrentWrites(t *testing.T, b runstore.Backend) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				err := b.Write("df-C", w+1, runstore.Change{Instances: []*runstore.Instance{{ID: fmt.Sprintf("@I_%02d", i), Status: "RUNNING"}},
					Events: []runstore.Event{{Seq: uint64(i + 1), Data: []byte(`{}`)}}})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for seq := 1; seq <= 8; seq++ {
		ins, err := b.Instances("df-C", seq)
		last, err2 := b.LastEventSeq("df-C", seq)
		if err != nil || err2 != nil || len(ins) != 50 || last != 50 {
			t.Fatalf("activation %d after concurrent writes: %d instances, last event %d (%v, %v)", seq, len(ins), last, err, err2)
		}
	}
}

func testDeletePipeline(t *testing.T, b runstore.Backend) {
	for _, id := range []string{"df-D", "df-Keep"} {
		must(t, b.PutPipeline(&runstore.Pipeline{ID: id}))
		must(t, b.PutDefinition(id, "h", []byte("d")))
		must(t, b.PutActivation(&runstore.Activation{Pipeline: id, Seq: 1}))
		must(t, b.Write(id, 1, runstore.Change{Instances: []*runstore.Instance{{ID: "@I"}}, Attempts: []*runstore.Attempt{{ID: "@I_Attempt=1"}},
			Events: []runstore.Event{{Seq: 1, Data: []byte("e")}}}))
	}
	must(t, b.DeletePipeline("df-D"))
	if _, err := b.Pipeline("df-D"); !errors.Is(err, runstore.ErrNotFound) {
		t.Errorf("deleted pipeline record: %v", err)
	}
	if _, err := b.Definition("df-D", "h"); !errors.Is(err, runstore.ErrNotFound) {
		t.Errorf("deleted pipeline's definition: %v", err)
	}
	if as, _ := b.Activations("df-D"); len(as) != 0 {
		t.Errorf("deleted pipeline's activations: %v", as)
	}
	ins, _ := b.Instances("df-D", 1)
	ats, _ := b.Attempts("df-D", 1)
	last, _ := b.LastEventSeq("df-D", 1)
	if len(ins)+len(ats) != 0 || last != 0 {
		t.Errorf("deleted pipeline's run state: %d instances, %d attempts, last event %d", len(ins), len(ats), last)
	}
	if ins, _ := b.Instances("df-Keep", 1); len(ins) != 1 {
		t.Errorf("another pipeline lost its instances: %v", ins)
	}
	if err := b.DeletePipeline("a/b"); err == nil {
		t.Error("DeletePipeline of an id with a slash was accepted")
	}
}
