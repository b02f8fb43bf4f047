package definition

import (
	"slices"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/schemas"
)

// Effective is an object's field set after inheritance: its own fields,
// then those of its parent chain (or of Default when it names no parent).
// Own values win; each key comes from exactly one object.
//
// Fields are kept as two exact-size lists, not a map: every object of a
// definition has one, and a map per object was the largest part of a
// large definition's memory. Get scans the keys (a handful); objects with
// many fields also get an index.
type Effective struct {
	Type   string   // effective type ("" for Default and typeless templates)
	Keys   []string // keys in a stable order: own fields first, then inherited ones
	fields []*Field // fields[i] is the field of Keys[i]
	index  map[string]int32
}

// indexFrom is the field count from which an Effective gets a map index.
const indexFrom = 24

// newEffective builds an Effective over keys and fields (parallel lists it
// takes ownership of).
func newEffective(typ string, keys []string, fields []*Field) *Effective {
	e := &Effective{Type: typ, Keys: keys, fields: fields}
	if len(keys) >= indexFrom {
		e.index = make(map[string]int32, len(keys))
		for i, k := range keys {
			e.index[k] = int32(i)
		}
	}
	return e
}

// Origin returns the id of the object that supplied key ("" when absent).
func (e *Effective) Origin(key string) string {
	if f := e.Get(key); f != nil {
		return f.Owner
	}
	return ""
}

// Get returns the effective field for key, or nil.
func (e *Effective) Get(key string) *Field {
	if e == nil {
		return nil
	}
	if e.index != nil {
		if i, ok := e.index[key]; ok {
			return e.fields[i]
		}
		return nil
	}
	for i, k := range e.Keys {
		if k == key {
			return e.fields[i]
		}
	}
	return nil
}

// Len returns the number of effective fields.
func (e *Effective) Len() int { return len(e.Keys) }

// Str returns the first string value of key ("" when absent or a ref).
func (e *Effective) Str(key string) string {
	f := e.Get(key)
	if f == nil || len(f.Values) == 0 || f.Values[0].IsRef {
		return ""
	}
	return f.Values[0].Str
}

// Refs returns the ids referenced by key, in order.
func (e *Effective) Refs(key string) []string {
	f := e.Get(key)
	if f == nil {
		return nil
	}
	var ids []string
	for _, v := range f.Values {
		if v.IsRef {
			ids = append(ids, v.Ref)
		}
	}
	return ids
}

// DefaultID is the id of the object whose fields every parentless object inherits.
const DefaultID = "Default"

// Resolve indexes the objects and computes every object's effective fields
// once. It never fails: parent cycles and dangling parents simply stop the
// walk (the validator reports them); call ParentCycle to find them.
func (d *Definition) Resolve() {
	d.index()
	for _, o := range d.Objects {
		o.eff = nil
	}
	for _, o := range d.Objects {
		d.effective(o, map[*Object]bool{})
	}
	d.resolved = true
}

// Effective returns the object's effective fields, resolving on first use.
func (d *Definition) Effective(o *Object) *Effective {
	if o.eff == nil {
		if d.byID == nil {
			d.index()
		}
		d.effective(o, map[*Object]bool{})
	}
	return o.eff
}

// Parents returns the chain of objects o inherits from, nearest first:
// its parent refs (followed transitively) or Default. Cycles are cut.
func (d *Definition) Parents(o *Object) []*Object {
	var chain []*Object
	seen := map[*Object]bool{o: true}
	cur := o
	for {
		next := d.parentOf(cur)
		if next == nil || seen[next] {
			return chain
		}
		seen[next] = true
		chain = append(chain, next)
		cur = next
	}
}

// parentOf returns the object cur inherits from directly: its first parent
// ref, or Default when cur names no parent and is not Default itself.
func (d *Definition) parentOf(cur *Object) *Object {
	if f := cur.Field("parent"); f != nil {
		for _, v := range f.Values {
			if v.IsRef {
				return d.byID[v.Ref]
			}
		}
		return nil
	}
	if cur.ID == DefaultID {
		return nil
	}
	return d.byID[DefaultID]
}

