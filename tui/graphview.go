package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/executor"
)

// The graph pane shows a view of the component graph built for reading at
// scale: by default resources and data nodes are left out (an activity's
// resource is a badge on its box, and an activity reading what another
// wrote depends on it directly), and siblings that differ only by a
// number, with the same type and the same neighbours, are one node
// ("500 × Task*") until expanded.

// minSiblings is the size from which identical siblings are collapsed.
const minSiblings = 3

// vnode is a node of the graph view: one component, or a group of
// identical siblings.
type vnode struct {
	comp    int   // component index; -1 for a group
	members []int // the group's components (a single component: itself)
	label   string
	family  string // a group's family ("Task*"); "" for a component
	badge   string // the resource an activity runs on, when resources are hidden
}

// graphView is the view's nodes and their layout.
type graphView struct {
	nodes  []vnode
	layout *graphLayout
	byComp []int // component index → view node, -1 when not shown
	preds  [][]int
	succs  [][]int
}

// buildGraphView builds the view of comps: every component and edge with
// all, else activities and the preconditions they check. expanded names
// the sibling families shown one by one.
func buildGraphView(comps []Component, all bool, expanded map[string]bool) *graphView {
	idx := make(map[string]int, len(comps))
	for i, c := range comps {
		idx[c.ID] = i
	}
	shown := make([]bool, len(comps))
	if !all {
		// Preconditions an activity waits on: its own, and those of the
		// data nodes it reads.
		checked := map[string]bool{}
		n := 0
		for _, c := range comps {
			if c.Kind != "activity" {
				continue
			}
			for _, p := range c.Preconditions {
				checked[p] = true
			}
			for _, in := range c.Inputs {
				if d, ok := idx[in]; ok {
					for _, p := range comps[d].Preconditions {
						checked[p] = true
					}
				}
			}
		}
		for i, c := range comps {
			if c.Kind == "activity" || c.Kind == "precondition" && checked[c.ID] {
				shown[i] = true
				n++
			}
		}
		if n == 0 {
			all = true // nothing but data nodes and resources: show them
		}
	}
	if all {
		for i := range shown {
			shown[i] = true
		}
	}
	// Edges between shown components. Hidden data nodes are contracted:
	// the producer of an input becomes a predecessor.
	producers := map[string][]int{}
	for i, c := range comps {
		for _, o := range c.Outputs {
			producers[o] = append(producers[o], i)
		}
	}
	preds := make([]map[int]bool, len(comps))
	addPred := func(to int, from string) {
		f, ok := idx[from]
		if !ok || f == to {
			return
		}
		if shown[f] {
			if preds[to] == nil {
				preds[to] = map[int]bool{}
			}
			preds[to][f] = true
			return
		}
		if comps[f].Kind == "datanode" {
			for _, id := range comps[f].Preconditions {
				if p, ok := idx[id]; ok && shown[p] {
					if preds[to] == nil {
						preds[to] = map[int]bool{}
					}
					preds[to][p] = true
				}
			}
			for _, p := range producers[from] {
				if p != to && shown[p] {
					if preds[to] == nil {
						preds[to] = map[int]bool{}
					}
					preds[to][p] = true
				}
			}
		}
	}
	for i, c := range comps {
		if !shown[i] {
			continue
		}
		for _, id := range c.Inputs {
			addPred(i, id)
		}
		for _, id := range c.DependsOn {
			addPred(i, id)
		}
		for _, id := range c.Preconditions {
			addPred(i, id)
		}
		if all && c.RunsOn != "" {
			addPred(i, c.RunsOn)
		}
		if all {
			for _, o := range c.Outputs {
				if j, ok := idx[o]; ok && j != i {
					if preds[j] == nil {
						preds[j] = map[int]bool{}
					}
					preds[j][i] = true
				}
			}
		}
	}
	succs := make([]map[int]bool, len(comps))
	for to, ps := range preds {
		for f := range ps {
			if succs[f] == nil {
				succs[f] = map[int]bool{}
			}
			succs[f][to] = true
		}
	}

	// Groups of identical siblings.
	v := &graphView{byComp: make([]int, len(comps))}
	groupOf := map[string]int{}
	keyOf := func(i int) string {
		c := comps[i]
		fam := Family(c.ID)
		if fam == "" || expanded[fam] {
			return ""
		}
		return fam + "\x00" + c.Type + "\x00" + c.RunsOn + "\x00" + setKey(preds[i]) + "\x00" + setKey(succs[i])
	}
	count := map[string]int{}
	for i := range comps {
		if shown[i] {
			if k := keyOf(i); k != "" {
				count[k]++
			}
		}
	}
	for i, c := range comps {
		v.byComp[i] = -1
		if !shown[i] {
			continue
		}
		k := keyOf(i)
		if k != "" && count[k] >= minSiblings {
			if g, ok := groupOf[k]; ok {
				v.nodes[g].members = append(v.nodes[g].members, i)
				v.byComp[i] = g
				continue
			}
			groupOf[k] = len(v.nodes)
			v.byComp[i] = len(v.nodes)
			v.nodes = append(v.nodes, vnode{comp: -1, members: []int{i}, family: Family(c.ID), badge: badgeOf(c, all)})
			continue
		}
		v.byComp[i] = len(v.nodes)
		v.nodes = append(v.nodes, vnode{comp: i, members: []int{i}, label: c.ID, badge: badgeOf(c, all)})
	}
	for g := range v.nodes {
		if n := &v.nodes[g]; n.comp < 0 {
			n.label = fmt.Sprintf("%d × %s", len(n.members), n.family)
		}
	}
	// The view's edges, as components the layout understands.
	vcomps := make([]Component, len(v.nodes))
	v.preds = make([][]int, len(v.nodes))
	v.succs = make([][]int, len(v.nodes))
	seen := map[[2]int]bool{}
	for i := range comps {
		to := v.byComp[i]
		if to < 0 {
			continue
		}
		for f := range preds[i] {
			from := v.byComp[f]
			if from < 0 || from == to || seen[[2]int{from, to}] {
				continue
			}
			seen[[2]int{from, to}] = true
			v.preds[to] = append(v.preds[to], from)
			v.succs[from] = append(v.succs[from], to)
		}
	}
	for g := range v.nodes {
		sort.Ints(v.preds[g])
		sort.Ints(v.succs[g])
		vcomps[g] = Component{ID: fmt.Sprintf("\x00%d", g)}
		for _, p := range v.preds[g] {
			vcomps[g].DependsOn = append(vcomps[g].DependsOn, fmt.Sprintf("\x00%d", p))
		}
	}
	v.layout = layoutGraph(vcomps)
	return v
}

