package expr

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// Segment is one `#{...}` found in a field value.
type Segment struct {
	Start     int    // offset of '#' in the field value
	End       int    // offset just past the closing '}' (len(value) when unterminated)
	ExprStart int    // offset of the expression text (just after "#{")
	Text      string // the expression text between the braces
	Expr      *Expr  // parsed expression; nil when Err is set
	Err       *Error // syntax error (Start set so FieldOffset works), or nil
}

// Scan finds every `#{...}` in a field value and parses each one without
// evaluating anything, for the validator. It returns all segments, and
// the first syntax error (also recorded in its segment) or nil. A `#` not
// followed by `{` is literal text: the service documents no escapes.
// The closing brace is the first `}` outside a quoted string.
func Scan(s string) ([]Segment, error) {
	var segs []Segment
	var first error
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "#{")
		if k < 0 {
			break
		}
		start := i + k
		exprStart := start + 2
		end := closingBrace(s, exprStart)
		seg := Segment{Start: start, ExprStart: exprStart}
		if end < 0 {
			seg.End = len(s)
			seg.Text = s[exprStart:]
			seg.Err = &Error{Offset: 0, Start: exprStart, Msg: "unterminated #{ (missing closing })"}
		} else {
			seg.End = end + 1
			seg.Text = s[exprStart:end]
			e, err := Parse(seg.Text)
			if err != nil {
				pe := &Error{Start: exprStart, Err: err}
				var ee *Error
				if errors.As(err, &ee) {
					c := *ee
					c.Start = exprStart
					pe = &c
				}
				seg.Err = pe
			} else {
				seg.Expr = e
			}
		}
		if seg.Err != nil && first == nil {
			first = seg.Err
		}
		segs = append(segs, seg)
		i = seg.End
	}
	return segs, first
}

// closingBrace returns the index of the `}` ending an expression that
// starts at from, skipping braces inside quotes. When quotes are
// unbalanced it falls back to the first `}` so the parser can report the
// unterminated string; -1 means there is no `}` at all.
func closingBrace(s string, from int) int {
	var quote byte
	for i := from; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '}':
			return i
		}
	}
	if k := strings.IndexByte(s[from:], '}'); k >= 0 {
		return from + k
	}
	return -1
}

// Template is a parsed field value: literal text with `#{...}`
// expressions. Templates are immutable and safe for concurrent use.
type Template struct {
	src   string
	parts []part
	whole bool // the value is exactly one expression
}

type part struct {
	lit  string
	expr *Expr
	pos  int // ExprStart of the expression
}

var (
	templateCache     sync.Map // string -> *Template
	templateCacheSize atomic.Int64
)

const maxCachedTemplates = 1 << 14

// ParseTemplate parses a field value (cached: the same text returns the
// same *Template). The error is the first syntax error, an *Error whose
// Start and Offset locate it.
func ParseTemplate(s string) (*Template, error) {
	if t, ok := templateCache.Load(s); ok {
		return t.(*Template), nil
	}
	segs, err := Scan(s)
	if err != nil {
		return nil, err
	}
	t := &Template{src: s}
	prev := 0
	for _, sg := range segs {
		if sg.Start > prev {
			t.parts = append(t.parts, part{lit: s[prev:sg.Start]})
		}
		t.parts = append(t.parts, part{expr: sg.Expr, pos: sg.ExprStart})
		prev = sg.End
	}
	if prev < len(s) {
		t.parts = append(t.parts, part{lit: s[prev:]})
	}
	t.whole = len(t.parts) == 1 && t.parts[0].expr != nil
	if templateCacheSize.Load() < maxCachedTemplates {
		if _, loaded := templateCache.LoadOrStore(s, t); !loaded {
			templateCacheSize.Add(1)
		}
	}
	return t, nil
}

// Source returns the field value the template was parsed from.
func (t *Template) Source() string { return t.src }

// IsLiteral reports whether the value holds no expression.
func (t *Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.expr != nil {
			return false
		}
	}
	return true
}

// Exprs returns the template's expressions in order.
func (t *Template) Exprs() []*Expr {
	var out []*Expr
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Eval substitutes every expression. A value that is exactly one
// expression yields that expression's value unchanged (a DateTime, a
// number, or a list, so a field can become a list); otherwise the result
// is a String, or a list of Strings when an expression yields a list
// (the text around it is repeated for each element, several lists give
// every combination).
func (t *Template) Eval(s Scope) (Value, error) {
	if t.whole {
		v, err := t.parts[0].expr.Eval(s)
		if err != nil {
			return Value{}, t.locate(err, t.parts[0].pos)
		}
		return v, nil
	}
	var sb strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			sb.WriteString(p.lit)
			continue
		}
		v, err := p.expr.Eval(s)
		if err != nil {
			return Value{}, t.locate(err, p.pos)
		}
		switch v.kind {
		case KindString:
			sb.WriteString(v.s)
		case KindList:
			return t.expand(s)
		default:
			sb.WriteString(v.String())
		}
	}
	return String(sb.String()), nil
}

// expand is the slow path of Eval for templates where an expression
// yields a list: every combination of list elements gives one string.
func (t *Template) expand(s Scope) (Value, error) {
	out := []string{""}
	for _, p := range t.parts {
		if p.expr == nil {
			for j := range out {
				out[j] += p.lit
			}
			continue
		}
		v, err := p.expr.Eval(s)
		if err != nil {
			return Value{}, t.locate(err, p.pos)
		}
		items := v.Items()
		next := make([]string, 0, len(out)*len(items))
		for _, o := range out {
			for _, it := range items {
				next = append(next, o+it.String())
			}
		}
		out = next
	}
	return Strings(out...), nil
}

// EvalString evaluates and renders the result as one string (a list
// renders as "[a, b]"; use Eval to keep lists).
func (t *Template) EvalString(s Scope) (string, error) {
	v, err := t.Eval(s)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func (t *Template) locate(err error, pos int) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Start = pos
		return &c
	}
	return &Error{Offset: 0, Start: pos, Err: err}
}

// EvalString parses and evaluates a field value in one step.
func EvalString(value string, s Scope) (string, error) {
	t, err := ParseTemplate(value)
	if err != nil {
		return "", err
	}
	return t.EvalString(s)
}
