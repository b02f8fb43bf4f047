package executor

import (
	"strings"
	"testing"
	"time"
)

// TestNextInstanceIsAnnounced: a run whose next instance starts in the
// future says which one and when, once, while it sleeps until then.
func TestNextInstanceIsAnnounced(t *testing.T) {
	def := `{"objects":[{"id":"Default","name":"Default","scheduleType":"cron","schedule":{"ref":"S"},"workerGroup":"wg"},
 {"id":"S","type":"Schedule","period":"1 day","startDateTime":"2026-01-29T00:00:00","occurrences":"1"},
 {"id":"A","type":"ShellCommandActivity","command":"x"}]}`
	r := newRun(t, def, Options{})
	e := r.e.engine
	e.mu.Lock()
	e.step()
	e.announceNext()
	e.announceNext() // the same instance: said once
	e.mu.Unlock()
	evs, err := r.e.History(0)
	if err != nil {
		t.Fatal(err)
	}
	var next []Event
	for _, ev := range evs {
		if ev.Kind == EventNext {
			next = append(next, ev)
		}
	}
	if len(next) != 1 {
		t.Fatalf("%d next events, want 1: %+v", len(next), next)
	}
	want := "next: @A_2026-01-29T00:00:00 at 2026-01-29T00:00:00, in 28 days"
	if next[0].Message != want || next[0].Instance != "@A_2026-01-29T00:00:00" || !next[0].NextCheck.Equal(time.Date(2026, 1, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("next event %+v, want %q", next[0], want)
	}
	if b, _ := next[0].MarshalJSON(); !strings.Contains(string(b), `"event":"next"`) {
		t.Errorf("jsonl %s", b)
	}
}
