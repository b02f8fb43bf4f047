package validate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition"
)

// paramTypes are the parameter types the service knows, spelled as documented.
var paramTypes = []string{"String", "Integer", "Double", "AWS::S3::ObjectKey"}

// paramAttrs are the documented parameter attributes plus those seen in
// the guide's examples (watermark, helpText).
var paramAttrs = []string{"type", "description", "optional", "allowedValues", "default", "isArray", "watermark", "helpText", "helpLink"}

const maxParameters = 50

type paramValue struct {
	vals []definition.Value
	list bool
	pos  definition.Pos
	src  string // "values" or "--param"
}

// checkParameters checks declarations, the values section and the
// command-line overrides (§1.4, §1.5, §4.4 item 11). Findings are filed
// under the parameter's id.
func (c *checker) checkParameters() {
	for _, p := range c.d.Parameters {
		if p.ID == "" {
			continue // reported by the reader
		}
		w := at{pos: p.IDPos, id: p.ID, field: "id"}
		if c.params[p.ID] != nil {
			c.errorf(w, codeParameter, "parameter %q is declared twice", p.ID)
			continue
		}
		c.params[p.ID] = p
		if !strings.HasPrefix(strings.TrimPrefix(p.ID, "*"), "my") {
			w.hint = "e.g. my" + strings.ToUpper(p.ID[:1]) + p.ID[1:]
			c.errorf(w, codeParameter, "parameter ids must start with \"my\" (or \"*my\" for secret values)")
		}
		c.checkParamAttrs(p)
	}
	if len(c.d.Parameters) > maxParameters {
		p := c.d.Parameters[maxParameters]
		c.limit(at{pos: p.IDPos, id: p.ID, field: "id"}, "the definition declares %d parameters; the service allows %d", len(c.d.Parameters), maxParameters)
	}

	values := map[string]*paramValue{}
	for _, v := range c.d.Values {
		if c.params[v.ID] == nil {
			w := at{pos: v.Pos, id: v.ID, field: "values"}
			if s := suggest(v.ID, c.paramIDs()); s != "" {
				w.hint = didYouMean(s)
			}
			c.undeclared(w, "a value is given for %q, which is not a declared parameter", v.ID)
			continue
		}
		if values[v.ID] == nil {
			values[v.ID] = &paramValue{vals: v.Values, list: v.List, pos: v.Pos, src: "values"}
		}
	}
	for id, vs := range c.opts.Values {
		p := c.params[id]
		if p == nil {
			continue // the command reports unknown --param ids before validating
		}
		pv := &paramValue{list: len(vs) > 1, pos: p.IDPos, src: "--param"}
		for _, s := range vs {
			pv.vals = append(pv.vals, definition.Value{Str: s, Pos: p.IDPos})
		}
		values[id] = pv
	}
	for _, p := range c.d.Parameters {
		if c.params[p.ID] != p {
			continue
		}
		c.checkParamValues(p, values[p.ID])
	}
}

// undeclared reports the use of an undeclared parameter. A definition
// without any parameters section may get its declarations from a separate
// file (put-pipeline-definition --parameter-objects), so that is a warning;
// once the file declares parameters, a missing one is a defect.
func (c *checker) undeclared(w at, format string, args ...any) {
	if len(c.d.Parameters) == 0 {
		w.hint = joinHint(w.hint, "the definition declares no parameters; declare it in \"parameters\" unless it comes with --parameter-objects")
		c.warnf(w, codeUnknownParam, format, args...)
		return
	}
	c.errorf(w, codeUnknownParam, format, args...)
}

