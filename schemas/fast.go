package schemas

import "regexp"

// fastValid decides, without allocating, whether the type's JSON Schema
// accepts inst. It mirrors the generated schema keyword for keyword (the
// same catalogue, the same regular expressions) and exists because
// santhosh-tekuri/jsonschema/v5 allocates on every schema node (about
// 70 µs for a typical activity), while `dpl validate` checks thousands of
// objects. When it answers false, Validate runs the real schema, whose
// error tree is explained; TestFastPathAgreesWithSchema checks that both
// give the same verdict on the corpus, the fixtures and mutations of them.
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
