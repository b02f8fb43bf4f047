package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

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

// detailPane is one instance: its state, why it waits, its attempts (one
// selected, the latest by default, whose logs L and enter open) and its
// evaluated fields.
type detailPane struct {
	id     string
	vp     viewport.Model
	fields []fieldLine
	err    error
	// att is the selected attempt's index; latest follows new attempts
	// until the operator picks one.
	att    int
	latest bool
	// attLine is the selected attempt's line in the text, to scroll to.
	attLine int
}

func (p *detailPane) open(s *shared, id string) {
	p.id, p.att, p.latest = id, -1, true
	p.vp.GotoTop()
	p.load(s)
}

// load fetches the instance's evaluated fields and redraws.
func (p *detailPane) load(s *shared) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fs, err := s.src.Describe(ctx, p.id)
	p.fields, p.err = fieldLines(fs), err
	p.render(s)
}

// refresh redraws with the new statuses and attempts; the fields are
// fetched again only by load.
func (p *detailPane) refresh(s *shared) { p.render(s) }

func (p *detailPane) render(s *shared) {
	p.vp.Width, p.vp.Height = s.width, s.bodyHeight()
	lines := strings.Split(p.text(s), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, noWrap); ok {
			lines[i] = rest
		} else {
			lines[i] = ansi.Wrap(l, max(s.width, 10), " ")
		}
	}
	p.vp.SetContent(strings.Join(lines, "\n"))
}

// noWrap starts a detail line that is cut to the width, never wrapped
// (paths).
const noWrap = "\x00"

// copyPaths is y: the selected attempt's log paths to the terminal's
// clipboard (OSC 52), and in full on the status line.
func (p *detailPane) copyPaths(s *shared) tea.Cmd {
	atts := s.src.Attempts(p.id)
	if p.att < 0 || p.att >= len(atts) {
		s.setFlash("no attempt selected", true)
		return nil
	}
	var paths []string
	for _, path := range []string{atts[p.att].Stdout, atts[p.att].Stderr} {
		if path != "" {
			paths = append(paths, path)
		}
	}
	if len(paths) == 0 {
		s.setFlash("this attempt recorded no log files", true)
		return nil
	}
	text := strings.Join(paths, " ")
	s.setFlash("copied "+text, false)
	return func() tea.Msg {
		termenv.Copy(text)
		return nil
	}
}

func (p *detailPane) view(*shared, int) string { return p.vp.View() }

func (p *detailPane) scroll(_ *shared, _, dy int) {
	if dy < 0 {
		p.vp.ScrollUp(-dy)
	} else {
		p.vp.ScrollDown(dy)
	}
}

func (p *detailPane) selection(s *shared) (string, string) { return p.id, s.componentOf(p.id) }

func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func (p *detailPane) text(s *shared) string {
	k, ok := s.instIdx[p.id]
	if !ok {
		return fmt.Sprintf("%s: no such instance in this run", p.id)
	}
	in := &s.insts[k]
	var b strings.Builder
	lab := func(t string) string { return s.th.label.Render(fmt.Sprintf("%-11s", t)) }
	st := executor.Status(in.Status)
	b.WriteString(s.th.title.Render(in.ID) + "\n")
	b.WriteString(lab("component") + fmt.Sprintf("%s (%s, %s)\n", in.Component, in.Type, in.Kind))
	b.WriteString(lab("status"))
	s.th.pen(st, false).paint(&b, statusText(st)+" ("+in.Status+")")
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
		if rk, ok := s.instIdx[in.Resource]; ok {
			b.WriteString("  " + statusText(executor.Status(s.insts[rk].Status)))
		}
		b.WriteByte('\n')
	}
	if in.Node != "" {
		b.WriteString(lab("checks for") + in.Node + "\n")
	}
	if in.ErrorMessage != "" || in.ErrorID != "" {
		b.WriteString(lab("error"))
		s.th.pen(executor.Failed, false).paint(&b, strings.TrimPrefix(in.ErrorID+": "+in.ErrorMessage, ": "))
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
			fmt.Fprintf(&b, ", next %s (%s)", in.NextCheck.UTC().Format("15:04:05"), s.rel(in.NextCheck))
		}
		b.WriteByte('\n')
	}
	if !in.NextAttempt.IsZero() && !st.Terminal() {
		fmt.Fprintf(&b, "%sattempt %d at %s (%s)\n", lab("retry"), in.Attempts+1, in.NextAttempt.UTC().Format("15:04:05"), s.rel(in.NextAttempt))
	}

	if len(in.WaitingOn) > 0 && !st.Terminal() {
		b.WriteString("\n" + s.th.title.Render("Why not running") + "\n")
		for _, w := range in.WaitingOn {
			b.WriteString("  " + waitingText(s, w) + "\n")
		}
	}

	atts := s.src.Attempts(in.ID)
	if p.latest || p.att >= len(atts) {
		p.att = len(atts) - 1
	}
	title := fmt.Sprintf("Attempts (%d)", len(atts))
	if len(atts) > 1 {
		title += "  [/] select · L logs · y copy paths"
	}
	b.WriteString("\n" + s.th.title.Render(title) + "\n")
	if len(atts) == 0 {
		b.WriteString("  none yet\n")
	}
	for i, a := range atts {
		ast := executor.Status(a.Status)
		mark := "  "
		if i == p.att {
			mark = "▸ "
			p.attLine = strings.Count(b.String(), "\n")
		}
		fmt.Fprintf(&b, "%s#%d  ", mark, a.N)
		s.th.pen(ast, false).paint(&b, fmt.Sprintf("%-16s", statusText(ast)))
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
			s.th.pen(executor.Failed, false).paint(&b, strings.TrimPrefix(a.ErrorID+": "+firstLine(a.ErrorMessage), ": "))
			b.WriteByte('\n')
		}
		// Hive statements / streaming tasks done and rows written.
		if a.Progress != nil {
			prefix, line := "       progress  ", a.Progress.String()
			if w := s.width - len(prefix); w > 10 {
				line = strings.TrimRight(fit(line, w), " ")
			}
			b.WriteString(noWrap + prefix + line + "\n")
		}
		// One path a line, never wrapped: cut in the middle when too
		// long; y copies the selected attempt's paths whole.
		for _, l := range []struct{ name, path string }{{"stdout", a.Stdout}, {"stderr", a.Stderr}} {
			if l.path != "" {
				prefix := "       " + l.name + "  "
				b.WriteString(noWrap + prefix + midTruncate(l.path, s.width-len(prefix)) + "\n")
			}
		}
	}

	b.WriteString("\n" + s.th.title.Render("Effective fields (evaluated, secrets masked)") + "\n")
	if p.err != nil {
		b.WriteString("  ")
		s.th.pen(executor.Failed, false).paint(&b, p.err.Error())
		b.WriteByte('\n')
	}
	w := 4
	for _, f := range p.fields {
		w = max(w, min(len(f.key), 24))
	}
	for _, f := range p.fields {
		v := f.value
		if f.ref {
			v = "→ " + v
		}
		v = strings.ReplaceAll(v, "\n", "⏎")
		if looksLikePath(v) {
			prefix := fmt.Sprintf("  %-*s  ", w, f.key)
			b.WriteString(noWrap + prefix + midTruncate(v, s.width-len(prefix)) + "\n")
			continue
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", w, f.key, v)
	}
	return b.String()
}

