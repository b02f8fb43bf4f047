package expr

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpusDir = "/work/shared/corpus/files"

// TestCorpusExpressions scans every #{...} in the real definitions of the
// shared corpus. Each must either parse, or be one of the broken forms we
// know real files contain (nested #{, template placeholders with spaces),
// and every parsed one must evaluate against a scope that knows all names
// without error (valid date patterns, argument types our functions accept).
func TestCorpusExpressions(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("SKIPPED: corpus folder %s absent", corpusDir)
	}
	var values []string
	var collect func(v any)
	collect = func(v any) {
		switch v := v.(type) {
		case string:
			if strings.Contains(v, "#{") {
				values = append(values, v)
			}
		case []any:
			for _, e := range v {
				collect(e)
			}
		case map[string]any:
			for _, e := range v {
				collect(e)
			}
		}
	}
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var v any
		if json.Unmarshal(data, &v) == nil {
			collect(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(values) == 0 {
		t.Skip("SKIPPED: corpus holds no expressions")
	}
	exprs, bad := 0, 0
	for _, v := range values {
		segs, _ := Scan(v)
		for _, sg := range segs {
			exprs++
			if sg.Err == nil {
				if _, err := sg.Expr.Eval(anyScope{}); err != nil {
					t.Errorf("corpus expression %q: %v", sg.Text, err)
				}
				continue
			}
			bad++
			msg := sg.Err.Message()
			if !strings.Contains(msg, "nested #{") && !strings.Contains(msg, "unexpected name") {
				t.Errorf("corpus expression %q: %v", sg.Text, sg.Err)
			}
		}
	}
	t.Logf("%d field values, %d expressions, %d known-broken", len(values), exprs, bad)
}

// anyScope knows every name: `@...Time` fields are DateTimes, reference
// names are objects (with the same rule inside), anything else a string.
type anyScope struct{}

func (anyScope) ID() string { return "Obj" }

func (anyScope) Lookup(name string) (Value, error) {
	switch {
	case strings.HasPrefix(name, "@") && strings.HasSuffix(name, "Time"):
		return DateTime(myDateTime), nil
	case name == "node" || name == "input" || name == "output" || name == "runsOn" || name == "parent":
		return Obj(anyScope{}), nil
	}
	return String("value-of-" + name), nil
}
