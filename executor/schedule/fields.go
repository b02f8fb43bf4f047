package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
)

// Mask replaces the value of every secret (`*`) field.
const Mask = "********"

// Params are parameter values by id (several for array parameters).
type Params map[string][]string

// ResolveParams picks every parameter's value: overrides first, then the
// definition's values, then the parameter's default. Parameters left
// without a value (required, no default) are returned in missing, in
// declaration order; optional ones without a value are simply absent.
func ResolveParams(d *definition.Definition, overrides Params) (Params, []string) {
	out := Params{}
	for _, v := range d.Values {
		var ss []string
		for _, x := range v.Values {
			ss = append(ss, x.Str)
		}
		out[v.ID] = ss
	}
	for id, ss := range overrides {
		out[id] = ss
	}
	var missing []string
	for _, p := range d.Parameters {
		if _, ok := out[p.ID]; ok {
			continue
		}
		if f := p.AttrField("default"); f != nil && len(f.Values) > 0 {
			var ss []string
			for _, x := range f.Values {
				ss = append(ss, x.Str)
			}
			out[p.ID] = ss
			continue
		}
		if opt, _ := p.Attr("optional"); !strings.EqualFold(opt, "true") {
			missing = append(missing, p.ID)
		}
	}
	return out, missing
}

// Evaluator evaluates field values of instances: the object's fields after
// inheritance, `@` runtime fields of the instance, references (as the
// linked instances of scheduled components) and parameters.
type Evaluator struct {
	Def    *definition.Definition
	Plan   *Plan
	Params Params
}

// FieldValue is one effective field of an instance, evaluated.
type FieldValue struct {
	Key    string
	Values []string // evaluated strings, or referenced ids for refs
	List   bool     // render as an array (written as one, or several values)
	Secret bool     // Values hold Mask
	Ref    bool
}

// Fields evaluates every effective field of the instance's component, in
// the effective key order. Values whose expressions cannot be evaluated
// offline (such as @actualStartTime) are kept as written; the problems are
// returned in errs, one per field.
func (ev *Evaluator) Fields(inst Instance) (fields []FieldValue, errs []error) {
	o := ev.Def.Object(inst.Component)
	if o == nil {
		return nil, []error{fmt.Errorf("%s: no such object", inst.Component)}
	}
	e := ev.Def.Effective(o)
	sc := ev.scope(o, inst.Start, inst.End, inst.ID, 0)
	for _, k := range e.Keys {
		f := e.Fields[k]
		fv := FieldValue{Key: k, List: f.List || len(f.Values) > 1, Secret: f.IsSecret()}
		for _, v := range f.Values {
			switch {
			case fv.Secret:
				fv.Values = append(fv.Values, Mask)
			case v.IsRef:
				fv.Ref = true
				fv.Values = append(fv.Values, v.Ref)
			default:
				val, err := ev.eval(v.Str, sc)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: field %s: %w", inst.Component, k, err))
					fv.Values = append(fv.Values, v.Str)
					continue
				}
				if val.IsList() {
					fv.List = true
				}
				fv.Values = append(fv.Values, val.StringList()...)
			}
		}
		fields = append(fields, fv)
	}
	return fields, errs
}

// Eval evaluates one string in the context of an instance (`dpl eval`
// style); expressions are substituted, text is kept.
func (ev *Evaluator) Eval(inst Instance, s string) (string, error) {
	o := ev.Def.Object(inst.Component)
	if o == nil {
		return "", fmt.Errorf("%s: no such object", inst.Component)
	}
	v, err := ev.eval(s, ev.scope(o, inst.Start, inst.End, inst.ID, 0))
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func (ev *Evaluator) eval(s string, sc expr.Scope) (expr.Value, error) {
	if !strings.Contains(s, "#{") {
		return expr.String(s), nil
	}
	t, err := expr.ParseTemplate(s)
	if err != nil {
		return expr.Value{}, err
	}
	return t.Eval(sc)
}

// Expand is an ExpandFunc for Build: it evaluates schedule fields with the
// parameters only (no instance exists yet).
func (ev *Evaluator) Expand(objectID, key, raw string) (string, error) {
	o := ev.Def.Object(objectID)
	if o == nil {
		return raw, nil
	}
	v, err := ev.eval(raw, ev.scope(o, time.Time{}, time.Time{}, "", 0))
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// maxDepth bounds field-to-field evaluation (a field referring to itself).
const maxDepth = 16

// objScope resolves names for one object at one interval.
type objScope struct {
	ev         *Evaluator
	o          *definition.Object
	start, end time.Time // zero when unknown (no instance)
	instID     string
	depth      int
}

func (ev *Evaluator) scope(o *definition.Object, start, end time.Time, instID string, depth int) *objScope {
	return &objScope{ev: ev, o: o, start: start, end: end, instID: instID, depth: depth}
}

// ID implements expr.Object: a referenced object renders as its id.
func (s *objScope) ID() string { return s.o.ID }

var errDepth = errors.New("field references nest too deeply (a field refers to itself?)")

// Lookup implements expr.Scope.
func (s *objScope) Lookup(name string) (expr.Value, error) {
	switch name {
	case "@scheduledStartTime":
		if !s.start.IsZero() {
			return expr.DateTime(s.start), nil
		}
	case "@scheduledEndTime":
		if !s.end.IsZero() {
			return expr.DateTime(s.end), nil
		}
	case "@id":
		if s.instID != "" {
			return expr.String(s.instID), nil
		}
	case "@componentParent":
		return expr.Obj(s), nil
	case "id":
		return expr.String(s.o.ID), nil
	case "name":
		return expr.String(s.o.Name), nil
	}
	if s.depth > maxDepth {
		return expr.Value{}, errDepth
	}
	if f := s.ev.Def.Effective(s.o).Get(name); f != nil {
		vals := make([]expr.Value, 0, len(f.Values))
		for _, v := range f.Values {
			if v.IsRef {
				vals = append(vals, expr.Obj(s.ref(v.Ref)))
				continue
			}
			if f.IsSecret() {
				vals = append(vals, expr.String(v.Str))
				continue
			}
			x, err := s.ev.eval(v.Str, s.ev.scope(s.o, s.start, s.end, s.instID, s.depth+1))
			if err != nil {
				return expr.Value{}, fmt.Errorf("%s.%s: %w", s.o.ID, name, err)
			}
			vals = append(vals, x)
		}
		if len(vals) == 1 && !f.List {
			return vals[0], nil
		}
		return expr.List(vals...), nil
	}
	if ss, ok := s.ev.Params[name]; ok {
		if len(ss) == 1 && !s.isArrayParam(name) {
			return expr.String(ss[0]), nil
		}
		return expr.Strings(ss...), nil
	}
	return expr.Value{}, expr.UnknownName(name)
}

func (s *objScope) isArrayParam(id string) bool {
	p := s.ev.Def.Parameter(id)
	if p == nil {
		return false
	}
	v, _ := p.Attr("isArray")
	return strings.EqualFold(v, "true")
}

// ref returns the scope of a referenced object: for a scheduled component
// its linked instance (the one whose interval contains this one's start).
func (s *objScope) ref(id string) expr.Object {
	o := s.ev.Def.Object(id)
	if o == nil {
		return &expr.MapObject{Id: id}
	}
	start, end, instID := time.Time{}, time.Time{}, ""
	if s.ev.Plan != nil && !s.start.IsZero() {
		if inst, ok := s.ev.Plan.InstanceAt(id, s.start); ok {
			start, end, instID = inst.Start, inst.End, inst.ID
		}
	}
	return s.ev.scope(o, start, end, instID, s.depth+1)
}
