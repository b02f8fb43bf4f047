package tui

import (
	"cmp"
	"slices"
	"strings"
)

// Graph geometry: boxes of boxW×boxH cells in columns (one per layer),
// flowing left to right, with at least gapW cells between columns for
// edges (more where more channels are needed).
const (
	boxW = 24
	boxH = 4
	gapW = 8
)

// Connection bits of a canvas cell; the rune is chosen from them so that
// merging edges join with the right box-drawing character. bitJoin marks
// a cell where a vertical and a horizontal line really connect; where
// they only cross, the cell is drawn as a plain │ between two ─, so a
// junction glyph (├ ┤ ┬ ┴ ┼) always means a connection.
const (
	bitUp uint8 = 1 << iota
	bitDown
	bitLeft
	bitRight
	bitArrow
	bitJoin
)

var edgeRunes = [16]rune{
	0:       ' ',
	bitLeft: '─', bitRight: '─', bitLeft | bitRight: '─',
	bitUp: '│', bitDown: '│', bitUp | bitDown: '│',
	bitDown | bitRight: '┌', bitDown | bitLeft: '┐', bitUp | bitRight: '└', bitUp | bitLeft: '┘',
	bitUp | bitDown | bitRight: '├', bitUp | bitDown | bitLeft: '┤',
	bitDown | bitLeft | bitRight: '┬', bitUp | bitLeft | bitRight: '┴',
	bitUp | bitDown | bitLeft | bitRight: '┼',
}

func edgeRune(b uint8) rune {
	if b&bitArrow != 0 {
		return '▶'
	}
	if b&bitJoin == 0 && b&(bitUp|bitDown) != 0 && b&(bitLeft|bitRight) != 0 {
		return '│' // a crossing, not a junction
	}
	return edgeRunes[b&0xf]
}

// gnode is a node of the layout: a component's box, or a dummy point that
// carries an edge across a column it skips.
type gnode struct {
	comp  int // component index, -1 for a dummy
	layer int
	x, y  int
	// in and out are the rows edges enter and leave on: a box's label
	// row, a dummy's first row; in moves one row down where a line
	// leaving the column before runs on that row (see layoutGraph).
	in, out int
}

// graphLayout is the component DAG laid out once: edges on a canvas of
// connection bits, boxes as positions painted at render time (their
// colour and text follow the live status).
type graphLayout struct {
	w, h   int
	nodes  []gnode // the first len(comps) are the components
	cells  []uint8 // w*h
	rows   [][]int32
	layers [][]int  // component indices per layer, top to bottom
	segs   [][2]int // edges between adjacent columns (node → node), as drawn
}

