package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// DiffOptions tunes Diff.
type DiffOptions struct {
	// Effective compares each object's fields after inheritance (parent
	// chain, then Default) instead of the fields it writes itself.
	Effective bool
}

// Change kinds.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Masked replaces secret values in diff output.
const Masked = "********"

// DiffValue is one value in a diff: a string or a ref. It marshals as the
// file format writes it ("s" or {"ref": "id"}).
type DiffValue struct {
	Str   string
	Ref   string
	IsRef bool
}

// MarshalJSON writes "s" or {"ref":"id"}.
func (v DiffValue) MarshalJSON() ([]byte, error) {
	if v.IsRef {
		return json.Marshal(map[string]string{"ref": v.Ref})
	}
	return json.Marshal(v.Str)
}

func (v DiffValue) String() string {
	var b bytes.Buffer
	if v.IsRef {
		b.WriteString("ref ")
		b.WriteString(v.Ref)
		return b.String()
	}
	writeString(&b, v.Str)
	return b.String()
}

// FieldDiff is one field (or parameter attribute, or the object name)
// that differs. From records, with DiffOptions.Effective, which object
// supplied the value when it was inherited.
type FieldDiff struct {
	Key     string      `json:"key"`
	Change  string      `json:"change"`
	Old     []DiffValue `json:"old,omitempty"`
	New     []DiffValue `json:"new,omitempty"`
	OldFrom string      `json:"oldFrom,omitempty"`
	NewFrom string      `json:"newFrom,omitempty"`
}

// ObjectDiff is an object (or parameter) added, removed or changed.
type ObjectDiff struct {
	ID     string      `json:"id"`
	Type   string      `json:"type,omitempty"`
	Change string      `json:"change"`
	Fields []FieldDiff `json:"fields,omitempty"`
}

// ValueDiff is a parameter value added, removed or changed.
type ValueDiff struct {
	ID     string      `json:"id"`
	Change string      `json:"change"`
	Old    []DiffValue `json:"old,omitempty"`
	New    []DiffValue `json:"new,omitempty"`
}

// DiffResult lists the semantic differences between two definitions,
// sorted by id and key. Secret values are already masked.
type DiffResult struct {
	Effective  bool         `json:"effective"`
	Objects    []ObjectDiff `json:"objects"`
	Parameters []ObjectDiff `json:"parameters"`
	Values     []ValueDiff  `json:"values"`
}

// Equal reports whether no difference was found.
func (r *DiffResult) Equal() bool {
	return len(r.Objects) == 0 && len(r.Parameters) == 0 && len(r.Values) == 0
}

// Diff compares two definitions by meaning: objects by id, fields by key,
// values in order (a one-element list equals a scalar), parameters by id,
// values by parameter id. Object, field and section order, layout and the
// source format do not matter, and a field written as an empty list counts
// as absent (the service receives no value for it). Objects whose id repeats are compared by
// their first occurrence, as the rest of dpl reads them.
func Diff(old, new *definition.Definition, opt DiffOptions) *DiffResult {
	r := &DiffResult{Effective: opt.Effective, Objects: []ObjectDiff{}, Parameters: []ObjectDiff{}, Values: []ValueDiff{}}
	if opt.Effective {
		old.Resolve()
		new.Resolve()
	}
	for _, id := range unionIDs(objectIDs(old), objectIDs(new)) {
		o, n := old.Object(id), new.Object(id)
		var of, nf fieldSet
		if o != nil {
			of = objectFields(old, o, opt.Effective)
		}
		if n != nil {
			nf = objectFields(new, n, opt.Effective)
		}
		od := ObjectDiff{ID: id, Type: objectType(new, n, opt.Effective)}
		switch {
		case o == nil:
			od.Change = Added
		case n == nil:
			od.Change, od.Type = Removed, objectType(old, o, opt.Effective)
		default:
			od.Change = Changed
		}
		od.Fields = diffFields(of, nf, false)
		if len(od.Fields) > 0 || od.Change != Changed {
			r.Objects = append(r.Objects, od)
		}
	}
	op, np := paramSets(old), paramSets(new)
	for _, id := range unionIDs(keysOf(op), keysOf(np)) {
		o, n := op[id], np[id]
		pd := ObjectDiff{ID: id, Change: Changed}
		switch {
		case o == nil:
			pd.Change = Added
		case n == nil:
			pd.Change = Removed
		}
		pd.Fields = diffFields(o, n, definition.IsSecretKey(id))
		if len(pd.Fields) > 0 || pd.Change != Changed {
			r.Parameters = append(r.Parameters, pd)
		}
	}
	ov, nv := valueSets(old), valueSets(new)
	for _, id := range unionIDs(keysOf(ov), keysOf(nv)) {
		o, n := ov[id], nv[id]
		if o != nil && n != nil && equalValues(o.vals, n.vals) {
			continue
		}
		vd := ValueDiff{ID: id, Change: Changed}
		switch {
		case o == nil:
			vd.Change = Added
		case n == nil:
			vd.Change = Removed
		}
		secret := definition.IsSecretKey(id)
		if o != nil {
			vd.Old = diffValues(o.vals, secret)
		}
		if n != nil {
			vd.New = diffValues(n.vals, secret)
		}
		r.Values = append(r.Values, vd)
	}
	return r
}

