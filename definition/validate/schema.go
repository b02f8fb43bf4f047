package validate

import (
	"errors"
	"runtime"
	"strings"
	"sync"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/schemas"
)

// checkSchema applies the per-type catalogue (schemas/) to an object's
// effective fields: unknown fields, value kinds, required fields, one-of
// groups, exclusive pairs, deprecations and runtime fields, then the ref
// target types the JSON Schemas cannot see. It is the single place the
// schema layer plugs in.
func (c *checker) checkSchema(o *definition.Object, e *definition.Effective, typ string) {
	t, ok := schemas.TypeInfo(typ)
	if !ok {
		return // Default, templates and unknown types (reported by checkType)
	}
	inherited := func(k string) bool { return e.Origin(k) != o.ID }
	res, ok := c.pre[o]
	delete(c.pre, o) // read once: let its violations go with the object's report
	if !ok {
		res = c.run.violations(o, c.res.Effective(o), typ)
	}
	vs, err := res.vs, res.err
	if err != nil && !errors.Is(err, schemas.ErrUnknownType) {
		c.errorf(objAt(o, "type"), codeInvalidValue, "internal: %v", err)
		return
	}
	for _, v := range vs {
		if c.coveredBySemantics(typ, e, v) {
			continue
		}
		w := objAt(o, v.Field)
		f := e.Get(v.Field)
		if f != nil {
			w = c.fieldAt(o, e, v.Field)
			if v.Index >= 0 && v.Index < len(f.Values) && f.Values[v.Index].Pos.IsValid() {
				w.pos = f.Values[v.Index].Pos
			}
			if inherited(v.Field) && !c.inheritedOnce(f, v.Code+v.Message) {
				continue // the same inherited value was already reported
			}
		}
		w.hint = joinHint(w.hint, v.Hint)
		msg := serviceText(v)
		if sub, ok := res.subs[subKey{v.Field, max(v.Index, 0)}]; ok {
			msg += sub.note()
		}
		if v.Warning {
			c.warnf(w, v.Code, "%s", msg)
		} else {
			c.errorf(w, v.Code, "%s", msg)
		}
	}
	c.checkRefTypes(o, e, t)
}

// coveredBySemantics drops schema findings that a semantic check reports
// with more context (parameter substitution, on-demand rules).
func (c *checker) coveredBySemantics(typ string, e *definition.Effective, v schemas.Violation) bool {
	switch {
	case v.Code == schemas.CodeReadOnlyField:
		return true // checkFieldName reports @fields on every object
	case typ == "Schedule" && v.Code == schemas.CodeInvalidValue &&
		(v.Field == "period" || v.Field == "startDateTime" || v.Field == "endDateTime" || v.Field == "occurrences"):
		return true
	case v.Field == "runsOn" || v.Field == "workerGroup":
		// checkObject reports the activity/resource rules itself.
		return v.Code == schemas.CodeMissingRequired || strings.Contains(v.Message, "one of") ||
			familyOf(typ) == famResource
	case v.Field == "parent":
		return true // checkFieldName: a single ref
	case v.Code == schemas.CodeInvalidValue && hasEmpty(e.Get(v.Field)):
		return true // checkValues reports EMPTY_VALUE at the value
	}
	return false
}

func hasEmpty(f *definition.Field) bool {
	if f == nil {
		return false
	}
	for _, v := range f.Values {
		if v.Str == "" && v.Ref == "" {
			return true
		}
	}
	return false
}

// serviceText strips the "CODE: 'field' " prefix from a violation's
// message; the diagnostic carries code and field separately.
func serviceText(v schemas.Violation) string {
	m := strings.TrimPrefix(v.Message, v.Code+": ")
	if v.Field != "" {
		m = strings.TrimPrefix(m, "'"+v.Field+"' ")
	}
	return m
}

// schemaRun holds the scratch space of schema checks: the instance map
// is reused from object to object and ref maps are shared per id (schemas
// only reads them), which keeps large definitions cheap. One per goroutine.
type schemaRun struct {
	inst map[string]any
	refs map[string]map[string]any
	// static evaluates values built from parameters (checker.staticValue),
	// so the schemas check what the service would store.
	static func(o *definition.Object, s string) (substitution, bool)
	subs   map[subKey]substitution
	// sameRef renders every non-empty ref as anyRef (see violations).
	sameRef bool
}

// subKey names one value of a field.
type subKey struct {
	field string
	index int
}

type schemaResult struct {
	vs   []schemas.Violation
	err  error
	subs map[subKey]substitution // values checked after substitution
}

