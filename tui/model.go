package tui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/dpl-dev/dpl/executor"
)

type view int

const (
	viewGraph view = iota
	viewGrid
	viewEvents
	viewDetail
	viewLogs
)

var paneNames = []string{"Graph", "Instances", "Events"}

type mode int

const (
	modeNormal mode = iota
	modeFilter
	modeCommand
	modeConfirm
)

// maxEvents bounds the events pane's memory.
const maxEvents = 10000

// Messages.
type (
	eventsMsg struct {
		evs    []executor.Event
		closed bool
	}
	tickMsg   time.Time
	actionMsg struct {
		cmd string
		ids []string
		err error
	}
)

type confirmState struct {
	prompt string
	yes    func() tea.Cmd
}

// Model is the UI's bubbletea model: the global state and the routing
// over the pane components (see pane.go).
type Model struct {
	shared
	opts Options
	help help.Model

	view view
	pane view // the last of graph, grid, events
	back []view

	graph  *graphPane
	grid   *gridPane
	events *eventsPane
	detail *detailPane
	logs   *logsPane

	mode                 mode
	input                textinput.Model
	confirm              *confirmState
	next                 executor.Event // the last EventNext: the run sleeps until that instance
	flashTTL             time.Duration  // 0: messages stay (tests without timers)
	showHelp             bool
	runActive            bool
	runEnd               string
	stopRequested, quits bool
	backToRuns           bool // `:runs`: the caller shows the run list again
	ticking              bool

	// hist is the panes visited, for `[`/`]` and `-`; histPos is where
	// the view is in it.
	hist    []view
	histPos int
}

// New builds the model over opts.Source; it loads the components and a
// first snapshot of instances.
func New(opts Options) *Model {
	m := &Model{opts: opts, help: help.New(), hist: []view{viewGraph},
		graph: newGraphPane(), grid: &gridPane{}, events: &eventsPane{}, detail: &detailPane{}, logs: &logsPane{}}
	m.shared = shared{src: opts.Source, keys: DefaultKeys(), th: newTheme(), now: opts.Now, width: 80, height: 24, marked: map[string]bool{}}
	m.paused = map[string]bool{}
	if m.now == nil {
		m.now = time.Now
	}
	if m.opts.Tick == 0 {
		m.opts.Tick = time.Second
	}
	if m.opts.Tick > 0 {
		m.flashTTL = flashTTL
	}
	m.info = m.src.Info()
	m.runActive = opts.Events != nil && !m.info.ReadOnly
	m.comps = m.src.Components()
	m.compIdx = make(map[string]int, len(m.comps))
	for i, c := range m.comps {
		m.compIdx[c.ID] = i
	}
	for _, l := range layoutGraph(m.comps).layers {
		m.rowOrder = append(m.rowOrder, l...)
	}
	for i := len(opts.History) - 1; i >= 0 && len(m.events.events) < maxEvents; i-- {
		if keepEvent(opts.History[i]) {
			m.events.events = append(m.events.events, opts.History[i])
		}
	}
	reverse(m.events.events)
	m.input = textinput.New()
	m.input.Prompt = ""
	m.detail.vp = viewport.New(80, 20)
	m.logs.vp = viewport.New(80, 20)
	m.reload()
	m.graph.rebuildGraph(&m.shared)
	return m
}

// panes are the pane components by view.
func (m *Model) paneOf(v view) pane {
	switch v {
	case viewGrid:
		return m.grid
	case viewEvents:
		return m.events
	case viewDetail:
		return m.detail
	case viewLogs:
		return m.logs
	}
	return m.graph
}

// shown is the pane on screen.
func (m *Model) shown() pane { return m.paneOf(m.view) }

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if m.opts.Events != nil {
		cmds = append(cmds, waitEvents(m.opts.Events))
	}
	cmds = append(cmds, m.tick())
	return tea.Batch(cmds...)
}