// layoutGraph places components in layers (longest path from the
// sources), orders each layer by barycenters to limit crossings, and
// routes every edge through the gaps between columns.
func layoutGraph(comps []Component) *graphLayout {
	n := len(comps)
	idx := make(map[string]int, n)
	for i, c := range comps {
		idx[c.ID] = i
	}
	succ := make([][]int, n)
	pred := make([][]int, n)
	seen := map[[2]int]bool{}
	add := func(from string, to int) {
		f, ok := idx[from]
		if !ok || f == to || seen[[2]int{f, to}] {
			return
		}
		seen[[2]int{f, to}] = true
		succ[f] = append(succ[f], to)
		pred[to] = append(pred[to], f)
	}
	for i, c := range comps {
		for _, id := range c.Inputs {
			add(id, i)
		}
		for _, id := range c.DependsOn {
			add(id, i)
		}
		for _, id := range c.Preconditions {
			add(id, i)
		}
		if c.RunsOn != "" {
			add(c.RunsOn, i)
		}
		for _, id := range c.Outputs {
			if o, ok := idx[id]; ok && o != i && !seen[[2]int{i, o}] {
				seen[[2]int{i, o}] = true
				succ[i] = append(succ[i], o)
				pred[o] = append(pred[o], i)
			}
		}
	}

	// Layers by longest path; a cycle is broken at its lowest index.
	layer := make([]int, n)
	done := make([]bool, n)
	indeg := make([]int, n)
	for i := range n {
		indeg[i] = len(pred[i])
	}
	order := make([]int, 0, n)
	queue := []int{}
	for i := range n {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	next := 0
	for len(order) < n {
		if len(queue) == 0 {
			for done[next] {
				next++
			}
			queue = append(queue, next)
		}
		v := queue[0]
		queue = queue[1:]
		if done[v] {
			continue
		}
		done[v] = true
		order = append(order, v)
		for _, s := range succ[v] {
			if indeg[s]--; indeg[s] == 0 && !done[s] {
				queue = append(queue, s)
			}
		}
	}
	// Longest path in that order; edges against it (cycles) are ignored.
	pos := make([]int, n)
	for k, v := range order {
		pos[v] = k
	}
	for _, v := range order {
		layer[v] = 0
		for _, p := range pred[v] {
			if pos[p] < pos[v] && layer[p]+1 > layer[v] {
				layer[v] = layer[p] + 1
			}
		}
	}
	// Pull pure sources (resources, preconditions, raw inputs) next to
	// their first consumer so their edges stay short.
	for _, v := range order {
		if len(pred[v]) > 0 || len(succ[v]) == 0 {
			continue
		}
		lo := -1
		for _, s := range succ[v] {
			if lo < 0 || layer[s] < lo {
				lo = layer[s]
			}
		}
		if lo > 0 {
			layer[v] = lo - 1
		}
	}

	g := &graphLayout{}
	g.nodes = make([]gnode, n)
	maxL := 0
	for i := range n {
		g.nodes[i] = gnode{comp: i, layer: layer[i]}
		maxL = max(maxL, layer[i])
	}
	// Segments between adjacent layers, with dummies on long edges;
	// edges pointing backwards (cycles) are not drawn.
	// The long edges of one source share its dummies (one per layer it
	// crosses): a resource used by every activity is one line with
	// branches, not one line per activity.
	type seg struct{ a, b int }
	var segs []seg
	chain := make([][]int, n)
	for _, v := range order {
		for _, s := range succ[v] {
			if layer[s] <= layer[v] {
				continue
			}
			prev := v
			for l := layer[v] + 1; l < layer[s]; l++ {
				if off := l - layer[v] - 1; off < len(chain[v]) {
					prev = chain[v][off]
					continue
				}
				g.nodes = append(g.nodes, gnode{comp: -1, layer: l})
				d := len(g.nodes) - 1
				chain[v] = append(chain[v], d)
				segs = append(segs, seg{prev, d})
				prev = d
			}
			segs = append(segs, seg{prev, s})
		}
	}
	ins := make([][]int, len(g.nodes))
	outs := make([][]int, len(g.nodes))
	for _, s := range segs {
		outs[s.a] = append(outs[s.a], s.b)
		ins[s.b] = append(ins[s.b], s.a)
	}
	lays := make([][]int, maxL+1)
	rank := make([]float64, len(g.nodes))
	for _, v := range order {
		lays[layer[v]] = append(lays[layer[v]], v)
	}
	for d := n; d < len(g.nodes); d++ {
		l := g.nodes[d].layer
		lays[l] = append(lays[l], d)
	}
	setRank := func() {
		for _, l := range lays {
			for k, v := range l {
				rank[v] = float64(k)
			}
		}
	}
	setRank()
	key := make([]float64, len(g.nodes)) // barycenter of each node, reused
	bary := func(l []int, nb [][]int) {
		for _, v := range l {
			if len(nb[v]) == 0 {
				key[v] = rank[v]
				continue
			}
			sum := 0.0
			for _, u := range nb[v] {
				sum += rank[u]
			}
			key[v] = sum / float64(len(nb[v]))
		}
		slices.SortStableFunc(l, func(a, b int) int { return cmp.Compare(key[a], key[b]) })
		for k, v := range l {
			rank[v] = float64(k)
		}
	}
	for range 4 {
		for i := 1; i < len(lays); i++ {
			bary(lays[i], ins)
		}
		for i := len(lays) - 2; i >= 0; i-- {
			bary(lays[i], outs)
		}
	}

	g.segs = make([][2]int, len(segs))
	for k, sg := range segs {
		g.segs[k] = [2]int{sg.a, sg.b}
	}
	// Rows: boxes stacked per column, dummies take two rows.
	for _, vs := range lays {
		y := 1
		for _, v := range vs {
			g.nodes[v].y = y
			if v < n {
				y += boxH + 1
			} else {
				y += 2
			}
			g.h = max(g.h, y)
		}
	}
	// Entry rows. The line leaving a node and the line entering a node of
	// the next column must not share a row unless it is the one edge
	// between them: else two edges would run on one line and merge.
	// Leaving rows of one column are at least two apart, so the row
	// below is free.
	into := make([][]int, len(g.nodes)) // sources per node
	for _, sg := range segs {
		into[sg.b] = append(into[sg.b], sg.a)
	}
	leaving := map[[2]int]int{} // (layer, row) → the node leaving on it
	for v := range g.nodes {
		nd := &g.nodes[v]
		nd.out = nd.y
		if nd.comp >= 0 {
			nd.out = nd.y + 1
		}
		nd.in = nd.out
		leaving[[2]int{nd.layer, nd.out}] = v
	}
	for v := range g.nodes {
		nd := &g.nodes[v]
		if u, ok := leaving[[2]int{nd.layer - 1, nd.in}]; ok && !(len(into[v]) == 1 && into[v][0] == u) {
			nd.in++
		}
	}
	// Channels: the edges of one source run down one vertical channel of
	// the gap after its column (fan-outs read as trees); sources whose
	// vertical spans overlap get different channels, the gap widening
	// when more are needed, so two vertical lines never overlap.
	bySource := make([][]int, len(g.nodes)) // segments by source node
	for k, sg := range segs {
		bySource[sg.a] = append(bySource[sg.a], k)
	}
	chanOf := make([]int, len(g.nodes))
	gaps := make([]int, len(lays))
	for l, vs := range lays {
		type span struct{ v, lo, hi int }
		var spans []span
		for _, v := range vs {
			if len(bySource[v]) == 0 {
				continue
			}
			lo, hi := g.nodes[v].out, g.nodes[v].out
			for _, k := range bySource[v] {
				y := g.nodes[segs[k].b].in
				lo, hi = min(lo, y), max(hi, y)
			}
			spans = append(spans, span{v, lo, hi})
		}
		slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
		var ends []int // per channel, the last row used
		for _, sp := range spans {
			c := slices.IndexFunc(ends, func(e int) bool { return e < sp.lo })
			if c < 0 {
				ends = append(ends, 0)
				c = len(ends) - 1
			}
			ends[c] = sp.hi
			chanOf[sp.v] = 1 + c
		}
		gaps[l] = max(gapW, len(ends)+3)
	}
	x := 1
	for l, vs := range lays {
		for _, v := range vs {
			g.nodes[v].x = x
		}
		x += boxW + gaps[l]
	}
	g.w = x
	g.cells = make([]uint8, g.w*g.h)

	// Edges leave a node's right side, run down its channel and enter
	// the target's left side with an arrow; where a channel meets the
	// lines it connects, the cell is a junction.
	for _, sg := range segs {
		a, b := &g.nodes[sg.a], &g.nodes[sg.b]
		ya, yb := a.out, b.in
		cx := a.x + boxW + chanOf[sg.a]
		g.hline(ya, a.x+boxW-1, cx)
		g.vline(cx, ya, yb)
		g.cells[ya*g.w+cx] |= bitJoin
		g.cells[yb*g.w+cx] |= bitJoin
		if b.comp >= 0 {
			g.hline(yb, cx, b.x-1)
			g.cells[yb*g.w+b.x-1] |= bitArrow
		} else {
			g.hline(yb, cx, b.x)
		}
	}
	// A dummy carries its line across the column, stepping from the row
	// it enters on to the row it leaves on.
	for d := n; d < len(g.nodes); d++ {
		v := &g.nodes[d]
		if v.in == v.out {
			g.hline(v.in, v.x-1, v.x+boxW-1)
			continue
		}
		turn := v.x + boxW - 2
		g.hline(v.in, v.x-1, turn)
		g.vline(turn, v.in, v.out)
		g.hline(v.out, turn, v.x+boxW-1)
		g.cells[v.in*g.w+turn] |= bitJoin
		g.cells[v.out*g.w+turn] |= bitJoin
	}

	g.rows = make([][]int32, g.h)
	for i := range n {
		v := &g.nodes[i]
		for y := v.y; y < v.y+boxH; y++ {
			g.rows[y] = append(g.rows[y], int32(i))
		}
	}
	for _, r := range g.rows {
		slices.SortFunc(r, func(a, b int32) int { return g.nodes[a].x - g.nodes[b].x })
	}
	g.layers = make([][]int, len(lays))
	for l, vs := range lays {
		for _, v := range vs {
			if v < n {
				g.layers[l] = append(g.layers[l], v)
			}
		}
	}
	return g
}

func (g *graphLayout) hline(y, x1, x2 int) {
	if x1 > x2 {
		x1, x2 = x2, x1
	}
	for x := x1; x <= x2; x++ {
		c := &g.cells[y*g.w+x]
		if x > x1 {
			*c |= bitLeft
		}
		if x < x2 {
			*c |= bitRight
		}
	}
}

func (g *graphLayout) vline(x, y1, y2 int) {
	if y1 > y2 {
		y1, y2 = y2, y1
	}
	for y := y1; y <= y2; y++ {
		c := &g.cells[y*g.w+x]
		if y > y1 {
			*c |= bitUp
		}
		if y < y2 {
			*c |= bitDown
		}
	}
}

// fit cuts s to w cells (with … when cut) and pads it with spaces. Ids
// and statuses are treated as one cell per rune.
func fit(s string, w int) string {
	r := []rune(s)
	if len(r) > w {
		if w <= 0 {
			return ""
		}
		return string(r[:w-1]) + "…"
	}
	return s + strings.Repeat(" ", w-len(r))
}

// boxLine is line k (0..boxH-1) of a component's box.
func boxLine(k int, label, status string, selected bool) string {
	h, v, tl, tr, bl, br := "─", "│", "┌", "┐", "└", "┘"
	if selected {
		h, v, tl, tr, bl, br = "═", "║", "╔", "╗", "╚", "╝"
	}
	switch k {
	case 0:
		return tl + strings.Repeat(h, boxW-2) + tr
	case 1:
		return v + fit(label, boxW-2) + v
	case 2:
		return v + fit(status, boxW-2) + v
	}
	return bl + strings.Repeat(h, boxW-2) + br
}

// nodeLook is what a box shows for a component at render time.
type nodeLook struct {
	label  string
	status string
	pen    pen
}

// render paints the window [x0, x0+w) × [y0, y0+h) of the graph; look
// gives each component's text and pen.
func (g *graphLayout) render(b *strings.Builder, x0, y0, w, h int, sel int, look func(i int) nodeLook, edge pen) {
	for y := y0; y < y0+h; y++ {
		if y > y0 {
			b.WriteByte('\n')
		}
		if y < 0 || y >= g.h {
			continue
		}
		x := x0
		end := min(x0+w, g.w)
		row := g.rows[y]
		k := 0
		for x < end {
			for k < len(row) && g.nodes[row[k]].x+boxW <= x {
				k++
			}
			next := end
			if k < len(row) {
				next = min(next, g.nodes[row[k]].x)
			}
			if next > x {
				var sb strings.Builder
				for ; x < next; x++ {
					sb.WriteRune(edgeRune(g.cells[y*g.w+x]))
				}
				edge.paint(b, sb.String())
				continue
			}
			i := int(row[k])
			v := &g.nodes[i]
			lk := look(i)
			line := []rune(boxLine(y-v.y, lk.label, lk.status, i == sel))
			from, to := x-v.x, min(boxW, end-v.x)
			lk.pen.paint(b, string(line[from:to]))
			x = v.x + to
			k++
		}
	}
}

var spaceRow = strings.Repeat(" ", 512)

func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	if n <= len(spaceRow) {
		return spaceRow[:n]
	}
	return strings.Repeat(" ", n)
}
