package tui

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/dpl-dev/dpl/executor"
)

func TestMain(m *testing.M) {
	// Golden frames are plain text: what a NO_COLOR terminal shows, which
	// also proves that status never relies on colour alone.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// key turns a key name into the message bubbletea would deliver.
func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

type session struct {
	t   *testing.T
	src *fakeSource
	tm  *teatest.TestModel
}

func start(t *testing.T, src *fakeSource, opts Options, w, h int) *session {
	t.Helper()
	return startOn(t, src, src, opts, w, h)
}

// startOn starts the UI over any Source (fake keeps the fake's handles).
func startOn(t *testing.T, fake *fakeSource, src Source, opts Options, w, h int) *session {
	t.Helper()
	opts.Source = src
	opts.Now = fixedNow
	opts.Tick = -1
	m := New(opts)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	return &session{t: t, src: fake, tm: tm}
}

// press sends keys; "type:text" types text rune by rune.
func (s *session) press(keys ...string) *session {
	for _, k := range keys {
		if txt, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range txt {
				s.tm.Send(keyMsg(string(r)))
			}
			continue
		}
		s.tm.Send(keyMsg(k))
	}
	return s
}

// waitFor blocks until the terminal output contains text.
func (s *session) waitFor(text string) *session {
	s.t.Helper()
	teatest.WaitFor(s.t, s.tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	return s
}

// final quits and returns the model as it ended.
func (s *session) final() *Model {
	s.t.Helper()
	if err := s.tm.Quit(); err != nil {
		s.t.Fatal(err)
	}
	return s.tm.FinalModel(s.t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
}

// frame quits and compares the last frame with testdata/<test>.golden.
func (s *session) frame() *Model {
	s.t.Helper()
	m := s.final()
	golden.RequireEqual(s.t, []byte(m.View()))
	return m
}

func mustContain(t *testing.T, view string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(view, w) {
			t.Errorf("view lacks %q:\n%s", w, view)
		}
	}
}

func TestGraphView(t *testing.T) {
	m := start(t, newFake(), Options{}, 80, 24).frame()
	v := m.View()
	// Readable at 80×24: component names and statuses as words.
	// Resources are badges and data nodes are left out until e.
	mustContain(t, v, "⚙Worker", "ReadyFlag", "▶ running", "[1 Graph]", "q quit")
	if n := strings.Count(v, "\n") + 1; n != 24 {
		t.Errorf("frame has %d lines, want 24", n)
	}
}

func TestGraphNavigate(t *testing.T) {
	// Right reaches CopyData (after the precondition its input waits on).
	m := start(t, newFake(), Options{}, 80, 24).press("l").frame()
	if got := m.comps[m.graph.comp()].ID; got != "CopyData" {
		t.Errorf("selected %s, want CopyData", got)
	}
}

func TestGraphScrollsToSelection(t *testing.T) {
	// Far right at 80 columns with every edge: the window follows the
	// selection.
	m := start(t, newFake(), Options{}, 80, 24).press("e", "right", "right", "right", "right").frame()
	if m.graph.x == 0 {
		t.Errorf("graph did not scroll right (gx=0) with %s selected", m.comps[m.graph.comp()].ID)
	}
	mustContain(t, m.View(), m.comps[m.graph.comp()].ID)
}

func TestGridView(t *testing.T) {
	m := start(t, newFake(), Options{}, 80, 24).press("tab", "j", "j", "j", "l").frame()
	mustContain(t, m.View(), "[2 Instances]", "✗ failed", "↯ cascade-failed", "@CopyData_2024-01-01T10:00:00")
}

func TestGridOpensInstance(t *testing.T) {
	// The waiting Input instance: why it is not running.
	s := start(t, newFake(), Options{}, 100, 30).press("2", "j", "j", "l", "l", "enter")
	s.waitFor("Why not running")
	m := s.frame()
	mustContain(t, m.View(), "waiting on precondition ReadyFlag, last checked 12:01:03 (FALSE), next 12:01:05 (in 1s)")
}

func TestDetailAttempts(t *testing.T) {
	s := start(t, newFake(), Options{}, 100, 40).press(":", "type:open @CopyData_2024-01-01T10:00:00", "enter")
	s.waitFor("Attempts (2)")
	m := s.frame()
	v := m.View()
	mustContain(t, v, "IOException: connection reset by peer", "#1", "#2", "runs on", "@Worker_2024-01-01T10:00:00", "*password", secretMask)
	if strings.Contains(v, "hunter2") {
		t.Error("a * secret is shown")
	}
}

// In the detail pane the latest attempt is selected; [ selects the one
// before, and L (or enter) opens that attempt's logs.
func TestDetailSelectAttempt(t *testing.T) {
	s := start(t, newFake(), Options{}, 100, 40).press(":", "type:open @CopyData_2024-01-01T10:00:00", "enter")
	s.waitFor("▸ #2")
	s.press("[")
	s.waitFor("▸ #1")
	s.press("L")
	s.waitFor("attempt 1 of 2")
	m := s.final()
	if m.view != viewLogs || m.logs.ai != 0 {
		t.Errorf("after [ and L: view %d, attempt index %d; want the logs of attempt index 0", m.view, m.logs.ai)
	}
	mustContain(t, m.View(), "Attempt 1", "Logs (stdout)")
	// esc returns to the detail with attempt 1 still selected.
	m.Update(keyMsg("esc"))
	if m.view != viewDetail || !strings.Contains(m.View(), "▸ #1") {
		t.Errorf("esc from the logs: view %d, want the detail with attempt #1 selected:\n%s", m.view, m.View())
	}
}

func TestLogsSearch(t *testing.T) {
	s := start(t, newFake(), Options{}, 80, 24).press(":", "type:logs @CopyData_2024-01-01T10:00:00", "enter", "[", "/", "type:error", "enter")
	s.waitFor("match 1 of 2")
	m := s.frame()
	if m.logs.ai != 0 || len(m.logs.hits) != 2 {
		t.Errorf("attempt %d, %d hits; want attempt index 0 and 2 hits", m.logs.ai, len(m.logs.hits))
	}
}

func TestLogsStderr(t *testing.T) {
	s := start(t, newFake(), Options{}, 80, 24).press(":", "type:logs @CopyData_2024-01-01T10:00:00", "enter", "s")
	s.waitFor("stderr")
	m := s.frame()
	mustContain(t, m.View(), "the attempt wrote nothing to stderr")
}

func TestEventsNewestFirst(t *testing.T) {
	hist := []executor.Event{
		{Time: clock.Add(-3 * time.Minute), Kind: executor.EventRun, Message: "started"},
		{Time: clock.Add(-2 * time.Minute), Kind: executor.EventStatus, Instance: "@CopyData_2024-01-01T10:00:00", Status: executor.Failed, Error: "connection reset by peer"},
		{Time: clock.Add(-time.Minute), Kind: executor.EventAlarm, Object: "FailureAlarm", Node: "@CopyData_2024-01-01T10:00:00", TopicArn: "arn:aws:sns:us-east-1:1:ops", Subject: "copy failed", Message: "see logs"},
	}
	m := start(t, newFake(), Options{History: hist}, 100, 24).press("3").frame()
	v := m.View()
	a, r := strings.Index(v, "ALARM"), strings.Index(v, "started")
	if a < 0 || r < 0 || a > r {
		t.Errorf("want the alarm above the run start (newest first):\n%s", v)
	}
}

func TestHelp(t *testing.T) {
	m := start(t, newFake(), Options{}, 100, 30).press("?").frame()
	mustContain(t, m.View(), "rerun", "mark finished", "pause/resume component", "half page down", "command")
}

func TestFilterGrid(t *testing.T) {
	m := start(t, newFake(), Options{}, 80, 24).press("2", "/", "type:copy|rep", "enter").frame()
	if len(m.grid.rows) != 2 {
		t.Errorf("filter kept %d rows, want 2 (CopyData, Report)", len(m.grid.rows))
	}
}

func TestCommandLine(t *testing.T) {
	s := start(t, newFake(), Options{}, 80, 24).press(":", "type:bogus", "enter")
	s.waitFor("unknown command")
	m := s.frame()
	mustContain(t, m.View(), "unknown command \"bogus\"")
}

// Actions: confirm, send the engine command, acknowledge visibly.
func TestActionRerun(t *testing.T) {
	src := newFake()
	s := start(t, src, Options{Events: make(chan executor.Event)}, 80, 24).press("2", "j", "j", "j", "l", "r")
	s.waitFor("Rerun @CopyData_2024-01-01T10:00:00? [y/n]")
	s.press("y").waitFor("rerun sent for")
	s.frame()
	if got := src.callLog(); len(got) != 1 || got[0] != "RERUN [@CopyData_2024-01-01T10:00:00]" {
		t.Errorf("SetStatus calls %q", got)
	}
}

func TestActionCancel(t *testing.T) {
	src := newFake()
	s := start(t, src, Options{Events: make(chan executor.Event)}, 80, 24).press(":", "type:open @Report_2024-01-01T09:00:00", "enter", "c")
	s.waitFor("Cancel @Report")
	s.press("y").waitFor("cancel sent for")
	m := s.frame()
	mustContain(t, m.View(), "⊘ canceled")
	if got := src.callLog(); len(got) != 1 || got[0] != "TRY_CANCEL [@Report_2024-01-01T09:00:00]" {
		t.Errorf("SetStatus calls %q", got)
	}
}

func TestActionMarkFinished(t *testing.T) {
	src := newFake()
	s := start(t, src, Options{Events: make(chan executor.Event)}, 80, 24).press("2", "j", "j", "j", "l", "m")
	s.waitFor("Mark finished")
	s.press("y").waitFor("mark finished sent for")
	s.frame()
	if got := src.callLog(); len(got) != 1 || got[0] != "MARK_FINISHED [@CopyData_2024-01-01T10:00:00]" {
		t.Errorf("SetStatus calls %q", got)
	}
}

func TestActionDeclined(t *testing.T) {
	src := newFake()
	s := start(t, src, Options{Events: make(chan executor.Event)}, 80, 24).press("2", "j", "j", "j", "l", "m", "n")
	s.waitFor("nothing done")
	s.final()
	if got := src.callLog(); len(got) != 0 {
		t.Errorf("declined action was sent: %q", got)
	}
}

func TestActionError(t *testing.T) {
	src := newFake()
	src.failWith = executor.ErrInvalidRequest
	s := start(t, src, Options{Events: make(chan executor.Event)}, 80, 24).press(":", "type:rerun @Report_2024-01-01T10:00:00", "enter")
	s.waitFor("failed: InvalidRequestException")
	s.frame()
}

func TestPauseResume(t *testing.T) {
	src := newFake()
	// Input (a data node with a waiting instance) is in the second column.
	s := start(t, src, Options{Events: make(chan executor.Event)}, 80, 24).press("j", "p")
	s.waitFor("Pause component")
	s.press("y").waitFor("pause sent for")
	s.press("p").waitFor("Resume component")
	s.press("y").waitFor("resume sent for")
	s.frame()
	got := src.callLog()
	if len(got) != 2 || !strings.HasPrefix(got[0], "PAUSE") || !strings.HasPrefix(got[1], "RESUME") {
		t.Errorf("SetStatus calls %q", got)
	}
}

func TestReadOnlyRefusesActions(t *testing.T) {
	src := newFake()
	src.readOnly = true
	s := start(t, src, Options{}, 80, 24).press("r")
	s.waitFor("read-only")
	s.frame()
	if len(src.callLog()) != 0 {
		t.Error("a read-only source got a command")
	}
}

func TestQuitAsksWhileRunning(t *testing.T) {
	stopped := false
	s := start(t, newFake(), Options{Events: make(chan executor.Event), Stop: func() { stopped = true }}, 80, 24).press("q")
	s.waitFor("Stop it and quit?")
	s.press("n").waitFor("still watching")
	s.press("q").waitFor("Stop it and quit?")
	s.press("y")
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if !m.Stopped() {
		t.Error("q then y did not ask to stop the run")
	}
	if stopped {
		t.Error("the model called Stop itself; Run does it after the screen is restored")
	}
}

func TestQuitWithoutRunIsImmediate(t *testing.T) {
	s := start(t, newFake(), Options{}, 80, 24).press("q")
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if m.Stopped() {
		t.Error("quitting a stored run reported a stop")
	}
}

func TestLiveEventsRefresh(t *testing.T) {
	src := newFake()
	ch := make(chan executor.Event, 4)
	s := start(t, src, Options{Events: ch}, 80, 24)
	src.setStatus("@Worker_2024-01-01T11:00:00", executor.Finished)
	ch <- executor.Event{Time: clock, Kind: executor.EventStatus, Instance: "@Worker_2024-01-01T11:00:00", Status: executor.Finished, Prev: executor.Running}
	ch <- executor.Event{Time: clock, Kind: executor.EventRun, Message: "finished"}
	close(ch)
	s.waitFor("■ finished")
	m := s.frame()
	if got := m.insts[m.instIdx["@Worker_2024-01-01T11:00:00"]].Status; got != string(executor.Finished) {
		t.Errorf("Worker shows %s after the stream closed, want FINISHED", got)
	}
	if m.runActive {
		t.Error("run still active after the stream closed")
	}
}

func TestResize(t *testing.T) {
	s := start(t, newFake(), Options{}, 80, 24)
	s.tm.Send(tea.WindowSizeMsg{Width: 140, Height: 45})
	m := s.frame()
	if n := strings.Count(m.View(), "\n") + 1; n != 45 {
		t.Errorf("frame has %d lines after resize, want 45", n)
	}
}

func TestMouseWheelScrollsEvents(t *testing.T) {
	var hist []executor.Event
	for i := range 60 {
		hist = append(hist, executor.Event{Time: clock.Add(time.Duration(i) * time.Second), Kind: executor.EventStatus,
			Instance: "@Report_2024-01-01T09:00:00", Status: executor.Running})
	}
	s := start(t, newFake(), Options{History: hist}, 80, 24).press("3")
	s.tm.Send(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	m := s.final()
	if m.events.sel != 3 {
		t.Errorf("wheel moved the events selection to %d, want 3", m.events.sel)
	}
}

func TestColourProfileAddsColourNotMeaning(t *testing.T) {
	// With colours the same words are there, plus escape sequences.
	r := lipgloss.DefaultRenderer()
	old := r.ColorProfile()
	r.SetColorProfile(termenv.ANSI256)
	defer r.SetColorProfile(old)
	m := New(Options{Source: newFake(), Now: fixedNow, Tick: -1})
	v := m.View()
	if !strings.Contains(v, "\x1b[") {
		t.Error("no colour with a colour profile")
	}
	mustContain(t, v, "running", "Worker")
}

func TestMarkInstances(t *testing.T) {
	// space marks the selected cell; marks show as • and in the status line.
	m := start(t, newFake(), Options{Events: make(chan executor.Event)}, 80, 24).press("2", "j", "j", "j", "l", "space", "k", "space", "k", "space", "space").frame()
	if got := strings.Join(m.markedIDs(), " "); got != "@Input_2024-01-01T10:00:00 @CopyData_2024-01-01T10:00:00" {
		t.Errorf("marked %q", got)
	}
	mustContain(t, m.View(), "✓•", "✗•", "2 marked")
}

func TestMarkBulkRerun(t *testing.T) {
	src := newFake()
	s := start(t, src, Options{Events: make(chan executor.Event)}, 80, 24).press("2", "j", "j", "j", "l", "space", "k", "space", "r")
	s.waitFor("Rerun 2 marked instances")
	s.press("y").waitFor("rerun sent for")
	m := s.frame()
	if got := src.callLog(); len(got) != 1 || got[0] != "RERUN [@Input_2024-01-01T10:00:00 @CopyData_2024-01-01T10:00:00]" {
		t.Errorf("SetStatus calls %q", got)
	}
	if len(m.marked) != 0 {
		t.Errorf("marks kept after the action: %v", m.marked)
	}
}

func TestMarkGraphAndClear(t *testing.T) {
	// In the graph space marks the component's current instance; esc
	// clears the marks.
	m := start(t, newFake(), Options{}, 80, 24).press("space").final()
	if len(m.marked) != 1 || !strings.Contains(m.View(), "• ") {
		t.Fatalf("graph mark: %v\n%s", m.marked, m.View())
	}
	m = start(t, newFake(), Options{}, 80, 24).press("space", "esc").final()
	if len(m.marked) != 0 {
		t.Errorf("esc kept marks %v", m.marked)
	}
}

func TestLastView(t *testing.T) {
	// `-` toggles to the pane shown before; twice returns.
	m := start(t, newFake(), Options{}, 80, 24).press("2", "3", "-").frame()
	if m.view != viewGrid {
		t.Errorf("after 2 3 -: view %d, want the grid", m.view)
	}
	m = start(t, newFake(), Options{}, 80, 24).press("2", "3", "-", "-").final()
	if m.view != viewEvents {
		t.Errorf("after 2 3 - -: view %d, want events", m.view)
	}
	// Out of a detail view `-` goes back like esc.
	m = start(t, newFake(), Options{}, 80, 24).press("2", "j", "j", "j", "l", "enter", "-").final()
	if m.view != viewGrid {
		t.Errorf("- from detail: view %d, want the grid", m.view)
	}
}

func TestViewHistory(t *testing.T) {
	// `[` steps back through the panes visited, `]` forward.
	m := start(t, newFake(), Options{}, 80, 24).press("2", "3", "[", "[", "]").frame()
	if m.view != viewGrid {
		t.Errorf("after 2 3 [ [ ]: view %d, want the grid", m.view)
	}
	m = start(t, newFake(), Options{}, 80, 24).press("2", "[", "[").final()
	if m.view != viewGraph || !strings.Contains(m.View(), "at the oldest view") {
		t.Errorf("[ past the start: view %d\n%s", m.view, m.View())
	}
}
