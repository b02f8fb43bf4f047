package expr

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Expr is a parsed expression (the text between `#{` and `}`).
type Expr struct {
	src  string
	root Node
}

// Parse parses one expression. Unknown functions and wrong argument
// counts are reported here, with the offset of the function name.
func Parse(src string) (*Expr, error) {
	n, err := parseExpr(src)
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, root: n}, nil
}

// Source returns the expression text.
func (e *Expr) Source() string { return e.src }

// Root returns the syntax tree.
func (e *Expr) Root() Node { return e.root }

// Ref is a name an expression refers to: Path[0] is looked up in the
// scope, later elements are dotted traversal (`input.directoryPath`).
type Ref struct {
	Path   []string
	Offset int // of Path[0] inside the expression
}

// FuncUse is one call of a function.
type FuncUse struct {
	Name   string
	Offset int
}

// Refs returns every reference in source order (the longest dotted path
// of each chain).
func (e *Expr) Refs() []Ref {
	var out []Ref
	var walk func(n Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *Ident:
			out = append(out, Ref{Path: []string{n.Name}, Offset: n.P})
		case *Member:
			var path []string
			var x Node = n
			for {
				m, ok := x.(*Member)
				if !ok {
					break
				}
				path = append(path, m.Name)
				x = m.X
			}
			if id, ok := x.(*Ident); ok {
				path = append(path, id.Name)
				for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				out = append(out, Ref{Path: path, Offset: id.P})
			} else {
				walk(x)
			}
		case *Call:
			for _, a := range n.Args {
				walk(a)
			}
		case *Unary:
			walk(n.X)
		case *Binary:
			walk(n.L)
			walk(n.R)
		}
	}
	walk(e.root)
	return out
}

// Calls returns every function call in the expression.
func (e *Expr) Calls() []FuncUse {
	var out []FuncUse
	var walk func(n Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *Member:
			walk(n.X)
		case *Call:
			if n.Method && len(n.Args) > 0 {
				walk(n.Args[0])
				out = append(out, FuncUse{Name: n.Name, Offset: n.P})
				for _, a := range n.Args[1:] {
					walk(a)
				}
				return
			}
			out = append(out, FuncUse{Name: n.Name, Offset: n.P})
			for _, a := range n.Args {
				walk(a)
			}
		case *Unary:
			walk(n.X)
		case *Binary:
			walk(n.L)
			walk(n.R)
		}
	}
	walk(e.root)
	return out
}

// Eval evaluates the expression. Errors are *Error values carrying the
// offset of the failing node.
func (e *Expr) Eval(s Scope) (Value, error) {
	return eval(e.root, s)
}

func wrapAt(n Node, err error) error {
	var ee *Error
	if errors.As(err, &ee) {
		return err
	}
	return &Error{Offset: n.Pos(), Start: -1, Err: err}
}

func eval(n Node, s Scope) (Value, error) {
	switch n := n.(type) {
	case *Lit:
		return n.Val, nil
	case *Ident:
		if s == nil {
			return Value{}, &Error{Offset: n.P, Start: -1, Err: UnknownName(n.Name)}
		}
		v, err := s.Lookup(n.Name)
		if err != nil {
			return Value{}, wrapAt(n, err)
		}
		return v, nil
	case *Member:
		x, err := eval(n.X, s)
		if err != nil {
			return Value{}, err
		}
		return mapValues1(x, func(x Value) (Value, error) {
			if x.kind != KindObject {
				return Value{}, errorf(n.P, "cannot read field %q of a %s (only references to objects have fields)", n.Name, x.kind)
			}
			v, err := x.obj.Lookup(n.Name)
			if err != nil {
				return Value{}, wrapAt(n, fmt.Errorf("%s: %w", x.obj.ID(), err))
			}
			return v, nil
		})
	case *Unary:
		x, err := eval(n.X, s)
		if err != nil {
			return Value{}, err
		}
		return mapValues1(x, func(x Value) (Value, error) {
			num, ok := toNumber(x)
			if !ok {
				return Value{}, errorf(n.P, "cannot negate a %s", x.kind)
			}
			if num.kind == KindInt {
				return Int(-num.i), nil
			}
			return Double(-num.f), nil
		})
	case *Binary:
		l, err := eval(n.L, s)
		if err != nil {
			return Value{}, err
		}
		r, err := eval(n.R, s)
		if err != nil {
			return Value{}, err
		}
		if l.kind != KindList && r.kind != KindList {
			return binary(n, l, r)
		}
		var out []Value
		for _, a := range l.Items() {
			for _, b := range r.Items() {
				v, err := binary(n, a, b)
				if err != nil {
					return Value{}, err
				}
				out = append(out, v)
			}
		}
		return Value{kind: KindList, list: out}, nil
	case *Call:
		return evalCall(n, s)
	}
	return Value{}, errorf(n.Pos(), "unsupported expression node %T", n)
}

