package definition

import (
	"reflect"
	"strings"
	"testing"
)

const graphSrc = `{"objects": [
  {"id": "Default", "name": "Default", "schedule": {"ref": "Daily"}, "onFail": {"ref": "Alarm"}},
  {"id": "Daily", "name": "Daily", "type": "Schedule", "period": "1 day"},
  {"id": "Alarm", "name": "Alarm", "type": "SnsAlarm"},
  {"id": "Box", "name": "Box", "type": "Ec2Resource"},
  {"id": "In", "name": "In", "type": "S3DataNode"},
  {"id": "Mid", "name": "Mid", "type": "S3DataNode", "myOwner": {"ref": "Box"}},
  {"id": "Out", "name": "Out", "type": "S3DataNode"},
  {"id": "Load", "name": "Load", "type": "CopyActivity", "runsOn": {"ref": "Box"}, "input": {"ref": "In"}, "output": {"ref": "Mid"}},
  {"id": "Report", "name": "Report", "type": "CopyActivity", "runsOn": {"ref": "Box"}, "input": {"ref": "Mid"}, "output": {"ref": "Out"}},
  {"id": "Notify", "name": "Notify", "type": "ShellCommandActivity", "runsOn": {"ref": "Box"}, "dependsOn": [{"ref": "Report"}, {"ref": "Ghost"}]}
]}`

func mustParse(t *testing.T, src string) *Definition {
	t.Helper()
	d, err := Parse("graph.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve()
	return d
}

func fields(es []Edge) []string {
	var out []string
	for _, e := range es {
		s := e.Field + "->" + e.To
		if e.Inherited() {
			s += "(via " + e.Via + ")"
		}
		out = append(out, s)
	}
	return out
}

func TestGraphEdges(t *testing.T) {
	d := mustParse(t, graphSrc)
	g := NewGraph(d)
	got := fields(g.Edges(d.Object("Load")))
	want := []string{"runsOn->Box", "input->In", "output->Mid", "schedule->Daily(via Default)", "onFail->Alarm(via Default)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Edges(Load) = %v, want %v", got, want)
	}
	// A user field holding a ref is an edge too.
	if got := fields(g.EdgesFrom("Mid")); got[0] != "myOwner->Box" {
		t.Errorf("Edges(Mid) = %v", got)
	}
	var from []string
	for _, e := range g.Referrers("Box") {
		from = append(from, e.From+"."+e.Field)
	}
	if want := []string{"Mid.myOwner", "Load.runsOn", "Report.runsOn", "Notify.runsOn"}; !reflect.DeepEqual(from, want) {
		t.Errorf("Referrers(Box) = %v, want %v", from, want)
	}
	// Refs to missing objects are kept so callers can report them.
	if r := g.Referrers("Ghost"); len(r) != 1 || r[0].From != "Notify" || r[0].Pos.Line != 11 {
		t.Errorf("Referrers(Ghost) = %+v", r)
	}
	if p, c := g.Producers("Mid"), g.Consumers("Mid"); !reflect.DeepEqual(p, []string{"Load"}) || !reflect.DeepEqual(c, []string{"Report"}) {
		t.Errorf("Producers/Consumers(Mid) = %v / %v", p, c)
	}
	if up := g.Upstream("Report"); !reflect.DeepEqual(up, []string{"Mid"}) {
		t.Errorf("Upstream(Report) = %v", up)
	}
	if up := g.Upstream("Mid"); !reflect.DeepEqual(up, []string{"Load"}) {
		t.Errorf("Upstream(Mid) = %v", up)
	}
}

func TestGraphTopoOrder(t *testing.T) {
	d := mustParse(t, graphSrc)
	order, ok := NewGraph(d).TopoOrder()
	if !ok {
		t.Fatal("acyclic graph reported a cycle")
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	if len(order) != len(d.Objects) {
		t.Fatalf("order has %d ids, want %d", len(order), len(d.Objects))
	}
	for _, pair := range [][2]string{{"In", "Load"}, {"Load", "Mid"}, {"Mid", "Report"}, {"Report", "Out"}, {"Report", "Notify"}} {
		if pos[pair[0]] > pos[pair[1]] {
			t.Errorf("%s comes after %s in %v", pair[0], pair[1], order)
		}
	}
	if c := NewGraph(d).Cycle(); c != nil {
		t.Errorf("Cycle() = %v on an acyclic graph", c)
	}
}

func TestGraphCycle(t *testing.T) {
	src := strings.Replace(graphSrc, `"input": {"ref": "In"}`, `"input": {"ref": "Out"}`, 1)
	d := mustParse(t, src)
	g := NewGraph(d)
	if _, ok := g.TopoOrder(); ok {
		t.Fatal("cycle Load -> Mid -> Report -> Out -> Load not detected")
	}
	c := g.Cycle()
	if len(c) != 5 || c[0] != c[len(c)-1] {
		t.Fatalf("Cycle() = %v", c)
	}
	members := map[string]bool{}
	for _, id := range c {
		members[id] = true
	}
	for _, id := range []string{"Load", "Mid", "Report", "Out"} {
		if !members[id] {
			t.Errorf("cycle %v misses %s", c, id)
		}
	}
	self := mustParse(t, `{"objects": [{"id": "A", "name": "A", "type": "ShellCommandActivity", "dependsOn": {"ref": "A"}}]}`)
	if c := NewGraph(self).Cycle(); !reflect.DeepEqual(c, []string{"A", "A"}) {
		t.Errorf("self dependency: Cycle() = %v", c)
	}
}
