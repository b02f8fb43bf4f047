package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/dpl-dev/dpl/executor"
)

// The graph pane: boxes laid out in layers, or compact (one line per
// node) when the boxes would not be readable on the screen.

func (m *Model) graphRows() int { return max(m.bodyHeight()-1, 1) }

// rebuildGraph lays the view out again (edges toggled, a family expanded
// or collapsed), keeping the selection on the same component.
func (m *Model) rebuildGraph() {
	keep := -1
	if m.gview != nil && m.gsel < len(m.gview.nodes) {
		keep = m.gview.nodes[m.gsel].members[0]
	}
	m.gview = buildGraphView(m.comps, m.showAllEdges, m.expanded)
	m.graph = m.gview.layout
	m.gorder = m.gview.order()
	m.gsel = 0
	if len(m.gorder) > 0 {
		m.gsel = m.gorder[0]
	}
	if keep >= 0 && m.gview.byComp[keep] >= 0 {
		m.gsel = m.gview.byComp[keep]
	}
	m.fitGraph()
}

// fitGraph picks the compact layout when the boxes would need more than
// about two screens in either direction, unless the operator chose (z).
func (m *Model) fitGraph() {
	if !m.compactChosen {
		m.compact = m.graph.w > 2*m.width || m.graph.h > 2*m.graphRows()
	}
	m.scrollGraphToSel()
}

func (m *Model) compLook(i int) nodeLook {
	n := &m.gview.nodes[i]
	label := n.label
	if n.badge != "" {
		label += " ⚙" + n.badge
	}
	var st executor.Status
	var text string
	if n.comp < 0 {
		st = m.groupStatus(n)
		text = shortCounts(m.nodeCounts(n))
		if text == "" {
			text = statusText(statusNone)
		}
	} else {
		c := n.comp
		st = executor.Status(statusNone)
		if k := m.compCur[c]; k >= 0 {
			st = executor.Status(m.insts[k].Status)
		}
		text = statusText(st)
		if list := m.compInsts[c]; len(list) > 1 {
			done, bad := 0, 0
			for _, k := range list {
				s := executor.Status(m.insts[k].Status)
				if s == executor.Finished || s == executor.Skipped {
					done++
				} else if s.Bad() {
					bad++
				}
			}
			text += fmt.Sprintf(" %d/%d", done, len(list))
			if bad > 0 && !st.Bad() {
				text += fmt.Sprintf(" ✗%d", bad)
			}
		}
		if m.paused[m.comps[c].ID] && st != executor.Paused {
			text += " ‖"
		}
		if k := m.compCur[c]; k >= 0 && m.marked[m.insts[k].ID] {
			text = "• " + text // marked for a bulk action
		}
	}
	p := m.th.pen(st, i == m.gsel)
	if !m.nodeMatches(n) {
		p = m.th.dim
	}
	return nodeLook{label: label, status: text, pen: p}
}

func (m *Model) nodeMatches(n *vnode) bool {
	if m.filter == nil {
		return true
	}
	for _, c := range n.members {
		if m.matches(m.comps[c].ID) {
			return true
		}
	}
	return false
}

func (m *Model) graphView(h int) string {
	if len(m.comps) == 0 {
		return "no components to show: the definition has no activities, data nodes, resources or preconditions"
	}
	var b strings.Builder
	if m.compact {
		m.compactView(&b, h-1)
	} else {
		m.graph.render(&b, m.gx, m.gy, m.width, h-1, m.gsel, m.compLook, m.th.edge)
	}
	b.WriteByte('\n')
	b.WriteString(m.compSummary(m.gsel))
	return b.String()
}