func (r *schemaRun) violations(o *definition.Object, e *definition.Effective, typ string) schemaResult {
	inherited := func(k string) bool { return e.Origin(k) != o.ID }
	// First with every non-empty ref as one shared {"ref": "…"} map: the
	// schema's verdict does not depend on the id, and a map per id and
	// goroutine was a quarter of a large definition's garbage. Only an
	// object with findings is checked again with its real ids, which the
	// messages name.
	r.subs, r.sameRef = nil, true
	vs, err := schemas.ValidateWith(typ, r.instance(o, e), schemas.Options{Inherited: inherited})
	if len(vs) > 0 && err == nil {
		r.subs, r.sameRef = nil, false
		vs, err = schemas.ValidateWith(typ, r.instance(o, e), schemas.Options{Inherited: inherited})
	}
	return schemaResult{vs, err, r.subs}
}

// anyRef stands for every non-empty ref in the first schema check.
var anyRef = map[string]any{"ref": "any"}

// instance renders effective fields the way schemas.Validate expects:
// strings, {"ref": id} maps, or lists of those; values built from
// parameters are substituted.
func (r *schemaRun) instance(o *definition.Object, e *definition.Effective) map[string]any {
	if r.inst == nil {
		r.inst = make(map[string]any, 16)
		r.refs = make(map[string]map[string]any)
	}
	clear(r.inst)
	for _, k := range e.Keys {
		f := e.Get(k)
		if !f.List && len(f.Values) == 1 {
			r.inst[k] = r.jsonValue(o, k, 0, f.Values[0])
			continue
		}
		list := make([]any, len(f.Values))
		for i, v := range f.Values {
			list[i] = r.jsonValue(o, k, i, v)
		}
		r.inst[k] = list
	}
	return r.inst
}

func (r *schemaRun) jsonValue(o *definition.Object, key string, i int, v definition.Value) any {
	if !v.IsRef {
		if r.static != nil && key != "type" && strings.Contains(v.Str, "#{") {
			// The owner's scope: an inherited value is what its writer says.
			owner := o
			if f := o.Field(key); f == nil {
				owner = nil
			}
			if owner != nil {
				if sub, ok := r.static(owner, v.Str); ok {
					if r.subs == nil {
						r.subs = map[subKey]substitution{}
					}
					r.subs[subKey{key, i}] = sub
					return sub.value
				}
			}
		}
		return v.Str
	}
	if r.sameRef && v.Ref != "" {
		return anyRef
	}
	m, ok := r.refs[v.Ref]
	if !ok {
		m = map[string]any{"ref": v.Ref}
		r.refs[v.Ref] = m
	}
	return m
}

// parallelMin is the object count from which schema checks run on every
// CPU: below it, starting goroutines costs more than it saves.
const parallelMin = 512

// precomputeSchemas runs the schema checks of all objects concurrently
// (they only read the resolved definition); checkObject then reports the
// stored results in file order, so output does not depend on scheduling.
func (c *checker) precomputeSchemas() {
	workers := runtime.GOMAXPROCS(0)
	if len(c.d.Objects) < parallelMin || workers < 2 {
		return
	}
	type job struct {
		o   *definition.Object
		e   *definition.Effective
		typ string
	}
	var jobs []job
	for _, o := range c.d.Objects {
		if c.ids[o.ID] != o {
			continue
		}
		e := c.res.Effective(o)
		if _, ok := schemas.TypeInfo(e.Type); ok && o.ID != definition.DefaultID {
			jobs = append(jobs, job{o, e, e.Type})
		}
	}
	results := make([]schemaResult, len(jobs))
	var wg sync.WaitGroup
	chunk := (len(jobs) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(jobs))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r schemaRun
			r.static = c.staticValue
			for i := lo; i < hi; i++ {
				results[i] = r.violations(jobs[i].o, jobs[i].e, jobs[i].typ)
			}
		}()
	}
	wg.Wait()
	c.pre = make(map[*definition.Object]schemaResult, len(jobs))
	for i, j := range jobs {
		c.pre[j.o] = results[i]
	}
}

// checkRefTypes checks that each ref points at an object of a type the
// field allows (format.md §3 Ref(X)).
func (c *checker) checkRefTypes(o *definition.Object, e *definition.Effective, t *schemas.Type) {
	for _, k := range e.Keys {
		fi, ok := t.Field(k)
		if !ok || len(fi.RefTypes) == 0 {
			continue
		}
		f := e.Get(k)
		for _, v := range f.Values {
			if !v.IsRef {
				continue
			}
			target := c.ids[v.Ref]
			if target == nil {
				continue // reported as MISSING_REF
			}
			tt := c.d.Effective(target).Type
			if tt == "" || contains(fi.RefTypes, tt) {
				continue
			}
			if _, known := schemas.TypeInfo(tt); !known {
				continue // reported as UNKNOWN_TYPE on the target
			}
			if e.Origin(k) != o.ID && !c.inheritedOnce(f, codeRefType+o.OwnType()) {
				continue
			}
			w := c.fieldAt(o, e, k)
			w.pos = v.Pos
			c.errorf(w, codeRefType, "refers to %q, a %s; it must be one of: %s", v.Ref, tt, strings.Join(fi.RefTypes, ", "))
		}
	}
}
