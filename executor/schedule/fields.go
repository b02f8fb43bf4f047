package schedule

import (
	"fmt"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
)

// Mask replaces the value of every secret (`*` field or parameter).
const Mask = definition.Mask

// Params are parameter values by id (several for array parameters).
type Params map[string][]string

// ResolveParams picks every parameter's value with definition.Resolver:
// overrides first, then the definition's values, then the parameter's
// default. Parameters left without a value (required, no default) are
// returned in missing, in declaration order; optional ones without a
// value are simply absent.
func ResolveParams(d *definition.Definition, overrides Params) (Params, []string) {
	r := definition.NewResolver(d, overrides)
	out := Params{}
	for _, v := range d.Values {
		if ps := r.Param(v.ID); ps != nil && ps.HasValue() {
			out[v.ID] = ps.Values
		}
	}
	for id, ss := range overrides {
		out[id] = ss
	}
	var missing []string
	for _, ps := range r.Params() {
		switch {
		case ps.HasValue():
			out[ps.ID] = ps.Values
		case !ps.Optional:
			missing = append(missing, ps.ID)
		}
	}
	return out, missing
}

// Evaluator evaluates field values of instances: the object's fields after
// inheritance, `@` runtime fields of the instance, references (as the
// linked instances of scheduled components) and parameters.
type Evaluator struct {
	Def  *definition.Definition
	Plan *Plan // links references to instances; nil: same-interval times
	// Params override the definition's values (which override defaults);
	// typed parameters become numbers (definition.Resolver does this).
	Params Params

	res *definition.Resolver
}

// resolver returns the definition's resolver for ev.Params, built once.
func (ev *Evaluator) resolver() *definition.Resolver {
	if ev.res == nil {
		ev.res = definition.NewResolver(ev.Def, ev.Params)
	}
	return ev.res
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
// the effective key order, for display: `*` fields show Mask, and so does
// the value of a secret parameter expanded into another field. Values
// whose expressions cannot be evaluated offline (such as
// @actualStartTime) are kept as written; the problems are returned in
// errs, one per field.
func (ev *Evaluator) Fields(inst Instance) (fields []FieldValue, errs []error) {
	o := ev.Def.Object(inst.Component)
	if o == nil {
		return nil, []error{fmt.Errorf("%s: no such object", inst.Component)}
	}
	r := ev.resolver().Masked()
	e := r.Effective(o)
	sc := ev.scopeIn(r, o, inst.Start, inst.End, inst.ID)
	for _, k := range e.Keys {
		f := e.Get(k)
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
	v, err := ev.eval(s, ev.scope(o, inst.Start, inst.End, inst.ID))
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func (ev *Evaluator) eval(s string, sc expr.Scope) (expr.Value, error) {
	return ev.resolver().Eval(s, sc)
}

// Expand is an ExpandFunc for Build: it evaluates schedule fields with the
// parameters only (no instance exists yet).
func (ev *Evaluator) Expand(objectID, key, raw string) (string, error) {
	o := ev.Def.Object(objectID)
	if o == nil {
		return raw, nil
	}
	v, err := ev.eval(raw, ev.scope(o, time.Time{}, time.Time{}, ""))
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// scope returns the definition's expression scope for o at one instance
// (zero start for the schedule fields, which have no instance yet).
// Referenced scheduled components see their linked instance's runtime
// fields (the instance whose interval contains this one's start).
func (ev *Evaluator) scope(o *definition.Object, start, end time.Time, instID string) expr.Scope {
	return ev.scopeIn(ev.resolver(), o, start, end, instID)
}

func (ev *Evaluator) scopeIn(r *definition.Resolver, o *definition.Object, start, end time.Time, instID string) expr.Scope {
	var opts definition.ScopeOptions
	if !start.IsZero() {
		opts.Runtime = runtime(start, end, instID)
		opts.RefRuntime = func(ref *definition.Object) map[string]expr.Value {
			if ev.Plan != nil {
				if inst, ok := ev.Plan.InstanceAt(ref.ID, start); ok {
					return runtime(inst.Start, inst.End, inst.ID)
				}
			}
			return map[string]expr.Value{"@scheduledStartTime": expr.DateTime(start), "@scheduledEndTime": expr.DateTime(end)}
		}
	}
	return r.Scope(o, definition.OptionsBinding(opts))
}

func runtime(start, end time.Time, instID string) map[string]expr.Value {
	return map[string]expr.Value{
		"@scheduledStartTime": expr.DateTime(start),
		"@scheduledEndTime":   expr.DateTime(end),
		"@id":                 expr.String(instID),
	}
}