// compactView is one line per node in reading order, with what it waits
// on: a 500-node graph or a long chain as a list, centred on the selection.
func (m *Model) compactView(b *strings.Builder, h int) {
	pos := 0
	for i, v := range m.gorder {
		if v == m.gsel {
			pos = i
		}
	}
	top := clamp(pos-h/2, 0, max(len(m.gorder)-h, 0))
	for r := 0; r < h && top+r < len(m.gorder); r++ {
		if r > 0 {
			b.WriteByte('\n')
		}
		v := m.gorder[top+r]
		lk := m.compLook(v)
		mark := "  "
		if v == m.gsel {
			mark = "▸ "
		}
		b.WriteString(mark)
		lk.pen.paint(b, fit(lk.status, 18)+" "+lk.label)
		if ps := m.gview.preds[v]; len(ps) > 0 {
			names := make([]string, 0, 3)
			for _, p := range ps[:min(len(ps), 3)] {
				names = append(names, m.gview.nodes[p].label)
			}
			more := ""
			if len(ps) > 3 {
				more = fmt.Sprintf(" +%d", len(ps)-3)
			}
			m.th.edge.paint(b, "  ← "+strings.Join(names, ", ")+more)
		}
	}
}

// compSummary is one line about a node: type, kind and counts.
func (m *Model) compSummary(v int) string {
	n := &m.gview.nodes[v]
	if n.comp < 0 {
		c := m.comps[n.members[0]]
		cnt := m.nodeCounts(n)
		s := fmt.Sprintf("%s · %s · %d identical siblings", n.label, c.Type, len(n.members))
		if n.badge != "" {
			s += " on " + n.badge
		}
		if len(cnt) > 0 {
			s += " · " + countsText(cnt)
		}
		return s + " · x expands"
	}
	comp := m.comps[n.comp]
	s := fmt.Sprintf("%s · %s · %s", comp.ID, comp.Type, comp.Kind)
	if comp.RunsOn != "" {
		s += " on " + comp.RunsOn
	}
	cnt := map[executor.Status]int{}
	for _, k := range m.compInsts[n.comp] {
		cnt[executor.Status(m.insts[k].Status)]++
	}
	if len(m.compInsts[n.comp]) == 0 {
		return s + " · no instances yet"
	}
	k := len(m.compInsts[n.comp])
	return s + fmt.Sprintf(" · %d %s: ", k, plural(k, "instance")) + countsText(cnt)
}

func countsText(cnt map[executor.Status]int) string {
	var parts []string
	for _, st := range statusOrder {
		if n := cnt[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, statusText(st)))
		}
	}
	return strings.Join(parts, ", ")
}

// graphKey moves in the graph: j/k within a layer (the list when
// compact), h/l to the nearest node of the next layer, < and > to the
// first upstream and downstream node, F to the first failed one; e shows
// all edges, x expands or collapses siblings, z toggles compact.
func (m *Model) graphKey(msg tea.KeyMsg) {
	k := m.keys
	if len(m.gview.nodes) == 0 {
		return
	}
	switch {
	case key.Matches(msg, k.AllEdges):
		m.showAllEdges = !m.showAllEdges
		m.rebuildGraph()
		if m.showAllEdges {
			m.setFlash("all edges: resources and data nodes shown (e hides them)", false)
		} else {
			m.setFlash("resources as badges, data nodes hidden (e shows them)", false)
		}
		return
	case key.Matches(msg, k.Expand):
		m.toggleExpand()
		return
	case key.Matches(msg, k.Compact):
		m.compact, m.compactChosen = !m.compact, true
		m.scrollGraphToSel()
		return
	case key.Matches(msg, k.Upstream):
		if ps := m.gview.preds[m.gsel]; len(ps) > 0 {
			m.gsel = ps[0]
		} else {
			m.setFlash("nothing upstream", true)
		}
	case key.Matches(msg, k.Downstream):
		if ss := m.gview.succs[m.gsel]; len(ss) > 0 {
			m.gsel = ss[0]
		} else {
			m.setFlash("nothing downstream", true)
		}
	case key.Matches(msg, k.FirstFailed):
		m.jumpFailed()
	}
	if m.compact {
		m.compactKey(msg)
	} else {
		m.boxKey(msg)
	}
	m.scrollGraphToSel()
}