// waitEvents delivers the next events, gathering those that arrive within
// 50ms so that a burst costs one refresh, not one per event.
func waitEvents(ch <-chan executor.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return eventsMsg{closed: true}
		}
		evs := []executor.Event{ev}
		deadline := time.NewTimer(50 * time.Millisecond)
		defer deadline.Stop()
		for len(evs) < 5000 {
			select {
			case ev, ok := <-ch:
				if !ok {
					return eventsMsg{evs: evs, closed: true}
				}
				evs = append(evs, ev)
			case <-deadline.C:
				return eventsMsg{evs: evs}
			}
		}
		return eventsMsg{evs: evs}
	}
}

// tick schedules the low-rate refresh, only while something changes with
// time: an active run (countdowns) or followed logs.
func (m *Model) tick() tea.Cmd {
	if m.ticking || m.opts.Tick < 0 || !(m.runActive || m.view == viewLogs && m.logs.follow) {
		return nil
	}
	m.ticking = true
	return tea.Tick(m.opts.Tick, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// reload takes a fresh snapshot of the instances and has the panes
// refresh: the list panes always, detail and logs when shown (they read
// the store or files).
func (m *Model) reload() {
	m.load(m.src, m.now())
	m.refreshPanes()
}

func (m *Model) refreshPanes() {
	for _, p := range []pane{m.graph, m.grid, m.events} {
		p.refresh(&m.shared)
	}
	if m.view == viewDetail || m.view == viewLogs {
		m.shown().refresh(&m.shared)
	}
}

func urgency(s executor.Status) int {
	switch s {
	case executor.Failed, executor.CascadeFailed, executor.TimedOut:
		return 5
	case executor.Running, executor.Creating:
		return 4
	case executor.WaitingForRunner, executor.WaitingOnDependencies, executor.Paused:
		return 3
	case executor.Canceled, executor.ShuttingDown:
		return 2
	}
	return 1
}

func keepEvent(ev executor.Event) bool {
	switch ev.Kind {
	case executor.EventLog:
		return false
	case executor.EventAttempt:
		return ev.Error != ""
	case executor.EventWaiting:
		return ev.Message != ""
	}
	return true
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	seq := m.flashSeq
	_, cmd := m.update(msg)
	if t := m.flashTimer(seq); t != nil {
		cmd = tea.Batch(cmd, t)
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case eventsMsg:
		return m, m.onEvents(msg)
	case tickMsg:
		m.ticking = false
		if m.view == viewLogs || m.view == viewDetail {
			m.shown().refresh(&m.shared)
		}
		return m, m.tick()
	case actionMsg:
		verb := verbs[msg.cmd]
		if msg.err != nil {
			m.setFlash(fmt.Sprintf("✗ %s %s failed: %v", verb, strings.Join(msg.ids, " "), msg.err), true)
		} else {
			m.setFlash(fmt.Sprintf("✓ %s sent for %s", verb, strings.Join(msg.ids, " ")), false)
			switch msg.cmd {
			case executor.CmdPause:
				for _, id := range msg.ids {
					m.paused[id] = true
				}
			case executor.CmdResume:
				for _, id := range msg.ids {
					delete(m.paused, id)
				}
			}
		}
		m.reload()
		if m.view == viewDetail {
			m.detail.load(&m.shared)
		}
		if msg.err == nil && !m.runActive && m.opts.Subscribe != nil {
			// The command reopened the ended run, which runs again.
			ch, _ := m.opts.Subscribe()
			m.opts.Events = ch
			m.runActive, m.runEnd = true, ""
			return m, tea.Batch(waitEvents(ch), m.tick())
		}
		return m, nil
	case tea.MouseMsg:
		return m, m.onMouse(msg)
	case tea.KeyMsg:
		return m, m.onKeys(msg)
	case flashExpiredMsg:
		if msg.seq == m.flashSeq {
			m.flash = ""
		}
		return m, nil
	case finalMsg:
		if msg.src != nil {
			m.src = msg.src
			m.info.ReadOnly = true
		}
		m.addMissedEvents(msg.history)
		m.reload()
		if m.view == viewDetail {
			m.detail.load(&m.shared)
		}
		return m, nil
	}
	return m, nil
}

// onKeys handles a key message. Keys that arrive together (key repeat,
// ssh, a paste of "jj") come as one message with several runes; each is
// handled in order, as if typed one by one.
func (m *Model) onKeys(msg tea.KeyMsg) tea.Cmd {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste && (m.mode == modeFilter || m.mode == modeCommand) {
		return m.onKey(msg)
	}
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}
		if r == ' ' {
			k.Type = tea.KeySpace
		}
		if c := m.onKey(k); c != nil {
			cmds = append(cmds, c)
		}
		if m.quits {
			break
		}
	}
	return tea.Sequence(cmds...)
}

