package validate

import (
	"strings"
	"unicode/utf8"

	"github.com/dpl-dev/dpl/definition"
)

// exprName is a name used inside #{...}: a bare identifier or a function.
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

// scanExpressions finds every #{...} in s and the names each one uses.
// It is the one place expression syntax is read for validation; the full
// parser in definition/expr evaluates them at run time.
func scanExpressions(s string) (names []exprName, problems []exprProblem) {
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "#{")
		if j < 0 {
			break
		}
		start := i + j
		k := start + 2
		depth, quote := 0, byte(0)
	scan:
		for ; k < len(s); k++ {
			ch := s[k]
			switch {
			case quote != 0:
				if ch == quote {
					quote = 0
				}
			case ch == '\'' || ch == '"':
				quote = ch
			case ch == '{':
				depth++
			case ch == '}':
				if depth == 0 {
					break scan
				}
				depth--
			}
		}
		if k >= len(s) {
			problems = append(problems, exprProblem{start, "\"#{\" is never closed by \"}\""})
			break
		}
		body := s[start+2 : k]
		if strings.TrimSpace(body) == "" {
			problems = append(problems, exprProblem{start, "\"#{}\" holds no expression"})
		}
		names = append(names, exprNames(body, start+2)...)
		i = k + 1
	}
	return names, problems
}

// exprNames lexes an expression body for identifiers: member names after a
// dot are skipped, names followed by "(" are functions.
func exprNames(body string, base int) []exprName {
	var out []exprName
	quote := byte(0)
	for i := 0; i < len(body); i++ {
		ch := body[i]
		if quote != 0 {
			if ch == quote {
				quote = 0
			}
			continue
		}
		if ch == '\'' || ch == '"' {
			quote = ch
			continue
		}
		if !(ch == '@' || ch == '*' || ch == '_' || isLetter(ch)) {
			continue
		}
		j := i + 1
		for j < len(body) && (isLetter(body[j]) || body[j] == '_' || (body[j] >= '0' && body[j] <= '9')) {
			j++
		}
		name := body[i:j]
		prev := strings.TrimRight(body[:i], " \t")
		member := strings.HasSuffix(prev, ".")
		rest := strings.TrimLeft(body[j:], " \t")
		if name != "@" && name != "*" && !member {
			out = append(out, exprName{Name: name, Off: base + i, Func: strings.HasPrefix(rest, "(")})
		}
		i = j - 1
	}
	return out
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

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
		names, problems := scanExpressions(v.Str)
		for _, p := range problems {
			c.errorf(at{pos: offsetPos(v, p.Off), id: o.ID, field: f.Key}, codeExpression, "%s", p.Msg)
		}
		for _, n := range names {
			w := at{pos: offsetPos(v, n.Off), id: o.ID, field: f.Key}
			switch {
			case n.Func:
				if fs := functionNames(); fs != nil && !contains(fs, n.Name) {
					if s := suggest(n.Name, fs); s != "" {
						w.hint = didYouMean(s)
					}
					c.errorf(w, codeExpression, "%q is not an expression function", n.Name)
				}
			case strings.HasPrefix(strings.TrimPrefix(n.Name, "*"), "my"):
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
	p.Col += 1 + utf8.RuneCountInString(v.Str[:off])
	return p
}
