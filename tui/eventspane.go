package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dpl-dev/dpl/executor"
)

// Events pane: newest first.

type eventsPane struct {
	events   []executor.Event // oldest first, at most maxEvents
	sel, off int
}

// add keeps ev if the pane shows it, the same event staying selected.
func (p *eventsPane) add(ev executor.Event) {
	if !keepEvent(ev) {
		return
	}
	p.events = append(p.events, ev)
	if p.sel > 0 {
		p.sel++ // newest first: the selection moves down with its event
	}
}

// trim drops the oldest events beyond maxEvents.
func (p *eventsPane) trim() {
	if over := len(p.events) - maxEvents; over > 0 {
		p.events = append(p.events[:0], p.events[over:]...)
	}
}

func (p *eventsPane) refresh(s *shared) {
	p.sel, p.off = min(p.sel, max(len(p.visible(s))-1, 0)), 0
}

func (p *eventsPane) scroll(s *shared, _, dy int) {
	p.sel = clamp(p.sel+dy, 0, max(len(p.visible(s))-1, 0))
}

func (p *eventsPane) selection(s *shared) (string, string) {
	if evs := p.visible(s); p.sel < len(evs) {
		return evs[p.sel].Instance, evs[p.sel].Component
	}
	return "", ""
}

func (p *eventsPane) visible(s *shared) []executor.Event {
	out := make([]executor.Event, 0, len(p.events))
	for i := len(p.events) - 1; i >= 0; i-- {
		if s.filter == nil || s.matches(eventLine(p.events[i])) {
			out = append(out, p.events[i])
		}
	}
	return out
}

// eventLine is an event as one line, in the words of the views.
func eventLine(ev executor.Event) string { return EventLine(ev, GlyphWords) }

func (p *eventsPane) key(s *shared, msg tea.KeyMsg) tea.Cmd {
	k := s.keys
	n := len(p.visible(s))
	switch {
	case key.Matches(msg, k.Up):
		p.sel--
	case key.Matches(msg, k.Down):
		p.sel++
	case key.Matches(msg, k.Top):
		p.sel = 0
	case key.Matches(msg, k.Bottom):
		p.sel = n - 1
	case key.Matches(msg, k.HalfDown):
		p.sel += s.bodyHeight() / 2
	case key.Matches(msg, k.HalfUp):
		p.sel -= s.bodyHeight() / 2
	case key.Matches(msg, k.Open):
		if inst, _ := p.selection(s); inst != "" {
			s.ask(intent{kind: intentDetail, instance: inst})
		} else {
			s.setFlash("no instance here yet", true)
		}
	}
	p.sel = clamp(p.sel, 0, n-1)
	return nil
}

func (p *eventsPane) view(s *shared, h int) string {
	evs := p.visible(s)
	if len(evs) == 0 {
		if s.filter != nil {
			return "no event matches the filter"
		}
		return "no alarms or status changes yet"
	}
	rows := h
	if p.sel < p.off {
		p.off = p.sel
	} else if p.sel >= p.off+rows {
		p.off = p.sel - rows + 1
	}
	var b strings.Builder
	for i := p.off; i < min(p.off+rows, len(evs)); i++ {
		ev := evs[i]
		line := eventLine(ev)
		prefix := "  "
		if i == p.sel {
			prefix = "▸ "
		}
		st := ev.Status
		if ev.Kind == executor.EventAlarm {
			st = executor.Failed
		}
		if ev.Kind == executor.EventStatus || ev.Kind == executor.EventAlarm || i == p.sel {
			b.WriteString(prefix)
			s.th.pen(st, i == p.sel).paint(&b, fit(line, max(s.width-2, 1)))
		} else {
			b.WriteString(prefix + line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