// midTruncate cuts a path to w cells in the middle, keeping its start
// and its file name: "/work/state/…/Attempt=2/stdout".
func midTruncate(path string, w int) string {
	r := []rune(path)
	if len(r) <= w {
		return path
	}
	if w < 5 {
		return string(r[:max(w, 0)])
	}
	tail := (w - 1) * 3 / 5
	head := w - 1 - tail
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// looksLikePath reports a value that is a path or URL (no spaces, a
// slash): cut in the middle rather than wrapped.
func looksLikePath(v string) bool {
	return strings.Contains(v, "/") && !strings.ContainsAny(v, " \t⏎")
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
func waitingText(s *shared, w string) string {
	k, ok := s.instIdx[w]
	if !ok {
		return "waiting on " + w
	}
	o := &s.insts[k]
	if o.Kind == "precondition" {
		text := "waiting on precondition " + o.Component
		if !o.LastCheck.IsZero() {
			text += fmt.Sprintf(", last checked %s (%s)", o.LastCheck.UTC().Format("15:04:05"), orDash(o.LastResult))
		} else {
			text += ", not checked yet"
		}
		if !o.NextCheck.IsZero() {
			text += fmt.Sprintf(", next %s (%s)", o.NextCheck.UTC().Format("15:04:05"), s.rel(o.NextCheck))
		}
		return text
	}
	return fmt.Sprintf("waiting on %s %s (%s)", o.Kind, o.ID, statusText(executor.Status(o.Status)))
}

func (p *detailPane) key(s *shared, msg tea.KeyMsg) tea.Cmd {
	k := s.keys
	switch {
	case key.Matches(msg, k.Back):
		s.ask(intent{kind: intentBack})
	case key.Matches(msg, k.Logs), key.Matches(msg, k.Open):
		s.ask(intent{kind: intentLogs, instance: p.id, attempt: p.att})
	case key.Matches(msg, k.Attempt):
		p.selectAttempt(s, msg.String() == "]")
	case key.Matches(msg, k.Copy):
		return p.copyPaths(s)
	case key.Matches(msg, k.Top):
		p.vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		p.vp.GotoBottom()
	case key.Matches(msg, k.Up):
		p.vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		p.vp.ScrollDown(1)
	case key.Matches(msg, k.HalfUp):
		p.vp.HalfPageUp()
	case key.Matches(msg, k.HalfDown):
		p.vp.HalfPageDown()
	}
	return nil
}

// selectAttempt moves the attempt selection (] newer, [ older) and
// scrolls it into view.
func (p *detailPane) selectAttempt(s *shared, newer bool) {
	n := len(s.src.Attempts(p.id))
	if n == 0 {
		s.setFlash("no attempt yet", true)
		return
	}
	cur := p.att
	if cur < 0 || cur >= n {
		cur = n - 1
	}
	if newer {
		cur++
	} else {
		cur--
	}
	p.att = clamp(cur, 0, n-1)
	p.latest = p.att == n-1
	p.render(s)
	if p.attLine < p.vp.YOffset || p.attLine >= p.vp.YOffset+p.vp.Height {
		p.vp.SetYOffset(max(p.attLine-p.vp.Height/3, 0))
	}
}

// latestAttempt is the index of the newest attempt, -1 when none.
func latestAttempt(atts []runstore.Attempt) int { return len(atts) - 1 }
