package schemas_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/schemas"
)

const corpusDir = "../../shared/corpus/files"

// effectiveInstance turns an object's effective fields into the JSON shape
// schemas.Validate takes, and reports which fields were inherited.
func effectiveInstance(d *definition.Definition, o *definition.Object) (map[string]any, map[string]bool) {
	e := d.Effective(o)
	inst := map[string]any{"id": o.ID, "name": o.Name}
	inherited := map[string]bool{}
	for _, k := range e.Keys {
		f := e.Get(k)
		vals := make([]any, len(f.Values))
		for i, v := range f.Values {
			if v.IsRef {
				vals[i] = map[string]any{"ref": v.Ref}
			} else {
				vals[i] = v.Str
			}
		}
		if len(vals) == 1 && !f.List {
			inst[k] = vals[0]
		} else {
			inst[k] = vals
		}
		if e.Origin(k) != o.ID {
			inherited[k] = true
		}
	}
	return inst, inherited
}

func corpusFiles(t testing.TB) []string {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not present at %s: %v", corpusDir, err)
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// knownDefect explains a violation that is a real defect of a corpus file
// (not of the schemas), or returns "".
func knownDefect(file, id string, inst map[string]any, v schemas.Violation) string {
	if s, ok := inst[v.Field].(string); ok && strings.Contains(s, "${") && strings.HasPrefix(file, "python__etl__templates") {
		return "arthur-redshift-etl template placeholder, rendered by the tool before upload"
	}
	if file == "samples__kinesis__kinesis-to-s3.json" && id == "DefaultSchedule" && v.Field == "period" {
		return `"15 Period" is not a period; the service would reject it`
	}
	return ""
}

// TestCorpus validates every typed object of every corpus file that parses.
// Objects with an unknown type and files that do not parse are counted, not
// failed (the validator reports those). Errors outside knownCorpusErrors fail.
func TestCorpus(t *testing.T) {
	var objects, checked, unknownTypes, badFiles, defects int
	for _, file := range corpusFiles(t) {
		d, err := definition.ParseFile(file)
		if err != nil || d == nil {
			badFiles++
			continue
		}
		d.Resolve()
		for _, o := range d.Objects {
			objects++
			typ := d.Effective(o).Type
			if typ == "" {
				continue // Default and typeless templates
			}
			inst, inherited := effectiveInstance(d, o)
			vs, err := schemas.ValidateWith(typ, inst, schemas.Options{Inherited: func(f string) bool { return inherited[f] }})
			if err != nil {
				unknownTypes++
				t.Logf("%s: %s: %v", filepath.Base(file), o.ID, err)
				continue
			}
			checked++
			for _, v := range vs {
				why := knownDefect(filepath.Base(file), o.ID, inst, v)
				switch {
				case v.Warning:
					t.Logf("warning %s: %s: %s", filepath.Base(file), o.ID, v)
				case why != "":
					defects++
					t.Logf("known defect %s: %s: %s (%s)", filepath.Base(file), o.ID, v, why)
				default:
					t.Errorf("%s: %s (%s): %s", filepath.Base(file), o.ID, typ, v)
				}
			}
		}
	}
	t.Logf("%d objects, %d typed objects checked, %d with unknown types, %d files not parsed, %d known defects",
		objects, checked, unknownTypes, badFiles, defects)
}

// TestCorpusAgreesWithSchema checks the allocation-free pre-check against
// the JSON Schema on corpus objects (up to 4 per type) and on mutations of
// each of their fields.
func TestCorpusAgreesWithSchema(t *testing.T) {
	n := 0
	perType := map[string]int{}
	for _, file := range corpusFiles(t) {
		d, err := definition.ParseFile(file)
		if err != nil || d == nil {
			continue
		}
		d.Resolve()
		for _, o := range d.Objects {
			typ := d.Effective(o).Type
			if _, ok := schemas.TypeInfo(typ); !ok {
				continue
			}
			if perType[typ]++; perType[typ] > 4 {
				continue
			}
			inst, _ := effectiveInstance(d, o)
			for _, m := range append([]map[string]any{inst}, mutations(inst)...) {
				n++
				fast, _ := schemas.ValidateWith(typ, m, schemas.Options{})
				slow, _ := schemas.ValidateWithSchema(typ, m, schemas.Options{})
				if errorsOf(fast) != errorsOf(slow) {
					t.Errorf("%s %s: pre-check and schema disagree on %v:\nfast: %s\nslow: %s", filepath.Base(file), o.ID, m, errorsOf(fast), errorsOf(slow))
				}
			}
		}
	}
	t.Logf("%d instances compared", n)
}

func errorsOf(vs []schemas.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.String() + "\n")
	}
	return b.String()
}

// mutations returns variants of inst, each broken (or not) in one way.
func mutations(inst map[string]any) []map[string]any {
	var out []map[string]any
	edit := func(k string, v any) {
		m := make(map[string]any, len(inst))
		for k2, v2 := range inst {
			m[k2] = v2
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		out = append(out, m)
	}
	for k, v := range inst {
		if k == "id" {
			continue
		}
		edit(k, nil)
		edit(k, "")
		edit(k, []any{})
		edit(k, []any{v, v})
		edit(k, map[string]any{"ref": "X"})
		edit(k, "x y")
		edit(k, "#{myValue}")
		edit(k, 3.0)
	}
	edit("myExtra", []any{"a", map[string]any{"ref": "B"}})
	edit("unknownField", "x")
	return out
}
