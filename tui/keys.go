package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

// KeyMap is every binding of the UI; the help footer and the full help
// (`?`) are generated from it so they never drift from the code.
type KeyMap struct {
	Move                    key.Binding // footer only: the four directions at once
	Up, Down, Left, Right   key.Binding
	Top, Bottom             key.Binding
	HalfUp, HalfDown        key.Binding
	Open, Back, Tab, Pane   key.Binding
	Filter, Command, Help   key.Binding
	Quit, ForceQuit         key.Binding
	Rerun, Cancel, Finish   key.Binding
	Pause, Logs             key.Binding
	Follow, Stream, Attempt key.Binding
	Next, Prev, Wrap        key.Binding
	Yes, No                 key.Binding
	Mark, Last, History     key.Binding
	Copy                    key.Binding
	// Graph pane.
	AllEdges, Expand, Compact         key.Binding
	Upstream, Downstream, FirstFailed key.Binding
}

// DefaultKeys follows k9s and lazygit: vim motions, enter/esc, `/` filter,
// `:` commands, `?` help, single-letter verbs on the selection.
func DefaultKeys() KeyMap {
	return KeyMap{
		Move:      key.NewBinding(key.WithKeys("up", "down", "left", "right"), key.WithHelp("hjkl", "move")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:      key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
		Top:       key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:    key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		HalfUp:    key.NewBinding(key.WithKeys("ctrl+u", "pgup"), key.WithHelp("ctrl+u", "half page up")),
		HalfDown:  key.NewBinding(key.WithKeys("ctrl+d", "pgdown"), key.WithHelp("ctrl+d", "half page down")),
		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Tab:       key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "pane")),
		Pane:      key.NewBinding(key.WithKeys("1", "2", "3"), key.WithHelp("1-3", "graph/instances/events")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Command:   key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop run and quit")),
		Rerun:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rerun")),
		Cancel:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel")),
		Finish:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mark finished")),
		Pause:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume component")),
		Logs:      key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "logs")),
		Follow:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
		Stream:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stdout/stderr")),
		Attempt:   key.NewBinding(key.WithKeys("[", "]"), key.WithHelp("[/]", "prev/next attempt")),
		Next:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match")),
		Prev:      key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous match")),
		Wrap:      key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
		Yes:       key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:        key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "no")),
		Mark:      key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark (r/c/m on all)")),
		Last:      key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "last view")),
		History:   key.NewBinding(key.WithKeys("[", "]"), key.WithHelp("[/]", "view history")),
		Copy:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy log paths")),

		AllEdges:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "resources and data nodes on/off")),
		Expand:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "expand/collapse siblings")),
		Compact:     key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "boxes/compact list")),
		Upstream:    key.NewBinding(key.WithKeys("<"), key.WithHelp("<", "upstream")),
		Downstream:  key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "downstream")),
		FirstFailed: key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "first failed")),
	}
}

// helpMap is the help.KeyMap of one view: the footer shows short, `?`
// shows full.
type helpMap struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpMap) ShortHelp() []key.Binding  { return h.short }
func (h helpMap) FullHelp() [][]key.Binding { return h.full }

// helpFor is the help of the view shown, with only the keys that work
// there: a stored run takes no verbs, and a remote view has no log files
// (L shows the attempt's error).
func (m *Model) helpFor() helpMap {
	h := m.allHelp()
	keep := func(bs []key.Binding) []key.Binding {
		out := make([]key.Binding, 0, len(bs))
		for _, b := range bs {
			if m.works(b) {
				out = append(out, b)
			}
		}
		return out
	}
	h.short = keep(h.short)
	for i, g := range h.full {
		h.full[i] = keep(g)
	}
	return h
}

// works reports whether a key does something in this view.
func (m *Model) works(b key.Binding) bool {
	k := m.keys
	same := func(o key.Binding) bool { return b.Help() == o.Help() }
	if m.info.ReadOnly && (same(k.Rerun) || same(k.Cancel) || same(k.Finish) || same(k.Pause) || same(k.Mark)) {
		return false
	}
	if m.info.Endpoint != "" && (same(k.Stream) || same(k.Follow)) {
		return false
	}
	return true
}

