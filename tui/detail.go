package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// fieldLine is one effective field as shown: secrets already masked.
type fieldLine struct {
	key, value string
	ref        bool
}

const secretMask = definition.Mask

// fieldLines flattens described fields, masking `*` secrets.
func fieldLines(fs []task.Field) []fieldLine {
	out := make([]fieldLine, 0, len(fs))
	for _, f := range fs {
		l := fieldLine{key: f.Key}
		switch {
		case f.RefValue != nil:
			l.value, l.ref = *f.RefValue, true
		case f.StringValue != nil:
			l.value = *f.StringValue
		}
		if definition.IsSecretKey(f.Key) {
			l.value, l.ref = secretMask, false
		}
		out = append(out, l)
	}
	return out
}

func (m *Model) openDetail(id string) {
	if m.view != viewDetail {
		m.push(viewDetail)
	}
	m.detailID = id
	m.detail.GotoTop()
	m.loadDetail()
}

// loadDetail fetches the instance's evaluated fields and redraws.
func (m *Model) loadDetail() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fs, err := m.src.Describe(ctx, m.detailID)
	m.detailFields, m.detailErr = fieldLines(fs), err
	m.renderDetail()
}

func (m *Model) renderDetail() {
	m.detail.Width, m.detail.Height = m.width, m.bodyHeight()
	m.detail.SetContent(ansi.Wrap(m.detailText(), max(m.width, 10), " "))
}

