package tui

import (
	"regexp"
	"sort"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// The UI is five pane components — graph, grid, events, detail, logs —
// over one shared state. The model owns what is global (modes, the `:`
// and `/` input, confirmations, verbs, the header and footer) and routes
// every message the same way: run data changes reach every pane through
// refresh (one reload per event batch, action or final state), a key
// reaches the pane shown once the global keys had their turn, and a pane
// asks for anything beyond itself (another view, a status message) through
// the shared state, which the model follows right after.

// pane is one view of the run. Each keeps its own selection and scroll.
type pane interface {
	// refresh is called after the run data or the filter changed.
	refresh(s *shared)
	// key handles a key the model left to the pane.
	key(s *shared, msg tea.KeyMsg) tea.Cmd
	// scroll is the mouse wheel: dx columns, dy rows.
	scroll(s *shared, dx, dy int)
	// view draws the pane's body, h lines high and s.width wide.
	view(s *shared, h int) string
	// selection is the instance and component the verbs act on.
	selection(s *shared) (instance, component string)
}

// runData is a snapshot of the run and the indexes the panes share.
type runData struct {
	comps     []Component
	compIdx   map[string]int
	rowOrder  []int // components in reading order of the graph (grid rows)
	insts     []runstore.Instance
	instIdx   map[string]int
	compInsts [][]int // instance indices per component, by scheduled start
	compCur   []int   // the instance a component's box shows, -1 none
	periods   []time.Time
	cells     [][]int32 // per component: instance index per period, -1 none
	counts    map[executor.Status]int
	paused    map[string]bool
}

// intentKind is what a pane asks the model to do beyond itself.
type intentKind int

const (
	intentNone intentKind = iota
	intentDetail
	intentLogs
	intentInstances // the grid row of a component
	intentBack
)

type intent struct {
	kind     intentKind
	instance string
	comp     int
	attempt  int // intentLogs: the attempt index, -1 the latest
}

// shared is what every pane reads and the few things it may change: the
// run data, the screen, theme and keys, the filter and marks, the status
// message, and the intent the model follows after a pane's key.
type shared struct {
	runData
	src  Source
	info Info
	keys KeyMap
	th   *theme
	now  func() time.Time

	width, height int

	filter     *regexp.Regexp
	filterText string
	invert     bool
	// marked are the instances space marked; r, c and m act on all of
	// them (k9s).
	marked map[string]bool

	flash    string
	flashErr bool
	flashAt  time.Time
	flashSeq int

	intent intent
}

// ask records what the pane wants the model to do next.
func (s *shared) ask(i intent) { s.intent = i }

// bodyHeight is the lines between the header and the status and help
// lines.
func (s *shared) bodyHeight() int { return max(s.height-3, 1) }

func (s *shared) setFlash(text string, isErr bool) {
	s.flash, s.flashErr, s.flashAt = text, isErr, s.now()
	s.flashSeq++
}

func (s *shared) matches(text string) bool {
	if s.filter == nil {
		return true
	}
	return s.filter.MatchString(text) != s.invert
}

// load takes a fresh snapshot of the instances and rebuilds the indexes.
func (d *runData) load(src Source, now time.Time) {
	d.insts = src.Instances()
	d.instIdx = make(map[string]int, len(d.insts))
	d.compInsts = make([][]int, len(d.comps))
	d.counts = map[executor.Status]int{}
	seen := map[int64]bool{}
	d.periods = d.periods[:0]
	for k := range d.insts {
		in := &d.insts[k]
		d.instIdx[in.ID] = k
		d.counts[executor.Status(in.Status)]++
		if c, ok := d.compIdx[in.Component]; ok {
			d.compInsts[c] = append(d.compInsts[c], k)
		}
		if u := in.ScheduledStart.UnixNano(); !seen[u] {
			seen[u] = true
			d.periods = append(d.periods, in.ScheduledStart)
		}
	}
	sort.Slice(d.periods, func(i, j int) bool { return d.periods[i].Before(d.periods[j]) })
	pidx := make(map[int64]int, len(d.periods))
	for i, p := range d.periods {
		pidx[p.UnixNano()] = i
	}
	d.cells = make([][]int32, len(d.comps))
	d.compCur = make([]int, len(d.comps))
	for c, list := range d.compInsts {
		sort.SliceStable(list, func(i, j int) bool {
			return d.insts[list[i]].ScheduledStart.Before(d.insts[list[j]].ScheduledStart)
		})
		row := make([]int32, len(d.periods))
		for i := range row {
			row[i] = -1
		}
		for _, k := range list {
			p := pidx[d.insts[k].ScheduledStart.UnixNano()]
			// Several precondition instances can share a period (one per
			// referring component): the cell shows the most pressing.
			if old := row[p]; old < 0 || urgency(executor.Status(d.insts[k].Status)) > urgency(executor.Status(d.insts[old].Status)) {
				row[p] = int32(k)
			}
		}
		d.cells[c] = row
		d.compCur[c] = d.current(list, now)
		for _, k := range list {
			if d.insts[k].Status == string(executor.Paused) {
				d.paused[d.comps[c].ID] = true
				break
			}
		}
	}
}

// current picks the instance a component's box shows: one that is active,
// else the latest that became runnable, else the first.
func (d *runData) current(list []int, now time.Time) int {
	if len(list) == 0 {
		return -1
	}
	best := -1
	for _, k := range list {
		in := &d.insts[k]
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

// componentOf is the component of an instance, "" when unknown.
func (d *runData) componentOf(id string) string {
	if k, ok := d.instIdx[id]; ok {
		return d.insts[k].Component
	}
	return ""
}
