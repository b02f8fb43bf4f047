package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrder(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	changed := f.Changed()
	late := f.After(2 * time.Hour)
	early := f.After(time.Hour)
	select {
	case <-changed:
	default:
		t.Fatal("Changed not signalled by After")
	}
	if next, ok := f.Next(); !ok || !next.Equal(start.Add(time.Hour)) {
		t.Fatalf("Next = %v %v", next, ok)
	}
	f.Advance(90 * time.Minute)
	select {
	case at := <-early:
		if !at.Equal(start.Add(90 * time.Minute)) {
			t.Errorf("fired with %v", at)
		}
	default:
		t.Fatal("1h waiter did not fire after 90m")
	}
	select {
	case <-late:
		t.Fatal("2h waiter fired early")
	default:
	}
	f.Set(start) // never backwards
	if !f.Now().Equal(start.Add(90 * time.Minute)) {
		t.Errorf("clock went back to %v", f.Now())
	}
	f.Advance(time.Hour)
	<-late
	if f.Waiters() != 0 {
		t.Errorf("%d waiters left", f.Waiters())
	}
	select {
	case <-f.After(0):
	default:
		t.Error("After(0) did not fire at once")
	}
}