// fieldEntry is one key's values and, for effective fields, its source.
type fieldEntry struct {
	vals []definition.Value
	from string
}

type fieldSet map[string]*fieldEntry

func objectFields(d *definition.Definition, o *definition.Object, effective bool) fieldSet {
	fs := fieldSet{"name": {vals: []definition.Value{{Str: o.Name}}}}
	if effective {
		e := d.Effective(o)
		for _, k := range e.Keys {
			f := e.Get(k)
			if len(f.Values) == 0 {
				continue
			}
			from := e.Origin(k)
			if from == o.ID {
				from = ""
			}
			fs[k] = &fieldEntry{vals: f.Values, from: from}
		}
		return fs
	}
	for _, f := range o.Fields {
		if _, dup := fs[f.Key]; !dup && len(f.Values) > 0 {
			fs[f.Key] = &fieldEntry{vals: f.Values}
		}
	}
	return fs
}

func objectType(d *definition.Definition, o *definition.Object, effective bool) string {
	if o == nil {
		return ""
	}
	if effective {
		return d.Effective(o).Type
	}
	return o.OwnType()
}

func paramSets(d *definition.Definition) map[string]fieldSet {
	m := map[string]fieldSet{}
	for _, p := range d.Parameters {
		if _, dup := m[p.ID]; dup {
			continue
		}
		fs := fieldSet{}
		for _, a := range p.Attrs {
			if _, dup := fs[a.Key]; !dup && len(a.Values) > 0 {
				fs[a.Key] = &fieldEntry{vals: a.Values}
			}
		}
		m[p.ID] = fs
	}
	return m
}

func valueSets(d *definition.Definition) map[string]*fieldEntry {
	m := map[string]*fieldEntry{}
	for _, v := range d.Values {
		if len(v.Values) == 0 {
			continue
		}
		if e := m[v.ID]; e != nil { // repeated key: the values add up, as in the API
			e.vals = append(e.vals, v.Values...)
			continue
		}
		m[v.ID] = &fieldEntry{vals: append([]definition.Value(nil), v.Values...)}
	}
	return m
}

// diffFields compares two field sets; secretAll masks every value (the
// attributes of a secret parameter), otherwise `*key` fields are masked.
func diffFields(old, new fieldSet, secretAll bool) []FieldDiff {
	var out []FieldDiff
	for _, k := range unionIDs(keysOf(old), keysOf(new)) {
		o, n := old[k], new[k]
		if o != nil && n != nil && equalValues(o.vals, n.vals) && o.from == n.from {
			continue
		}
		secret := secretAll && k != "type" && k != "description" || definition.IsSecretKey(k)
		fd := FieldDiff{Key: k, Change: Changed}
		switch {
		case o == nil:
			fd.Change = Added
		case n == nil:
			fd.Change = Removed
		}
		if o != nil {
			fd.Old, fd.OldFrom = diffValues(o.vals, secret), o.from
		}
		if n != nil {
			fd.New, fd.NewFrom = diffValues(n.vals, secret), n.from
		}
		out = append(out, fd)
	}
	return out
}

