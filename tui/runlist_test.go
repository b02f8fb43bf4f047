package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/dpl-dev/dpl/executor/runstore"
)

func sampleRuns() []RunEntry {
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	return []RunEntry{
		{PipelineID: "df-local-aaa", Name: "nightly-copy", Seq: 1, State: runstore.ActFailed, Started: t0, Ended: t0.Add(time.Minute), Reason: "1 failed"},
		{PipelineID: "df-local-aaa", Name: "nightly-copy", Seq: 2, State: runstore.ActFinished, Started: t0.Add(time.Hour), Ended: t0.Add(time.Hour + time.Minute), Latest: true},
		{PipelineID: "df-local-bbb", Name: "hourly-report", Seq: 1, State: runstore.ActInterrupted, Started: t0.Add(30 * time.Minute), Latest: true},
	}
}

// The run list shows every activation newest first; j moves, enter
// picks.
func TestRunListPick(t *testing.T) {
	l := NewRunList("/var/lib/dpl", sampleRuns(), nil)
	l.Update(tea.WindowSizeMsg{Width: 110, Height: 10})
	golden.RequireEqual(t, []byte(l.View()))
	l.Update(keyMsg("jj")) // batched keys count
	_, cmd := l.Update(keyMsg("enter"))
	if cmd == nil {
		t.Fatal("enter did not end the list")
	}
	r, ok := l.Chosen()
	if !ok || r.PipelineID != "df-local-aaa" || r.Seq != 1 {
		t.Errorf("picked %+v %v, want run 1 of df-local-aaa (the oldest)", r, ok)
	}
}

func TestRunListFilterAndQuit(t *testing.T) {
	l := NewRunList("dir", sampleRuns(), nil)
	for _, k := range []string{"/", "h", "o", "u", "r", "enter"} {
		l.Update(keyMsg(k))
	}
	if len(l.shown) != 1 || !strings.Contains(l.View(), "hourly-report") || strings.Contains(l.View(), "nightly-copy") {
		t.Errorf("filter /hour shows %d runs:\n%s", len(l.shown), l.View())
	}
	l.Update(keyMsg("q"))
	if _, ok := l.Chosen(); ok {
		t.Error("q picked a run")
	}
}

// `:runs` in a view opened from the run list ends it asking for the
// list; elsewhere it says there is none.
func TestCommandRuns(t *testing.T) {
	m := New(Options{Source: newFake(), Now: fixedNow, Tick: -1})
	m.runCommand("runs")
	if m.backToRuns || m.quits {
		t.Error(":runs outside the run list quit the view")
	}
	mustContain(t, m.View(), "no run list here")
	m = New(Options{Source: newFake(), Now: fixedNow, Tick: -1, RunList: true})
	if cmd := m.runCommand("runs"); cmd == nil || !m.backToRuns || !m.quits {
		t.Errorf(":runs from the run list: backToRuns %v quits %v", m.backToRuns, m.quits)
	}
}
