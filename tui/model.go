package tui

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
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
	describedMsg struct {
		id     string
		fields []fieldLine
		err    error
	}
)

type confirmState struct {
	prompt string
	yes    func() tea.Cmd
}

// Model is the UI's bubbletea model.
type Model struct {
	opts Options
	src  Source
	info Info
	keys KeyMap
	th   *theme
	help help.Model
	now  func() time.Time

	width, height int
	view          view
	pane          view // the last of graph, grid, events
	back          []view

	comps    []Component
	compIdx  map[string]int
	graph    *graphLayout // the graph view's layout
	gview    *graphView
	gorder   []int           // graph view nodes in reading order
	expanded map[string]bool // sibling families shown one by one
	// showAllEdges shows resources and data nodes with their edges;
	// compact is the one-line-per-node layout, compactChosen when the
	// operator picked it (else it follows the screen size).
	showAllEdges, compact, compactChosen bool
	rowOrder                             []int // components in reading order of the graph (grid rows)
	insts                                []runstore.Instance
	instIdx                              map[string]int
	compInsts                            [][]int // instance indices per component, by scheduled start
	compCur                              []int   // the instance a component's box shows, -1 none
	periods                              []time.Time
	cells                                [][]int32 // per component: instance index per period, -1 none
	counts                               map[executor.Status]int
	paused                               map[string]bool

	gsel, gx, gy         int
	grow, gcol           int // selected grid row (index into gridRows) and period
	growOff, gcolOff     int
	gridRows             []int
	events               []executor.Event
	evSel, evOff         int
	detailID             string
	detail               viewport.Model
	detailFields         []fieldLine
	detailErr            error
	logs                 logState
	mode                 mode
	input                textinput.Model
	filter               *regexp.Regexp
	filterText           string
	invert               bool
	confirm              *confirmState
	flash                string
	flashErr             bool
	flashAt              time.Time
	flashSeq             int
	next                 executor.Event // the last EventNext: the run sleeps until that instance
	flashTTL             time.Duration  // 0: messages stay (tests without timers)
	showHelp             bool
	runActive            bool
	runEnd               string
	stopRequested, quits bool
	ticking              bool

	// marked are the instances space marked; r, c and m act on all of
	// them (k9s).
	marked map[string]bool
	// hist is the panes visited, for `[`/`]` and `-`; histPos is where
	// the view is in it.
	hist    []view
	histPos int
}

// New builds the model over opts.Source; it loads the components and a
// first snapshot of instances.
func New(opts Options) *Model {
	m := &Model{opts: opts, src: opts.Source, keys: DefaultKeys(), th: newTheme(), help: help.New(),
		now: opts.Now, width: 80, height: 24, paused: map[string]bool{}, marked: map[string]bool{}, hist: []view{viewGraph}}
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
	m.expanded = map[string]bool{}
	for i := len(opts.History) - 1; i >= 0 && len(m.events) < maxEvents; i-- {
		if keepEvent(opts.History[i]) {
			m.events = append(m.events, opts.History[i])
		}
	}
	reverse(m.events)
	m.input = textinput.New()
	m.input.Prompt = ""
	m.detail = viewport.New(80, 20)
	m.logs.vp = viewport.New(80, 20)
	m.reload()
	m.rebuildGraph()
	return m
}

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

