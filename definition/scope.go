package definition

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dpl-dev/dpl/definition/expr"
)

// MaxNesting bounds field-to-field evaluation (a field whose value reads
// another field, an object reached through a ref, node) for every command:
// validate, plan, eval, run and serve fail at the same depth.
const MaxNesting = 32

// ErrFieldCycle is returned when a field's value reads itself (directly or
// through other fields) or field references nest deeper than MaxNesting.
var ErrFieldCycle = errors.New("field references nest too deeply (does a field refer to itself?)")

// Binding ties an object's scope to what exists only at run time: the
// instance or attempt the object stands for. It is the hook the engine
// (and plan) fill; validate and eval use the plain bindings of this
// package. Every method may be called often and must be cheap.
type Binding interface {
	// ID is the id the object renders as (#{input} prints it, @id reads
	// it): an instance id, or "" for the object's own id.
	ID() string
	// Runtime returns a run-time field (`@scheduledStartTime`, `@status`,
	// `errorMessage`, ...). ok is false when the binding does not know the
	// name; lookup then goes on to the object's fields and the parameters.
	Runtime(name string) (v expr.Value, ok bool)
	// Node is the object that `node` names (the instance whose onFail,
	// onSuccess or precondition led here) and its binding; nil when there
	// is none, and `node` is then an unknown name.
	Node() (*Object, Binding)
	// Ref returns the binding of target, reached from this object through
	// the reference field key (its linked instance, say).
	Ref(key string, target *Object) Binding
}

// Resolver evaluates the expressions of one definition with one set of
// parameter values. It is the only expression scope of dpl: typed and
// array parameters, secret parameters, optional parameters without a value,
// inheritance, refs and the nesting limit behave the same everywhere.
// A Resolver is safe for concurrent use once built.
type Resolver struct {
	d      *Definition
	params map[string]*ParamSetting
	order  []*ParamSetting
	masked bool
	// absentParams is set when some optional parameter has no value, the
	// only case in which effective fields differ from d.Effective.
	absentParams bool

	// The caches live in the unmasked resolver; a masked view shares them.
	shared    *Resolver
	mu        sync.Mutex
	eff       map[*Object]*Effective
	templates sync.Map // string -> *expr.Template
	view      *Resolver
}

// NewResolver resolves every parameter of d once: supplied values
// (--param, --param-file, API parameterValues; a repeated id is an array)
// win over the file's `values`, which win over the parameter's default.
func NewResolver(d *Definition, supplied map[string][]string) *Resolver {
	r := &Resolver{d: d, params: make(map[string]*ParamSetting, len(d.Parameters)+len(supplied))}
	for _, p := range d.Parameters {
		if _, dup := r.params[p.ID]; dup || p.ID == "" {
			continue
		}
		ps := settingFor(d, p.ID, p, supplied)
		r.params[p.ID] = ps
		r.order = append(r.order, ps)
		if ps.Source == "" && ps.Optional {
			r.absentParams = true
		}
	}
	// Values for undeclared ids (a definition whose parameter objects come
	// separately) are still readable, untyped.
	for _, v := range d.Values {
		if _, ok := r.params[v.ID]; !ok && v.ID != "" {
			r.params[v.ID] = settingFor(d, v.ID, nil, supplied)
		}
	}
	for id := range supplied {
		if _, ok := r.params[id]; !ok && id != "" {
			r.params[id] = settingFor(d, id, nil, supplied)
		}
	}
	return r
}

// Definition returns the definition the resolver evaluates.
func (r *Resolver) Definition() *Definition { return r.d }

