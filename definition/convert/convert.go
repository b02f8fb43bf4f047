package convert

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// ErrLossy is returned (wrapped) when a definition has reader errors that
// dropped or reinterpreted values, so writing it out would not say what the
// source said.
var ErrLossy = errors.New("definition has errors; converting it would lose or change values")

// CheckLossless returns an error listing the reader's error diagnostics
// (missing ids, non-string values, malformed refs, ...), or nil.
func CheckLossless(d *definition.Definition) error {
	var msgs []string
	for _, dg := range d.Diagnostics {
		if dg.Severity == definition.SeverityError {
			msgs = append(msgs, dg.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrLossy, strings.Join(msgs, "\n  "))
}

// ToAPI renders d as the AWS CLI sends it to PutPipelineDefinition:
// objects in definition order, name defaulting to id, fields sorted by key
// (code-point order, as Python sorts), a list becoming one field per value
// in order, refs as refValue. parameterObjects and parameterValues are left
// out when the definition has none.
func ToAPI(d *definition.Definition, opt Options) *Node {
	root := Obj().Set("pipelineObjects", wireObjects(d, apiNames))
	if len(d.Parameters) > 0 || opt.Parameters {
		root.Set("parameterObjects", wireParameters(d, apiNames))
	}
	if len(d.Values) > 0 || opt.Values {
		root.Set("parameterValues", wireValues(d, apiNames))
	}
	return root
}

// wireObjects renders the objects as PipelineObjects: fields sorted by key,
// a list becoming one field per value.
func wireObjects(d *definition.Definition, n names) *Node {
	objs := Arr()
	for _, o := range d.Objects {
		fields := Arr()
		for _, f := range sortedFields(o.Fields) {
			for _, v := range f.Values {
				fields.Elems = append(fields.Elems, apiField(n.key, n.str, n.ref, f.Key, v))
			}
		}
		objs.Elems = append(objs.Elems, Obj().Set(n.id, Str(o.ID)).Set(n.name, Str(o.Name)).Set(n.fields, fields))
	}
	return objs
}

func wireParameters(d *definition.Definition, n names) *Node {
	ps := Arr()
	for _, p := range d.Parameters {
		attrs := Arr()
		for _, a := range sortedFields(p.Attrs) {
			for _, v := range a.Values {
				attrs.Elems = append(attrs.Elems, apiField(n.key, n.str, n.ref, a.Key, v))
			}
		}
		ps.Elems = append(ps.Elems, Obj().Set(n.id, Str(p.ID)).Set(n.attributes, attrs))
	}
	return ps
}

func wireValues(d *definition.Definition, n names) *Node {
	vs := Arr()
	for _, pv := range d.Values {
		for _, v := range pv.Values {
			vs.Elems = append(vs.Elems, Obj().Set(n.id, Str(pv.ID)).Set(n.str, Str(v.Str)))
		}
	}
	return vs
}

// ToFile renders d in the CLI file format the way `aws datapipeline
// get-pipeline-definition` prints it: id and name first (name whenever the
// source had one, which the API always does), then fields in model order;
// a field with one value is a scalar unless the source wrote a list, a
// repeated API key becomes a list. Parameters and values likewise.
func ToFile(d *definition.Definition, opt Options) *Node {
	root := Obj()
	objs := Arr()
	for _, o := range d.Objects {
		n := Obj().Set("id", Str(o.ID))
		if o.HasName {
			n.Set("name", Str(o.Name))
		}
		for _, f := range o.Fields {
			addFileField(n, f.Key, f.Values, f.List)
		}
		objs.Elems = append(objs.Elems, n)
	}
	root.Set("objects", objs)
	if len(d.Parameters) > 0 || opt.Parameters {
		ps := Arr()
		for _, p := range d.Parameters {
			n := Obj().Set("id", Str(p.ID))
			for _, a := range p.Attrs {
				addFileField(n, a.Key, a.Values, a.List)
			}
			ps.Elems = append(ps.Elems, n)
		}
		root.Set("parameters", ps)
	}
	if len(d.Values) > 0 || opt.Values {
		vs := Obj()
		for _, pv := range d.Values {
			addFileField(vs, pv.ID, pv.Values, pv.List)
		}
		root.Set("values", vs)
	}
	return root
}

// addFileField writes key: value(s) into n. A key already present (an API
// field literally named "id" or "name") is folded into a list the way the
// CLI's reverse translation does, so no JSON key is written twice.
func addFileField(n *Node, key string, vals []definition.Value, list bool) {
	if prev := n.Get(key); prev != nil {
		if prev.Kind != Array {
			cp := *prev
			*prev = *Arr(&cp)
		}
		for _, v := range vals {
			prev.Elems = append(prev.Elems, fileValue(v))
		}
		return
	}
	if len(vals) == 1 && !list {
		n.Set(key, fileValue(vals[0]))
		return
	}
	a := Arr()
	for _, v := range vals {
		a.Elems = append(a.Elems, fileValue(v))
	}
	n.Set(key, a)
}

func fileValue(v definition.Value) *Node {
	if v.IsRef {
		return Obj().Set("ref", Str(v.Ref))
	}
	return Str(v.Str)
}

func apiField(keyName, strName, refName, key string, v definition.Value) *Node {
	n := Obj().Set(keyName, Str(key))
	if v.IsRef {
		return n.Set(refName, Str(v.Ref))
	}
	return n.Set(strName, Str(v.Str))
}

// sortedFields returns fields ordered by key in code-point order, which is
// Python's str ordering; Go compares strings bytewise in UTF-8, which
// orders code points the same way.
func sortedFields(fs []*definition.Field) []*definition.Field {
	out := append([]*definition.Field(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Options tunes the writers. The zero value writes what the model holds.
type Options struct {
	// Parameters and Values write the section even when it is empty, as
	// the CLI does when the source had "parameters": [] (see Read).
	Parameters, Values bool
	CloudFormation     CloudFormationOptions
}

// CloudFormationOptions sets the properties of the generated resource.
type CloudFormationOptions struct {
	Name        string // pipeline Name property (required by CloudFormation)
	LogicalID   string // resource logical id; "DataPipeline" when empty
	Activate    bool   // the Activate property
	Description string // optional Description property
}

// DefaultPipelineName derives a pipeline name from a file path: the base
// name without extension, or "pipeline" for standard input.
func DefaultPipelineName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if path == "" || path == "-" || base == "<stdin>" || base == "" || base == "." {
		return "pipeline"
	}
	return base
}

// ToCloudFormation renders d as a template with one
// AWS::DataPipeline::Pipeline resource: PipelineObjects, ParameterObjects
// and ParameterValues in CloudFormation's capitalised shape, fields ordered
// as the CLI orders API fields.
func ToCloudFormation(d *definition.Definition, o Options) *Node {
	opt := o.CloudFormation
	if opt.Name == "" {
		opt.Name = DefaultPipelineName(d.File)
	}
	if opt.LogicalID == "" {
		opt.LogicalID = "DataPipeline"
	}
	props := Obj().Set("Name", Str(opt.Name))
	if opt.Description != "" {
		props.Set("Description", Str(opt.Description))
	}
	props.Set("Activate", BoolNode(opt.Activate))
	if len(d.Parameters) > 0 || o.Parameters {
		props.Set("ParameterObjects", wireParameters(d, cfnNames))
	}
	if len(d.Values) > 0 || o.Values {
		props.Set("ParameterValues", wireValues(d, cfnNames))
	}
	props.Set("PipelineObjects", wireObjects(d, cfnNames))
	res := Obj().Set("Type", Str("AWS::DataPipeline::Pipeline")).Set("Properties", props)
	return Obj().
		Set("AWSTemplateFormatVersion", Str("2010-09-09")).
		Set("Resources", Obj().Set(opt.LogicalID, res))
}

// To renders d in the named format ("api", "file", "cloudformation").
func To(d *definition.Definition, format definition.Format, opt Options) (*Node, error) {
	switch format {
	case definition.FormatAPI:
		return ToAPI(d, opt), nil
	case definition.FormatFile:
		return ToFile(d, opt), nil
	case definition.FormatCloudFormation:
		return ToCloudFormation(d, opt), nil
	}
	return nil, fmt.Errorf("unknown format %q (want api, file or cloudformation)", format)
}
