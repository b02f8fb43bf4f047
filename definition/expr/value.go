package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a Value.
type Kind uint8

const (
	KindNull Kind = iota // the zero Value; never produced by a successful evaluation
	KindString
	KindInt
	KindDouble
	KindDateTime
	KindList
	KindObject
)

var kindNames = [...]string{"null", "String", "Integer", "Double", "DateTime", "List", "Object"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Object is a value that has fields of its own: a pipeline object reached
// through a reference field (`input`, `runsOn`, `node`, `parent`). Dotted
// traversal (`input.directoryPath`) looks names up in it. An object renders
// as its id when substituted into a string.
type Object interface {
	Scope
	ID() string
}

// Value is the result of evaluating an expression. The zero Value is null.
// Lists are always flat: they never contain lists.
type Value struct {
	kind Kind
	s    string
	i    int64
	f    float64
	t    time.Time
	list []Value
	obj  Object
}

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Int returns an integer value.
func Int(i int64) Value { return Value{kind: KindInt, i: i} }

// Double returns a double value.
func Double(f float64) Value { return Value{kind: KindDouble, f: f} }

// DateTime returns a DateTime value; the time's location is its zone.
func DateTime(t time.Time) Value { return Value{kind: KindDateTime, t: t} }

// Obj returns an object value.
func Obj(o Object) Value { return Value{kind: KindObject, obj: o} }

// List returns a list value; nested lists are flattened into it.
func List(vs ...Value) Value {
	out := make([]Value, 0, len(vs))
	for _, v := range vs {
		if v.kind == KindList {
			out = append(out, v.list...)
		} else {
			out = append(out, v)
		}
	}
	return Value{kind: KindList, list: out}
}

// Strings returns a list of string values.
func Strings(ss ...string) Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = String(s)
	}
	return Value{kind: KindList, list: out}
}

// Kind returns the value's type.
func (v Value) Kind() Kind { return v.kind }

// IsList reports whether the value is a list.
func (v Value) IsList() bool { return v.kind == KindList }

// Str returns the string of a String value ("" otherwise).
func (v Value) Str() string { return v.s }

// Int returns the integer of an Integer value (0 otherwise).
func (v Value) Int() int64 { return v.i }

// Float returns the number of a Double value (0 otherwise).
func (v Value) Float() float64 { return v.f }

// Time returns the time of a DateTime value (zero otherwise).
func (v Value) Time() time.Time { return v.t }

// Items returns the elements of a list, or the value itself as a
// one-element slice when it is not a list.
func (v Value) Items() []Value {
	if v.kind == KindList {
		return v.list
	}
	return []Value{v}
}

// Object returns the object of an Object value (nil otherwise).
func (v Value) Object() Object { return v.obj }

// String renders the value the way the service substitutes it into text:
// doubles like Java (`4.0`, `0.5`, `1.0E10`), DateTimes as
// `yyyy-MM-dd'T'HH:mm:ss` in their own zone, objects as their id and lists
// as `[a, b]`.
func (v Value) String() string {
	switch v.kind {
	case KindString:
		return v.s
	case KindInt:
		return strconv.FormatInt(v.i, 10)
	case KindDouble:
		return FormatDouble(v.f)
	case KindDateTime:
		return formatDefault(v.t)
	case KindObject:
		return v.obj.ID()
	case KindList:
		parts := make([]string, len(v.list))
		for i, e := range v.list {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return ""
}

// StringList renders every element of a list (or the single value) as text.
func (v Value) StringList() []string {
	items := v.Items()
	out := make([]string, len(items))
	for i, e := range items {
		out[i] = e.String()
	}
	return out
}

// GoString is used by %#v in test failures.
func (v Value) GoString() string { return fmt.Sprintf("expr.%s(%q)", v.kind, v.String()) }

// Equal reports whether two values are the same type and value (DateTimes:
// same instant and same zone name).
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindString:
		return v.s == w.s
	case KindInt:
		return v.i == w.i
	case KindDouble:
		return v.f == w.f || (math.IsNaN(v.f) && math.IsNaN(w.f))
	case KindDateTime:
		return v.t.Equal(w.t) && v.t.Location().String() == w.t.Location().String()
	case KindObject:
		return v.obj.ID() == w.obj.ID()
	case KindList:
		if len(v.list) != len(w.list) {
			return false
		}
		for i := range v.list {
			if !v.list[i].Equal(w.list[i]) {
				return false
			}
		}
		return true
	}
	return true
}

// FormatDouble renders a float64 like Java's Double.toString, which is how
// the service prints doubles: at least one digit after the point, and
// scientific notation outside [1e-3, 1e7).
func FormatDouble(f float64) string { return formatJava(f, 64) }

// FormatFloat renders a float32 like Java's Float.toString (Hive FLOAT
// columns): the same layout with the shortest digits of a float32.
func FormatFloat(f float32) string { return formatJava(float64(f), 32) }

func formatJava(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	// Shortest digits in scientific form, then Java's layout: d.dddE[-]x.
	s := strconv.FormatFloat(f, 'e', -1, bits)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