// reload takes a fresh snapshot of the instances and rebuilds the indexes
// the views use.
func (m *Model) reload() {
	m.insts = m.src.Instances()
	m.instIdx = make(map[string]int, len(m.insts))
	m.compInsts = make([][]int, len(m.comps))
	m.counts = map[executor.Status]int{}
	seen := map[int64]bool{}
	m.periods = m.periods[:0]
	for k := range m.insts {
		in := &m.insts[k]
		m.instIdx[in.ID] = k
		m.counts[executor.Status(in.Status)]++
		if c, ok := m.compIdx[in.Component]; ok {
			m.compInsts[c] = append(m.compInsts[c], k)
		}
		if u := in.ScheduledStart.UnixNano(); !seen[u] {
			seen[u] = true
			m.periods = append(m.periods, in.ScheduledStart)
		}
	}
	sort.Slice(m.periods, func(i, j int) bool { return m.periods[i].Before(m.periods[j]) })
	pidx := make(map[int64]int, len(m.periods))
	for i, p := range m.periods {
		pidx[p.UnixNano()] = i
	}
	m.cells = make([][]int32, len(m.comps))
	m.compCur = make([]int, len(m.comps))
	now := m.now()
	for c, list := range m.compInsts {
		sort.SliceStable(list, func(i, j int) bool {
			return m.insts[list[i]].ScheduledStart.Before(m.insts[list[j]].ScheduledStart)
		})
		row := make([]int32, len(m.periods))
		for i := range row {
			row[i] = -1
		}
		for _, k := range list {
			p := pidx[m.insts[k].ScheduledStart.UnixNano()]
			// Several precondition instances can share a period (one per
			// referring component): the cell shows the most pressing.
			if old := row[p]; old < 0 || urgency(executor.Status(m.insts[k].Status)) > urgency(executor.Status(m.insts[old].Status)) {
				row[p] = int32(k)
			}
		}
		m.cells[c] = row
		m.compCur[c] = m.current(list, now)
		for _, k := range list {
			if m.insts[k].Status == string(executor.Paused) {
				m.paused[m.comps[c].ID] = true
				break
			}
		}
	}
	m.applyFilter()
	m.clampGrid()
}

// current picks the instance a component's box shows: one that is active,
// else the latest that became runnable, else the first.
func (m *Model) current(list []int, now time.Time) int {
	if len(list) == 0 {
		return -1
	}
	best := -1
	for _, k := range list {
		in := &m.insts[k]
		switch executor.Status(in.Status) {
		case executor.Running, executor.WaitingForRunner, executor.Creating, executor.ShuttingDown:
			return k
		}
		if !in.RunnableAt.After(now) {
			best = k
		}
	}
	if best < 0 {
		best = list[0]
	}
	return best
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
		if m.view == viewLogs {
			m.readLogs()
		}
		if m.view == viewDetail {
			m.renderDetail()
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
			m.loadDetail()
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
			m.loadDetail()
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
		if keepEvent(ev) {
			m.events = append(m.events, ev)
			if m.evSel > 0 {
				m.evSel++ // keep the same event selected, newest-first
			}
		}
		if ev.Instance == m.detailID || ev.Attempt != "" && strings.HasPrefix(ev.Attempt, m.detailID) {
			touched = true
		}
	}
	if over := len(m.events) - maxEvents; over > 0 {
		m.events = append(m.events[:0], m.events[over:]...)
	}
	m.reload()
	if m.view == viewDetail && touched {
		m.loadDetail()
	}
	if m.view == viewLogs {
		m.logs.attempts = m.src.Attempts(m.logs.instance)
		m.readLogs()
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
	for _, ev := range m.events {
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
			m.events = append(m.events, ev)
		}
	}
}

func (m *Model) setFlash(s string, isErr bool) {
	m.flash, m.flashErr, m.flashAt = s, isErr, m.now()
	m.flashSeq++
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

// bodyHeight is the lines between the header and the status and help
// lines.
func (m *Model) bodyHeight() int { return max(m.height-3, 1) }

func (m *Model) resize() {
	h := m.bodyHeight()
	m.detail.Width, m.detail.Height = m.width, h
	m.logs.vp.Width, m.logs.vp.Height = m.width, max(h-1, 1)
	m.help.Width = m.width
	m.fitGraph()
	m.clampGrid()
	if m.view == viewDetail {
		m.renderDetail()
	}
	if m.view == viewLogs {
		m.renderLogs()
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
	switch m.view {
	case viewDetail:
		return m.detailKey(msg)
	case viewLogs:
		return m.logsKey(msg)
	}
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
	case key.Matches(msg, k.Rerun):
		return m.askInstance(executor.CmdRerun, m.selectedInstance())
	case key.Matches(msg, k.Cancel):
		return m.askInstance(executor.CmdTryCancel, m.selectedInstance())
	case key.Matches(msg, k.Finish):
		return m.askInstance(executor.CmdMarkFinished, m.selectedInstance())
	case key.Matches(msg, k.Pause):
		return m.togglePause(m.selectedComponent())
	case key.Matches(msg, k.Logs):
		if id := m.selectedInstance(); id != "" {
			m.openLogs(id)
		}
		return m.tick()
	case key.Matches(msg, k.Open) && m.view == viewGraph:
		return m.openGraphNode()
	case key.Matches(msg, k.Open):
		if id := m.selectedInstance(); id != "" {
			m.openDetail(id)
		} else {
			m.setFlash("no instance here yet", true)
		}
		return nil
	}
	switch m.view {
	case viewGraph:
		m.graphKey(msg)
	case viewGrid:
		m.gridKey(msg)
	case viewEvents:
		m.eventsKey(msg)
	}
	return nil
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
		m.loadDetail()
	}
	return nil
}