func (m *Model) onEvents(msg eventsMsg) tea.Cmd {
	touched := false
	for _, ev := range msg.evs {
		switch {
		case ev.Kind == executor.EventNext:
			m.next = ev
		case ev.Kind == executor.EventStatus && ev.Status == executor.Running:
			m.next = executor.Event{}
		}
		if ev.Kind == executor.EventRun && ev.Message != "" && ev.Message != "started" && ev.Message != "resumed" {
			m.runEnd = ev.Message
		}
		m.events.add(ev)
		if ev.Instance == m.detail.id || ev.Attempt != "" && strings.HasPrefix(ev.Attempt, m.detail.id) {
			touched = true
		}
	}
	m.events.trim()
	m.reload()
	if m.view == viewDetail && touched {
		m.detail.load(&m.shared)
	}
	if msg.closed {
		wasActive := m.runActive
		m.runActive = false
		if m.runEnd == "" {
			m.runEnd = "run ended"
		}
		if wasActive && m.mode == modeConfirm && m.confirm != nil && m.confirm.prompt == quitPrompt {
			m.mode, m.confirm = modeNormal, nil
		}
		if f, ok := m.src.(Finaler); ok {
			// An attached run ended: its final state is in the store once
			// that process lets go of it.
			return func() tea.Msg {
				ctx, cancel := context.WithTimeout(context.Background(), finalTimeout)
				defer cancel()
				src, history := f.RunEnded(ctx)
				return finalMsg{src: src, history: history}
			}
		}
		return nil
	}
	return waitEvents(m.opts.Events)
}

// flashTTL is how long a status message stays.
const flashTTL = 8 * time.Second

type flashExpiredMsg struct{ seq int }

// finalMsg says the run the view is attached to has ended and its final
// state can be read.
type finalMsg struct {
	src     Source
	history []executor.Event
}

// finalTimeout bounds the wait for an attached run's final state.
const finalTimeout = 30 * time.Second

// Finaler is a Source over a run in another process. RunEnded is called
// (off the UI goroutine) when the run's live stream has closed; it returns
// the source of the run's final, stored state, or nil to keep this one.
type Finaler interface {
	RunEnded(ctx context.Context) (Source, []executor.Event)
}

// setFlash shows a status message; its own timer (started by Update, see
// flashTimer) clears it, also when nothing else ticks.
// addMissedEvents adds the stored events the live stream did not deliver
// (those after the last one seen), and the run's last word.
func (m *Model) addMissedEvents(history []executor.Event) {
	var last uint64
	for _, ev := range m.events.events {
		last = max(last, ev.Seq)
	}
	for _, ev := range history {
		if ev.Seq <= last {
			continue
		}
		if ev.Kind == executor.EventRun && ev.Message != "" {
			m.runEnd = ev.Message
		}
		if keepEvent(ev) {
			m.events.events = append(m.events.events, ev)
		}
	}
}

// flashTimer is the expiry of a status message set while handling the
// last message, nil when none was.
func (m *Model) flashTimer(seqBefore int) tea.Cmd {
	if m.flashSeq == seqBefore || m.flash == "" || m.flashTTL <= 0 {
		return nil
	}
	seq := m.flashSeq
	return tea.Tick(m.flashTTL, func(time.Time) tea.Msg { return flashExpiredMsg{seq: seq} })
}

