package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dpl-dev/dpl/executor"
)

// Instances grid: components × schedule periods.

const cellW = 2

func (m *Model) gridLabelW() int {
	w := 8
	for _, c := range m.gridRows {
		w = max(w, len([]rune(m.comps[c].ID)))
	}
	return min(w, 28) + 3
}

func (m *Model) gridVisibleRows() int { return max(m.bodyHeight()-4, 1) }
func (m *Model) gridVisibleCols() int { return max((m.width-m.gridLabelW())/cellW, 1) }

func (m *Model) clampGrid() {
	m.grow = clamp(m.grow, 0, len(m.gridRows)-1)
	m.gcol = clamp(m.gcol, 0, len(m.periods)-1)
	rows, cols := m.gridVisibleRows(), m.gridVisibleCols()
	if m.grow < m.growOff {
		m.growOff = m.grow
	} else if m.grow >= m.growOff+rows {
		m.growOff = m.grow - rows + 1
	}
	if m.gcol < m.gcolOff {
		m.gcolOff = m.gcol
	} else if m.gcol >= m.gcolOff+cols {
		m.gcolOff = m.gcol - cols + 1
	}
	m.growOff = clamp(m.growOff, 0, len(m.gridRows)-rows)
	m.gcolOff = clamp(m.gcolOff, 0, len(m.periods)-cols)
}

// gridCell is the selected cell's instance index, -1 when empty.
func (m *Model) gridCell() int {
	if m.grow >= len(m.gridRows) || m.gcol >= len(m.periods) {
		return -1
	}
	return int(m.cells[m.gridRows[m.grow]][m.gcol])
}

func (m *Model) gridKey(msg tea.KeyMsg) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		m.grow--
	case key.Matches(msg, k.Down):
		m.grow++
	case key.Matches(msg, k.Left):
		m.gcol--
	case key.Matches(msg, k.Right):
		m.gcol++
	case key.Matches(msg, k.Top):
		m.grow = 0
	case key.Matches(msg, k.Bottom):
		m.grow = len(m.gridRows) - 1
	case key.Matches(msg, k.HalfDown):
		m.grow += m.gridVisibleRows() / 2
	case key.Matches(msg, k.HalfUp):
		m.grow -= m.gridVisibleRows() / 2
	}
	m.clampGrid()
}