func (m *Model) startInput(md mode, value string) {
	m.mode = md
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
				m.setSearch("")
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
			m.setSearch(v)
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
	m.applyFilter()
}

func (m *Model) matches(s string) bool {
	if m.filter == nil {
		return true
	}
	return m.filter.MatchString(s) != m.invert
}

func (m *Model) applyFilter() {
	m.gridRows = m.gridRows[:0]
	for _, c := range m.rowOrder {
		if m.matches(m.comps[c].ID) {
			m.gridRows = append(m.gridRows, c)
		}
	}
	m.clampGrid()
	m.evSel, m.evOff = min(m.evSel, max(len(m.visibleEvents())-1, 0)), 0
}

// jumpToMatch moves the graph selection to the first matching component.
func (m *Model) jumpToMatch() {
	if m.filter == nil || m.nodeMatches(&m.gview.nodes[m.gsel]) {
		return
	}
	for _, v := range m.gorder {
		if m.nodeMatches(&m.gview.nodes[v]) {
			m.gsel = v
			m.scrollGraphToSel()
			return
		}
	}
}

// graphComp is the selected graph node's component, -1 for a group.
func (m *Model) graphComp() int {
	if m.gview == nil || m.gsel >= len(m.gview.nodes) {
		return -1
	}
	return m.gview.nodes[m.gsel].comp
}

// selectedInstance is the instance the verbs act on in the current view.
func (m *Model) selectedInstance() string {
	switch m.view {
	case viewGraph:
		if c := m.graphComp(); c >= 0 {
			if k := m.compCur[c]; k >= 0 {
				return m.insts[k].ID
			}
		}
	case viewGrid:
		if k := m.gridCell(); k >= 0 {
			return m.insts[k].ID
		}
	case viewEvents:
		if evs := m.visibleEvents(); m.evSel < len(evs) {
			return evs[m.evSel].Instance
		}
	case viewDetail:
		return m.detailID
	case viewLogs:
		return m.logs.instance
	}
	return ""
}

func (m *Model) selectedComponent() string {
	switch m.view {
	case viewGraph:
		if c := m.graphComp(); c >= 0 {
			return m.comps[c].ID
		}
	case viewGrid:
		if m.grow < len(m.gridRows) {
			return m.comps[m.gridRows[m.grow]].ID
		}
	case viewEvents:
		if evs := m.visibleEvents(); m.evSel < len(evs) {
			return evs[m.evSel].Component
		}
	case viewDetail, viewLogs:
		if k, ok := m.instIdx[m.selectedInstance()]; ok {
			return m.insts[k].Component
		}
	}
	return ""
}

var verbs = map[string]string{
	executor.CmdRerun: "rerun", executor.CmdTryCancel: "cancel", executor.CmdMarkFinished: "mark finished",
	executor.CmdPause: "pause", executor.CmdResume: "resume",
}

