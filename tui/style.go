package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/dpl-dev/dpl/executor"
)

// statusNone is the pseudo-status of a component without instances yet.
const statusNone = ""

// statusLook is how a status shows: a one-cell glyph and a short word, so
// that it reads without colour (NO_COLOR, dumb terminals), and a colour.
type statusLook struct {
	glyph string
	word  string
	color lipgloss.TerminalColor
}

var looks = map[executor.Status]statusLook{
	executor.WaitingOnDependencies: {"…", "waiting", lipgloss.AdaptiveColor{Light: "244", Dark: "250"}},
	executor.WaitingForRunner:      {"○", "queued", lipgloss.Color("3")},
	executor.Creating:              {"◌", "creating", lipgloss.Color("3")},
	executor.Running:               {"▶", "running", lipgloss.Color("6")},
	executor.Finished:              {"✓", "finished", lipgloss.Color("2")},
	executor.Failed:                {"✗", "failed", lipgloss.Color("1")},
	executor.CascadeFailed:         {"↯", "cascade-failed", lipgloss.Color("1")},
	executor.Canceled:              {"⊘", "canceled", lipgloss.Color("5")},
	executor.TimedOut:              {"!", "timed-out", lipgloss.Color("1")},
	executor.ShuttingDown:          {"↓", "shutting-down", lipgloss.Color("3")},
	executor.Skipped:               {"-", "skipped", lipgloss.Color("8")},
	executor.Paused:                {"‖", "paused", lipgloss.Color("5")},
	statusNone:                     {"·", "not started", lipgloss.Color("8")},
}

// statusOrder is the legend's order: what needs attention first.
var statusOrder = []executor.Status{
	executor.Failed, executor.CascadeFailed, executor.TimedOut, executor.Canceled,
	executor.Running, executor.Creating, executor.WaitingForRunner, executor.WaitingOnDependencies,
	executor.Paused, executor.ShuttingDown, executor.Finished, executor.Skipped,
}

func lookOf(s executor.Status) statusLook {
	if l, ok := looks[s]; ok {
		return l
	}
	return statusLook{"?", strings.ToLower(string(s)), lipgloss.Color("7")}
}

// pen is a style reduced to the escape sequences around its text, so hot
// loops can paint runs of cells without lipgloss's per-call layout work.
type pen struct{ pre, post string }

func penOf(s lipgloss.Style) pen {
	r := s.Render("X")
	i := strings.Index(r, "X")
	if i < 0 {
		return pen{}
	}
	return pen{pre: r[:i], post: r[i+1:]}
}

func (p pen) paint(b *strings.Builder, text string) {
	if text == "" {
		return
	}
	b.WriteString(p.pre)
	b.WriteString(text)
	b.WriteString(p.post)
}

// theme holds the UI's styles, built once per model so that the colour
// profile in effect (NO_COLOR, tests) is honoured.
type theme struct {
	status    map[executor.Status]pen
	statusSel map[executor.Status]pen // selected: reversed
	edge      pen
	dim       pen
	plain     pen

	title, tabOn, tabOff, flashOK, flashErr, label, key, faint, match lipgloss.Style
}

func newTheme() *theme {
	t := &theme{status: map[executor.Status]pen{}, statusSel: map[executor.Status]pen{}}
	for s, l := range looks {
		t.status[s] = penOf(lipgloss.NewStyle().Foreground(l.color))
		t.statusSel[s] = penOf(lipgloss.NewStyle().Foreground(l.color).Reverse(true).Bold(true))
	}
	t.edge = penOf(lipgloss.NewStyle().Foreground(lipgloss.Color("8")))
	t.dim = penOf(lipgloss.NewStyle().Faint(true))
	t.title = lipgloss.NewStyle().Bold(true)
	t.tabOn = lipgloss.NewStyle().Bold(true).Reverse(true)
	t.tabOff = lipgloss.NewStyle().Faint(true)
	t.flashOK = lipgloss.NewStyle().Foreground(lipgloss.Color("2")).Bold(true)
	t.flashErr = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	t.label = lipgloss.NewStyle().Bold(true)
	t.key = lipgloss.NewStyle().Foreground(lipgloss.Color("6"))
	t.faint = lipgloss.NewStyle().Faint(true)
	t.match = lipgloss.NewStyle().Reverse(true)
	return t
}

func (t *theme) pen(s executor.Status, selected bool) pen {
	m := t.status
	if selected {
		m = t.statusSel
	}
	if p, ok := m[s]; ok {
		return p
	}
	return t.plain
}

// statusText is "✓ finished": glyph and word, never colour alone.
func statusText(s executor.Status) string {
	l := lookOf(s)
	return l.glyph + " " + l.word
}