func (m *Model) resize() {
	h := m.bodyHeight()
	m.detail.vp.Width, m.detail.vp.Height = m.width, h
	m.logs.vp.Width, m.logs.vp.Height = m.width, max(h-1, 1)
	m.help.Width = m.width
	m.graph.fitGraph(&m.shared)
	m.grid.clamp(&m.shared)
	switch m.view {
	case viewDetail:
		m.detail.render(&m.shared)
	case viewLogs:
		m.logs.render(&m.shared)
	}
}

const quitPrompt = "The run is still active. Stop it and quit? It stays resumable with dpl run. [y/n]"

func (m *Model) quit(ask bool) tea.Cmd {
	if m.runActive && m.opts.Stop != nil {
		if ask {
			m.mode = modeConfirm
			m.confirm = &confirmState{prompt: quitPrompt, yes: func() tea.Cmd {
				m.stopRequested, m.quits = true, true
				return tea.Quit
			}}
			return nil
		}
		m.stopRequested = true
	}
	m.quits = true
	return tea.Quit
}

func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if key.Matches(msg, k.ForceQuit) {
		return m.quit(false)
	}
	switch m.mode {
	case modeConfirm:
		switch {
		case key.Matches(msg, k.Yes):
			c := m.confirm
			m.mode, m.confirm = modeNormal, nil
			return c.yes()
		case key.Matches(msg, k.No):
			if m.confirm.prompt == quitPrompt {
				m.setFlash("still watching the run", false)
			} else {
				m.setFlash("nothing done", false)
			}
			m.mode, m.confirm = modeNormal, nil
		}
		return nil
	case modeFilter, modeCommand:
		return m.onInputKey(msg)
	}
	if m.showHelp {
		if key.Matches(msg, k.Help, k.Back) {
			m.showHelp = false
			return nil
		}
		if !key.Matches(msg, k.Quit) {
			return nil
		}
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit(true)
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.Command):
		m.startInput(modeCommand, "")
		m.input.ShowSuggestions = true
		m.input.SetSuggestions(m.commandSuggestions())
		return nil
	case key.Matches(msg, k.Filter):
		cur := m.filterText
		if m.view == viewLogs {
			cur = m.logs.search
		}
		m.startInput(modeFilter, cur)
		return nil
	}
	if key.Matches(msg, k.Last) {
		return m.lastView()
	}
	if m.view != viewLogs { // the logs pane has its own letters
		inst, comp := m.shown().selection(&m.shared)
		switch {
		case key.Matches(msg, k.Rerun):
			return m.askInstance(executor.CmdRerun, inst)
		case key.Matches(msg, k.Cancel):
			return m.askInstance(executor.CmdTryCancel, inst)
		case key.Matches(msg, k.Finish):
			return m.askInstance(executor.CmdMarkFinished, inst)
		case key.Matches(msg, k.Pause):
			return m.togglePause(comp)
		}
	}
	if m.view == viewGraph || m.view == viewGrid || m.view == viewEvents {
		switch {
		case key.Matches(msg, k.History):
			m.stepHistory(msg.String())
			return nil
		case key.Matches(msg, k.Mark):
			m.toggleMark(m.selectedInstance())
			return nil
		case key.Matches(msg, k.Tab):
			n := (int(m.pane) + 1) % 3
			if msg.String() == "shift+tab" {
				n = (int(m.pane) + 2) % 3
			}
			m.setPane(view(n))
			return nil
		case key.Matches(msg, k.Pane):
			m.setPane(view(msg.Runes[0] - '1'))
			return nil
		case key.Matches(msg, k.Back):
			if m.filterText != "" {
				m.setFilter("")
			} else if len(m.marked) > 0 {
				clear(m.marked)
				m.setFlash("marks cleared", false)
			}
			return nil
		case key.Matches(msg, k.Logs):
			if id := m.selectedInstance(); id != "" {
				m.openLogs(id, -1)
			}
			return m.tick()
		}
	}
	cmd := m.shown().key(&m.shared, msg)
	return tea.Batch(cmd, m.followIntent(), m.tick())
}

