package schemas

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dpl-dev/dpl/definition/period"
)

func violation(code, field, format string, a ...any) Violation {
	return Violation{Field: field, Index: -1, Code: code,
		Message: fmt.Sprintf("%s: '%s' %s", code, field, fmt.Sprintf(format, a...))}
}

var userFieldInfo = &FieldInfo{Name: "my…", Kind: KindAny, Multi: true, Evaluated: true}

// fieldViolation explains why the schema rejects the value of a field.
// known is false for a field the type does not have (unknownFields reports
// it); explained is false when the catalogue finds nothing wrong with the
// value, which would mean the schema and the catalogue disagree.
func fieldViolation(t *Type, field string, value any) (v Violation, known, explained bool) {
	fi, ok := t.Field(field)
	if !ok {
		if !IsUserField(field) {
			return Violation{}, false, false
		}
		fi = userFieldInfo
	}
	if field == "type" {
		if s, ok := value.(string); ok && s != t.Name {
			return violation(CodeInvalidValue, field, "is %q but the object is checked as %s", s, t.Name), true, true
		}
	}
	if list, ok := value.([]any); ok {
		switch {
		case len(list) == 0:
			return violation(CodeInvalidValue, field, "must not be an empty list"), true, true
		case !fi.Multi && len(list) > 1:
			return violation(CodeInvalidValue, field, "takes a single value, but the list has %d", len(list)), true, true
		}
		for i, e := range list {
			if msg, hint := elemProblem(fi, e); msg != "" {
				v := violation(CodeInvalidValue, field, "element %d: %s", i+1, msg)
				v.Index, v.Hint = i, hint
				return v, true, true
			}
		}
	} else if msg, hint := elemProblem(fi, value); msg != "" {
		v := violation(CodeInvalidValue, field, "%s", msg)
		v.Hint = hint
		return v, true, true
	}
	if field == "type" {
		// The schema's const: a one-element list of the right name, say.
		return violation(CodeInvalidValue, field, "value must be %q", t.Name), true, true
	}
	return Violation{}, true, false
}

// elemProblem describes what is wrong with one value of a field, or
// returns "" when the value is acceptable.
func elemProblem(fi *FieldInfo, e any) (msg, hint string) {
	switch v := e.(type) {
	case string:
		if fi.Kind == KindRef {
			return fmt.Sprintf(`must be a reference such as {"ref": "SomeId"}, not the string %q`, v), refHint(v)
		}
		if v == "" {
			return "must not be empty", ""
		}
		p := scalarPattern(fi)
		if p == "" || patternFor(p).MatchString(v) {
			return "", ""
		}
		return kindMessage(fi, v)
	case map[string]any:
		id, isRef := v["ref"].(string)
		if !isRef || len(v) != 1 {
			return `holds an object that is not a reference; a reference is {"ref": "<id>"}`, ""
		}
		if id == "" {
			return "holds a reference with an empty id", ""
		}
		if fi.Kind != KindRef && fi.Kind != KindAny {
			return fmt.Sprintf("takes a %s value, not a reference to %q", kindNoun[fi.Kind], id), ""
		}
		return "", ""
	case nil:
		return "must be a string, not null", ""
	default:
		return fmt.Sprintf("must be a JSON string (write \"%v\", not %v)", v, v), ""
	}
}

func refHint(s string) string {
	if s == "" || strings.Contains(s, "#{") {
		return ""
	}
	return fmt.Sprintf(`write {"ref": %q}`, s)
}

var kindNoun = map[Kind]string{
	KindString: "string", KindInteger: "integer", KindDouble: "number", KindBoolean: "boolean",
	KindPeriod: "period", KindDateTime: "datetime", KindEnum: "enumerated", KindRegion: "region",
	KindBidPrice: "bid price", KindPeriodOrInteger: "period",
}