func (m *Model) gridView(h int) string {
	var b strings.Builder
	lw := m.gridLabelW()
	cols := m.gridVisibleCols()
	c0 := m.gcolOff
	c1 := min(c0+cols, len(m.periods))
	// Time ticks: a label every few columns where it fits.
	tick := make([]byte, 0, m.width)
	tick = append(tick, spaces(lw)...)
	hdr := []rune(strings.Repeat(" ", max(cols*cellW, 0)))
	every := 7
	for c := c0; c < c1; c += every {
		lab := []rune("┊" + m.periods[c].UTC().Format("01-02 15:04"))
		for i, r := range lab {
			if x := (c-c0)*cellW + i; x < len(hdr) {
				hdr[x] = r
			}
		}
	}
	b.Write(tick)
	b.WriteString(string(hdr))
	b.WriteByte('\n')
	mark := []rune(strings.Repeat(" ", max(cols*cellW, 0)))
	if m.gcol >= c0 && m.gcol < c1 {
		mark[(m.gcol-c0)*cellW] = '▾'
	}
	b.WriteString(spaces(lw))
	b.WriteString(string(mark))
	b.WriteByte('\n')
	if len(m.gridRows) == 0 {
		b.WriteString("no component matches the filter\n")
	}
	r1 := min(m.growOff+m.gridVisibleRows(), len(m.gridRows))
	for r := m.growOff; r < r1; r++ {
		c := m.gridRows[r]
		sel := r == m.grow
		lab := "  "
		if sel {
			lab = "▸ "
		}
		b.WriteString(lab + fit(m.comps[c].ID, lw-3) + " ")
		row := m.cells[c]
		for p := c0; p < c1; p++ {
			k := row[p]
			st := executor.Status(statusNone)
			glyph := " "
			if k >= 0 {
				st = executor.Status(m.insts[k].Status)
				glyph = lookOf(st).glyph
			}
			cellSel := sel && p == m.gcol
			if cellSel && k < 0 {
				glyph = "·"
			}
			m.th.pen(st, cellSel).paint(&b, glyph)
			if k >= 0 && m.marked[m.insts[k].ID] {
				b.WriteString("•") // marked for a bulk action
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	for r := r1 - m.growOff; r < m.gridVisibleRows(); r++ {
		b.WriteByte('\n')
	}
	b.WriteString(countsText(m.counts))
	b.WriteByte('\n')
	if k := m.gridCell(); k >= 0 {
		in := &m.insts[k]
		b.WriteString(fmt.Sprintf("%s  %s  %s → %s", in.ID, statusText(executor.Status(in.Status)),
			in.ScheduledStart.UTC().Format("2006-01-02 15:04"), in.ScheduledEnd.UTC().Format("2006-01-02 15:04")))
	} else if m.grow < len(m.gridRows) && m.gcol < len(m.periods) {
		b.WriteString(fmt.Sprintf("%s has no instance for %s", m.comps[m.gridRows[m.grow]].ID, m.periods[m.gcol].UTC().Format("2006-01-02 15:04")))
	}
	return b.String()
}

// Events pane: newest first.

func (m *Model) visibleEvents() []executor.Event {
	out := make([]executor.Event, 0, len(m.events))
	for i := len(m.events) - 1; i >= 0; i-- {
		if m.filter == nil || m.matches(eventLine(m.events[i])) {
			out = append(out, m.events[i])
		}
	}
	return out
}

// eventLine is an event as one line, in the words of the views.
func eventLine(ev executor.Event) string { return EventLine(ev, GlyphWords) }

func (m *Model) eventsKey(msg tea.KeyMsg) {
	k := m.keys
	n := len(m.visibleEvents())
	switch {
	case key.Matches(msg, k.Up):
		m.evSel--
	case key.Matches(msg, k.Down):
		m.evSel++
	case key.Matches(msg, k.Top):
		m.evSel = 0
	case key.Matches(msg, k.Bottom):
		m.evSel = n - 1
	case key.Matches(msg, k.HalfDown):
		m.evSel += m.bodyHeight() / 2
	case key.Matches(msg, k.HalfUp):
		m.evSel -= m.bodyHeight() / 2
	}
	m.evSel = clamp(m.evSel, 0, n-1)
}

func (m *Model) eventsView(h int) string {
	evs := m.visibleEvents()
	if len(evs) == 0 {
		if m.filter != nil {
			return "no event matches the filter"
		}
		return "no alarms or status changes yet"
	}
	rows := h
	if m.evSel < m.evOff {
		m.evOff = m.evSel
	} else if m.evSel >= m.evOff+rows {
		m.evOff = m.evSel - rows + 1
	}
	var b strings.Builder
	for i := m.evOff; i < min(m.evOff+rows, len(evs)); i++ {
		ev := evs[i]
		line := eventLine(ev)
		prefix := "  "
		if i == m.evSel {
			prefix = "▸ "
		}
		st := ev.Status
		if ev.Kind == executor.EventAlarm {
			st = executor.Failed
		}
		if ev.Kind == executor.EventStatus || ev.Kind == executor.EventAlarm || i == m.evSel {
			b.WriteString(prefix)
			m.th.pen(st, i == m.evSel).paint(&b, fit(line, max(m.width-2, 1)))
		} else {
			b.WriteString(prefix + line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Relative times for countdowns ("in 2s", "3s ago").
func (m *Model) rel(t time.Time) string {
	d := t.Sub(m.now()).Round(time.Second)
	switch {
	case d > 0:
		return "in " + d.String()
	case d < 0:
		return (-d).String() + " ago"
	}
	return "now"
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