func (m *Model) compactKey(msg tea.KeyMsg) {
	k := m.keys
	pos := 0
	for i, v := range m.gorder {
		if v == m.gsel {
			pos = i
		}
	}
	switch {
	case key.Matches(msg, k.Up):
		pos--
	case key.Matches(msg, k.Down):
		pos++
	case key.Matches(msg, k.Top):
		pos = 0
	case key.Matches(msg, k.Bottom):
		pos = len(m.gorder) - 1
	case key.Matches(msg, k.HalfDown):
		pos += m.graphRows() / 2
	case key.Matches(msg, k.HalfUp):
		pos -= m.graphRows() / 2
	default:
		return
	}
	m.gsel = m.gorder[clamp(pos, 0, len(m.gorder)-1)]
}

func (m *Model) boxKey(msg tea.KeyMsg) {
	k := m.keys
	g := m.graph
	cur := &g.nodes[m.gsel]
	lay := g.layers[cur.layer]
	pos := 0
	for i, c := range lay {
		if c == m.gsel {
			pos = i
		}
	}
	switch {
	case key.Matches(msg, k.Up):
		if pos > 0 {
			m.gsel = lay[pos-1]
		}
	case key.Matches(msg, k.Down):
		if pos < len(lay)-1 {
			m.gsel = lay[pos+1]
		}
	case key.Matches(msg, k.Left), key.Matches(msg, k.Right):
		step := 1
		if key.Matches(msg, k.Left) {
			step = -1
		}
		for l := cur.layer + step; l >= 0 && l < len(g.layers); l += step {
			if len(g.layers[l]) == 0 {
				continue
			}
			best, bd := -1, 0
			for _, c := range g.layers[l] {
				d := abs(g.nodes[c].y - cur.y)
				if best < 0 || d < bd {
					best, bd = c, d
				}
			}
			m.gsel = best
			break
		}
	case key.Matches(msg, k.Top):
		m.gsel = lay[0]
	case key.Matches(msg, k.Bottom):
		m.gsel = lay[len(lay)-1]
	case key.Matches(msg, k.HalfDown):
		m.gy = clamp(m.gy+m.graphRows()/2, 0, max(g.h-m.graphRows(), 0))
	case key.Matches(msg, k.HalfUp):
		m.gy = clamp(m.gy-m.graphRows()/2, 0, max(g.h-m.graphRows(), 0))
	}
}

// toggleExpand shows a group's members one by one, or collapses the
// selected component's siblings again.
func (m *Model) toggleExpand() {
	n := &m.gview.nodes[m.gsel]
	fam := n.family
	if fam == "" {
		fam = Family(m.comps[n.comp].ID)
		if fam == "" || !m.expanded[fam] {
			m.setFlash("no identical siblings to collapse here", true)
			return
		}
		delete(m.expanded, fam)
	} else {
		m.expanded[fam] = true
	}
	m.rebuildGraph()
}

// jumpFailed selects the first node (in reading order) whose current
// instance failed, expanding nothing: a group with failures is selected.
func (m *Model) jumpFailed() {
	for _, v := range m.gorder {
		n := &m.gview.nodes[v]
		for _, c := range n.members {
			for _, k := range m.compInsts[c] {
				if executor.Status(m.insts[k].Status).Bad() && executor.Status(m.insts[k].Status) != executor.CascadeFailed {
					m.gsel = v
					return
				}
			}
		}
	}
	m.setFlash("nothing failed", false)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// scrollGraphToSel keeps the selected box inside the window, centred when
// it had to move.
func (m *Model) scrollGraphToSel() {
	if len(m.gview.nodes) == 0 || m.compact {
		return
	}
	v := &m.graph.nodes[m.gsel]
	rows := m.graphRows()
	if v.x-1 < m.gx || v.x+boxW+gapW > m.gx+m.width {
		m.gx = clamp(v.x+boxW/2-m.width/2, 0, max(m.graph.w-m.width, 0))
	}
	if v.y-1 < m.gy || v.y+boxH+1 > m.gy+rows {
		m.gy = clamp(v.y+boxH/2-rows/2, 0, max(m.graph.h-rows, 0))
	}
}
