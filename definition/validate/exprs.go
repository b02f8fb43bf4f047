package validate

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
)

// exprName is a name used inside #{...}: the head of a reference path
// (`myParam`, `input` in `input.directoryPath`, `@scheduledStartTime`) or a
// function.
type exprName struct {
	Name string
	Off  int // byte offset in the field value
	Func bool
}

// exprProblem is a syntax problem inside a value's expressions.
type exprProblem struct {
	Off int
	Msg string
}

// scanExpressions finds every #{...} in s with the expression parser of
// definition/expr (balanced braces and quotes, grammar, known functions
// and their arity) and returns the names each one uses. It is the one
// place expression syntax is read for validation.
func scanExpressions(s string) (names []exprName, problems []exprProblem) {
	segs, _ := expr.Scan(s)
	for _, seg := range segs {
		if seg.Err != nil {
			problems = append(problems, exprProblem{seg.Err.FieldOffset(), seg.Err.Msg})
			continue
		}
		if strings.TrimSpace(seg.Text) == "" {
			problems = append(problems, exprProblem{seg.Start, "\"#{}\" holds no expression"})
			continue
		}
		for _, r := range seg.Expr.Refs() {
			names = append(names, exprName{Name: r.Path[0], Off: seg.ExprStart + r.Offset})
		}
		for _, c := range seg.Expr.Calls() {
			names = append(names, exprName{Name: c.Name, Off: seg.ExprStart + c.Offset, Func: true})
		}
	}
	return names, problems
}

// exprScans remembers scanExpressions per string for one validation: the
// schema check (substitution) and the expression check read the same
// values, and generated definitions repeat them. Safe for concurrent use;
// it stops adding at exprScanLimit strings so that memory stays bounded.
type exprScans struct {
	m sync.Map // string -> exprScan
	n atomic.Int32
}

type exprScan struct {
	names    []exprName
	problems []exprProblem
}

const exprScanLimit = 8192

// scan is scanExpressions through the cache; the slices are shared and
// must not be modified.
func (c *exprScans) scan(s string) ([]exprName, []exprProblem) {
	if v, ok := c.m.Load(s); ok {
		r := v.(exprScan)
		return r.names, r.problems
	}
	names, problems := scanExpressions(s)
	if c.n.Load() < exprScanLimit {
		c.n.Add(1)
		c.m.Store(s, exprScan{names, problems})
	}
	return names, problems
}

// checkExpressions checks the #{...} in a field's string values: balanced
// braces, known functions and declared parameters (or user fields).
func (c *checker) checkExpressions(o *definition.Object, f *definition.Field) {
	if f.Key == "type" {
		return
	}
	for _, v := range f.Values {
		if v.IsRef || !strings.Contains(v.Str, "#{") {
			continue
		}
		names, problems := c.scans.scan(v.Str)
		for _, p := range problems {
			c.errorf(at{pos: offsetPos(v, p.Off), id: o.ID, field: f.Key}, codeExpression, "%s", p.Msg)
		}
		for _, n := range names {
			w := at{pos: offsetPos(v, n.Off), id: o.ID, field: f.Key}
			switch {
			case n.Func:
				// The parser already refused unknown functions.
			case strings.HasPrefix(strings.TrimPrefix(n.Name, "*"), "my"):
				if c.params[n.Name] == nil && c.params["*"+n.Name] != nil {
					// AWS's own Redshift template reads *myRedshiftPassword as
					// #{myRedshiftPassword}; the service resolves it, so do we.
					c.warnf(w, codeUnstarredSecret, "#{%s} reads the secret parameter *%s without its star; write #{*%s}", n.Name, n.Name, n.Name)
					continue
				}
				if c.params[n.Name] == nil && !c.userField(n.Name) {
					if s := suggest(n.Name, c.paramIDs()); s != "" {
						w.hint = didYouMean(s)
					}
					c.undeclared(w, "#{%s} is neither a declared parameter nor a user-defined field", n.Name)
				}
			}
		}
	}
}

// userField reports whether any object defines the user field key; an
// expression may read the field of the object it is evaluated on, which
// (through Default or parents) is any object that inherits it.
func (c *checker) userField(key string) bool {
	if c.userKeys == nil {
		c.userKeys = map[string]bool{}
		for _, o := range c.d.Objects {
			for _, f := range o.Fields {
				if definition.IsUserKey(strings.TrimPrefix(f.Key, "*")) {
					c.userKeys[f.Key] = true
				}
			}
		}
	}
	return c.userKeys[key]
}

// offsetPos is the position of byte off inside a string value that starts
// at v.Pos (the opening quote). Escapes before off shift the column, so it
// is exact for the common unescaped case.
func offsetPos(v definition.Value, off int) definition.Pos {
	p := v.Pos
	if !p.IsValid() || off > len(v.Str) || strings.ContainsAny(v.Str[:off], "\\\"\n\t") {
		return p
	}
	return definition.MakePos(p.File, int(p.Line), int(p.Col)+1+utf8.RuneCountInString(v.Str[:off]))
}