// followIntent does what the pane asked for while handling a key.
func (m *Model) followIntent() tea.Cmd {
	in := m.intent
	m.intent = intent{}
	switch in.kind {
	case intentDetail:
		m.openDetail(in.instance)
	case intentLogs:
		m.openLogs(in.instance, in.attempt)
	case intentBack:
		return m.pop()
	case intentInstances:
		m.openInstances(in.comp)
	}
	return nil
}

func (m *Model) openDetail(id string) {
	if m.view != viewDetail {
		m.push(viewDetail)
	}
	m.detail.open(&m.shared, id)
}

// openLogs shows an instance's attempt (-1: the latest).
func (m *Model) openLogs(id string, attempt int) {
	if m.view != viewLogs {
		m.push(viewLogs)
	}
	m.logs.open(&m.shared, id, attempt)
}

// openInstances shows a component's row of the instances grid: every
// period, the current instance selected.
func (m *Model) openInstances(comp int) {
	if m.filterText != "" && !m.matches(m.comps[comp].ID) {
		m.setFilter("")
	}
	m.setPane(viewGrid)
	m.grid.show(&m.shared, comp)
	m.setFlash(fmt.Sprintf("%s: %d instances — enter opens one", m.comps[comp].ID, len(m.compInsts[comp])), false)
}

func (m *Model) setPane(v view) {
	if v < viewGraph || v > viewEvents {
		return
	}
	if v != m.pane {
		m.hist = append(m.hist[:m.histPos+1], v)
		if over := len(m.hist) - maxHistory; over > 0 {
			m.hist = append(m.hist[:0], m.hist[over:]...)
		}
		m.histPos = len(m.hist) - 1
	}
	m.view, m.pane, m.back = v, v, nil
}

// maxHistory bounds the pane history.
const maxHistory = 50

// lastView is `-`: out of a detail or logs view it goes back; in a pane
// it toggles to the pane shown before (k9s), so `-` `-` returns.
func (m *Model) lastView() tea.Cmd {
	if m.view == viewDetail || m.view == viewLogs {
		return m.pop()
	}
	for i := m.histPos - 1; i >= 0; i-- {
		if m.hist[i] != m.pane {
			m.setPane(m.hist[i])
			return nil
		}
	}
	m.setFlash("no earlier view", true)
	return nil
}

// stepHistory is `[` (back) and `]` (forward) through the panes visited,
// without rewriting the history.
func (m *Model) stepHistory(k string) {
	pos := m.histPos + 1
	if k == "[" {
		pos = m.histPos - 1
	}
	if pos < 0 || pos >= len(m.hist) {
		m.setFlash(map[bool]string{true: "at the oldest view", false: "at the newest view"}[k == "["], true)
		return
	}
	m.histPos = pos
	v := m.hist[pos]
	m.view, m.pane, m.back = v, v, nil
}

// toggleMark marks or unmarks an instance for a bulk action.
func (m *Model) toggleMark(id string) {
	if id == "" {
		m.setFlash("no instance here to mark", true)
		return
	}
	if m.marked[id] {
		delete(m.marked, id)
	} else {
		m.marked[id] = true
	}
}

// markedIDs are the marked instances in creation order; marks of
// instances no longer listed are dropped.
func (m *Model) markedIDs() []string {
	var ids []string
	for _, in := range m.insts {
		if m.marked[in.ID] {
			ids = append(ids, in.ID)
		}
	}
	return ids
}

// push opens a view over the current one; esc returns.
func (m *Model) push(v view) {
	m.back = append(m.back, m.view)
	m.view = v
}