// askInstance confirms an instance command, then sends it: to every
// marked instance when there are marks, else to id.
func (m *Model) askInstance(cmd, id string) tea.Cmd {
	if ids := m.markedIDs(); len(ids) > 0 && m.view != viewDetail && m.view != viewLogs {
		if m.info.ReadOnly {
			m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
			return nil
		}
		m.mode = modeConfirm
		m.confirm = &confirmState{
			prompt: fmt.Sprintf("%s %d marked %s: %s? [y/n]", capital(verbs[cmd]), len(ids), plural(len(ids), "instance"), strings.Join(ids, " ")),
			yes: func() tea.Cmd {
				clear(m.marked)
				return m.send(cmd, ids...)
			},
		}
		return nil
	}
	if id == "" {
		m.setFlash("select an instance first", true)
		return nil
	}
	if k, ok := m.instIdx[id]; ok && cmd == executor.CmdTryCancel {
		if st := executor.Status(m.insts[k].Status); st.Terminal() {
			m.setFlash(fmt.Sprintf("%s is %s: nothing to cancel", id, statusText(st)), true)
			return nil
		}
	}
	if m.info.ReadOnly {
		m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
		return nil
	}
	m.mode = modeConfirm
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("%s %s? [y/n]", capital(verbs[cmd]), id),
		yes:    func() tea.Cmd { return m.send(cmd, id) },
	}
	return nil
}

func (m *Model) togglePause(comp string) tea.Cmd {
	if comp == "" {
		m.setFlash("select a component first", true)
		return nil
	}
	cmd := executor.CmdPause
	if m.paused[comp] {
		cmd = executor.CmdResume
	}
	if m.info.ReadOnly {
		m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
		return nil
	}
	m.mode = modeConfirm
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("%s component %s? [y/n]", capital(verbs[cmd]), comp),
		yes:    func() tea.Cmd { return m.send(cmd, comp) },
	}
	return nil
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// send runs a SetStatus off the UI goroutine; the acknowledgement comes
// back as an actionMsg.
func (m *Model) send(cmd string, ids ...string) tea.Cmd {
	if m.info.ReadOnly {
		m.setFlash("read-only: this stored run is not running; continue it with dpl run", true)
		return nil
	}
	m.setFlash(fmt.Sprintf("… %s %s", verbs[cmd], strings.Join(ids, " ")), false)
	src := m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return actionMsg{cmd: cmd, ids: ids, err: src.SetStatus(ctx, ids, cmd)}
	}
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
	switch m.view {
	case viewGraph:
		m.gx = clamp(m.gx+dx, 0, max(m.graph.w-m.width, 0))
		m.gy = clamp(m.gy+dy, 0, max(m.graph.h-m.graphRows(), 0))
	case viewGrid:
		m.growOff = clamp(m.growOff+dy, 0, max(len(m.gridRows)-m.gridVisibleRows(), 0))
		m.grow = clamp(m.grow, m.growOff, m.growOff+m.gridVisibleRows()-1)
		m.gcolOff = clamp(m.gcolOff+dx/2, 0, max(len(m.periods)-m.gridVisibleCols(), 0))
		m.gcol = clamp(m.gcol, m.gcolOff, m.gcolOff+m.gridVisibleCols()-1)
		m.clampGrid()
	case viewEvents:
		m.evSel = clamp(m.evSel+dy, 0, max(len(m.visibleEvents())-1, 0))
	case viewDetail:
		if dy < 0 {
			m.detail.ScrollUp(-dy)
		} else {
			m.detail.ScrollDown(dy)
		}
	case viewLogs:
		if dy < 0 {
			m.logs.vp.ScrollUp(-dy)
			m.logs.follow = false
		} else {
			m.logs.vp.ScrollDown(dy)
		}
	}
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
	case m.view == viewGraph:
		body = m.graphView(h)
	case m.view == viewGrid:
		body = m.gridView(h)
	case m.view == viewEvents:
		body = m.eventsView(h)
	case m.view == viewDetail:
		body = m.detail.View()
	case m.view == viewLogs:
		body = m.logsView()
	}
	b.WriteString(fitLines(body, m.width, h))
	b.WriteByte('\n')
	b.WriteString(m.statusLine())
	b.WriteByte('\n')
	b.WriteString(ansi.Truncate(m.help.View(m.helpFor()), m.width, "…"))
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