func (m *Model) allHelp() helpMap {
	k := m.keys
	if m.info.Endpoint != "" {
		k.Logs.SetHelp("L", "attempt error (no logs over the API)")
	}
	move := []key.Binding{k.Up, k.Down, k.Left, k.Right, k.Top, k.Bottom, k.HalfUp, k.HalfDown}
	general := []key.Binding{k.Open, k.Back, k.Tab, k.Pane, k.Last, k.History, k.Filter, k.Command, k.Help, k.Quit, k.ForceQuit}
	actions := []key.Binding{k.Mark, k.Rerun, k.Cancel, k.Finish, k.Pause, k.Logs}
	switch m.view {
	case viewDetail:
		return helpMap{
			short: []key.Binding{k.Logs, k.Attempt, k.Rerun, k.Cancel, k.Finish, k.Back, k.Help, k.Quit},
			full:  [][]key.Binding{move[:2], {k.Attempt, k.Logs, k.Copy}, actions[1:5], {k.Back, k.Command, k.Help, k.Quit}},
		}
	case viewLogs:
		return helpMap{
			short: []key.Binding{k.Filter, k.Next, k.Follow, k.Stream, k.Attempt, k.Back, k.Help, k.Quit},
			full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.HalfUp, k.HalfDown}, {k.Filter, k.Next, k.Prev, k.Wrap}, {k.Follow, k.Stream, k.Attempt}, {k.Back, k.Help, k.Quit}},
		}
	case viewEvents:
		return helpMap{
			short: []key.Binding{k.Move, k.Open, k.Tab, k.Filter, k.Command, k.Help, k.Quit},
			full:  [][]key.Binding{move[:2], move[4:], general, {k.Mark, k.Rerun, k.Cancel, k.Finish}},
		}
	}
	if m.view == viewGrid {
		return helpMap{
			short: []key.Binding{k.Move, k.Open, k.Tab, k.Filter, k.Command, k.Help, k.Quit},
			full:  [][]key.Binding{move, general, actions},
		}
	}
	graph := []key.Binding{k.AllEdges, k.Expand, k.Compact, k.Upstream, k.Downstream, k.FirstFailed}
	return helpMap{
		short: []key.Binding{k.Move, k.Open, k.Tab, k.Filter, k.Command, k.Help, k.Quit},
		full:  [][]key.Binding{move, general, actions, graph},
	}
}

// fullHelp is `?`: the view's key groups side by side as far as they fit
// in width, the rest below (one column on a narrow terminal).
func (m *Model) fullHelp(width int) string {
	var cols [][]string
	for _, g := range m.helpFor().full {
		kw := 0
		for _, b := range g {
			kw = max(kw, ansi.StringWidth(b.Help().Key))
		}
		var lines []string
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			h := b.Help()
			lines = append(lines, m.th.key.Render(fmt.Sprintf("%-*s", kw, h.Key))+" "+h.Desc)
		}
		if len(lines) > 0 {
			cols = append(cols, lines)
		}
	}
	var cmds []string
	uw := 0
	for _, c := range commands {
		uw = max(uw, len(c.use)+1)
	}
	for _, c := range commands {
		if m.info.ReadOnly && (strings.HasPrefix(c.use, "rerun") || strings.HasPrefix(c.use, "pause")) || c.use == "runs" && !m.opts.RunList {
			continue
		}
		cmds = append(cmds, m.th.key.Render(fmt.Sprintf(":%-*s", uw, c.use))+" "+c.desc)
	}
	cols = append(cols, cmds)
	var rows []string
	for len(cols) > 0 {
		// As many columns as fit, at least one.
		n, used := 0, 0
		for n < len(cols) {
			w := colWidth(cols[n]) + 4
			if n > 0 && used+w > width {
				break
			}
			used += w
			n++
		}
		rows = append(rows, joinColumns(cols[:n]))
		cols = cols[n:]
	}
	return strings.Join(rows, "\n\n")
}

func colWidth(lines []string) int {
	w := 0
	for _, l := range lines {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}

func joinColumns(cols [][]string) string {
	h := 0
	for _, c := range cols {
		h = max(h, len(c))
	}
	var b strings.Builder
	for r := range h {
		if r > 0 {
			b.WriteByte('\n')
		}
		for i, c := range cols {
			cell := ""
			if r < len(c) {
				cell = c[r]
			}
			if i < len(cols)-1 {
				cell += spaces(colWidth(c) + 4 - ansi.StringWidth(cell))
			}
			b.WriteString(cell)
		}
	}
	return b.String()
}