func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func (m *Model) detailText() string {
	k, ok := m.instIdx[m.detailID]
	if !ok {
		return fmt.Sprintf("%s: no such instance in this run", m.detailID)
	}
	in := &m.insts[k]
	var b strings.Builder
	lab := func(s string) string { return m.th.label.Render(fmt.Sprintf("%-11s", s)) }
	st := executor.Status(in.Status)
	b.WriteString(m.th.title.Render(in.ID) + "\n")
	b.WriteString(lab("component") + fmt.Sprintf("%s (%s, %s)\n", in.Component, in.Type, in.Kind))
	var p pen = m.th.pen(st, false)
	b.WriteString(lab("status"))
	p.paint(&b, statusText(st)+" ("+in.Status+")")
	if in.MarkedFinished {
		b.WriteString(" — marked finished by the operator")
	}
	if in.Reruns > 0 {
		fmt.Fprintf(&b, " — rerun %d×", in.Reruns)
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "%s%s → %s  (runnable at %s)\n", lab("scheduled"), fmtClock(in.ScheduledStart), fmtClock(in.ScheduledEnd), fmtClock(in.RunnableAt))
	actual := fmtClock(in.ActualStart) + " → " + fmtClock(in.ActualEnd)
	if !in.ActualStart.IsZero() && !in.ActualEnd.IsZero() {
		actual += fmt.Sprintf("  (%s)", in.ActualEnd.Sub(in.ActualStart).Round(time.Second))
	}
	b.WriteString(lab("actual") + actual + "\n")
	if in.Resource != "" {
		b.WriteString(lab("runs on") + in.Resource)
		if rk, ok := m.instIdx[in.Resource]; ok {
			b.WriteString("  " + statusText(executor.Status(m.insts[rk].Status)))
		}
		b.WriteByte('\n')
	}
	if in.Node != "" {
		b.WriteString(lab("checks for") + in.Node + "\n")
	}
	if in.ErrorMessage != "" || in.ErrorID != "" {
		b.WriteString(lab("error"))
		m.th.pen(executor.Failed, false).paint(&b, strings.TrimPrefix(in.ErrorID+": "+in.ErrorMessage, ": "))
		b.WriteByte('\n')
	}
	if in.CascadeFrom != "" {
		b.WriteString(lab("cascade") + "failed because " + in.CascadeFrom + " did not finish\n")
	}
	if in.Reason != "" {
		b.WriteString(lab("reason") + in.Reason + "\n")
	}
	if in.Kind == "precondition" && !in.LastCheck.IsZero() {
		fmt.Fprintf(&b, "%slast checked %s: %s", lab("checks"), in.LastCheck.UTC().Format("15:04:05"), orDash(in.LastResult))
		if !in.NextCheck.IsZero() && !st.Terminal() {
			fmt.Fprintf(&b, ", next %s (%s)", in.NextCheck.UTC().Format("15:04:05"), m.rel(in.NextCheck))
		}
		b.WriteByte('\n')
	}
	if !in.NextAttempt.IsZero() && !st.Terminal() {
		fmt.Fprintf(&b, "%sattempt %d at %s (%s)\n", lab("retry"), in.Attempts+1, in.NextAttempt.UTC().Format("15:04:05"), m.rel(in.NextAttempt))
	}

	if len(in.WaitingOn) > 0 && !st.Terminal() {
		b.WriteString("\n" + m.th.title.Render("Why not running") + "\n")
		for _, w := range in.WaitingOn {
			b.WriteString("  " + m.waitingText(w) + "\n")
		}
	}

	atts := m.src.Attempts(in.ID)
	b.WriteString("\n" + m.th.title.Render(fmt.Sprintf("Attempts (%d)", len(atts))) + "\n")
	if len(atts) == 0 {
		b.WriteString("  none yet\n")
	}
	for _, a := range atts {
		ast := executor.Status(a.Status)
		fmt.Fprintf(&b, "  #%d  ", a.N)
		m.th.pen(ast, false).paint(&b, fmt.Sprintf("%-16s", statusText(ast)))
		fmt.Fprintf(&b, "  %s → %s", clockOnly(a.ActualStart), clockOnly(a.ActualEnd))
		if !a.ActualStart.IsZero() && !a.ActualEnd.IsZero() {
			fmt.Fprintf(&b, " (%s)", a.ActualEnd.Sub(a.ActualStart).Round(time.Millisecond))
		}
		if a.Hostname != "" {
			b.WriteString("  on " + a.Hostname)
		}
		b.WriteByte('\n')
		if a.ErrorMessage != "" || a.ErrorID != "" {
			b.WriteString("       ")
			m.th.pen(executor.Failed, false).paint(&b, strings.TrimPrefix(a.ErrorID+": "+firstLine(a.ErrorMessage), ": "))
			b.WriteByte('\n')
		}
		if a.Stdout != "" || a.Stderr != "" {
			fmt.Fprintf(&b, "       logs: %s  %s  (L to view)\n", a.Stdout, a.Stderr)
		}
	}

	b.WriteString("\n" + m.th.title.Render("Effective fields (evaluated, secrets masked)") + "\n")
	if m.detailErr != nil {
		b.WriteString("  ")
		m.th.pen(executor.Failed, false).paint(&b, m.detailErr.Error())
		b.WriteByte('\n')
	}
	w := 4
	for _, f := range m.detailFields {
		w = max(w, min(len(f.key), 24))
	}
	for _, f := range m.detailFields {
		v := f.value
		if f.ref {
			v = "→ " + v
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", w, f.key, strings.ReplaceAll(v, "\n", "⏎"))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func clockOnly(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// waitingText explains one entry of @waitingOn: an instance (with the
// precondition's last check and the next one), or the engine's words.
func (m *Model) waitingText(w string) string {
	k, ok := m.instIdx[w]
	if !ok {
		return "waiting on " + w
	}
	o := &m.insts[k]
	if o.Kind == "precondition" {
		s := "waiting on precondition " + o.Component
		if !o.LastCheck.IsZero() {
			s += fmt.Sprintf(", last checked %s (%s)", o.LastCheck.UTC().Format("15:04:05"), orDash(o.LastResult))
		} else {
			s += ", not checked yet"
		}
		if !o.NextCheck.IsZero() {
			s += fmt.Sprintf(", next %s (%s)", o.NextCheck.UTC().Format("15:04:05"), m.rel(o.NextCheck))
		}
		return s
	}
	return fmt.Sprintf("waiting on %s %s (%s)", o.Kind, o.ID, statusText(executor.Status(o.Status)))
}

func (m *Model) detailKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back):
		return m.pop()
	case key.Matches(msg, k.Rerun):
		return m.askInstance(executor.CmdRerun, m.detailID)
	case key.Matches(msg, k.Cancel):
		return m.askInstance(executor.CmdTryCancel, m.detailID)
	case key.Matches(msg, k.Finish):
		return m.askInstance(executor.CmdMarkFinished, m.detailID)
	case key.Matches(msg, k.Pause):
		return m.togglePause(m.selectedComponent())
	case key.Matches(msg, k.Logs):
		m.openLogs(m.detailID)
		return m.tick()
	case key.Matches(msg, k.Top):
		m.detail.GotoTop()
	case key.Matches(msg, k.Bottom):
		m.detail.GotoBottom()
	case key.Matches(msg, k.Up):
		m.detail.ScrollUp(1)
	case key.Matches(msg, k.Down):
		m.detail.ScrollDown(1)
	case key.Matches(msg, k.HalfUp):
		m.detail.HalfPageUp()
	case key.Matches(msg, k.HalfDown):
		m.detail.HalfPageDown()
	}
	return nil
}

// latestAttempt is the index of the newest attempt, -1 when none.
func latestAttempt(atts []runstore.Attempt) int { return len(atts) - 1 }