func equalValues(a, b []definition.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IsRef != b[i].IsRef || a[i].Str != b[i].Str || a[i].Ref != b[i].Ref {
			return false
		}
	}
	return true
}

func diffValues(vs []definition.Value, secret bool) []DiffValue {
	out := make([]DiffValue, len(vs))
	for i, v := range vs {
		switch {
		case v.IsRef:
			out[i] = DiffValue{Ref: v.Ref, IsRef: true}
		case secret:
			out[i] = DiffValue{Str: Masked}
		default:
			out[i] = DiffValue{Str: v.Str}
		}
	}
	return out
}

func objectIDs(d *definition.Definition) []string {
	ids := make([]string, 0, len(d.Objects))
	for _, o := range d.Objects {
		ids = append(ids, o.ID)
	}
	return ids
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// unionIDs returns the distinct ids of a and b, sorted.
func unionIDs(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Text renders the result for people: one line per object, parameter or
// value ("+" added, "-" removed, "~" changed), indented field lines below,
// and a summary. An equal result renders as "no differences".
func (r *DiffResult) Text() string {
	var b strings.Builder
	for _, o := range r.Objects {
		head := "object " + o.ID
		if o.Type != "" {
			head += " (" + o.Type + ")"
		}
		writeEntry(&b, o.Change, head, o.Fields)
	}
	for _, p := range r.Parameters {
		writeEntry(&b, p.Change, "parameter "+p.ID, p.Fields)
	}
	for _, v := range r.Values {
		fmt.Fprintf(&b, "%s value %s: %s\n", sign(v.Change), v.ID, changeText(v.Change, v.Old, v.New, "", ""))
	}
	b.WriteString(r.summary())
	return b.String()
}

func writeEntry(b *strings.Builder, change, head string, fields []FieldDiff) {
	fmt.Fprintf(b, "%s %s\n", sign(change), head)
	for _, f := range fields {
		fmt.Fprintf(b, "%s     %s: %s\n", sign(f.Change), f.Key, changeText(f.Change, f.Old, f.New, f.OldFrom, f.NewFrom))
	}
}

func sign(change string) string {
	switch change {
	case Added:
		return "+"
	case Removed:
		return "-"
	}
	return "~"
}

func changeText(change string, old, new []DiffValue, oldFrom, newFrom string) string {
	switch change {
	case Added:
		return valuesText(new, newFrom)
	case Removed:
		return valuesText(old, oldFrom)
	}
	return valuesText(old, oldFrom) + " -> " + valuesText(new, newFrom)
}

func valuesText(vs []DiffValue, from string) string {
	var s string
	if len(vs) == 1 {
		s = vs[0].String()
	} else {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.String()
		}
		s = "[" + strings.Join(parts, ", ") + "]"
	}
	if from != "" {
		s += " (from " + from + ")"
	}
	return s
}

func (r *DiffResult) summary() string {
	if r.Equal() {
		return "no differences\n"
	}
	count := func(n int, what string) string {
		if n == 1 {
			return "1 " + what
		}
		return fmt.Sprintf("%d %ss", n, what)
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, count(n, what))
		}
	}
	by := func(change string) (o, p, v int) {
		for _, x := range r.Objects {
			if x.Change == change {
				o++
			}
		}
		for _, x := range r.Parameters {
			if x.Change == change {
				p++
			}
		}
		for _, x := range r.Values {
			if x.Change == change {
				v++
			}
		}
		return
	}
	var groups []string
	for _, c := range []string{Added, Removed, Changed} {
		parts = parts[:0]
		o, p, v := by(c)
		add(o, "object")
		add(p, "parameter")
		add(v, "value")
		if len(parts) > 0 {
			groups = append(groups, c+" "+strings.Join(parts, ", "))
		}
	}
	return strings.Join(groups, "; ") + "\n"
}

// JSON renders the result as indented JSON (secrets masked, no HTML
// escaping).
func (r *DiffResult) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		Equal bool `json:"equal"`
		*DiffResult
	}{r.Equal(), r})
	if err != nil {
		return nil, fmt.Errorf("write diff: %w", err)
	}
	return b.Bytes(), nil
}
