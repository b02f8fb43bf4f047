package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// TestHeaderOwnRun: the header names the run, says it is this process's
// own, and counts instances per status.
func TestHeaderOwnRun(t *testing.T) {
	m := start(t, newFake(), Options{Events: make(chan executor.Event), Stop: func() {}}, 140, 24).frame()
	mustContain(t, m.View(), "dpl · nightly-copy · run 3 · ● running · own run · df-TEST · ✗1 ↯2 ▶2 …3 ✓6")
}

// TestHeaderNarrow: at 60 columns the header drops the id and counts
// before the tab bar shrinks; at 40 the tabs are numbers.
func TestHeaderNarrow(t *testing.T) {
	for _, w := range []int{60, 40} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			m := start(t, newFake(), Options{Events: make(chan executor.Event), Stop: func() {}}, w, 24).frame()
			head := strings.SplitN(m.View(), "\n", 2)[0]
			if !strings.HasPrefix(head, "dpl · nightly-copy") {
				t.Errorf("header lost the pipeline name: %q", head)
			}
		})
	}
}

// TestBreadcrumbs: the status line of a detail says where it is.
func TestBreadcrumbs(t *testing.T) {
	m := start(t, newFake(), Options{}, 100, 30).press("2", "down", "down", "down", "right", "enter").frame()
	mustContain(t, m.View(), "Instances › CopyData › @CopyData_2024-01-01T10:00:00")
}

func siblingsFake() *fakeSource {
	f := &fakeSource{atts: map[string][]runstore.Attempt{}}
	join := Component{ID: "Join", Type: "ShellCommandActivity", Kind: "activity"}
	sts := []executor.Status{executor.Finished, executor.Finished, executor.Running, executor.Failed, executor.WaitingForRunner}
	for i := range 5 {
		id := fmt.Sprintf("Task%d", i)
		f.comps = append(f.comps, Component{ID: id, Type: "ShellCommandActivity", Kind: "activity"})
		join.DependsOn = append(join.DependsOn, id)
		f.insts = append(f.insts, runstore.Instance{ID: "@" + id + "_1", Component: id, Kind: "activity", Status: string(sts[i]), ScheduledStart: hour(9), RunnableAt: hour(9)})
	}
	f.comps = append(f.comps, join)
	f.insts = append(f.insts, runstore.Instance{ID: "@Join_1", Component: "Join", Kind: "activity", Status: string(executor.WaitingOnDependencies), ScheduledStart: hour(9), RunnableAt: hour(9)})
	return f
}

// TestCollapsedSiblings: five identical siblings are one node with counts
// per status; x shows them one by one.
func TestCollapsedSiblings(t *testing.T) {
	m := start(t, siblingsFake(), Options{}, 100, 30).frame()
	mustContain(t, m.View(), "5 × Task*", "✗1 ▶1 ○1 ✓2", "identical siblings")
	m = start(t, siblingsFake(), Options{}, 100, 30).press("x").final()
	if n := len(m.graph.gv.nodes); n != 6 {
		t.Errorf("x shows %d nodes, want the 5 tasks and the join", n)
	}
}

// TestCompactNarrow: a graph too big for the screen is a list, one node a
// line, centred on the selection.
func TestCompactNarrow(t *testing.T) {
	m := start(t, siblingsFake(), Options{}, 50, 12).press("x").frame()
	if !m.graph.compact {
		t.Error("6 boxes at 50×12 are not the compact list")
	}
}

// TestCancelFinishedSaysSo: c on a finished instance says there is
// nothing to cancel instead of asking.
func TestCancelFinishedSaysSo(t *testing.T) {
	s := start(t, newFake(), Options{Events: make(chan executor.Event), Stop: func() {}}, 100, 30)
	m := s.press("2", "down", "down", "down", "c").final()
	mustContain(t, m.View(), "@CopyData_2024-01-01T09:00:00 is ✓ finished: nothing to cancel")
	if len(s.src.callLog()) != 0 {
		t.Errorf("a cancel was sent: %v", s.src.callLog())
	}
}

// TestLogsOfFinishedAttempt: the logs of an ended attempt say so.
func TestLogsOfFinishedAttempt(t *testing.T) {
	m := start(t, newFake(), Options{}, 100, 30).press("2", "down", "down", "down", "right", "L").final()
	mustContain(t, m.View(), "finished, ")
	if strings.Contains(m.View(), "following") {
		t.Errorf("an ended attempt's logs say following:\n%s", m.View())
	}
}

// TestHeaderNextStart: while the run sleeps until its next instance, the
// header says which and when.
func TestHeaderNextStart(t *testing.T) {
	src := newFake()
	for i := range src.insts {
		if src.insts[i].Status == string(executor.Running) {
			src.insts[i].Status = string(executor.Finished)
		}
	}
	ch := make(chan executor.Event, 1)
	due := clock.Add(90 * time.Second)
	ch <- executor.Event{Time: clock, Kind: executor.EventNext, Instance: "@Report_2024-01-01T13:00:00", NextCheck: &due}
	s := start(t, src, Options{Events: ch, Stop: func() {}}, 160, 24)
	s.waitFor("next @Report_2024-01-01T13:00:00 in 1m30s")
	s.final()
}