// headerLine names the run — pipeline name, activation, state, how this
// view relates to it (its own run, attached to another process's, a
// stored one, a remote API), the pipeline id, counts per status, elapsed
// time and an estimate of the rest — and the tab bar. On a narrow
// terminal the header gives up its least useful parts first, the tabs
// last.
func (m *Model) headerLine() string {
	name := m.info.Name
	if name == "" {
		name = m.info.PipelineID
	}
	title := "dpl · " + name
	if m.info.Activation > 0 {
		title += fmt.Sprintf(" · run %d", m.info.Activation)
	}
	var state, mode string
	switch {
	case m.info.Endpoint != "":
		state, mode = "⇄ "+strings.TrimPrefix(strings.TrimPrefix(m.info.Endpoint, "http://"), "https://"), "remote"
	case m.runActive:
		state = "● running"
	case m.runEnd != "":
		state = "■ " + m.runEnd
	case m.info.ReadOnly:
		state = "stored (read-only)"
	}
	if mode == "" && m.opts.Events != nil {
		mode = "attached"
		if m.opts.Stop != nil {
			mode = "own run"
		}
	}
	// Parts in the order shown, each with the priority it is kept by.
	type part struct {
		text string
		keep int
	}
	next := ""
	if n := m.next.NextCheck; n != nil && m.runActive && m.counts[executor.Running] == 0 {
		next = "next " + m.next.Instance + " " + m.rel(*n)
	}
	parts := []part{{title, 9}, {state, 8}, {mode, 3}, {m.info.PipelineID, 2}, {shortCounts(m.counts), 5}, {m.progressText(), 4}, {next, 6}}
	if m.info.Name == "" || m.info.Name == m.info.PipelineID {
		parts[3].text = ""
	}
	join := func(minKeep int) string {
		var out []string
		for _, p := range parts {
			if p.text != "" && p.keep >= minKeep {
				out = append(out, p.text)
			}
		}
		return strings.Join(out, " · ")
	}
	var tabs, short []string
	for i, n := range paneNames {
		t := fmt.Sprintf("%d %s", i+1, n)
		if view(i) == m.pane {
			tabs = append(tabs, m.th.tabOn.Render("["+t+"]"))
			short = append(short, m.th.tabOn.Render(fmt.Sprintf("[%d]", i+1)))
		} else {
			tabs = append(tabs, m.th.tabOff.Render(" "+t+" "))
			short = append(short, m.th.tabOff.Render(fmt.Sprintf(" %d ", i+1)))
		}
	}
	right := strings.Join(tabs, "")
	left := join(8)
	for keep := 0; keep < 8; keep++ {
		if l := join(keep); ansi.StringWidth(l)+1+ansi.StringWidth(right) <= m.width {
			left = l
			break
		}
	}
	if ansi.StringWidth(left)+1+ansi.StringWidth(right) > m.width {
		right = strings.Join(short, "") // the tab bar shrinks last
		left = ansi.Truncate(left, max(m.width-1-ansi.StringWidth(right), 1), "…")
	}
	l := m.th.title.Render(left)
	gap := m.width - ansi.StringWidth(l) - ansi.StringWidth(right)
	if gap < 1 {
		return ansi.Truncate(l+" "+right, m.width, "…")
	}
	return l + spaces(gap) + right
}

// progressText is "2m10s · ETA 40s": time since the run started (to its
// end once ended), and while it runs an estimate from the pace so far.
func (m *Model) progressText() string {
	var start, end time.Time
	for _, ev := range m.events {
		if ev.Kind != executor.EventRun {
			continue
		}
		if strings.HasSuffix(ev.Message, " started") || strings.HasSuffix(ev.Message, " resumed") || ev.Message == "started" {
			start, end = ev.Time, time.Time{}
		} else if !start.IsZero() {
			end = ev.Time
		}
	}
	if start.IsZero() {
		return ""
	}
	if end.IsZero() || m.runActive {
		end = m.now()
	}
	elapsed := end.Sub(start)
	s := shortDuration(elapsed)
	done := 0
	for st, n := range m.counts {
		if st.Terminal() {
			done += n
		}
	}
	if total := len(m.insts); m.runActive && done > 0 && total > done {
		s += " · ETA " + shortDuration(time.Duration(float64(elapsed)/float64(done)*float64(total-done)))
	}
	return s
}

