package definition

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// OverrideFile is the Pos.File of values that came from --set flags, so
// diagnostics about them say where they came from: "--set:2:27" is the
// second --set flag, its value starting at column 27.
const OverrideFile = "--set"

// Override is one parsed `ObjectId.field=value` (a --set flag).
type Override struct {
	ObjectID string
	Key      string
	Value    Value
	Arg      string // the flag as given, for messages (secret values masked)
}

// OverrideError is a --set flag that cannot be applied (bad syntax or an
// unknown object). It is a usage error, not a definition diagnostic.
type OverrideError struct {
	Arg  string // the flag, secret value masked
	Msg  string
	Hint string // "did you mean ...", optional
}

func (e *OverrideError) Error() string {
	s := fmt.Sprintf("--set %s: %s", e.Arg, e.Msg)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// ParseOverride reads `ObjectId.field=value`. The object id is everything
// before the last dot of the part before the first '=' (ids may hold dots,
// field names do not); the value is everything after it. A value written
// as {"ref":"Id"} is a reference. n is the 1-based flag number, used for
// positions.
func ParseOverride(arg string, n int) (Override, error) {
	lhs, val, ok := strings.Cut(arg, "=")
	shown := maskArg(arg)
	if !ok {
		return Override{}, &OverrideError{Arg: shown, Msg: "want ObjectId.field=value"}
	}
	dot := strings.LastIndex(lhs, ".")
	if dot <= 0 || dot == len(lhs)-1 {
		return Override{}, &OverrideError{Arg: shown, Msg: "want ObjectId.field=value (no object id or field before '=')"}
	}
	id, key := lhs[:dot], lhs[dot+1:]
	if key == "id" {
		return Override{}, &OverrideError{Arg: shown, Msg: "an object's id cannot be overridden"}
	}
	col := utf8.RuneCountInString(lhs) + 2 // 1-based column of the value
	v := Value{Str: val, Pos: MakePos(OverrideFile, n, col)}
	if strings.HasPrefix(strings.TrimSpace(val), "{") {
		var ref struct {
			Ref *string `json:"ref"`
		}
		dec := json.NewDecoder(strings.NewReader(val))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ref); err == nil && ref.Ref != nil {
			if *ref.Ref == "" {
				return Override{}, &OverrideError{Arg: shown, Msg: `empty reference (want {"ref":"ObjectId"})`}
			}
			v = Value{Ref: *ref.Ref, IsRef: true, Pos: v.Pos}
		}
	}
	return Override{ObjectID: id, Key: key, Value: v, Arg: shown}, nil
}

// maskArg hides the value of a secret (`*password`) override.
func maskArg(arg string) string {
	lhs, _, ok := strings.Cut(arg, "=")
	if !ok {
		return arg
	}
	if dot := strings.LastIndex(lhs, "."); dot >= 0 && IsSecretKey(lhs[dot+1:]) {
		return lhs + "=********"
	}
	return arg
}

// ApplyOverrides applies --set flags to d before validation: each replaces
// the named object's own field (creating it when absent); flags naming the
// same object and field build a list, in order, as repeated --param flags
// do. `name` sets the object's name. It returns the applied overrides (for
// display) or an *OverrideError for the first bad flag; d is then unchanged.
func ApplyOverrides(d *Definition, args []string) ([]Override, error) {
	if len(args) == 0 {
		return nil, nil
	}
	d.index()
	ovs := make([]Override, 0, len(args))
	for i, a := range args {
		ov, err := ParseOverride(a, i+1)
		if err != nil {
			return nil, err
		}
		if d.byID[ov.ObjectID] == nil {
			e := &OverrideError{Arg: ov.Arg, Msg: fmt.Sprintf("%s has no object with id %q", d.File, ov.ObjectID)}
			if s := closestID(d, ov.ObjectID); s != "" {
				e.Hint = fmt.Sprintf("did you mean %q?", s)
			}
			return nil, e
		}
		ovs = append(ovs, ov)
	}
	// Group by object and key, keeping the order of first appearance.
	type target struct{ id, key string }
	vals := map[target][]Value{}
	var order []target
	for _, ov := range ovs {
		t := target{ov.ObjectID, ov.Key}
		if _, seen := vals[t]; !seen {
			order = append(order, t)
		}
		vals[t] = append(vals[t], ov.Value)
	}
	for _, t := range order {
		o := d.byID[t.id]
		vs := vals[t]
		if t.key == "name" {
			o.Name, o.HasName, o.NamePos = vs[len(vs)-1].Str, true, vs[len(vs)-1].Pos
			continue
		}
		f := &Field{Key: t.key, Values: vs, List: len(vs) > 1, Owner: o.ID,
			Pos: Pos{File: OverrideFile, Line: vs[0].Pos.Line, Col: 1}}
		if old := o.Field(t.key); old != nil {
			*old = *f
		} else {
			o.Fields = append(o.Fields, f)
		}
	}
	// Inheritance must be recomputed with the new fields.
	for _, o := range d.Objects {
		o.eff = nil
	}
	d.resolved = false
	return ovs, nil
}

// closestID suggests an existing object id for a mistyped one.
func closestID(d *Definition, id string) string {
	ids := make([]string, 0, len(d.Objects))
	for _, o := range d.Objects {
		ids = append(ids, o.ID)
	}
	sort.Strings(ids)
	best, bestD := "", 1<<30
	for _, c := range ids {
		if strings.EqualFold(c, id) {
			return c
		}
		if dd := EditDistance(strings.ToLower(id), strings.ToLower(c)); dd < bestD {
			best, bestD = c, dd
		}
	}
	if bestD <= max(2, utf8.RuneCountInString(id)/3) {
		return best
	}
	return ""
}

// DisplayValue renders an override's value for people: references as
// {"ref":"Id"}, secrets masked.
func (ov Override) DisplayValue() string {
	if IsSecretKey(ov.Key) {
		return "********"
	}
	return ov.Value.String()
}
