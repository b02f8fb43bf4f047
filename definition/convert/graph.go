package convert

import (
	"fmt"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// Family groups object types for drawing.
type Family string

const (
	FamilyDataNode     Family = "datanode"
	FamilyActivity     Family = "activity"
	FamilyResource     Family = "resource"
	FamilyPrecondition Family = "precondition"
	FamilyDatabase     Family = "database"
	FamilyDataFormat   Family = "dataformat"
	FamilyAction       Family = "action"
	FamilySchedule     Family = "schedule"
	FamilyOther        Family = "other"   // Default, templates, configurations, unknown types
	FamilyMissing      Family = "missing" // referenced but not defined
)

var familyByType = map[string]Family{
	"Ec2Resource": FamilyResource, "EmrCluster": FamilyResource, "HttpProxy": FamilyResource,
	"Exists": FamilyPrecondition, "S3KeyExists": FamilyPrecondition, "S3PrefixNotEmpty": FamilyPrecondition,
	"DynamoDBDataExists": FamilyPrecondition, "DynamoDBTableExists": FamilyPrecondition,
	"ShellCommandPrecondition": FamilyPrecondition, "RdsSqlPrecondition": FamilyPrecondition,
	"CSV": FamilyDataFormat, "TSV": FamilyDataFormat, "Custom": FamilyDataFormat, "RegEx": FamilyDataFormat,
	"DynamoDBDataFormat": FamilyDataFormat, "DynamoDBExportDataFormat": FamilyDataFormat,
	"SnsAlarm": FamilyAction, "Terminate": FamilyAction,
	"Schedule": FamilySchedule,
}

// TypeFamily classifies an object type name.
func TypeFamily(typ string) Family {
	if f, ok := familyByType[typ]; ok {
		return f
	}
	switch {
	case strings.HasSuffix(typ, "DataNode"):
		return FamilyDataNode
	case strings.HasSuffix(typ, "Activity"):
		return FamilyActivity
	case strings.HasSuffix(typ, "Database"):
		return FamilyDatabase
	}
	return FamilyOther
}

// GraphNode is one drawn object.
type GraphNode struct {
	ID     string
	Type   string // effective type ("" for Default and typeless templates)
	Family Family
}

// GraphEdge is one reference, labelled by the field that holds it.
type GraphEdge struct {
	From, To, Field string
}

// ComponentGraph is the drawable graph of a definition: its objects in
// definition order (then ids referenced but missing), and every ref an
// object writes itself (inherited refs are drawn once, from the object
// that writes them, e.g. Default's schedule).
type ComponentGraph struct {
	Nodes []GraphNode
	Edges []GraphEdge
}

// BuildGraph collects the component graph of d.
func BuildGraph(d *definition.Definition) *ComponentGraph {
	d.Resolve()
	g := &ComponentGraph{}
	known := map[string]bool{}
	for _, o := range d.Objects {
		if known[o.ID] {
			continue
		}
		known[o.ID] = true
		typ := d.Effective(o).Type
		g.Nodes = append(g.Nodes, GraphNode{ID: o.ID, Type: typ, Family: TypeFamily(typ)})
	}
	seen := map[string]bool{}
	for _, o := range d.Objects {
		if seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		for _, f := range o.Fields {
			for _, v := range f.Values {
				if !v.IsRef {
					continue
				}
				g.Edges = append(g.Edges, GraphEdge{From: o.ID, To: v.Ref, Field: f.Key})
				if !known[v.Ref] {
					known[v.Ref] = true
					g.Nodes = append(g.Nodes, GraphNode{ID: v.Ref, Family: FamilyMissing})
				}
			}
		}
	}
	return g
}

// style is how a family is drawn in each syntax.
type style struct {
	dotShape, dotStyle, fill, stroke string
	mmOpen, mmClose                  string
}

var styles = map[Family]style{
	FamilyDataNode:     {"cylinder", "filled", "#dbeafe", "#1d4ed8", "[(", ")]"},
	FamilyActivity:     {"box", "rounded,filled", "#dcfce7", "#15803d", "(", ")"},
	FamilyResource:     {"box3d", "filled", "#fef3c7", "#b45309", "[[", "]]"},
	FamilyPrecondition: {"diamond", "filled", "#fce7f3", "#be185d", "{", "}"},
	FamilyDatabase:     {"cylinder", "filled", "#e0e7ff", "#4338ca", "[(", ")]"},
	FamilyDataFormat:   {"note", "filled", "#f3f4f6", "#4b5563", ">", "]"},
	FamilyAction:       {"octagon", "filled", "#fee2e2", "#b91c1c", "{{", "}}"},
	FamilySchedule:     {"ellipse", "filled", "#ede9fe", "#6d28d9", "([", "])"},
	FamilyOther:        {"box", "dashed", "#ffffff", "#6b7280", "[", "]"},
	FamilyMissing:      {"box", "dashed,bold", "#ffffff", "#dc2626", "[", "]"},
}

var familyOrder = []Family{FamilyDataNode, FamilyActivity, FamilyResource, FamilyPrecondition, FamilyDatabase,
	FamilyDataFormat, FamilyAction, FamilySchedule, FamilyOther, FamilyMissing}

func (n GraphNode) labelLines() []string {
	switch {
	case n.Family == FamilyMissing:
		return []string{n.ID, "(missing)"}
	case n.Type == "":
		return []string{n.ID}
	}
	return []string{n.ID, n.Type}
}

// DOT renders the graph in Graphviz syntax.
func (g *ComponentGraph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph pipeline {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, n := range g.Nodes {
		s := styles[n.Family]
		fmt.Fprintf(&b, "  %s [label=%s, shape=%s, style=%q, fillcolor=%q, color=%q];\n",
			dotID(n.ID), dotID(strings.Join(n.labelLines(), "\n")), s.dotShape, s.dotStyle, s.fill, s.stroke)
	}
	for _, e := range g.Edges {
		attrs := "label=" + dotID(e.Field)
		if e.Field == "parent" {
			attrs += ", style=dashed, arrowhead=empty"
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotID(e.From), dotID(e.To), attrs)
	}
	b.WriteString("}\n")
	return b.String()
}

// dotID quotes s as a DOT string; newlines become centred line breaks.
func dotID(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

// Mermaid renders the graph as a Mermaid flowchart. Node ids are n0, n1,
// ... (object ids may hold any character); labels carry the real ids.
func (g *ComponentGraph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	ids := make(map[string]string, len(g.Nodes))
	byFamily := map[Family][]string{}
	for i, n := range g.Nodes {
		id := fmt.Sprintf("n%d", i)
		ids[n.ID] = id
		byFamily[n.Family] = append(byFamily[n.Family], id)
		s := styles[n.Family]
		lines := n.labelLines()
		for j := range lines {
			lines[j] = mermaidText(lines[j])
		}
		fmt.Fprintf(&b, "  %s%s\"%s\"%s\n", id, s.mmOpen, strings.Join(lines, "<br/>"), s.mmClose)
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Field == "parent" {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", ids[e.From], arrow, mermaidText(e.Field), ids[e.To])
	}
	for _, f := range familyOrder {
		if len(byFamily[f]) == 0 {
			continue
		}
		s := styles[f]
		dash := ""
		if strings.Contains(s.dotStyle, "dashed") {
			dash = ",stroke-dasharray:4 3"
		}
		fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:%s%s\n", f, s.fill, s.stroke, dash)
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(byFamily[f], ","), f)
	}
	return b.String()
}

// mermaidText escapes text for a quoted Mermaid label.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ")
	return r.Replace(s)
}