func kindMessage(fi *FieldInfo, v string) (string, string) {
	switch fi.Kind {
	case KindInteger:
		return fmt.Sprintf("value %q is not an integer", v), ""
	case KindDouble:
		return fmt.Sprintf("value %q is not a number", v), ""
	case KindBoolean:
		return fmt.Sprintf("value %q is not a boolean (true or false)", v), ""
	case KindPeriod, KindPeriodOrInteger:
		msg := fmt.Sprintf(`value %q is not a period such as "15 minutes" or "1 day" (units: minutes, hours, days, weeks, months, years)`, v)
		if fi.Kind == KindPeriodOrInteger {
			msg = fmt.Sprintf(`value %q is not a period such as "2 hours" or a number of hours`, v)
		}
		if _, err := period.Parse(v); err == nil {
			return msg, "seconds are not a pipeline period unit"
		}
		return msg, ""
	case KindDateTime:
		return fmt.Sprintf("value must be a literal datetime value (YYYY-MM-DDTHH:MM:SS, UTC), not %q", v), ""
	case KindEnum:
		hint := ""
		if s := Suggest(v, fi.Enum); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		return fmt.Sprintf("value %q is not one of: %s", v, strings.Join(fi.Enum, ", ")), hint
	case KindRegion:
		return fmt.Sprintf("value %q is not an AWS region code such as us-east-1", v), ""
	case KindBidPrice:
		return fmt.Sprintf("value %q is not a bid price (a decimal such as 0.50, or OnDemandPrice)", v), ""
	}
	return fmt.Sprintf("value %q is not valid", v), ""
}

var patterns sync.Map // pattern -> *regexp.Regexp

func patternFor(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(p)
	patterns.Store(p, re)
	return re
}

var (
	allFieldsOnce sync.Once
	allFields     map[string][]string // field name -> types that have it
	allNames      []string
)

// TypesWithField returns the types that have a writable field of that
// name, in catalogue order (nil when none): for fields of Default and
// typeless templates, which any type may inherit.
func TypesWithField(name string) []string { return append([]string(nil), typesWithField(name)...) }

// AllFieldNames returns every writable field name of every type, sorted
// (candidates for "did you mean" on Default and templates).
func AllFieldNames() []string {
	typesWithField("")
	return append([]string(nil), allNames...)
}

func typesWithField(name string) []string {
	allFieldsOnce.Do(func() {
		allFields = map[string][]string{}
		for _, t := range catalog.Types {
			for _, n := range t.names {
				if allFields[n] == nil {
					allNames = append(allNames, n)
				}
				allFields[n] = append(allFields[n], t.Name)
			}
		}
		sort.Strings(allNames)
	})
	return allFields[name]
}

func unknownFields(t *Type, inst map[string]any) []Violation {
	var out []Violation
	for _, k := range sortedKeys(inst) {
		if t.Knows(k) {
			continue
		}
		var v Violation
		switch {
		case strings.HasPrefix(k, "@"):
			v = violation(CodeReadOnlyField, k, "is a runtime field set by the service; a definition cannot write it")
		case len(typesWithField(k)) > 0:
			v = violation(CodeUnknownField, k, "is not allowed on %s", t.Name)
			if s := Suggest(k, t.names); s != "" {
				v.Hint = fmt.Sprintf("did you mean %q?", s)
			}
		default:
			v = violation(CodeUnknownField, k, "is not a field of %s", t.Name)
			if s := Suggest(k, t.names); s != "" {
				v.Hint = fmt.Sprintf("did you mean %q?", s)
			} else if strings.HasPrefix(strings.TrimPrefix(k, "*"), "my") {
				v.Hint = `user-defined fields start with "my" and an upper-case letter or "_", e.g. "myNote"`
			}
		}
		out = append(out, v)
	}
	return out
}

func missingFields(t *Type, inst map[string]any) []Violation {
	var out []Violation
	for _, f := range t.Required {
		if _, ok := inst[f]; !ok {
			out = append(out, violation(CodeMissingRequired, f, "is required for %s", t.Name))
		}
	}
	return out
}

func constraintViolations(t *Type, c constraint, inst map[string]any) []Violation {
	if c.pair != nil {
		_, a := inst[c.pair.A]
		_, b := inst[c.pair.B]
		if !a || !b {
			return nil
		}
		v := violation(CodeInvalidCombination, c.pair.B, "cannot be used together with '%s'", c.pair.A)
		v.Hint = c.pair.Note
		return []Violation{v}
	}
	var present []string
	for _, f := range c.group.Fields {
		if _, ok := inst[f]; ok {
			present = append(present, f)
		}
	}
	switch {
	case len(present) == 0:
		quoted := make([]string, len(c.group.Fields))
		for i, f := range c.group.Fields {
			quoted[i] = "'" + f + "'"
		}
		v := Violation{Field: c.group.Fields[0], Index: -1, Code: CodeMissingRequired,
			Message: fmt.Sprintf("%s: one of %s is required for %s", CodeMissingRequired, strings.Join(quoted, " or "), t.Name)}
		return []Violation{v}
	case len(present) > 1 && c.group.Exclusive:
		v := violation(CodeInvalidCombination, present[1], "cannot be used together with '%s'; give only one", present[0])
		return []Violation{v}
	}
	return nil
}

