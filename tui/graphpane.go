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

type graphPane struct {
	layout   *graphLayout
	gv       *graphView
	order    []int           // view nodes in reading order
	expanded map[string]bool // sibling families shown one by one
	// allEdges shows resources and data nodes with their edges; compact
	// is the one-line-per-node layout, compactChosen when the operator
	// picked it (else it follows the screen size).
	allEdges, compact, compactChosen bool
	sel, x, y                        int
}

func newGraphPane() *graphPane { return &graphPane{expanded: map[string]bool{}} }

// refresh keeps the layout: statuses are read when drawing.
func (p *graphPane) refresh(*shared) {}

func (p *graphPane) scroll(s *shared, dx, dy int) {
	p.x = clamp(p.x+dx, 0, max(p.layout.w-s.width, 0))
	p.y = clamp(p.y+dy, 0, max(p.layout.h-graphRows(s), 0))
}

// comp is the selected node's component, -1 for a group.
func (p *graphPane) comp() int {
	if p.gv == nil || p.sel >= len(p.gv.nodes) {
		return -1
	}
	return p.gv.nodes[p.sel].comp
}

func (p *graphPane) selection(s *shared) (string, string) {
	c := p.comp()
	if c < 0 {
		return "", ""
	}
	inst := ""
	if k := s.compCur[c]; k >= 0 {
		inst = s.insts[k].ID
	}
	return inst, s.comps[c].ID
}

// open is enter: a group expands; a component with several instances
// opens its row of the instances grid (every period, the current one
// selected); one with a single instance opens it.
func (p *graphPane) open(s *shared) {
	n := &p.gv.nodes[p.sel]
	if n.comp < 0 {
		p.toggleExpand(s)
		return
	}
	switch list := s.compInsts[n.comp]; len(list) {
	case 0:
		s.setFlash("no instance here yet", true)
	case 1:
		s.ask(intent{kind: intentDetail, instance: s.insts[list[0]].ID})
	default:
		s.ask(intent{kind: intentInstances, comp: n.comp})
	}
}

// jumpToMatch moves the selection to the first matching component.
func (p *graphPane) jumpToMatch(s *shared) {
	if s.filter == nil || nodeMatches(s, &p.gv.nodes[p.sel]) {
		return
	}
	for _, v := range p.order {
		if nodeMatches(s, &p.gv.nodes[v]) {
			p.sel = v
			p.scrollGraphToSel(s)
			return
		}
	}
}

func graphRows(s *shared) int { return max(s.bodyHeight()-1, 1) }

// rebuildGraph lays the view out again (edges toggled, a family expanded
// or collapsed), keeping the selection on the same component.
func (p *graphPane) rebuildGraph(s *shared) {
	keep := -1
	if p.gv != nil && p.sel < len(p.gv.nodes) {
		keep = p.gv.nodes[p.sel].members[0]
	}
	p.gv = buildGraphView(s.comps, p.allEdges, p.expanded)
	p.layout = p.gv.layout
	p.order = p.gv.order()
	p.sel = 0
	if len(p.order) > 0 {
		p.sel = p.order[0]
	}
	if keep >= 0 && p.gv.byComp[keep] >= 0 {
		p.sel = p.gv.byComp[keep]
	}
	p.fitGraph(s)
}

// fitGraph picks the compact layout when the boxes would need more than
// about two screens in either direction, unless the operator chose (z).
func (p *graphPane) fitGraph(s *shared) {
	if !p.compactChosen {
		p.compact = p.layout.w > 2*s.width || p.layout.h > 2*graphRows(s)
	}
	p.scrollGraphToSel(s)
}

