package tui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// RunEntry is one activation of a pipeline in a state folder, as the run
// list shows it.
type RunEntry struct {
	PipelineID, Name string
	Seq              int
	State            string // runstore.Act*
	Started, Ended   time.Time
	Reason           string
	Latest           bool // the pipeline's most recent activation
}

// RunList is the list of runs `dpl tui` shows when a state folder holds
// several pipelines or activations: newest first; enter opens one, q
// quits, / filters.
type RunList struct {
	dir     string
	runs    []RunEntry
	shown   []int
	sel     int
	off     int
	keys    KeyMap
	th      *theme
	now     func() time.Time
	w, h    int
	filter  string
	typing  bool
	chosen  int
	quit    bool
	message string
}

// NewRunList builds the list over runs (any order; shown newest first).
func NewRunList(dir string, runs []RunEntry, now func() time.Time) *RunList {
	if now == nil {
		now = time.Now
	}
	l := &RunList{dir: dir, runs: runs, keys: DefaultKeys(), th: newTheme(), now: now, w: 80, h: 24, chosen: -1}
	sortRuns(l.runs)
	l.apply()
	return l
}

// sortRuns puts the newest start first.
func sortRuns(runs []RunEntry) {
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Started.After(runs[j].Started) })
}

func (l *RunList) apply() {
	l.shown = l.shown[:0]
	f := strings.ToLower(l.filter)
	for i, r := range l.runs {
		if f == "" || strings.Contains(strings.ToLower(r.PipelineID+" "+r.Name+" "+r.State), f) {
			l.shown = append(l.shown, i)
		}
	}
	l.sel = clamp(l.sel, 0, len(l.shown)-1)
}

// Init implements tea.Model.
func (l *RunList) Init() tea.Cmd { return nil }

// Update implements tea.Model.
func (l *RunList) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		l.w, l.h = msg.Width, msg.Height
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !l.typing {
			var cmd tea.Cmd
			for _, r := range msg.Runes {
				_, c := l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
				if c != nil {
					cmd = c
					break
				}
			}
			return l, cmd
		}
		return l, l.key(msg)
	}
	return l, nil
}

func (l *RunList) key(msg tea.KeyMsg) tea.Cmd {
	k := l.keys
	if l.typing {
		switch msg.Type {
		case tea.KeyEnter, tea.KeyEsc:
			l.typing = false
			if msg.Type == tea.KeyEsc {
				l.filter = ""
			}
		case tea.KeyBackspace:
			if r := []rune(l.filter); len(r) > 0 {
				l.filter = string(r[:len(r)-1])
			}
		case tea.KeyRunes, tea.KeySpace:
			l.filter += string(msg.Runes)
		}
		l.apply()
		return nil
	}
	switch {
	case key.Matches(msg, k.ForceQuit), key.Matches(msg, k.Quit):
		l.quit = true
		return tea.Quit
	case key.Matches(msg, k.Open):
		if len(l.shown) == 0 {
			l.message = "no run matches the filter"
			return nil
		}
		l.chosen = l.shown[l.sel]
		return tea.Quit
	case key.Matches(msg, k.Filter):
		l.typing = true
	case key.Matches(msg, k.Back):
		l.filter = ""
		l.apply()
	case key.Matches(msg, k.Up):
		l.sel--
	case key.Matches(msg, k.Down):
		l.sel++
	case key.Matches(msg, k.Top):
		l.sel = 0
	case key.Matches(msg, k.Bottom):
		l.sel = len(l.shown) - 1
	case key.Matches(msg, k.HalfDown):
		l.sel += l.rows() / 2
	case key.Matches(msg, k.HalfUp):
		l.sel -= l.rows() / 2
	}
	l.sel = clamp(l.sel, 0, len(l.shown)-1)
	return nil
}

func (l *RunList) rows() int { return max(l.h-4, 1) }

// runGlyph is the state of an activation in the words of the views.
func runGlyph(state string) string {
	switch state {
	case runstore.ActRunning:
		return statusText(executor.Running)
	case runstore.ActFinished:
		return statusText(executor.Finished)
	case runstore.ActFailed:
		return statusText(executor.Failed)
	case runstore.ActInterrupted:
		return "‖ interrupted"
	}
	return strings.ToLower(state)
}

// View implements tea.Model.
func (l *RunList) View() string {
	if l.quit || l.chosen >= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(l.th.title.Render(ansi.Truncate(fmt.Sprintf("dpl · runs in %s · %d %s", l.dir, len(l.runs), plural(len(l.runs), "run")), l.w, "…")))
	b.WriteString("\n")
	b.WriteString(l.th.label.Render(ansi.Truncate(fmt.Sprintf("  %-24s %-20s %4s  %-16s %-17s %s", "PIPELINE", "NAME", "RUN", "STATE", "STARTED", "ENDED / REASON"), l.w, "…")))
	b.WriteString("\n")
	rows := l.rows()
	if l.sel < l.off {
		l.off = l.sel
	} else if l.sel >= l.off+rows {
		l.off = l.sel - rows + 1
	}
	for r := 0; r < rows; r++ {
		i := l.off + r
		if i >= len(l.shown) {
			b.WriteString("\n")
			continue
		}
		run := l.runs[l.shown[i]]
		mark := "  "
		if i == l.sel {
			mark = "▸ "
		}
		end := run.Reason
		if !run.Ended.IsZero() {
			end = strings.TrimSuffix(run.Ended.UTC().Format("2006-01-02 15:04")+" "+run.Reason, " ")
		}
		seq := fmt.Sprintf("%d", run.Seq)
		if run.Latest {
			seq += "*"
		}
		line := fmt.Sprintf("%s%-24s %-20s %4s  %-16s %-17s %s", mark, fit(run.PipelineID, 24), fit(run.Name, 20), seq,
			fit(runGlyph(run.State), 16), run.Started.UTC().Format("2006-01-02 15:04"), end)
		line = ansi.Truncate(line, l.w, "…")
		if i == l.sel {
			line = l.th.tabOn.Render(line)
		}
		b.WriteString(line + "\n")
	}
	status := l.message
	if l.typing || l.filter != "" {
		status = "/" + l.filter
	}
	b.WriteString(l.th.faint.Render(ansi.Truncate(status, l.w, "…")) + "\n")
	b.WriteString(l.th.faint.Render(ansi.Truncate("↑/↓ move • enter open • / filter • q quit • * latest run of its pipeline", l.w, "…")))
	return b.String()
}

// Chosen is the run picked with enter; false when the operator quit.
func (l *RunList) Chosen() (RunEntry, bool) {
	if l.chosen < 0 {
		return RunEntry{}, false
	}
	return l.runs[l.chosen], true
}

// PickRun shows the run list full screen until the operator opens a run
// (returned with true) or quits (false).
func PickRun(ctx context.Context, dir string, runs []RunEntry, noMouse bool) (RunEntry, bool, error) {
	if len(runs) == 0 {
		return RunEntry{}, false, errors.New("tui: no runs to list")
	}
	l := NewRunList(dir, runs, nil)
	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx)}
	if !noMouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	if _, err := tea.NewProgram(l, popts...).Run(); err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return RunEntry{}, false, nil
		}
		return RunEntry{}, false, fmt.Errorf("tui: %w", err)
	}
	r, ok := l.Chosen()
	return r, ok, nil
}
