package definition

import "container/heap"

// Edge is one reference from an object to another: the value of Field on
// From (own or inherited) names To.
type Edge struct {
	From  string // referring object id
	To    string // referenced object id
	Field string // field holding the ref: runsOn, input, schedule, parent, myX, ...
	// Via is the id of the object that wrote the ref: From itself, or the
	// parent/Default it was inherited from.
	Via string
	Pos Pos // position of the ref value
}

// Inherited reports whether the ref came from a parent or Default.
func (e Edge) Inherited() bool { return e.Via != e.From }

// Graph is the reference graph of a definition, built over effective
// fields so that a runsOn or schedule inherited from Default counts as an
// edge of the object that inherits it. Build it once with NewGraph; it does
// not follow later edits of the definition.
type Graph struct {
	d   *Definition
	all []Edge             // every edge once, grouped by source in object order
	out map[string][]Edge  // windows of all by source
	in  map[string][]int32 // indexes into all by target, in object order
}

// NewGraph builds the reference graph of d (resolving inheritance when
// needed). Every ref value becomes an edge, whatever the field's name, so
// user fields (myRef) and fields dpl does not know are included. Refs to
// ids that do not exist are kept as edges to a missing node; Referrers
// finds them, Object(To) returns nil.
func NewGraph(d *Definition) *Graph {
	// Edges are stored once, by source; the by-target index holds int32
	// positions into that array (4 bytes instead of a copy of the edge:
	// on 120,000 objects the copies were ~40 MB). Both are carved from
	// single backing arrays so a graph costs a handful of allocations.
	n := 0
	indeg := make(map[string]int32, len(d.Objects))
	// Not d.byID: objects may have been added since it was built.
	seen := make(map[string]bool, len(d.Objects))
	firsts := make([]*Object, 0, len(d.Objects))
	for _, o := range d.Objects {
		if seen[o.ID] { // duplicate ids: the first object wins, as in Definition.Object
			continue
		}
		seen[o.ID] = true
		firsts = append(firsts, o)
		e := d.Effective(o)
		for i, k := range e.Keys {
			if k == "parent" && e.fields[i].Owner != o.ID {
				continue
			}
			for _, v := range e.fields[i].Values {
				if v.IsRef {
					n++
					indeg[v.Ref]++
				}
			}
		}
	}
	all := make([]Edge, 0, n)
	g := &Graph{d: d, out: make(map[string][]Edge, len(firsts)), in: make(map[string][]int32, len(indeg))}
	for _, o := range firsts {
		start := len(all)
		e := d.Effective(o)
		for i, k := range e.Keys {
			via := e.fields[i].Owner
			if k == "parent" && via != o.ID {
				continue // an ancestor's parent is not this object's parent
			}
			for _, v := range e.fields[i].Values {
				if v.IsRef {
					all = append(all, Edge{From: o.ID, To: v.Ref, Field: k, Via: via, Pos: v.Pos})
				}
			}
		}
		if len(all) > start {
			g.out[o.ID] = all[start:len(all):len(all)]
		}
	}
	// Referrers keep object order: fill each target's window in turn.
	byTarget := make([]int32, len(all))
	off := 0
	for i, ed := range all {
		w, ok := g.in[ed.To]
		if !ok {
			w = byTarget[off : off : off+int(indeg[ed.To])]
			off += int(indeg[ed.To])
		}
		g.in[ed.To] = append(w, int32(i))
	}
	g.all = all
	return g
}

// Edges returns the refs going out of o, in effective-field order.
func (g *Graph) Edges(o *Object) []Edge { return g.out[o.ID] }

// EdgesFrom returns the refs going out of the object with the given id.
func (g *Graph) EdgesFrom(id string) []Edge { return g.out[id] }

// Referrers returns the refs pointing at id, in object order (a new slice).
func (g *Graph) Referrers(id string) []Edge {
	idx := g.in[id]
	if len(idx) == 0 {
		return nil
	}
	edges := make([]Edge, len(idx))
	for k, i := range idx {
		edges[k] = g.all[i]
	}
	return edges
}

// Targets returns the ids o refers to through field (e.g. "input").
func (g *Graph) Targets(id, field string) []string {
	var ids []string
	for _, e := range g.out[id] {
		if e.Field == field {
			ids = append(ids, e.To)
		}
	}
	return ids
}

// Sources returns the ids that refer to id through field.
func (g *Graph) Sources(id, field string) []string {
	var ids []string
	for _, i := range g.in[id] {
		if e := &g.all[i]; e.Field == field {
			ids = append(ids, e.From)
		}
	}
	return ids
}

// Producers returns the activities that list the data node as an output.
func (g *Graph) Producers(node string) []string { return g.Sources(node, "output") }

