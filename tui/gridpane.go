package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dpl-dev/dpl/executor"
)

// Instances grid: components × schedule periods.

const cellW = 2

type gridPane struct {
	rows           []int // the components shown (filtered), in graph order
	row, col       int   // selected row (index into rows) and period
	rowOff, colOff int
}

// refresh keeps the rows the filter lets through.
func (p *gridPane) refresh(s *shared) {
	p.rows = p.rows[:0]
	for _, c := range s.rowOrder {
		if s.matches(s.comps[c].ID) {
			p.rows = append(p.rows, c)
		}
	}
	p.clamp(s)
}

func (p *gridPane) scroll(s *shared, dx, dy int) {
	p.rowOff = clamp(p.rowOff+dy, 0, max(len(p.rows)-p.visibleRows(s), 0))
	p.row = clamp(p.row, p.rowOff, p.rowOff+p.visibleRows(s)-1)
	p.colOff = clamp(p.colOff+dx/2, 0, max(len(s.periods)-p.visibleCols(s), 0))
	p.col = clamp(p.col, p.colOff, p.colOff+p.visibleCols(s)-1)
	p.clamp(s)
}

func (p *gridPane) selection(s *shared) (string, string) {
	inst, comp := "", ""
	if k := p.cell(s); k >= 0 {
		inst = s.insts[k].ID
	}
	if p.row < len(p.rows) {
		comp = s.comps[p.rows[p.row]].ID
	}
	return inst, comp
}

// show selects a component's row at the period of its current instance.
func (p *gridPane) show(s *shared, comp int) {
	for r, c := range p.rows {
		if c == comp {
			p.row = r
		}
	}
	if k := s.compCur[comp]; k >= 0 {
		for i, t := range s.periods {
			if t.Equal(s.insts[k].ScheduledStart) {
				p.col = i
			}
		}
	}
	p.clamp(s)
}

func (p *gridPane) labelW(s *shared) int {
	w := 8
	for _, c := range p.rows {
		w = max(w, len([]rune(s.comps[c].ID)))
	}
	return min(w, 28) + 3
}

func (p *gridPane) visibleRows(s *shared) int { return max(s.bodyHeight()-4, 1) }
func (p *gridPane) visibleCols(s *shared) int { return max((s.width-p.labelW(s))/cellW, 1) }

func (p *gridPane) clamp(s *shared) {
	p.row = clamp(p.row, 0, len(p.rows)-1)
	p.col = clamp(p.col, 0, len(s.periods)-1)
	rows, cols := p.visibleRows(s), p.visibleCols(s)
	if p.row < p.rowOff {
		p.rowOff = p.row
	} else if p.row >= p.rowOff+rows {
		p.rowOff = p.row - rows + 1
	}
	if p.col < p.colOff {
		p.colOff = p.col
	} else if p.col >= p.colOff+cols {
		p.colOff = p.col - cols + 1
	}
	p.rowOff = clamp(p.rowOff, 0, len(p.rows)-rows)
	p.colOff = clamp(p.colOff, 0, len(s.periods)-cols)
}

// gridCell is the selected cell's instance index, -1 when empty.
func (p *gridPane) cell(s *shared) int {
	if p.row >= len(p.rows) || p.col >= len(s.periods) {
		return -1
	}
	return int(s.cells[p.rows[p.row]][p.col])
}

func (p *gridPane) key(s *shared, msg tea.KeyMsg) tea.Cmd {
	k := s.keys
	switch {
	case key.Matches(msg, k.Up):
		p.row--
	case key.Matches(msg, k.Down):
		p.row++
	case key.Matches(msg, k.Left):
		p.col--
	case key.Matches(msg, k.Right):
		p.col++
	case key.Matches(msg, k.Top):
		p.row = 0
	case key.Matches(msg, k.Bottom):
		p.row = len(p.rows) - 1
	case key.Matches(msg, k.HalfDown):
		p.row += p.visibleRows(s) / 2
	case key.Matches(msg, k.HalfUp):
		p.row -= p.visibleRows(s) / 2
	case key.Matches(msg, k.Open):
		if c := p.cell(s); c >= 0 {
			s.ask(intent{kind: intentDetail, instance: s.insts[c].ID})
		} else {
			s.setFlash("no instance here yet", true)
		}
	}
	p.clamp(s)
	return nil
}

func (p *gridPane) view(s *shared, h int) string {
	var b strings.Builder
	lw := p.labelW(s)
	cols := p.visibleCols(s)
	c0 := p.colOff
	c1 := min(c0+cols, len(s.periods))
	// Time ticks: a label every few columns where it fits.
	tick := make([]byte, 0, s.width)
	tick = append(tick, spaces(lw)...)
	hdr := []rune(strings.Repeat(" ", max(cols*cellW, 0)))
	every := 7
	for c := c0; c < c1; c += every {
		lab := []rune("┊" + s.periods[c].UTC().Format("01-02 15:04"))
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
	if p.col >= c0 && p.col < c1 {
		mark[(p.col-c0)*cellW] = '▾'
	}
	b.WriteString(spaces(lw))
	b.WriteString(string(mark))
	b.WriteByte('\n')
	if len(p.rows) == 0 {
		b.WriteString("no component matches the filter\n")
	}
	r1 := min(p.rowOff+p.visibleRows(s), len(p.rows))
	for r := p.rowOff; r < r1; r++ {
		c := p.rows[r]
		sel := r == p.row
		lab := "  "
		if sel {
			lab = "▸ "
		}
		b.WriteString(lab + fit(s.comps[c].ID, lw-3) + " ")
		row := s.cells[c]
		for col := c0; col < c1; col++ {
			k := row[col]
			st := executor.Status(statusNone)
			glyph := " "
			if k >= 0 {
				st = executor.Status(s.insts[k].Status)
				glyph = lookOf(st).glyph
			}
			cellSel := sel && col == p.col
			if cellSel && k < 0 {
				glyph = "·"
			}
			s.th.pen(st, cellSel).paint(&b, glyph)
			if k >= 0 && s.marked[s.insts[k].ID] {
				b.WriteString("•") // marked for a bulk action
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	for r := r1 - p.rowOff; r < p.visibleRows(s); r++ {
		b.WriteByte('\n')
	}
	b.WriteString(countsText(s.counts))
	b.WriteByte('\n')
	if k := p.cell(s); k >= 0 {
		in := &s.insts[k]
		b.WriteString(fmt.Sprintf("%s  %s  %s → %s", in.ID, statusText(executor.Status(in.Status)),
			in.ScheduledStart.UTC().Format("2006-01-02 15:04"), in.ScheduledEnd.UTC().Format("2006-01-02 15:04")))
	} else if p.row < len(p.rows) && p.col < len(s.periods) {
		b.WriteString(fmt.Sprintf("%s has no instance for %s", s.comps[p.rows[p.row]].ID, s.periods[p.col].UTC().Format("2006-01-02 15:04")))
	}
	return b.String()
}
