package definition

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition/expr"
)

// ScopeOptions supplies what a definition alone does not know when its
// expressions are evaluated.
type ScopeOptions struct {
	// Params are parameter values given at run time (--param, API
	// parameterValues); they win over the file's `values` section, which
	// wins over each parameter's `default`. A repeated id is an array.
	Params map[string][]string
	// Runtime holds the `@` fields of the object being evaluated
	// (@scheduledStartTime, @scheduledEndTime, @id, @status, ...).
	Runtime map[string]expr.Value
	// Node is the object whose onFail/onSuccess/precondition pointed at
	// the object being evaluated; it is what `node` refers to. Nil when
	// there is none (`node` is then an unknown name).
	Node *Object
	// NodeRuntime holds the node's `@` fields.
	NodeRuntime map[string]expr.Value
	// RefRuntime returns the `@` fields of an object reached through a
	// reference (its linked instance). When nil, referenced objects see
	// the evaluated object's @scheduledStartTime and @scheduledEndTime
	// (same-period linkage, the common case) and no other `@` field.
	RefRuntime func(o *Object) map[string]expr.Value
}

// maxScopeDepth bounds field-to-field evaluation so that a field that
// refers to itself (directly or through others) fails instead of looping.
const maxScopeDepth = 32

// ErrFieldCycle is returned when field references nest deeper than any
// real definition does (a field referring to itself).
var ErrFieldCycle = errors.New("field references nest too deeply (does a field refer to itself?)")

// Scope returns an expression scope for object o. Names resolve, in
// order, to: `@` runtime fields from opts; `node`; `id` and `name`; the
// object's effective fields (own, then parent chain or Default), string
// values evaluated as templates in the same scope, refs as objects that
// support dotted traversal; then parameters (opts.Params, the `values`
// section, the parameter's default; typed Integer/Double parameters
// become numbers). Anything else is an expr.ErrUnknown error.
func (d *Definition) Scope(o *Object, opts ScopeOptions) expr.Object {
	return &objectScope{d: d, o: o, opts: &opts, runtime: opts.Runtime, root: true}
}

type objectScope struct {
	d       *Definition
	o       *Object
	opts    *ScopeOptions
	runtime map[string]expr.Value
	root    bool // the object being evaluated (node is visible only from it)
	depth   int
}

func (s *objectScope) ID() string { return s.o.ID }

func (s *objectScope) child(o *Object, runtime map[string]expr.Value) *objectScope {
	return &objectScope{d: s.d, o: o, opts: s.opts, runtime: runtime, depth: s.depth + 1}
}

func (s *objectScope) Lookup(name string) (expr.Value, error) {
	if v, ok := s.runtime[name]; ok {
		return v, nil
	}
	switch name {
	case "node":
		if s.root && s.opts.Node != nil {
			return expr.Obj(s.child(s.opts.Node, s.opts.NodeRuntime)), nil
		}
	case "id", "@id":
		return expr.String(s.o.ID), nil
	case "name":
		return expr.String(s.o.Name), nil
	}
	if s.depth > maxScopeDepth {
		return expr.Value{}, ErrFieldCycle
	}
	if f := s.d.Effective(s.o).Get(name); f != nil {
		return s.field(f)
	}
	if v, ok, err := s.param(name); ok || err != nil {
		return v, err
	}
	return expr.Value{}, expr.UnknownName(name)
}

func (s *objectScope) refRuntime(o *Object) map[string]expr.Value {
	if s.opts.RefRuntime != nil {
		return s.opts.RefRuntime(o)
	}
	rt := make(map[string]expr.Value, 2)
	for _, k := range [...]string{"@scheduledStartTime", "@scheduledEndTime"} {
		if v, ok := s.opts.Runtime[k]; ok {
			rt[k] = v
		}
	}
	return rt
}

func (s *objectScope) field(f *Field) (expr.Value, error) {
	vals := make([]expr.Value, 0, len(f.Values))
	for _, v := range f.Values {
		switch {
		case v.IsRef:
			target := s.d.Object(v.Ref)
			if target == nil {
				return expr.Value{}, fmt.Errorf("%s.%s: reference to missing object %q", s.o.ID, f.Key, v.Ref)
			}
			vals = append(vals, expr.Obj(s.child(target, s.refRuntime(target))))
		case f.Key == "type" || !strings.Contains(v.Str, "#{"):
			vals = append(vals, expr.String(v.Str))
		default:
			t, err := expr.ParseTemplate(v.Str)
			if err != nil {
				return expr.Value{}, fmt.Errorf("%s.%s: %w", s.o.ID, f.Key, err)
			}
			inner := *s
			inner.depth++
			x, err := t.Eval(&inner)
			if err != nil {
				if errors.Is(err, ErrFieldCycle) {
					return expr.Value{}, err
				}
				return expr.Value{}, fmt.Errorf("%s.%s: %w", s.o.ID, f.Key, err)
			}
			vals = append(vals, x)
		}
	}
	if len(vals) == 1 && !f.List {
		return vals[0], nil
	}
	return expr.List(vals...), nil
}

// param resolves a parameter id: supplied values, then the file's values,
// then the default. ok is false when no parameter of that id has a value.
func (s *objectScope) param(id string) (expr.Value, bool, error) {
	p := s.d.Parameter(id)
	if p == nil && !strings.HasPrefix(id, "*") && s.d.Parameter("*"+id) != nil {
		id, p = "*"+id, s.d.Parameter("*"+id) // #{myPw} reads a declared *myPw
	}
	var vals []string
	if v, ok := s.opts.Params[id]; ok {
		vals = v
	} else if pv := s.d.paramValue(id); pv != nil {
		for _, v := range pv.Values {
			vals = append(vals, v.Str)
		}
	} else if p != nil {
		if f := p.AttrField("default"); f != nil {
			for _, v := range f.Values {
				vals = append(vals, v.Str)
			}
		}
	}
	if vals == nil {
		return expr.Value{}, false, nil
	}
	typ, isArray := "", false
	if p != nil {
		typ, _ = p.Attr("type")
		a, _ := p.Attr("isArray")
		isArray = strings.EqualFold(a, "true")
	}
	out := make([]expr.Value, len(vals))
	for i, v := range vals {
		x, err := typedParam(id, typ, v)
		if err != nil {
			return expr.Value{}, true, err
		}
		out[i] = x
	}
	if len(out) == 1 && !isArray {
		return out[0], true, nil
	}
	return expr.List(out...), true, nil
}

// typedParam converts a parameter value by its declared type; strings
// that do not parse as the declared number type are an error.
func typedParam(id, typ, v string) (expr.Value, error) {
	switch {
	case strings.EqualFold(typ, "Integer"):
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return expr.Value{}, fmt.Errorf("parameter %s: %q is not an Integer", id, v)
		}
		return expr.Int(n), nil
	case strings.EqualFold(typ, "Double"):
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return expr.Value{}, fmt.Errorf("parameter %s: %q is not a Double", id, v)
		}
		return expr.Double(f), nil
	}
	return expr.String(v), nil
}

// paramValue returns the `values` entry for id, or nil.
func (d *Definition) paramValue(id string) *ParamValue {
	for _, v := range d.Values {
		if v.ID == id {
			return v
		}
	}
	return nil
}