// Masked returns a view of r for display: every secret parameter and
// every `*` field evaluates to Mask, so a secret expanded into an ordinary
// field shows as "********" in plan, eval and the TUI. Only what is
// executed is evaluated with r itself.
func (r *Resolver) Masked() *Resolver {
	if r.masked {
		return r
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.view == nil {
		r.view = &Resolver{d: r.d, params: r.params, order: r.order, masked: true, absentParams: r.absentParams, shared: r}
	}
	return r.view
}

// IsMasked reports whether r is a display view (see Masked).
func (r *Resolver) IsMasked() bool { return r.masked }

// Scope returns the expression scope of object o bound by b (nil: the
// object itself, no run-time fields). Names resolve, in order, to: b's
// run-time fields; `node`; `id`, `@id` and `name`; the object's effective
// fields (own, then parent chain or Default), strings evaluated as
// templates in the same scope, refs as objects; then parameters. Anything
// else is an expr.ErrUnknown error.
func (r *Resolver) Scope(o *Object, b Binding) expr.Object {
	if b == nil {
		b = NoBinding{}
	}
	return &scope{r: r, o: o, b: b}
}

// Template returns the parsed template of s, parsing each distinct string
// once.
func (r *Resolver) Template(s string) (*expr.Template, error) {
	if r.shared != nil {
		return r.shared.Template(s)
	}
	if t, ok := r.templates.Load(s); ok {
		return t.(*expr.Template), nil
	}
	t, err := expr.ParseTemplate(s)
	if err != nil {
		return nil, err
	}
	r.templates.Store(s, t)
	return t, nil
}

// Eval evaluates the template s in sc; a string without #{ is itself.
func (r *Resolver) Eval(s string, sc expr.Scope) (expr.Value, error) {
	if !strings.Contains(s, "#{") {
		return expr.String(s), nil
	}
	t, err := r.Template(s)
	if err != nil {
		return expr.Value{}, err
	}
	return t.Eval(sc)
}

// NoBinding is the binding of an object evaluated on its own: no run-time
// fields, no node, refs reach the objects themselves.
type NoBinding struct{}

// ID implements Binding.
func (NoBinding) ID() string { return "" }

// Runtime implements Binding.
func (NoBinding) Runtime(string) (expr.Value, bool) { return expr.Value{}, false }

// Node implements Binding.
func (NoBinding) Node() (*Object, Binding) { return nil, nil }

// Ref implements Binding.
func (NoBinding) Ref(string, *Object) Binding { return NoBinding{} }

// scope is one object's expression scope. Scopes are values: a nested
// evaluation copies its scope, one level deeper, with the field being
// evaluated pushed on the stack so that a field reading itself fails at
// once rather than after MaxNesting levels of fan-out.
type scope struct {
	r     *Resolver
	o     *Object
	b     Binding
	depth int
	stack *frame
}

// frame is one field under evaluation.
type frame struct {
	o    *Object
	id   string // the binding's id: the same field of another instance is no cycle
	key  string
	next *frame
}

var _ expr.Object = (*scope)(nil)

func (s *scope) ID() string {
	if id := s.b.ID(); id != "" {
		return id
	}
	return s.o.ID
}

func (s *scope) child(o *Object, b Binding) *scope {
	if b == nil {
		b = NoBinding{}
	}
	return &scope{r: s.r, o: o, b: b, depth: s.depth + 1, stack: s.stack}
}

func (s *scope) Lookup(name string) (expr.Value, error) {
	if v, ok := s.b.Runtime(name); ok {
		return v, nil
	}
	switch name {
	case "node":
		if o, b := s.b.Node(); o != nil {
			if s.depth >= MaxNesting {
				return expr.Value{}, ErrFieldCycle
			}
			return expr.Obj(s.child(o, b)), nil
		}
	case "id":
		return expr.String(s.o.ID), nil
	case "@id":
		return expr.String(s.ID()), nil
	case "name":
		if s.o.HasName || s.o.Name != "" {
			return expr.String(s.o.Name), nil
		}
		return expr.String(s.o.ID), nil
	}
	if f := s.r.Effective(s.o).Get(name); f != nil {
		if s.depth >= MaxNesting {
			return expr.Value{}, ErrFieldCycle
		}
		return s.field(f)
	}
	if v, ok, err := s.r.paramValue(name); ok || err != nil {
		return v, err
	}
	return expr.Value{}, expr.UnknownName(name)
}

func (s *scope) onStack(key string) bool {
	id := s.b.ID()
	for f := s.stack; f != nil; f = f.next {
		if f.o == s.o && f.key == key && f.id == id {
			return true
		}
	}
	return false
}

func (s *scope) field(f *Field) (expr.Value, error) {
	if s.r.masked && f.IsSecret() {
		return expr.String(Mask), nil
	}
	if s.onStack(f.Key) {
		return expr.Value{}, ErrFieldCycle
	}
	vals := make([]expr.Value, 0, len(f.Values))
	for _, v := range f.Values {
		switch {
		case v.IsRef:
			target := s.r.d.Object(v.Ref)
			if target == nil {
				return expr.Value{}, fmt.Errorf("%s.%s: reference to missing object %q", s.o.ID, f.Key, v.Ref)
			}
			vals = append(vals, expr.Obj(s.child(target, s.b.Ref(f.Key, target))))
		case f.Key == "type" || !strings.Contains(v.Str, "#{"):
			vals = append(vals, expr.String(v.Str))
		case s.r.absent(v):
			// A value that is only a reference to an optional parameter
			// without a value is not there at all.
		default:
			t, err := s.r.Template(v.Str)
			if err != nil {
				return expr.Value{}, fmt.Errorf("%s.%s: %w", s.o.ID, f.Key, err)
			}
			inner := *s
			inner.depth++
			inner.stack = &frame{o: s.o, id: s.b.ID(), key: f.Key, next: s.stack}
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

// ScopeOptions supplies what a definition alone does not know when its
// expressions are evaluated with Scope.
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

// Scope returns an expression scope for object o with a resolver of its
// own (see Resolver.Scope); callers that evaluate many objects should
// build one Resolver and use MapBinding.
func (d *Definition) Scope(o *Object, opts ScopeOptions) expr.Object {
	return NewResolver(d, opts.Params).Scope(o, OptionsBinding(opts))
}

// OptionsBinding turns ScopeOptions' run-time maps into a Binding.
func OptionsBinding(opts ScopeOptions) Binding {
	return &MapBinding{Fields: opts.Runtime, NodeObject: opts.Node, NodeFields: opts.NodeRuntime, RefFields: opts.RefRuntime}
}

// MapBinding is a Binding from maps: the run-time fields of the object, of
// its node, and of objects reached through refs.
type MapBinding struct {
	Fields     map[string]expr.Value
	NodeObject *Object
	NodeFields map[string]expr.Value
	// RefFields returns the run-time fields of a referenced object; nil:
	// it shares Fields' @scheduledStartTime and @scheduledEndTime.
	RefFields func(o *Object) map[string]expr.Value
}

// ID implements Binding: the @id field when there is one.
func (m *MapBinding) ID() string {
	if v, ok := m.Fields["@id"]; ok && v.Kind() == expr.KindString {
		return v.String()
	}
	return ""
}

// Runtime implements Binding.
func (m *MapBinding) Runtime(name string) (expr.Value, bool) {
	v, ok := m.Fields[name]
	return v, ok
}

// Node implements Binding.
func (m *MapBinding) Node() (*Object, Binding) {
	if m.NodeObject == nil {
		return nil, nil
	}
	return m.NodeObject, &MapBinding{Fields: m.NodeFields}
}

// Ref implements Binding.
func (m *MapBinding) Ref(_ string, target *Object) Binding {
	if m.RefFields != nil {
		return &MapBinding{Fields: m.RefFields(target), RefFields: m.RefFields}
	}
	rt := make(map[string]expr.Value, 2)
	for _, k := range [...]string{"@scheduledStartTime", "@scheduledEndTime"} {
		if v, ok := m.Fields[k]; ok {
			rt[k] = v
		}
	}
	return &MapBinding{Fields: rt}
}