// ParentCycle returns the ids forming a parent cycle that starts at o, or nil.
func (d *Definition) ParentCycle(o *Object) []string {
	if d.byID == nil {
		d.index()
	}
	path := []string{o.ID}
	pos := map[*Object]int{o: 0}
	cur := o
	for {
		f := cur.Field("parent")
		if f == nil {
			return nil
		}
		var next *Object
		for _, v := range f.Values {
			if v.IsRef {
				next = d.byID[v.Ref]
				break
			}
		}
		if next == nil {
			return nil
		}
		if i, ok := pos[next]; ok {
			if i != 0 {
				return nil // the cycle does not pass through o; reported at its own members
			}
			return append(path, next.ID)
		}
		pos[next] = len(path)
		path = append(path, next.ID)
		cur = next
	}
}

func (d *Definition) effective(o *Object, visiting map[*Object]bool) *Effective {
	if o.eff != nil {
		return o.eff
	}
	// Collected in scratch space on the stack, copied out at exact size.
	var kbuf [32]string
	var fbuf [32]*Field
	keys, fields := kbuf[:0], fbuf[:0]
	var seen map[string]bool // once there are many keys
	for _, f := range o.Fields {
		if f.Owner == "" {
			f.Owner = o.ID // fields built outside the reader
		}
		keys, fields, seen = addField(keys, fields, seen, f.Key, f)
	}
	visiting[o] = true
	if p := d.parentOf(o); p != nil && !visiting[p] {
		pe := d.effective(p, visiting)
		for i, k := range pe.Keys {
			if k != "parent" {
				keys, fields, seen = addField(keys, fields, seen, k, pe.fields[i])
			}
		}
	}
	delete(visiting, o)
	typ := ""
	for i, k := range keys {
		if t := fields[i]; k == "type" && len(t.Values) > 0 && !t.Values[0].IsRef {
			typ = t.Values[0].Str
		}
	}
	keys, fields = dropInapplicable(o, typ, keys, fields)
	e := newEffective(typ, slices.Clone(keys), slices.Clone(fields))
	// An object in a cycle under construction must not cache a partial view.
	if len(visiting) == 0 || !inCycle(d, o) {
		o.eff = e
	}
	return e
}

// addField appends key and f unless key is already there (the first
// writer wins); seen indexes the keys once there are many.
func addField(keys []string, fields []*Field, seen map[string]bool, key string, f *Field) ([]string, []*Field, map[string]bool) {
	switch {
	case seen != nil:
		if seen[key] {
			return keys, fields, seen
		}
		seen[key] = true
	case slices.Contains(keys, key):
		return keys, fields, seen
	case len(keys) >= indexFrom:
		seen = make(map[string]bool, 2*len(keys))
		for _, k := range keys {
			seen[k] = true
		}
		seen[key] = true
	}
	return append(keys, key), append(fields, f), seen
}

// dropInapplicable removes inherited fields that the object's type does
// not have: Default and templates lend their fields to objects of every
// type, and each takes only those that apply to it (runsOn on Default
// is for activities; an Ec2Resource must not run on itself). Own fields,
// user fields and objects of unknown type keep everything (validate
// reports what is wrong with those).
func dropInapplicable(o *Object, typ string, keys []string, fields []*Field) ([]string, []*Field) {
	t, ok := schemas.TypeInfo(typ)
	if !ok {
		return keys, fields
	}
	n := 0
	for i, k := range keys {
		f := fields[i]
		_, applies := t.Field(k)
		if applies || f.Owner == o.ID || k == "type" || IsUserKey(strings.TrimPrefix(k, "*")) {
			keys[n], fields[n] = k, f
			n++
		}
	}
	return keys[:n], fields[:n]
}

func inCycle(d *Definition, o *Object) bool { return d.ParentCycle(o) != nil }

// SortedKeys returns the effective keys sorted (Python string order, which
// for the ASCII keys in definitions is byte order).
func (e *Effective) SortedKeys() []string {
	keys := append([]string(nil), e.Keys...)
	sort.Strings(keys)
	return keys
}

// EqualFoldAny reports whether s equals any of the options, ignoring case.
func EqualFoldAny(s string, options ...string) bool {
	for _, o := range options {
		if strings.EqualFold(s, o) {
			return true
		}
	}
	return false
}
