package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/pgstore"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// TestLeaderElection: one node at a time holds the lease; a standby takes
// it only once it ran out (or was resigned), with a larger token; the
// former leader can neither renew nor write through its Fenced store,
// and nothing it tried to write is in the store.
func TestLeaderElection(t *testing.T) {
	dsn := testDSN(t)
	s, _ := freshSchema(t, dsn)
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Leader(ctx); !errors.Is(err, runstore.ErrNotFound) {
		t.Fatalf("leader before any campaign: %v", err)
	}
	const ttl = 400 * time.Millisecond
	t1, won, err := s.Campaign(ctx, "a", "http://a", ttl)
	if err != nil || !won {
		t.Fatalf("first campaign: won %v, %v", won, err)
	}
	if _, won, err := s.Campaign(ctx, "b", "http://b", ttl); err != nil || won {
		t.Fatalf("b won against a live lease: %v %v", won, err)
	}
	l, err := s.Leader(ctx)
	if err != nil || l.Holder != "a" || l.Addr != "http://a" || l.Token != t1 || !l.Live || l.Left <= 0 {
		t.Fatalf("lease %+v, %v", l, err)
	}
	a := s.Fenced(t1)
	if err := a.PutPipeline(&runstore.Pipeline{ID: "df-A"}); err != nil {
		t.Fatalf("the leader cannot write: %v", err)
	}
	if ok, err := s.Renew(ctx, t1, ttl); !ok || err != nil {
		t.Fatalf("renew: %v %v", ok, err)
	}
	// a stops renewing (SIGSTOP, network cut): b waits for the lease to run out.
	var t2 int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		t2, won, err = s.Campaign(ctx, "b", "http://b", ttl)
		if err != nil {
			t.Fatal(err)
		}
		if won {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never took over an expired lease")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if t2 <= t1 {
		t.Fatalf("token %d after %d: fencing tokens must grow", t2, t1)
	}
	if ok, err := s.Renew(ctx, t1, ttl); ok || err != nil {
		t.Fatalf("the former leader renewed: %v %v", ok, err)
	}
	err = a.PutPipeline(&runstore.Pipeline{ID: "df-STALE"})
	if !errors.Is(err, pgstore.ErrFenced) {
		t.Fatalf("stale leader's write: %v, want ErrFenced", err)
	}
	err = a.Write("df-A", 1, runstore.Change{Instances: []*runstore.Instance{{ID: "@x"}}, Events: []runstore.Event{{Seq: 1, Data: []byte("{}")}}})
	if !errors.Is(err, pgstore.ErrFenced) {
		t.Fatalf("stale leader's state write: %v, want ErrFenced", err)
	}
	if err := a.PutServeRegistry([]byte("{}")); !errors.Is(err, pgstore.ErrFenced) {
		t.Fatalf("stale leader's registry write: %v, want ErrFenced", err)
	}
	if _, err := s.Pipeline("df-STALE"); !errors.Is(err, runstore.ErrNotFound) {
		t.Fatalf("a fenced write landed: %v", err)
	}
	if ins, _ := s.Instances("df-A", 1); len(ins) != 0 {
		t.Fatalf("a fenced state write landed: %v", ins)
	}
	b := s.Fenced(t2)
	if err := b.PutPipeline(&runstore.Pipeline{ID: "df-B"}); err != nil {
		t.Fatalf("the new leader cannot write: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pipeline("df-B"); err != nil {
		t.Fatalf("closing a Fenced view closed the store: %v", err)
	}
	// Resign hands over at once.
	if err := s.Resign(ctx, t2); err != nil {
		t.Fatal(err)
	}
	if t3, won, err := s.Campaign(ctx, "c", "http://c", ttl); err != nil || !won || t3 <= t2 {
		t.Fatalf("campaign after resign: %d %v %v", t3, won, err)
	}
}
