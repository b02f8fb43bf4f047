package tui

import (
	"fmt"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// bigSource is a synthetic pipeline: chains of data node → activity →
// data node with a shared resource, comps components in all, and
// periods instances of each.
func bigSource(comps, periods int) *fakeSource {
	f := &fakeSource{atts: map[string][]runstore.Attempt{}}
	statuses := []executor.Status{executor.Finished, executor.Running, executor.WaitingOnDependencies, executor.Failed, executor.CascadeFailed}
	f.comps = append(f.comps, Component{ID: "Cluster", Type: "EmrCluster", Kind: "resource"})
	for i := 1; len(f.comps) < comps; i++ {
		c := Component{ID: fmt.Sprintf("Step%03d", i), Type: "ShellCommandActivity", Kind: "activity", RunsOn: "Cluster"}
		if i > 1 {
			c.Inputs = []string{fmt.Sprintf("Data%03d", i-1)}
		}
		if i > 3 {
			c.DependsOn = []string{fmt.Sprintf("Step%03d", i-3)}
		}
		c.Outputs = []string{fmt.Sprintf("Data%03d", i)}
		f.comps = append(f.comps, c, Component{ID: fmt.Sprintf("Data%03d", i), Type: "S3DataNode", Kind: "datanode"})
	}
	f.comps = f.comps[:comps]
	for ci, c := range f.comps {
		for p := range periods {
			start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(p) * time.Hour)
			f.insts = append(f.insts, runstore.Instance{ID: fmt.Sprintf("@%s_%d", c.ID, p), Component: c.ID, Kind: c.Kind,
				ScheduledStart: start, ScheduledEnd: start.Add(time.Hour), RunnableAt: start, Status: string(statuses[(ci+p)%len(statuses)])})
		}
	}
	return f
}

func benchView(b *testing.B, m *Model) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkGraphView500 renders one frame of a 500-component graph
// scrolled into its middle (the layout is computed once, outside).
func BenchmarkGraphView500(b *testing.B) {
	m := New(Options{Source: bigSource(500, 3), Now: fixedNow, Tick: -1})
	m.width, m.height = 140, 45
	m.resize()
	m.graph.sel = m.graph.order[len(m.graph.order)/2]
	m.graph.scrollGraphToSel(&m.shared)
	benchView(b, m)
}

// BenchmarkGraphView500Boxes is the same frame with the boxes layout
// (what z shows) rather than the compact list chosen for that size.
func BenchmarkGraphView500Boxes(b *testing.B) {
	m := New(Options{Source: bigSource(500, 3), Now: fixedNow, Tick: -1})
	m.width, m.height = 140, 45
	m.resize()
	m.graph.compact, m.graph.compactChosen = false, true
	m.graph.sel = m.graph.order[len(m.graph.order)/2]
	m.graph.scrollGraphToSel(&m.shared)
	benchView(b, m)
}

// BenchmarkGraphViewBuild500AllEdges is the graph view of 500 components with
// every edge (grouping, contraction and layout): the cost of e, x and of
// opening the UI.
func BenchmarkGraphViewBuild500AllEdges(b *testing.B) {
	comps := bigSource(500, 0).comps
	b.ReportAllocs()
	for b.Loop() {
		_ = buildGraphView(comps, true, map[string]bool{})
	}
}

// BenchmarkGridView2000 renders the grid of 2,000 instances (20
// components × 100 periods).
func BenchmarkGridView2000(b *testing.B) {
	m := New(Options{Source: bigSource(20, 100), Now: fixedNow, Tick: -1})
	m.width, m.height = 140, 45
	m.setPane(viewGrid)
	m.resize()
	m.grid.row, m.grid.col = 10, 50
	m.grid.clamp(&m.shared)
	benchView(b, m)
}

// BenchmarkGridView100x100 renders one frame of 100 components × 100
// periods.
func BenchmarkGridView100x100(b *testing.B) {
	m := New(Options{Source: bigSource(100, 100), Now: fixedNow, Tick: -1})
	m.width, m.height = 140, 45
	m.setPane(viewGrid)
	m.resize()
	m.grid.row, m.grid.col = 50, 50
	m.grid.clamp(&m.shared)
	benchView(b, m)
}

// BenchmarkLayout500 is the graph view the UI opens with for 500
// components: resources as badges, data nodes contracted, laid out.
func BenchmarkLayout500(b *testing.B) {
	comps := bigSource(500, 0).comps
	b.ReportAllocs()
	for b.Loop() {
		_ = buildGraphView(comps, false, map[string]bool{})
	}
}

// BenchmarkLayout500AllEdges lays out the same 500 components with every
// edge (e): the shared resource's edges to every activity cross up to
// 250 layers.
func BenchmarkLayout500AllEdges(b *testing.B) {
	comps := bigSource(500, 0).comps
	b.ReportAllocs()
	for b.Loop() {
		_ = layoutGraph(comps)
	}
}

// BenchmarkLayoutFanIn500 lays out 500 activities into one join, siblings
// expanded (the collapsed view is a handful of nodes).
func BenchmarkLayoutFanIn500(b *testing.B) {
	comps := fanInComps(500)
	b.ReportAllocs()
	for b.Loop() {
		_ = buildGraphView(comps, false, map[string]bool{"Task*": true})
	}
}

func fanInComps(n int) []Component {
	join := Component{ID: "Join", Type: "ShellCommandActivity", Kind: "activity"}
	var comps []Component
	for i := range n {
		id := fmt.Sprintf("Task%03d", i)
		comps = append(comps, Component{ID: id, Type: "ShellCommandActivity", Kind: "activity"})
		join.DependsOn = append(join.DependsOn, id)
	}
	return append(comps, join)
}

// BenchmarkReload100x100 is the cost of taking a snapshot after events.
func BenchmarkReload100x100(b *testing.B) {
	m := New(Options{Source: bigSource(100, 100), Now: fixedNow, Tick: -1})
	b.ReportAllocs()
	for b.Loop() {
		m.reload()
	}
}

func TestLayoutBig(t *testing.T) {
	m := New(Options{Source: bigSource(500, 1), Now: fixedNow, Tick: -1})
	g := layoutGraph(m.comps)
	// Every edge goes left to right and boxes never overlap.
	type cell struct{ x, y int }
	owner := map[cell]int{}
	for i := range m.comps {
		v := g.nodes[i]
		for dy := range boxH {
			for dx := range boxW {
				c := cell{v.x + dx, v.y + dy}
				if o, ok := owner[c]; ok {
					t.Fatalf("boxes of %s and %s overlap at %v", m.comps[o].ID, m.comps[i].ID, c)
				}
				owner[c] = i
			}
		}
	}
	for i, c := range m.comps {
		for _, in := range c.Inputs {
			if g.nodes[m.compIdx[in]].layer >= g.nodes[i].layer {
				t.Errorf("%s is not left of its consumer %s", in, c.ID)
			}
		}
	}
}

func TestLayoutCycle(t *testing.T) {
	// A dependsOn cycle (the validator reports it) must still lay out.
	g := layoutGraph([]Component{
		{ID: "A", Kind: "activity", DependsOn: []string{"B"}},
		{ID: "B", Kind: "activity", DependsOn: []string{"A"}},
		{ID: "C", Kind: "activity", DependsOn: []string{"B", "Missing"}},
	})
	if len(g.layers) == 0 || g.nodes[2].layer <= g.nodes[1].layer {
		t.Errorf("layers %v", g.layers)
	}
}