// extraChecks runs the checks JSON Schema does not express well: numeric
// and period ranges, and the warnings (deprecated types and fields,
// runtime fields, combinations the samples use although the guide forbids
// them). Fields that already have an error are not range-checked.
func extraChecks(t *Type, inst map[string]any, drop []string, inherited func(string) bool, prior []Violation) []Violation {
	var out []Violation
	own := func(k string) bool { return inherited == nil || !inherited(k) }
	if t.Deprecated != "" && own("type") {
		out = append(out, warn(CodeDeprecatedType, "type", "%s is deprecated: %s", t.Name, t.Deprecated))
	}
	for k, val := range inst {
		fi, ok := t.byName[k]
		if !ok || len(drop) > 0 && contains(drop, k) {
			continue
		}
		if fi.Runtime && own(k) {
			out = append(out, warn(CodeRuntimeField, k, "is set by the service at runtime; a definition should not write it"))
		}
		if fi.Deprecated != "" && own(k) {
			out = append(out, warn(CodeDeprecatedField, k, "is deprecated: %s", fi.Deprecated))
		}
		if fi.Min != nil && !hasViolation(prior, k) {
			if v, bad := rangeProblem(fi, val); bad {
				out = append(out, v)
			}
		}
		if !hasViolation(prior, k) {
			if v, bad := boundsProblem(fi, val); bad {
				out = append(out, v)
			}
		}
	}
	for _, p := range t.Exclusive {
		if !p.Warning {
			continue
		}
		_, a := inst[p.A]
		_, b := inst[p.B]
		a = a && !contains(drop, p.A)
		b = b && !contains(drop, p.B)
		if a && b && (own(p.A) || own(p.B)) {
			v := warn(CodeInvalidCombination, p.B, "should not be used together with '%s'", p.A)
			v.Hint = p.Note
			out = append(out, v)
		}
	}
	return out
}

func warn(code, field, format string, a ...any) Violation {
	v := violation(code, field, format, a...)
	v.Warning = true
	return v
}

func hasViolation(vs []Violation, field string) bool {
	for _, v := range vs {
		if v.Field == field && !v.Warning {
			return true
		}
	}
	return false
}

// rangeProblem checks the literal values of a bounded field.
func rangeProblem(fi *FieldInfo, val any) (Violation, bool) {
	vals, ok := val.([]any)
	if !ok {
		vals = []any{val}
	}
	for _, e := range vals {
		s, ok := e.(string)
		if !ok || strings.Contains(s, "#{") {
			continue
		}
		if fi.Kind == KindPeriod {
			p, err := period.Parse(s)
			if err != nil {
				continue
			}
			mins := p.Approx().Minutes()
			if mins < *fi.Min || mins > *fi.Max {
				return violation(CodeInvalidValue, fi.Name, "value %q is out of range: must be between %s and %s",
					s, minutesText(*fi.Min), minutesText(*fi.Max)), true
			}
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			continue // OnDemandPrice, or a kind error reported elsewhere
		}
		lo, hi := *fi.Min, *fi.Max
		if (fi.Exclusive && (x <= lo || x >= hi)) || (!fi.Exclusive && (x < lo || x > hi)) {
			rel := "between %g and %g inclusive"
			if fi.Exclusive {
				rel = "greater than %g and less than %g"
			}
			return violation(CodeInvalidValue, fi.Name, "value %q is out of range: must be "+rel, s, lo, hi), true
		}
	}
	return Violation{}, false
}

func minutesText(m float64) string {
	switch {
	case m >= 365*24*60 && int(m)%(365*24*60) == 0:
		return plural(int(m)/(365*24*60), "year")
	case m >= 24*60 && int(m)%(24*60) == 0:
		return plural(int(m)/(24*60), "day")
	case m >= 60 && int(m)%60 == 0:
		return plural(int(m)/60, "hour")
	}
	return plural(int(m), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