// substitute replaces #{myParam} references to parameters with a known
// single value, as the service does when the definition is put. ok is
// false when an expression remains.
func (c *checker) substitute(s string) (string, bool) {
	if !strings.Contains(s, "#{") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "#{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", false
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		v, ok := c.values[name]
		if !ok || strings.Contains(v, "#{") {
			return "", false
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

func (c *checker) paramIDs() []string {
	ids := make([]string, 0, len(c.params))
	for id := range c.params {
		ids = append(ids, id)
	}
	sort.Strings(ids) // suggest keeps the first of equally close names
	return ids
}

// UnknownParams returns the ids in values that d does not declare, for
// commands to reject --param typos before validating.
func UnknownParams(d *definition.Definition, values map[string][]string) []string {
	var out []string
	for id := range values {
		if d.Parameter(id) == nil {
			out = append(out, id)
		}
	}
	return out
}

func (c *checker) checkParamAttrs(p *definition.Parameter) {
	for _, a := range p.Attrs {
		w := at{pos: a.Pos, id: p.ID, field: a.Key}
		known := false
		for _, k := range paramAttrs {
			if a.Key == k {
				known = true
			}
		}
		if !known {
			if s := suggest(a.Key, paramAttrs); s != "" {
				w.hint = didYouMean(s)
				c.warnf(w, codeParameter, "is not a documented parameter attribute")
			}
			continue
		}
		switch a.Key {
		case "type":
			t := a.First().Str
			canon := ""
			for _, pt := range paramTypes {
				if strings.EqualFold(pt, t) {
					canon = pt
				}
			}
			switch {
			case canon == "":
				if s := suggest(t, paramTypes); s != "" {
					w.hint = didYouMean(s)
				}
				c.errorf(w, codeParameter, "%q is not a parameter type (String, Integer, Double or AWS::S3::ObjectKey)", t)
			case canon != t:
				w.hint = "write " + canon
				c.warnf(w, codeParameter, "%q differs in case from the documented type %s", t, canon)
			}
		case "optional", "isArray":
			if v := a.First().Str; !definition.EqualFoldAny(v, "true", "false") {
				c.errorf(w, codeParameter, "%s must be \"true\" or \"false\"", show(p.ID, v))
			}
		}
	}
}

func paramBool(p *definition.Parameter, key string) bool {
	v, _ := p.Attr(key)
	return strings.EqualFold(v, "true")
}

func (c *checker) checkParamValues(p *definition.Parameter, pv *paramValue) {
	if pv == nil {
		if def := p.AttrField("default"); def != nil {
			pv = &paramValue{vals: def.Values, list: def.List, pos: def.Pos, src: "default"}
		}
	}
	if pv == nil || len(pv.vals) == 0 {
		if !paramBool(p, "optional") {
			// A definition is often a template whose values come with
			// put-pipeline-definition, so this is only an error when the
			// caller supplied values (a concrete run) or asked for --strict.
			w := at{pos: p.IDPos, id: p.ID, field: "values"}
			msg := fmt.Sprintf("parameter %q has no value and no default, and is not optional", p.ID)
			if uses := c.paramUses()[p.ID]; len(uses) > 0 {
				if len(uses) > 3 {
					uses = append(uses[:3:3], fmt.Sprintf("%d more", len(uses)-3))
				}
				msg += "; it is read by " + strings.Join(uses, ", ")
			}
			if len(c.opts.Values) > 0 || c.opts.Strict {
				c.errorf(w, codeMissingValue, "%s", msg)
			} else {
				w.hint = "give one with --param " + p.ID + "=VALUE; an error with --strict"
				c.warnf(w, codeMissingValue, "%s", msg)
			}
		}
		return
	}
	if len(pv.vals) == 1 {
		c.values[p.ID] = pv.vals[0].Str
	}
	if len(pv.vals) > 1 && !paramBool(p, "isArray") {
		c.errorf(at{pos: pv.pos, id: p.ID, field: pv.src}, codeParamValue,
			"gives %d values for %q, which is not an array parameter (isArray \"true\")", len(pv.vals), p.ID)
	}
	typ, _ := p.Attr("type")
	var allowed []string
	if af := p.AttrField("allowedValues"); af != nil {
		for _, v := range af.Values {
			allowed = append(allowed, v.Str)
		}
	}
	for _, v := range pv.vals {
		if hasExpr(v.Str) {
			continue
		}
		w := at{pos: v.Pos, id: p.ID, field: pv.src}
		if !w.pos.IsValid() {
			w.pos = pv.pos
		}
		if len(allowed) > 0 && !contains(allowed, v.Str) {
			c.errorf(w, codeParamValue, "%s is not one of the allowedValues of %q (%s)", show(p.ID, v.Str), p.ID, strings.Join(allowed, ", "))
		}
		s := strings.TrimSpace(v.Str)
		switch {
		case strings.EqualFold(typ, "Integer"):
			if _, err := strconv.ParseInt(s, 10, 64); err != nil {
				c.errorf(w, codeParamValue, "%s is not an Integer (parameter %q)", show(p.ID, v.Str), p.ID)
			}
		case strings.EqualFold(typ, "Double"):
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				c.errorf(w, codeParamValue, "%s is not a Double (parameter %q)", show(p.ID, v.Str), p.ID)
			}
		case strings.EqualFold(typ, "AWS::S3::ObjectKey"):
			if !strings.HasPrefix(strings.ToLower(s), "s3://") {
				c.warnf(w, codeParamValue, "%s does not look like an S3 location (s3://bucket/key) for parameter %q", show(p.ID, v.Str), p.ID)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
