package convert

import (
	"fmt"
	"sort"

	"github.com/dpl-dev/dpl/definition"
)

// Canonical layout (dpl fmt). It works on the document itself, not on the
// model, so every value survives untouched: unknown keys, secrets,
// one-element lists, numbers written as numbers, repeated keys.
//
//   - Objects: Default first, then the others sorted by id (code-point
//     order); members without a string id keep their relative order at
//     the end. Sorting rather than keeping file order makes a definition
//     exported from the service twice format the same way.
//   - File format: top level objects, parameters, values, then any other
//     key as written. In an object id, name, type, then the other keys
//     sorted. Parameters sorted by id with id, type, then the other keys
//     sorted; values sorted by parameter id. List elements keep their
//     order (it is meaningful).
//   - API format: pipelineObjects, parameterObjects, parameterValues;
//     objects id, name, fields with fields sorted by key as the AWS CLI
//     sends them (so `dpl convert --to api` output is already formatted);
//     the values of a repeated key keep their order.
//   - CloudFormation: only the pipeline resource's PipelineObjects,
//     ParameterObjects and ParameterValues are reordered (as in the API
//     format); the rest of the template keeps its order.
//   - JSON is written with 2-space indentation, {"ref": "Id"} on one
//     line, and a final newline; YAML
//     keeps its comments and styles and is re-indented by 2.

// FormatSource returns the canonical layout of a document read with Read,
// in the document's own format and syntax (JSON or YAML).
func FormatSource(s *Source) ([]byte, error) {
	if s.Raw == nil {
		return nil, fmt.Errorf("%s: cannot re-read the document", s.Def.File)
	}
	canonicalize(s.Def.Format, s.Raw)
	if s.YAML {
		return s.Raw.MarshalYAML()
	}
	return s.Raw.MarshalCanonical(), nil
}

// Format reads data and returns its canonical layout, after checking that
// the result still means exactly the same definition.
func Format(file string, data []byte) ([]byte, error) {
	s, err := Read(file, data)
	if err != nil {
		return nil, err
	}
	if s.Def.Format == definition.FormatFile && s.Raw.Get("objects") == nil {
		return nil, fmt.Errorf("%s: not a pipeline definition (no objects, pipelineObjects or AWS::DataPipeline::Pipeline resource)", file)
	}
	before := s.Def
	out, err := FormatSource(s)
	if err != nil {
		return nil, err
	}
	after, err := Read(file, out)
	if err != nil {
		return nil, fmt.Errorf("%s: formatted output does not parse (a dpl bug): %w", file, err)
	}
	if r := Diff(before, after.Def, DiffOptions{}); !r.Equal() {
		return nil, fmt.Errorf("%s: formatting would change the definition (a dpl bug):\n%s", file, r.Text())
	}
	return out, nil
}

func canonicalize(f definition.Format, root *Node) {
	switch f {
	case definition.FormatFile:
		orderMembers(root, []string{"objects", "parameters", "values"}, false)
		if objs := root.Get("objects"); objs != nil && objs.Kind == Array {
			sortByID(objs, "id")
			for _, o := range objs.Elems {
				orderMembers(o, []string{"id", "name", "type"}, true)
			}
		}
		if ps := root.Get("parameters"); ps != nil && ps.Kind == Array {
			sortByID(ps, "id")
			for _, p := range ps.Elems {
				orderMembers(p, []string{"id", "type"}, true)
			}
		}
		if vs := root.Get("values"); vs != nil && vs.Kind == Object {
			orderMembers(vs, nil, true)
		}
	case definition.FormatAPI:
		orderMembers(root, []string{"pipelineObjects", "objects", "parameterObjects", "parameters", "parameterValues", "values"}, false)
		for _, k := range []string{"pipelineObjects", "objects"} {
			canonicalAPIObjects(root.Get(k), apiNames)
		}
		for _, k := range []string{"parameterObjects", "parameters"} {
			canonicalAPIParams(root.Get(k), apiNames)
		}
		canonicalAPIValues(root.Get("parameterValues"), apiNames)
		if vs := root.Get("values"); vs != nil && vs.Kind == Object {
			orderMembers(vs, nil, true)
		}
	case definition.FormatCloudFormation:
		_, res := cfnPipelineResource(root)
		props := res.Get("Properties")
		canonicalAPIObjects(props.Get("PipelineObjects"), cfnNames)
		canonicalAPIParams(props.Get("ParameterObjects"), cfnNames)
		canonicalAPIValues(props.Get("ParameterValues"), cfnNames)
	}
}