func (m *Model) pop() tea.Cmd {
	if len(m.back) == 0 {
		m.view = m.pane
		return nil
	}
	m.view = m.back[len(m.back)-1]
	m.back = m.back[:len(m.back)-1]
	if m.view == viewDetail {
		m.detail.load(&m.shared)
	}
	return nil
}

func (m *Model) startInput(md mode, value string) {
	m.mode = md
	m.input.ShowSuggestions = false
	m.input.SetSuggestions(nil)
	m.input.SetValue(value)
	m.input.CursorEnd()
	m.input.Width = max(m.width-4, 10)
	m.input.Focus()
}

func (m *Model) onInputKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		if m.mode == modeFilter {
			if m.view == viewLogs {
				m.logs.setSearch(&m.shared, "")
			} else {
				m.setFilter("")
			}
		}
		m.mode = modeNormal
		m.input.Blur()
		return nil
	case tea.KeyEnter:
		md, v := m.mode, strings.TrimSpace(m.input.Value())
		m.mode = modeNormal
		m.input.Blur()
		if md == modeCommand {
			return m.runCommand(v)
		}
		if m.view == viewLogs {
			m.logs.setSearch(&m.shared, v)
			return nil
		}
		m.setFilter(v)
		m.jumpToMatch()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.mode == modeFilter && m.view != viewLogs {
		m.setFilter(m.input.Value()) // filter as you type, like k9s
	}
	return cmd
}

// setFilter compiles a case-insensitive regexp; `!` in front inverts it.
// An invalid expression is matched literally.
func (m *Model) setFilter(s string) {
	m.filterText = s
	m.invert = strings.HasPrefix(s, "!")
	pat := strings.TrimPrefix(s, "!")
	m.filter = nil
	if pat != "" {
		re, err := regexp.Compile("(?i)" + pat)
		if err != nil {
			re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(pat))
		}
		m.filter = re
	}
	m.refreshPanes()
}

// jumpToMatch moves the graph selection to the first matching component.
func (m *Model) jumpToMatch() { m.graph.jumpToMatch(&m.shared) }

// selectedInstance is the instance the verbs act on in the current view.
func (m *Model) selectedInstance() string {
	inst, _ := m.shown().selection(&m.shared)
	return inst
}

func (m *Model) selectedComponent() string {
	_, comp := m.shown().selection(&m.shared)
	return comp
}

func (m *Model) onMouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress {
		return nil
	}
	dy, dx := 0, 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		dy = -3
	case tea.MouseButtonWheelDown:
		dy = 3
	case tea.MouseButtonWheelLeft:
		dx = -6
	case tea.MouseButtonWheelRight:
		dx = 6
	default:
		return nil
	}
	if msg.Shift {
		dx, dy = dy*2, 0
	}
	m.shown().scroll(&m.shared, dx, dy)
	return nil
}

func clamp(v, lo, hi int) int {
	if hi < lo {
		hi = lo
	}
	return max(lo, min(v, hi))
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.quits {
		return ""
	}
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	b.WriteString(m.headerLine())
	b.WriteByte('\n')
	h := m.bodyHeight()
	var body string
	switch {
	case m.showHelp:
		body = m.fullHelp(m.width)
	default:
		body = m.shown().view(&m.shared, h)
	}
	b.WriteString(fitLines(body, m.width, h))
	b.WriteByte('\n')
	b.WriteString(m.statusLine())
	b.WriteByte('\n')
	footer := m.help.View(m.helpFor())
	if m.mode == modeCommand {
		footer = m.commandFooter()
	}
	b.WriteString(ansi.Truncate(footer, m.width, "…"))
	return b.String()
}

// fitLines makes s exactly h lines, none wider than w.
func fitLines(s string, w, h int) string {
	lines := strings.SplitN(s, "\n", h+1)
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// Stopped reports whether the operator asked to stop the run on the way
// out (q then y, or ctrl+c).
func (m *Model) Stopped() bool { return m.stopRequested }
