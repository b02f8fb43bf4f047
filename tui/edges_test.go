package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// traceGap follows the lines leaving node v into the gap after its
// column, reading the canvas the way the legend says: lines run right,
// an edge turns into at most one vertical channel per gap, a junction
// glyph (bitJoin) connects, a crossing does not. It returns the nodes of
// the next column whose arrow (or dummy) the lines reach.
func traceGap(g *graphLayout, v int) []int {
	src := &g.nodes[v]
	next := map[int]int{} // entry row → node of the next column
	nextX := -1
	for i := range g.nodes {
		if n := &g.nodes[i]; n.layer == src.layer+1 {
			next[n.in] = i
			nextX = n.x
		}
	}
	if nextX < 0 {
		return nil
	}
	type state struct {
		x, y, dx, dy int
		turned       bool
	}
	seen := map[state]bool{}
	var found []int
	stack := []state{{src.x + boxW - 1, src.out, 1, 0, false}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[st] || st.y < 0 || st.y >= g.h {
			continue
		}
		seen[st] = true
		if st.x >= nextX-1 && st.dx == 1 {
			if u, ok := next[st.y]; ok && (g.cells[st.y*g.w+st.x]&bitArrow != 0 || g.nodes[u].comp < 0 && st.x >= nextX) {
				if !slices.Contains(found, u) {
					found = append(found, u)
				}
				continue
			}
		}
		c := g.cells[st.y*g.w+st.x]
		join := c&bitJoin != 0
		move := func(dx, dy int, turned bool) {
			stack = append(stack, state{st.x + dx, st.y + dy, dx, dy, turned})
		}
		if st.dx == 1 { // running right
			if c&bitRight != 0 {
				move(1, 0, st.turned)
			}
			if join && !st.turned {
				if c&bitUp != 0 {
					move(0, -1, true)
				}
				if c&bitDown != 0 {
					move(0, 1, true)
				}
			}
			continue
		}
		// running along a channel
		if st.dy < 0 && c&bitUp != 0 || st.dy > 0 && c&bitDown != 0 {
			move(0, st.dy, true)
		}
		if join && c&bitRight != 0 {
			move(1, 0, true)
		}
	}
	slices.Sort(found)
	return found
}

// checkEdges asserts that reading the canvas from every node gives
// exactly the edges drawn: no two edges merge into one another, no
// crossing reads as a junction.
func checkEdges(t *testing.T, name string, g *graphLayout) {
	t.Helper()
	want := map[int][]int{}
	for _, sg := range g.segs {
		want[sg[0]] = append(want[sg[0]], sg[1])
	}
	bad := 0
	for v := range g.nodes {
		w := want[v]
		slices.Sort(w)
		if got := traceGap(g, v); !slices.Equal(got, w) {
			if bad++; bad <= 5 {
				t.Errorf("%s: the lines leaving node %d (component %d, layer %d) reach %v, want %v", name, v, g.nodes[v].comp, g.nodes[v].layer, got, w)
			}
		}
	}
}

func randomDAG(r *rand.Rand, n, maxDeps int) []Component {
	comps := make([]Component, n)
	for i := range comps {
		comps[i] = Component{ID: fmt.Sprintf("A%03d", i), Type: "ShellCommandActivity", Kind: "activity"}
		if i == 0 {
			continue
		}
		for range r.IntN(maxDeps + 1) {
			comps[i].DependsOn = append(comps[i].DependsOn, fmt.Sprintf("A%03d", r.IntN(i)))
		}
	}
	return comps
}

func TestEdgesNeverMerge(t *testing.T) {
	checkEdges(t, "500 components, all edges", layoutGraph(bigSource(500, 0).comps))
	checkEdges(t, "fan-in of 500", layoutGraph(fanInComps(500)))
	checkEdges(t, "48-node DAG", layoutGraph(dag48Comps()))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		comps := randomDAG(r, 3+r.IntN(40), 1+r.IntN(4))
		checkEdges(t, fmt.Sprintf("random DAG %d", i), layoutGraph(comps))
	}
}

// TestCrossingIsNotAJunction: a line crossing another's channel is
// drawn as │ between ─, never as ┼.
func TestCrossingIsNotAJunction(t *testing.T) {
	if got := edgeRune(bitUp | bitDown | bitLeft | bitRight); got != '│' {
		t.Errorf("crossing drawn as %q, want │", got)
	}
	if got := edgeRune(bitUp | bitDown | bitLeft | bitRight | bitJoin); got != '┼' {
		t.Errorf("four-way junction drawn as %q, want ┼", got)
	}
	if got := edgeRune(bitUp | bitLeft | bitJoin); got != '┘' {
		t.Errorf("corner drawn as %q, want ┘", got)
	}
}

// dag48Comps is a 48-node DAG of 6 layers of 8, each node depending on
// two of the layer before (as the tmux test's dag48).
func dag48Comps() []Component {
	var comps []Component
	for l := range 6 {
		for k := range 8 {
			c := Component{ID: fmt.Sprintf("L%dN%d", l, k), Type: "ShellCommandActivity", Kind: "activity"}
			if l > 0 {
				c.DependsOn = []string{fmt.Sprintf("L%dN%d", l-1, k), fmt.Sprintf("L%dN%d", l-1, (k+3)%8)}
			}
			comps = append(comps, c)
		}
	}
	return comps
}
