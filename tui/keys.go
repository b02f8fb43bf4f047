package tui

import "github.com/charmbracelet/bubbles/key"

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

func (m *Model) helpFor() helpMap {
	k := m.keys
	move := []key.Binding{k.Up, k.Down, k.Left, k.Right, k.Top, k.Bottom, k.HalfUp, k.HalfDown}
	general := []key.Binding{k.Open, k.Back, k.Tab, k.Pane, k.Last, k.History, k.Filter, k.Command, k.Help, k.Quit, k.ForceQuit}
	actions := []key.Binding{k.Mark, k.Rerun, k.Cancel, k.Finish, k.Pause, k.Logs}
	switch m.view {
	case viewDetail:
		return helpMap{
			short: []key.Binding{k.Logs, k.Rerun, k.Cancel, k.Finish, k.Pause, k.Back, k.Help, k.Quit},
			full:  [][]key.Binding{move[:2], actions, {k.Back, k.Command, k.Help, k.Quit}},
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
	return helpMap{
		short: []key.Binding{k.Move, k.Open, k.Tab, k.Filter, k.Command, k.Help, k.Quit},
		full:  [][]key.Binding{move, general, actions},
	}
}
