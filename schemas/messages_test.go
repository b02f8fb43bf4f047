package schemas

import (
	"strings"
	"testing"
)

// TestNoRawMessages breaks every field of every valid instance in many ways
// and checks that no jsonschema wording leaks into the messages (every
// failure is explained from the catalogue).
func TestNoRawMessages(t *testing.T) {
	seen := map[string]int{}
	for _, name := range TypeNames() {
		base := instance(name)
		muts := []map[string]any{base}
		for k, v := range base {
			for _, nv := range []any{nil, "", []any{}, []any{v, v}, map[string]any{"ref": "X"}, map[string]any{"x": "X"}, map[string]any{"ref": 3.0}, "x y", 3.0, true, []any{3.0}, []any{[]any{"a"}}, map[string]any{}} {
				m := map[string]any{}
				for k2, v2 := range base {
					m[k2] = v2
				}
				m[k] = nv
				muts = append(muts, m)
			}
		}
		for _, m := range muts {
			vs, _ := ValidateWithSchema(name, m, Options{})
			for _, v := range vs {
				raw := strings.Contains(v.Message, "expected") || strings.Contains(v.Message, "pattern") ||
					strings.Contains(v.Message, "missing properties") || strings.Contains(v.Message, "not valid") ||
					strings.Contains(v.Message, "allowed") && v.Code != CodeUnknownField
				if raw || v.Message == "" || v.Code == "" {
					seen[v.Message]++
				}
			}
		}
	}
	for m, n := range seen {
		t.Errorf("%d× raw message: %s", n, m)
	}
}
