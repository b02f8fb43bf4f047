package validate

import (
	"fmt"
	"strings"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
)

// substitution is a field value whose expressions were evaluated before
// checking: what was written, what it became and the parameters it used.
type substitution struct {
	raw, value string
	params     []string // `myHours = "abc" (its default, line 12)`
}

// note is the text appended to a finding about a substituted value, so the
// message says which parameter to fix and where its value came from.
func (s substitution) note() string {
	n := fmt.Sprintf(" (%q after substituting %q", s.value, s.raw)
	if len(s.params) > 0 {
		n += "; parameter " + strings.Join(s.params, ", parameter ")
	}
	return n + ")"
}

// staticValue evaluates a string value whose expressions need nothing that
// exists only at run time: parameters (--param, values, defaults), literals,
// functions of those and other fields built from them, as the service
// substitutes them when the definition is put. ok is false when the value
// needs run time (@scheduledStartTime, node, ...), cannot be evaluated (the
// cause is reported elsewhere), is a list, or involves a secret, whose
// value must never reach a message.
func (c *checker) staticValue(o *definition.Object, s string) (substitution, bool) {
	if !strings.Contains(s, "#{") {
		return substitution{}, false
	}
	names, problems := c.scans.scan(s)
	if len(problems) > 0 {
		return substitution{}, false
	}
	sub := substitution{raw: s}
	for _, n := range names {
		if n.Func {
			continue
		}
		if strings.HasPrefix(n.Name, "@") || n.Name == "node" || strings.HasPrefix(n.Name, "*") {
			return substitution{}, false
		}
		if p := c.res.Param(n.Name); p != nil {
			if p.Secret() {
				return substitution{}, false
			}
			if p.HasValue() && len(p.Values) == 1 {
				sub.params = append(sub.params, fmt.Sprintf("%s = %q from %s", p.ID, p.Values[0], p.Describe()))
			}
		}
	}
	v, err := c.res.Eval(s, c.res.Scope(o, nil))
	if err != nil || v.IsList() {
		return substitution{}, false
	}
	sub.value = v.String()
	if v.Kind() == expr.KindDateTime {
		sub.value = v.Time().UTC().Format(dateTimeLayout)
	}
	if strings.Contains(sub.value, "#{") || strings.TrimSpace(sub.value) == "" {
		// Empty: a values section of blanks is a form to fill in, not a
		// value to judge (the samples ship such forms).
		return substitution{}, false
	}
	return sub, true
}

// paramUses lists, per parameter id, the fields that read it (`Greet.command
// (line 20)`), in file order; computed once.
func (c *checker) paramUses() map[string][]string {
	if c.uses != nil {
		return c.uses
	}
	c.uses = map[string][]string{}
	for _, o := range c.d.Objects {
		for _, f := range o.Fields {
			for _, v := range f.Values {
				if v.IsRef || !strings.Contains(v.Str, "#{") {
					continue
				}
				names, _ := c.scans.scan(v.Str)
				seen := map[string]bool{}
				for _, n := range names {
					p := c.res.Param(n.Name)
					if n.Func || p == nil || seen[p.ID] {
						continue
					}
					seen[p.ID] = true
					use := o.ID + "." + f.Key
					if v.Pos.IsValid() {
						use += fmt.Sprintf(" (line %d)", v.Pos.Line)
					}
					c.uses[p.ID] = append(c.uses[p.ID], use)
				}
			}
		}
	}
	return c.uses
}
