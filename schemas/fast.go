package schemas

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// fastValid decides, without allocating, whether the type's JSON Schema
// accepts inst. It mirrors the generated schema keyword for keyword (the
// same catalogue, the same regular expressions); when it answers false,
// violationsOf says why. TestFastPathAgreesWithSchema,
// TestCorpusAgreesWithSchema and FuzzValidate check both against the real
// schema (run by santhosh-tekuri/jsonschema in the tests) on the corpus,
// the fixtures and mutations of them.
//
// Keys in drop are treated as absent.
func fastValid(t *Type, inst map[string]any, drop []string) bool {
	has := func(k string) bool {
		_, ok := inst[k]
		return ok && (len(drop) == 0 || !contains(drop, k))
	}
	for k, v := range inst {
		if len(drop) > 0 && contains(drop, k) {
			continue
		}
		fi, ok := t.byName[k]
		switch {
		case k == "type":
			if s, ok := v.(string); !ok || s != t.Name {
				return false
			}
			continue
		case ok:
		case IsUserField(k):
			fi = userFieldInfo
		default:
			return false
		}
		if !fastValue(fi, v) {
			return false
		}
	}
	for _, r := range t.Required {
		if !has(r) {
			return false
		}
	}
	for _, g := range t.OneOf {
		n := 0
		for _, f := range g.Fields {
			if has(f) {
				n++
			}
		}
		if n == 0 || (g.Exclusive && n > 1) {
			return false
		}
	}
	for _, p := range t.Exclusive {
		if p.Warning {
			continue
		}
		if has(p.A) && has(p.B) {
			return false
		}
	}
	return true
}

func fastValue(fi *FieldInfo, v any) bool {
	if list, ok := v.([]any); ok {
		if len(list) == 0 || (!fi.Multi && len(list) > 1) {
			return false
		}
		for _, e := range list {
			if !fastScalar(fi, e) {
				return false
			}
		}
		return true
	}
	return fastScalar(fi, v)
}

func fastScalar(fi *FieldInfo, v any) bool {
	switch x := v.(type) {
	case string:
		if fi.Kind == KindRef || x == "" {
			return false
		}
		re := fi.re()
		return re == nil || re.MatchString(x)
	case map[string]any:
		if fi.Kind != KindRef && fi.Kind != KindAny || len(x) != 1 {
			return false
		}
		id, ok := x["ref"].(string)
		return ok && id != ""
	}
	return false
}

// re returns the compiled scalar pattern of the field, nil for free strings.
func (f *FieldInfo) re() *regexp.Regexp { return f.pattern }

// violationsOf explains why fastValid rejected inst (dropped keys already
// removed): every field whose value the schema's property would reject, the
// unknown fields (additionalProperties), the missing required fields and the
// one-of groups and exclusive pairs that fail (allOf), in the words of the
// catalogue. It is the JSON Schema's verdict without running the schema:
// santhosh-tekuri/jsonschema builds an error tree of about 20 KB per failing
// object (1 GB for a 23 MB definition with 48,000 errors) and its package
// initialisation costs every dpl command 6 ms. The tests keep the generated
// schema as the oracle: TestCorpusAgreesWithSchema and FuzzValidate compare
// this with the explained error tree of the real schema.
func violationsOf(t *Type, inst map[string]any) []Violation {
	var out []Violation
	unknown := false
	for _, k := range sortedKeys(inst) {
		v := inst[k]
		fi, ok := t.byName[k]
		switch {
		case k == "type":
			if s, ok := v.(string); ok && s == t.Name {
				continue
			}
		case ok:
		case IsUserField(k):
			fi = userFieldInfo
		default:
			unknown = true
			continue
		}
		if k != "type" && fastValue(fi, v) {
			continue
		}
		viol, known, explained := fieldViolation(t, k, v)
		if !explained && known {
			// The catalogue and fastValue disagree; never lose the finding.
			viol = violation(CodeInvalidValue, k, "is not a valid value")
		}
		if known {
			out = append(out, viol)
		}
	}
	if unknown {
		out = append(out, unknownFields(t, inst)...)
	}
	out = append(out, missingFields(t, inst)...)
	for _, c := range constraintsOf(t) {
		out = append(out, constraintViolations(t, c, inst)...)
	}
	return out
}

// checkJSONValues refuses Go values that JSON decoding never produces
// ([]string, say): the instance must be strings, {"ref": id} maps, lists of
// those, or the other JSON kinds.
func checkJSONValues(t *Type, inst map[string]any) error {
	var bad func(v any) (any, bool)
	bad = func(v any) (any, bool) {
		switch x := v.(type) {
		case nil, string, bool, float64, json.Number:
			return nil, false
		case []any:
			for _, e := range x {
				if b, ok := bad(e); ok {
					return b, true
				}
			}
			return nil, false
		case map[string]any:
			for _, e := range x {
				if b, ok := bad(e); ok {
					return b, true
				}
			}
			return nil, false
		}
		return v, true
	}
	for _, v := range inst {
		if _, ok := bad(v); ok {
			for _, k := range sortedKeys(inst) { // the first in order, for a stable message
				if b, ok := bad(inst[k]); ok {
					return fmt.Errorf("schemas: validate %s: field %q holds a Go %T, not a JSON-decoded value", t.Name, k, b)
				}
			}
		}
	}
	return nil
}