// Consumers returns the activities that list the data node as an input.
func (g *Graph) Consumers(node string) []string { return g.Sources(node, "input") }

// Upstream returns what must finish before id can run: its dependsOn
// targets, its input data nodes, and (for a data node) the activities that
// produce it. Preconditions, schedules and resources are not part of the
// ordering. Ids are unique and in edge order.
func (g *Graph) Upstream(id string) []string {
	var ids []string
	add := func(s string) {
		for _, x := range ids {
			if x == s {
				return
			}
		}
		ids = append(ids, s)
	}
	for _, e := range g.out[id] {
		if e.Field == "dependsOn" || e.Field == "input" {
			add(e.To)
		}
	}
	for _, i := range g.in[id] {
		if e := &g.all[i]; e.Field == "output" {
			add(e.From)
		}
	}
	return ids
}

// Cycle returns a dependency cycle (ids, first repeated at the end) over
// Upstream, e.g. [A N B A] for activity A reading node N that B writes
// while B depends on A; nil when the graph is acyclic. Only existing
// objects take part.
func (g *Graph) Cycle() []string {
	_, cycle := g.topo()
	return cycle
}

// TopoOrder returns the object ids so that every object comes after its
// Upstream; ties keep file order. ok is false when there is a cycle (the
// order then holds only the objects outside it and their dependents are
// left out).
func (g *Graph) TopoOrder() (order []string, ok bool) {
	order, cycle := g.topo()
	return order, cycle == nil
}

func (g *Graph) topo() ([]string, []string) {
	ids := make([]string, 0, len(g.d.Objects))
	index := make(map[string]int, len(g.d.Objects))
	for _, o := range g.d.Objects {
		if _, dup := index[o.ID]; !dup {
			index[o.ID] = len(ids)
			ids = append(ids, o.ID)
		}
	}
	up := make([][]int, len(ids))
	down := make([][]int, len(ids))
	indeg := make([]int, len(ids))
	link := func(i int, upID string) {
		j, ok := index[upID]
		if !ok {
			return // a missing object; the validator reports the ref
		}
		// Repeated edges count twice in indeg and twice in down, which
		// Kahn's algorithm handles; no need to deduplicate.
		up[i] = append(up[i], j)
		down[j] = append(down[j], i)
		indeg[i]++
	}
	for i, id := range ids {
		for _, e := range g.out[id] {
			if e.Field == "dependsOn" || e.Field == "input" {
				link(i, e.To)
			}
		}
		for _, k := range g.in[id] {
			if e := &g.all[k]; e.Field == "output" {
				link(i, e.From)
			}
		}
	}
	// Kahn's algorithm; taking the smallest ready index (a min-heap) keeps
	// file order among ties. Re-sorting the ready list instead was
	// quadratic on wide definitions (100,000 objects: seconds).
	ready := &intHeap{}
	for i := range ids {
		if indeg[i] == 0 {
			ready.s = append(ready.s, i)
		}
	}
	heap.Init(ready)
	order := make([]string, 0, len(ids))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, ids[i])
		for _, j := range down[i] {
			indeg[j]--
			if indeg[j] == 0 {
				heap.Push(ready, j)
			}
		}
	}
	if len(order) == len(ids) {
		return order, nil
	}
	// Find one cycle among the objects left: walk upstream edges that stay
	// inside the remainder until a node repeats.
	for start := range ids {
		if indeg[start] == 0 {
			continue
		}
		pos := map[int]int{}
		path := []int{}
		cur := start
		for {
			if p, ok := pos[cur]; ok {
				cyc := make([]string, 0, len(path)-p+1)
				// path runs downstream->upstream; report it in run order.
				for k := len(path) - 1; k >= p; k-- {
					cyc = append(cyc, ids[path[k]])
				}
				return order, append(cyc, cyc[0])
			}
			pos[cur] = len(path)
			path = append(path, cur)
			nextUp := -1
			for _, j := range up[cur] {
				if indeg[j] > 0 {
					nextUp = j
					break
				}
			}
			if nextUp < 0 {
				break
			}
			cur = nextUp
		}
	}
	return order, nil
}

// intHeap is a min-heap of object indexes for container/heap.
type intHeap struct{ s []int }

func (h *intHeap) Len() int           { return len(h.s) }
func (h *intHeap) Less(i, j int) bool { return h.s[i] < h.s[j] }
func (h *intHeap) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *intHeap) Push(x any)         { h.s = append(h.s, x.(int)) }
func (h *intHeap) Pop() any {
	x := h.s[len(h.s)-1]
	h.s = h.s[:len(h.s)-1]
	return x
}