func badgeOf(c Component, all bool) string {
	if all || c.RunsOn == "" {
		return ""
	}
	return c.RunsOn
}

func setKey(s map[int]bool) string {
	keys := make([]int, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%d,", k)
	}
	return b.String()
}

// order is the view's nodes in reading order (layer by layer).
func (v *graphView) order() []int {
	var out []int
	for _, l := range v.layout.layers {
		out = append(out, l...)
	}
	return out
}

// groupCounts are a node's instances counted by status (every instance of
// every member).
func (m *runData) nodeCounts(n *vnode) map[executor.Status]int {
	cnt := map[executor.Status]int{}
	for _, c := range n.members {
		for _, k := range m.compInsts[c] {
			cnt[executor.Status(m.insts[k].Status)]++
		}
	}
	return cnt
}

// worstStatus is what a group's box is coloured by: its most pressing
// member's current status.
func (m *runData) groupStatus(n *vnode) executor.Status {
	best, found := executor.Status(statusNone), false
	for _, c := range n.members {
		if k := m.compCur[c]; k >= 0 {
			st := executor.Status(m.insts[k].Status)
			if !found || urgency(st) > urgency(best) {
				best, found = st, true
			}
		}
	}
	return best
}

// shortCounts is "✓450 ▶3 ✗2": a group's members by status, in a box.
func shortCounts(cnt map[executor.Status]int) string {
	var parts []string
	for _, st := range statusOrder {
		if n := cnt[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s%d", lookOf(st).glyph, n))
		}
	}
	return strings.Join(parts, " ")
}
