package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/dpl-dev/dpl/executor"
)

// The header (run identity and progress, tabs), the status line and
// breadcrumbs around every pane.

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
	for _, ev := range m.events.events {
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
		inst = m.detail.id
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
		if l := m.logs; l.ai >= 0 && l.ai < len(l.attempts) {
			crumbs = append(crumbs, fmt.Sprintf("Attempt %d", l.attempts[l.ai].N))
		}
		crumbs = append(crumbs, "Logs ("+m.logs.streamName()+")")
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