func (p *graphPane) compLook(s *shared, i int) nodeLook {
	n := &p.gv.nodes[i]
	label := n.label
	if n.badge != "" {
		label += " ⚙" + n.badge
	}
	var st executor.Status
	var text string
	if n.comp < 0 {
		st = s.groupStatus(n)
		text = shortCounts(s.nodeCounts(n))
		if text == "" {
			text = statusText(statusNone)
		}
	} else {
		c := n.comp
		st = executor.Status(statusNone)
		if k := s.compCur[c]; k >= 0 {
			st = executor.Status(s.insts[k].Status)
		}
		text = statusText(st)
		if list := s.compInsts[c]; len(list) > 1 {
			done, bad := 0, 0
			for _, k := range list {
				s := executor.Status(s.insts[k].Status)
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
		if s.paused[s.comps[c].ID] && st != executor.Paused {
			text += " ‖"
		}
		if k := s.compCur[c]; k >= 0 && s.marked[s.insts[k].ID] {
			text = "• " + text // marked for a bulk action
		}
	}
	look := s.th.pen(st, i == p.sel)
	if !nodeMatches(s, n) {
		look = s.th.dim
	}
	return nodeLook{label: label, status: text, pen: look}
}

func nodeMatches(s *shared, n *vnode) bool {
	if s.filter == nil {
		return true
	}
	for _, c := range n.members {
		if s.matches(s.comps[c].ID) {
			return true
		}
	}
	return false
}

func (p *graphPane) view(s *shared, h int) string {
	if len(s.comps) == 0 {
		return "no components to show: the definition has no activities, data nodes, resources or preconditions"
	}
	var b strings.Builder
	if p.compact {
		p.compactView(s, &b, h-1)
	} else {
		p.layout.render(&b, p.x, p.y, s.width, h-1, p.sel, func(i int) nodeLook { return p.compLook(s, i) }, s.th.edge)
	}
	b.WriteByte('\n')
	b.WriteString(p.compSummary(s, p.sel))
	return b.String()
}

// compactView is one line per node in reading order, with what it waits
// on: a 500-node graph or a long chain as a list, centred on the selection.
func (p *graphPane) compactView(s *shared, b *strings.Builder, h int) {
	pos := 0
	for i, v := range p.order {
		if v == p.sel {
			pos = i
		}
	}
	top := clamp(pos-h/2, 0, max(len(p.order)-h, 0))
	for r := 0; r < h && top+r < len(p.order); r++ {
		if r > 0 {
			b.WriteByte('\n')
		}
		v := p.order[top+r]
		lk := p.compLook(s, v)
		mark := "  "
		if v == p.sel {
			mark = "▸ "
		}
		b.WriteString(mark)
		lk.pen.paint(b, fit(lk.status, 18)+" "+lk.label)
		if ps := p.gv.preds[v]; len(ps) > 0 {
			names := make([]string, 0, 3)
			for _, u := range ps[:min(len(ps), 3)] {
				names = append(names, p.gv.nodes[u].label)
			}
			more := ""
			if len(ps) > 3 {
				more = fmt.Sprintf(" +%d", len(ps)-3)
			}
			s.th.edge.paint(b, "  ← "+strings.Join(names, ", ")+more)
		}
	}
}

// compSummary is one line about a node: type, kind and counts.
func (p *graphPane) compSummary(s *shared, v int) string {
	n := &p.gv.nodes[v]
	if n.comp < 0 {
		c := s.comps[n.members[0]]
		cnt := s.nodeCounts(n)
		line := fmt.Sprintf("%s · %s · %d identical siblings", n.label, c.Type, len(n.members))
		if n.badge != "" {
			line += " on " + n.badge
		}
		if len(cnt) > 0 {
			line += " · " + countsText(cnt)
		}
		return line + " · x expands"
	}
	comp := s.comps[n.comp]
	line := fmt.Sprintf("%s · %s · %s", comp.ID, comp.Type, comp.Kind)
	if comp.RunsOn != "" {
		line += " on " + comp.RunsOn
	}
	cnt := map[executor.Status]int{}
	for _, k := range s.compInsts[n.comp] {
		cnt[executor.Status(s.insts[k].Status)]++
	}
	if len(s.compInsts[n.comp]) == 0 {
		return line + " · no instances yet"
	}
	k := len(s.compInsts[n.comp])
	return line + fmt.Sprintf(" · %d %s: ", k, plural(k, "instance")) + countsText(cnt)
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
func (p *graphPane) key(s *shared, msg tea.KeyMsg) tea.Cmd {
	k := s.keys
	if len(p.gv.nodes) == 0 {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		p.open(s)
		return nil
	case key.Matches(msg, k.AllEdges):
		p.allEdges = !p.allEdges
		p.rebuildGraph(s)
		if p.allEdges {
			s.setFlash("all edges: resources and data nodes shown (e hides them)", false)
		} else {
			s.setFlash("resources as badges, data nodes hidden (e shows them)", false)
		}
		return nil
	case key.Matches(msg, k.Expand):
		p.toggleExpand(s)
		return nil
	case key.Matches(msg, k.Compact):
		p.compact, p.compactChosen = !p.compact, true
		p.scrollGraphToSel(s)
		return nil
	case key.Matches(msg, k.Upstream):
		if ps := p.gv.preds[p.sel]; len(ps) > 0 {
			p.sel = ps[0]
		} else {
			s.setFlash("nothing upstream", true)
		}
	case key.Matches(msg, k.Downstream):
		if ss := p.gv.succs[p.sel]; len(ss) > 0 {
			p.sel = ss[0]
		} else {
			s.setFlash("nothing downstream", true)
		}
	case key.Matches(msg, k.FirstFailed):
		p.jumpFailed(s)
	}
	if p.compact {
		p.compactKey(s, msg)
	} else {
		p.boxKey(s, msg)
	}
	p.scrollGraphToSel(s)
	return nil
}

func (p *graphPane) compactKey(s *shared, msg tea.KeyMsg) {
	k := s.keys
	pos := 0
	for i, v := range p.order {
		if v == p.sel {
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
		pos = len(p.order) - 1
	case key.Matches(msg, k.HalfDown):
		pos += graphRows(s) / 2
	case key.Matches(msg, k.HalfUp):
		pos -= graphRows(s) / 2
	default:
		return
	}
	p.sel = p.order[clamp(pos, 0, len(p.order)-1)]
}

func (p *graphPane) boxKey(s *shared, msg tea.KeyMsg) {
	k := s.keys
	g := p.layout
	cur := &g.nodes[p.sel]
	lay := g.layers[cur.layer]
	pos := 0
	for i, c := range lay {
		if c == p.sel {
			pos = i
		}
	}
	switch {
	case key.Matches(msg, k.Up):
		if pos > 0 {
			p.sel = lay[pos-1]
		}
	case key.Matches(msg, k.Down):
		if pos < len(lay)-1 {
			p.sel = lay[pos+1]
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
			p.sel = best
			break
		}
	case key.Matches(msg, k.Top):
		p.sel = lay[0]
	case key.Matches(msg, k.Bottom):
		p.sel = lay[len(lay)-1]
	case key.Matches(msg, k.HalfDown):
		p.y = clamp(p.y+graphRows(s)/2, 0, max(g.h-graphRows(s), 0))
	case key.Matches(msg, k.HalfUp):
		p.y = clamp(p.y-graphRows(s)/2, 0, max(g.h-graphRows(s), 0))
	}
}

// toggleExpand shows a group's members one by one, or collapses the
// selected component's siblings again.
func (p *graphPane) toggleExpand(s *shared) {
	n := &p.gv.nodes[p.sel]
	fam := n.family
	if fam == "" {
		fam = Family(s.comps[n.comp].ID)
		if fam == "" || !p.expanded[fam] {
			s.setFlash("no identical siblings to collapse here", true)
			return
		}
		delete(p.expanded, fam)
	} else {
		p.expanded[fam] = true
	}
	p.rebuildGraph(s)
}

// jumpFailed selects the first node (in reading order) whose current
// instance failed, expanding nothing: a group with failures is selected.
func (p *graphPane) jumpFailed(s *shared) {
	for _, v := range p.order {
		n := &p.gv.nodes[v]
		for _, c := range n.members {
			for _, k := range s.compInsts[c] {
				if executor.Status(s.insts[k].Status).Bad() && executor.Status(s.insts[k].Status) != executor.CascadeFailed {
					p.sel = v
					return
				}
			}
		}
	}
	s.setFlash("nothing failed", false)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// scrollGraphToSel keeps the selected box inside the window, centred when
// it had to move.
func (p *graphPane) scrollGraphToSel(s *shared) {
	if len(p.gv.nodes) == 0 || p.compact {
		return
	}
	v := &p.layout.nodes[p.sel]
	rows := graphRows(s)
	if v.x-1 < p.x || v.x+boxW+gapW > p.x+s.width {
		p.x = clamp(v.x+boxW/2-s.width/2, 0, max(p.layout.w-s.width, 0))
	}
	if v.y-1 < p.y || v.y+boxH+1 > p.y+rows {
		p.y = clamp(v.y+boxH/2-rows/2, 0, max(p.layout.h-rows, 0))
	}
}
