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
// edge of the object that inherits it. Build it once with NewGraph, after
// the last edit of the definition: edges point into its fields.
type Graph struct {
	d     *Definition
	ids   []string         // the first object of each id, in file order
	index map[string]int32 // id -> position in ids
	// edges holds every edge once, grouped by source in object order;
	// those of ids[i] are edges[outEnd[i-1]:outEnd[i]].
	edges  []edgeRef
	outEnd []int32
	in     map[string][]int32 // positions in edges, by target, in object order
}

// edgeRef is an Edge as 16 bytes: the field holding the ref (own or
// inherited, so Owner is Via and Key is Field), the value's index in it
// and the source object. A 120,000-object definition has ~430,000 edges
// (Default's schedule and onFail count once per inheriting object); as
// Edge values, stored by source and by target, they were ~80 MB.
type edgeRef struct {
	field *Field
	value int32
	from  int32
}

func (g *Graph) edge(r edgeRef) Edge {
	v := &r.field.Values[r.value]
	return Edge{From: g.ids[r.from], To: v.Ref, Field: r.field.Key, Via: r.field.Owner, Pos: v.Pos}
}

// NewGraph builds the reference graph of d (resolving inheritance when
// needed). Every ref value becomes an edge, whatever the field's name, so
// user fields (myRef) and fields dpl does not know are included. Refs to
// ids that do not exist are kept as edges to a missing node; Referrers
// finds them, Object(To) returns nil.
func NewGraph(d *Definition) *Graph {
	// Not d.byID: objects may have been added since it was built.
	g := &Graph{d: d, index: make(map[string]int32, len(d.Objects))}
	var firsts []*Object
	for _, o := range d.Objects {
		if _, dup := g.index[o.ID]; dup { // duplicate ids: the first object wins, as in Definition.Object
			continue
		}
		g.index[o.ID] = int32(len(g.ids))
		g.ids = append(g.ids, o.ID)
		firsts = append(firsts, o)
	}
	n := 0
	indeg := make(map[string]int32, len(firsts))
	refs := func(o *Object, each func(f *Field, vi int)) {
		e := d.Effective(o)
		for _, f := range e.fields {
			if f.Key == "parent" && f.Owner != o.ID {
				continue // an ancestor's parent is not this object's parent
			}
			for vi := range f.Values {
				if f.Values[vi].IsRef {
					each(f, vi)
				}
			}
		}
	}
	for _, o := range firsts {
		refs(o, func(f *Field, vi int) {
			n++
			indeg[f.Values[vi].Ref]++
		})
	}
	g.edges = make([]edgeRef, 0, n)
	g.outEnd = make([]int32, len(firsts))
	for i, o := range firsts {
		refs(o, func(f *Field, vi int) {
			g.edges = append(g.edges, edgeRef{field: f, value: int32(vi), from: int32(i)})
		})
		g.outEnd[i] = int32(len(g.edges))
	}
	// Referrers keep object order: fill each target's window in turn.
	g.in = make(map[string][]int32, len(indeg))
	byTarget := make([]int32, len(g.edges))
	off := 0
	for i, r := range g.edges {
		to := r.field.Values[r.value].Ref
		w, ok := g.in[to]
		if !ok {
			w = byTarget[off : off : off+int(indeg[to])]
			off += int(indeg[to])
		}
		g.in[to] = append(w, int32(i))
	}
	return g
}

// out returns the edges going out of the object with the given id.
func (g *Graph) out(id string) []edgeRef {
	i, ok := g.index[id]
	if !ok {
		return nil
	}
	lo := int32(0)
	if i > 0 {
		lo = g.outEnd[i-1]
	}
	return g.edges[lo:g.outEnd[i]]
}

// Edges returns the refs going out of o, in effective-field order.
func (g *Graph) Edges(o *Object) []Edge { return g.EdgesFrom(o.ID) }

// EdgesFrom returns the refs going out of the object with the given id
// (a new slice).
func (g *Graph) EdgesFrom(id string) []Edge {
	refs := g.out(id)
	if len(refs) == 0 {
		return nil
	}
	edges := make([]Edge, len(refs))
	for k, r := range refs {
		edges[k] = g.edge(r)
	}
	return edges
}

// Referrers returns the refs pointing at id, in object order (a new slice).
func (g *Graph) Referrers(id string) []Edge {
	idx := g.in[id]
	if len(idx) == 0 {
		return nil
	}
	edges := make([]Edge, len(idx))
	for k, i := range idx {
		edges[k] = g.edge(g.edges[i])
	}
	return edges
}

// Targets returns the ids o refers to through field (e.g. "input").
func (g *Graph) Targets(id, field string) []string {
	var ids []string
	for _, r := range g.out(id) {
		if r.field.Key == field {
			ids = append(ids, r.field.Values[r.value].Ref)
		}
	}
	return ids
}

// Sources returns the ids that refer to id through field.
func (g *Graph) Sources(id, field string) []string {
	var ids []string
	for _, i := range g.in[id] {
		if r := g.edges[i]; r.field.Key == field {
			ids = append(ids, g.ids[r.from])
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
	for _, r := range g.out(id) {
		if k := r.field.Key; k == "dependsOn" || k == "input" {
			add(r.field.Values[r.value].Ref)
		}
	}
	for _, i := range g.in[id] {
		if r := g.edges[i]; r.field.Key == "output" {
			add(g.ids[r.from])
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
	ids, index := g.ids, g.index
	up := make([][]int, len(ids))
	down := make([][]int, len(ids))
	indeg := make([]int, len(ids))
	link := func(i int, upID string) {
		j32, ok := index[upID]
		if !ok {
			return // a missing object; the validator reports the ref
		}
		j := int(j32)
		// Repeated edges count twice in indeg and twice in down, which
		// Kahn's algorithm handles; no need to deduplicate.
		up[i] = append(up[i], j)
		down[j] = append(down[j], i)
		indeg[i]++
	}
	for i, id := range ids {
		for _, r := range g.out(id) {
			if k := r.field.Key; k == "dependsOn" || k == "input" {
				link(i, r.field.Values[r.value].Ref)
			}
		}
		for _, k := range g.in[id] {
			if r := g.edges[k]; r.field.Key == "output" {
				link(i, g.ids[r.from])
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