// names spells the API members in one of the two shapes.
type names struct{ id, name, fields, attributes, key, str, ref string }

var (
	apiNames = names{"id", "name", "fields", "attributes", "key", "stringValue", "refValue"}
	cfnNames = names{"Id", "Name", "Fields", "Attributes", "Key", "StringValue", "RefValue"}
)

func canonicalAPIObjects(objs *Node, n names) {
	if objs == nil || objs.Kind != Array {
		return
	}
	sortByID(objs, n.id)
	for _, o := range objs.Elems {
		orderMembers(o, []string{n.id, n.name, n.fields}, true)
		canonicalKeyValues(o.Get(n.fields), n)
	}
}

func canonicalAPIParams(ps *Node, n names) {
	if ps == nil || ps.Kind != Array {
		return
	}
	sortByID(ps, n.id)
	for _, p := range ps.Elems {
		orderMembers(p, []string{n.id, n.attributes}, true)
		canonicalKeyValues(p.Get(n.attributes), n)
	}
}

func canonicalAPIValues(vs *Node, n names) {
	if vs == nil || vs.Kind != Array {
		return
	}
	// Stable: the values of an array parameter keep their order.
	sort.SliceStable(vs.Elems, func(i, j int) bool { return strMember(vs.Elems[i], n.id) < strMember(vs.Elems[j], n.id) })
	for _, v := range vs.Elems {
		orderMembers(v, []string{n.id, n.str}, true)
	}
}

// canonicalKeyValues sorts a fields/attributes list by key, stably so the
// values of a repeated key keep their order, and each entry's members as
// key, stringValue, refValue.
func canonicalKeyValues(list *Node, n names) {
	if list == nil || list.Kind != Array {
		return
	}
	sort.SliceStable(list.Elems, func(i, j int) bool { return strMember(list.Elems[i], n.key) < strMember(list.Elems[j], n.key) })
	for _, e := range list.Elems {
		orderMembers(e, []string{n.key, n.str, n.ref}, true)
	}
}

// sortByID orders an array of objects: Default first, then by id; elements
// without a string id go last in their original order.
func sortByID(arr *Node, idKey string) {
	rank := func(n *Node) (int, string) {
		id := n.Get(idKey)
		switch {
		case id == nil || id.Kind != String:
			return 2, ""
		case id.Str == definition.DefaultID:
			return 0, ""
		}
		return 1, id.Str
	}
	sort.SliceStable(arr.Elems, func(i, j int) bool {
		ri, si := rank(arr.Elems[i])
		rj, sj := rank(arr.Elems[j])
		if ri != rj {
			return ri < rj
		}
		return si < sj
	})
}

// orderMembers puts the first keys in the given order, then the others:
// sorted when sortRest, else as written. Repeated keys keep their order.
func orderMembers(n *Node, first []string, sortRest bool) {
	if n == nil || n.Kind != Object {
		return
	}
	pos := make(map[string]int, len(first))
	for i, k := range first {
		pos[k] = i
	}
	rank := func(k string) int {
		if p, ok := pos[k]; ok {
			return p
		}
		return len(first)
	}
	sort.SliceStable(n.Members, func(i, j int) bool {
		a, b := n.Members[i].Key, n.Members[j].Key
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra < rb
		}
		return sortRest && ra == len(first) && a < b
	})
}

func strMember(n *Node, key string) string {
	if v := n.Get(key); v != nil && v.Kind == String {
		return v.Str
	}
	return ""
}
