package executor

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
)

// maxEvalDepth bounds field-to-field evaluation (a field whose value refers
// to another field with #{...}) so that a self-reference fails instead of
// looping.
const maxEvalDepth = 16

// objScope evaluates expressions in the context of one object: its
// effective fields, the runtime fields of the instance or attempt it
// stands for, the pipeline's parameters, and references to other objects
// (resolved to the matching instance when there is one).
type objScope struct {
	e     *engine
	id    string // id the object renders as
	comp  *definition.Object
	eff   *definition.Effective
	rt    map[string]expr.Value // @ runtime fields, node
	inst  *inst                 // the instance, nil for a component
	depth int
}

var _ expr.Object = (*objScope)(nil)

func (s *objScope) ID() string { return s.id }

func (s *objScope) Lookup(name string) (expr.Value, error) {
	if v, ok := s.rt[name]; ok {
		return v, nil
	}
	switch name {
	case "id":
		return expr.String(s.comp.ID), nil
	case "name":
		if s.comp.HasName {
			return expr.String(s.comp.Name), nil
		}
		return expr.String(s.comp.ID), nil
	}
	if f := s.eff.Get(name); f != nil {
		return s.fieldValue(name, f)
	}
	if v, ok := s.e.params[name]; ok {
		return v, nil
	}
	if v, ok := s.e.params["*"+name]; ok {
		return v, nil // #{myPw} reads a declared *myPw, as AWS's own templates do
	}
	return expr.Value{}, expr.UnknownName(name)
}

// fieldValue turns a field into a value: refs become objects, strings are
// evaluated in this scope, multi-valued fields become lists.
func (s *objScope) fieldValue(key string, f *definition.Field) (expr.Value, error) {
	vals := make([]expr.Value, 0, len(f.Values))
	for _, v := range f.Values {
		if v.IsRef {
			vals = append(vals, expr.Obj(s.e.refScope(s, key, v.Ref, s.depth+1)))
			continue
		}
		if s.depth >= maxEvalDepth {
			return expr.Value{}, fmt.Errorf("field %s of %s: expressions nest deeper than %d levels (a field refers to itself?)", key, s.comp.ID, maxEvalDepth)
		}
		sub := *s
		sub.depth++
		ev, err := evalTemplate(v.Str, &sub)
		if err != nil {
			return expr.Value{}, fmt.Errorf("field %s of %s: %w", key, s.comp.ID, err)
		}
		vals = append(vals, ev)
	}
	if len(vals) == 1 && !f.List {
		return vals[0], nil
	}
	return expr.List(vals...), nil
}

func evalTemplate(src string, s expr.Scope) (expr.Value, error) {
	if !strings.Contains(src, "#{") {
		return expr.String(src), nil
	}
	t, err := expr.ParseTemplate(src)
	if err != nil {
		return expr.Value{}, err
	}
	return t.Eval(s)
}

// evalStrings evaluates a raw field value to its string form(s).
func evalStrings(src string, s expr.Scope) ([]string, error) {
	v, err := evalTemplate(src, s)
	if err != nil {
		return nil, err
	}
	if v.IsList() {
		return v.StringList(), nil
	}
	return []string{render(v)}, nil
}

// render writes a value as a field value: DateTimes in the service's
// layout.
func render(v expr.Value) string {
	if v.Kind() == expr.KindDateTime {
		return v.Time().UTC().Format(timeLayout)
	}
	return v.String()
}

const timeLayout = "2006-01-02T15:04:05"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// paramValues builds the parameter scope: definition values, overridden
// by opts.Params, falling back to each parameter's default. Typed
// parameters become numbers.
func paramValues(d *definition.Definition, override map[string][]string) map[string]expr.Value {
	raw := map[string][]string{}
	for _, p := range d.Parameters {
		if def, ok := p.Attr("default"); ok {
			if f := p.AttrField("default"); f != nil && len(f.Values) > 1 {
				for _, v := range f.Values {
					raw[p.ID] = append(raw[p.ID], v.Str)
				}
			} else {
				raw[p.ID] = []string{def}
			}
		}
	}
	for _, v := range d.Values {
		var ss []string
		for _, x := range v.Values {
			ss = append(ss, x.Str)
		}
		raw[v.ID] = ss
	}
	for k, v := range override {
		raw[k] = v
	}
	out := make(map[string]expr.Value, len(raw))
	for id, ss := range raw {
		typ := ""
		isArray := false
		if p := d.Parameter(id); p != nil {
			typ, _ = p.Attr("type")
			a, _ := p.Attr("isArray")
			isArray = strings.EqualFold(a, "true")
		}
		vals := make([]expr.Value, 0, len(ss))
		for _, s := range ss {
			vals = append(vals, typedParam(typ, s))
		}
		if len(vals) == 1 && !isArray {
			out[id] = vals[0]
		} else {
			out[id] = expr.List(vals...)
		}
	}
	return out
}

func typedParam(typ, s string) expr.Value {
	switch strings.ToLower(typ) {
	case "integer":
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return expr.Int(n)
		}
	case "double":
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return expr.Double(f)
		}
	}
	return expr.String(s)
}
