package tui

import (
	"context"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/dpl-dev/dpl/executor"
)

// TestBatchedKeysAllHandled: keys that arrive in one read (key repeat,
// ssh, tmux send-keys "jj") come as one KeyRunes message; every key acts,
// in order.
func TestBatchedKeysAllHandled(t *testing.T) {
	s := start(t, newFake(), Options{}, 100, 30).press("2").waitFor("[2 Instances]")
	s.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjl")})
	m := s.final()
	if m.grid.row != 2 || m.grid.col != 1 {
		t.Errorf("after \"jjl\" the grid selection is row %d column %d, want row 2 column 1", m.grid.row, m.grid.col)
	}
}

// TestBatchedQuitConfirm: "qy" in one message asks and confirms.
func TestBatchedQuitConfirm(t *testing.T) {
	s := start(t, newFake(), Options{Events: make(chan executor.Event), Stop: func() {}}, 80, 24)
	s.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("qy")})
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if !m.Stopped() {
		t.Error(`"qy" in one message did not quit and stop the run`)
	}
}

// TestFlashExpiresWithoutRun: a status message clears on its own timer,
// also on a stored run where nothing else ticks.
func TestFlashExpiresWithoutRun(t *testing.T) {
	m := New(Options{Source: newFake(), Now: fixedNow, Tick: -1})
	m.flashTTL = time.Millisecond
	_, cmd := m.Update(keyMsg("-")) // "no earlier view"
	if m.flash == "" || cmd == nil {
		t.Fatalf("no message with its timer: flash %q, cmd %v", m.flash, cmd)
	}
	msg := runUntil[flashExpiredMsg](t, cmd)
	m.Update(msg)
	if m.flash != "" {
		t.Errorf("message %q still shown after its timer", m.flash)
	}
}

// TestFlashTimerOfOlderMessage: the timer of a replaced message does not
// clear the newer one.
func TestFlashTimerOfOlderMessage(t *testing.T) {
	m := New(Options{Source: newFake(), Now: fixedNow, Tick: -1})
	m.flashTTL = time.Millisecond
	_, cmd := m.Update(keyMsg("-"))
	old := runUntil[flashExpiredMsg](t, cmd)
	m.Update(keyMsg("["))
	want := m.flash
	m.Update(old)
	if m.flash != want {
		t.Errorf("the older timer cleared the newer message %q", want)
	}
}

// runUntil runs cmd (and the batches and sequences it returns) until it
// yields a message of type T.
func runUntil[T tea.Msg](t *testing.T, cmd tea.Cmd) T {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case T:
			return msg
		case tea.BatchMsg:
			queue = append(queue, msg...)
		}
	}
	var zero T
	t.Fatalf("no %T from the command", zero)
	return zero
}

// TestRerunAfterRunEndedFollowsNewRun: after the stream closed (the run
// ended), a rerun reopens the run; the view subscribes again, shows it
// running, and shows the final statuses when the new stream closes.
func TestRerunAfterRunEndedFollowsNewRun(t *testing.T) {
	src := newFake()
	first := make(chan executor.Event)
	close(first)
	second := make(chan executor.Event, 2)
	subscribed := make(chan struct{}, 1)
	sub := func() (<-chan executor.Event, func()) {
		subscribed <- struct{}{}
		return second, func() {}
	}
	s := start(t, src, Options{Events: first, Subscribe: sub, Stop: func() {}}, 100, 30)
	s.waitFor("■ run ended")
	s.press("2", "down").press("r").waitFor("Rerun").press("y")
	select {
	case <-subscribed:
	case <-time.After(5 * time.Second):
		t.Fatal("the view did not subscribe to the reopened run")
	}
	s.waitFor("● running")
	id := "@CopyData_2024-01-01T09:00:00"
	src.setStatus(id, executor.Finished)
	second <- executor.Event{Time: clock, Kind: executor.EventRun, Message: "activation 3 finished: 15 instances"}
	close(second)
	s.waitFor("■ activation 3 finished")
	m := s.final()
	if m.runActive {
		t.Error("still active after the second stream closed")
	}
	if got := m.insts[m.instIdx[id]].Status; got != string(executor.Finished) {
		t.Errorf("%s shows %s, want the final FINISHED", id, got)
	}
}

// finalFake is a Finaler: the attached run ended, the stored state has
// the final statuses.
type finalFake struct {
	*fakeSource
	final *fakeSource
}

func (f *finalFake) RunEnded(context.Context) (Source, []executor.Event) {
	return f.final, []executor.Event{{Seq: 7, Time: clock, Kind: executor.EventRun, Message: "activation 3 did not finish: 1 CANCELED"}}
}

// TestAttachedRunEndShowsStoredFinal: when an attached run's stream
// closes, the view reloads from the stored state (a live answer would
// still say RUNNING for instances the run canceled on its way out).
func TestAttachedRunEndShowsStoredFinal(t *testing.T) {
	live := newFake()
	stored := newFake()
	id := "@Report_2024-01-01T09:00:00"
	stored.setStatus(id, executor.Canceled)
	ch := make(chan executor.Event)
	s := startOn(t, live, &finalFake{fakeSource: live, final: stored}, Options{Events: ch}, 100, 30)
	close(ch)
	s.waitFor("■ activation 3 did not finish: 1 CANCELED")
	m := s.final()
	if got := m.insts[m.instIdx[id]].Status; got != string(executor.Canceled) {
		t.Errorf("%s shows %s after the attached run ended, want the stored CANCELED", id, got)
	}
}