// shortDuration is 5s, 1m05s or 2h03m.
func shortDuration(d time.Duration) string {
	d = max(d.Round(time.Second), 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// breadcrumbs say where the view is: Graph › Component › Instance ›
// Attempt › Logs.
func (m *Model) breadcrumbs() string {
	crumbs := []string{paneNames[m.pane]}
	inst := ""
	switch m.view {
	case viewDetail:
		inst = m.detailID
	case viewLogs:
		inst = m.logs.instance
	}
	if inst != "" {
		if k, ok := m.instIdx[inst]; ok {
			crumbs = append(crumbs, m.insts[k].Component)
		}
		crumbs = append(crumbs, inst)
	}
	if m.view == viewLogs {
		if l := &m.logs; l.ai >= 0 && l.ai < len(l.attempts) {
			crumbs = append(crumbs, fmt.Sprintf("Attempt %d", l.attempts[l.ai].N))
		}
		crumbs = append(crumbs, "Logs ("+m.streamName()+")")
	}
	return strings.Join(crumbs, " › ")
}

func (m *Model) statusLine() string {
	switch m.mode {
	case modeConfirm:
		return ansi.Truncate(m.th.label.Render(m.confirm.prompt), m.width, "…")
	case modeFilter:
		p := "/"
		return p + m.input.View()
	case modeCommand:
		return ":" + m.input.View()
	}
	if m.flash != "" {
		st := m.th.flashOK
		if m.flashErr {
			st = m.th.flashErr
		}
		return ansi.Truncate(st.Render(m.flash), m.width, "…")
	}
	var parts []string
	if m.filterText != "" && m.view != viewLogs {
		parts = append(parts, "filter /"+m.filterText+"  (esc clears)")
	}
	if n := len(m.markedIDs()); n > 0 && m.view != viewLogs && m.view != viewDetail {
		parts = append(parts, fmt.Sprintf("%d marked • r/c/m act on all • space unmarks • esc clears", n))
	}
	if m.view == viewDetail || m.view == viewLogs {
		parts = append([]string{m.breadcrumbs()}, parts...)
	}
	if len(parts) == 0 {
		return ""
	}
	return ansi.Truncate(m.th.faint.Render(strings.Join(parts, " · ")), m.width, "…")
}

// Stopped reports whether the operator asked to stop the run on the way
// out (q then y, or ctrl+c).
func (m *Model) Stopped() bool { return m.stopRequested }

// openGraphNode is enter on the graph: a group expands; a component with
// several instances opens its row of the instances grid (every period,
// the current one selected); one with a single instance opens it.
func (m *Model) openGraphNode() tea.Cmd {
	n := &m.gview.nodes[m.gsel]
	if n.comp < 0 {
		m.toggleExpand()
		return nil
	}
	list := m.compInsts[n.comp]
	switch {
	case len(list) == 0:
		m.setFlash("no instance here yet", true)
	case len(list) == 1:
		m.openDetail(m.insts[list[0]].ID)
	default:
		if m.filterText != "" && !m.matches(m.comps[n.comp].ID) {
			m.setFilter("")
		}
		m.setPane(viewGrid)
		for r, c := range m.gridRows {
			if c == n.comp {
				m.grow = r
			}
		}
		if k := m.compCur[n.comp]; k >= 0 {
			for p, t := range m.periods {
				if t.Equal(m.insts[k].ScheduledStart) {
					m.gcol = p
				}
			}
		}
		m.clampGrid()
		m.setFlash(fmt.Sprintf("%s: %d instances — enter opens one", m.comps[n.comp].ID, len(list)), false)
	}
	return nil
}