// mapValues1 applies f to a value, or to each element of a list.
func mapValues1(x Value, f func(Value) (Value, error)) (Value, error) {
	if x.kind != KindList {
		return f(x)
	}
	out := make([]Value, 0, len(x.list))
	for _, e := range x.list {
		v, err := f(e)
		if err != nil {
			return Value{}, err
		}
		out = append(out, v.Items()...)
	}
	return Value{kind: KindList, list: out}, nil
}

func evalCall(n *Call, s Scope) (Value, error) {
	f := funcs[n.Name]
	args := make([]Value, len(n.Args))
	hasList := false
	for i, a := range n.Args {
		v, err := eval(a, s)
		if err != nil {
			return Value{}, err
		}
		hasList = hasList || v.kind == KindList
		args[i] = v
	}
	if !hasList {
		return callFn(n, f, args)
	}
	// Map over every list argument (cartesian product), flattening results.
	var out []Value
	cur := make([]Value, len(args))
	var rec func(i int) error
	rec = func(i int) error {
		if i == len(args) {
			v, err := callFn(n, f, cur)
			if err != nil {
				return err
			}
			out = append(out, v.Items()...)
			return nil
		}
		for _, e := range args[i].Items() {
			cur[i] = e
			if err := rec(i + 1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(0); err != nil {
		return Value{}, err
	}
	return Value{kind: KindList, list: out}, nil
}

// callFn coerces args in place (callers pass a slice they own) and calls f.
func callFn(n *Call, f fn, args []Value) (Value, error) {
	for i, a := range args {
		c, err := coerce(a, f.params[i])
		if err != nil {
			return Value{}, errorf(n.Args[i].Pos(), "%s: argument %d: %v", n.Name, i+1, err)
		}
		args[i] = c
	}
	v, err := f.impl(args)
	if err != nil {
		return Value{}, errorf(n.P, "%s: %v", n.Name, err)
	}
	return v, nil
}

// coerce converts an argument to a parameter type. Field and parameter
// values arrive as strings, so a string holding a number or an ISO
// date-time is accepted where those are expected.
func coerce(v Value, want Kind) (Value, error) {
	if v.kind == want {
		return v, nil
	}
	switch want {
	case KindString:
		if v.kind == KindNull {
			break
		}
		return String(v.String()), nil
	case KindInt:
		switch v.kind {
		case KindString:
			if i, err := strconv.ParseInt(strings.TrimSpace(v.s), 10, 64); err == nil {
				return Int(i), nil
			}
		case KindDouble:
			if v.f == math.Trunc(v.f) && math.Abs(v.f) < 1<<53 {
				return Int(int64(v.f)), nil
			}
		}
	case KindDateTime:
		if v.kind == KindString {
			if t, ok := ParseDateTime(v.s); ok {
				return DateTime(t), nil
			}
		}
	}
	if v.kind == KindString {
		return Value{}, fmt.Errorf("want %s, got String %q", want, v.s)
	}
	return Value{}, fmt.Errorf("want %s, got %s", want, v.kind)
}

// ParseDateTime reads the service's DateTime literal form
// `YYYY-MM-DDTHH:MM:SS` (UTC); a date alone means midnight.
func ParseDateTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range [...]string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// toNumber returns v as an Int or Double value; numeric strings count.
func toNumber(v Value) (Value, bool) {
	switch v.kind {
	case KindInt, KindDouble:
		return v, true
	case KindString:
		t := strings.TrimSpace(v.s)
		if i, err := strconv.ParseInt(t, 10, 64); err == nil {
			return Int(i), true
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil && !strings.ContainsAny(t, "xXnN_") {
			return Double(f), true
		}
	}
	return Value{}, false
}

func asFloat(v Value) float64 {
	if v.kind == KindInt {
		return float64(v.i)
	}
	return v.f
}

func binary(n *Binary, l, r Value) (Value, error) {
	if n.Op == '+' && (l.kind == KindString || r.kind == KindString) {
		return String(l.String() + r.String()), nil
	}
	a, okA := toNumber(l)
	b, okB := toNumber(r)
	if !okA || !okB {
		bad := l
		if okA {
			bad = r
		}
		return Value{}, errorf(n.P, "operator '%c' needs numbers, got %s", n.Op, bad.kind)
	}
	if n.Op == '^' {
		return Double(math.Pow(asFloat(a), asFloat(b))), nil
	}
	if a.kind == KindInt && b.kind == KindInt {
		switch n.Op {
		case '+':
			return Int(a.i + b.i), nil
		case '-':
			return Int(a.i - b.i), nil
		case '*':
			return Int(a.i * b.i), nil
		case '/':
			if b.i == 0 {
				return Value{}, errorf(n.P, "division by zero")
			}
			if b.i == -1 {
				return Int(-a.i), nil // avoids the MinInt64 / -1 trap
			}
			return Int(a.i / b.i), nil
		}
	}
	x, y := asFloat(a), asFloat(b)
	switch n.Op {
	case '+':
		return Double(x + y), nil
	case '-':
		return Double(x - y), nil
	case '*':
		return Double(x * y), nil
	}
	return Double(x / y), nil
}
