package definition_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
)

// FuzzParse feeds arbitrary bytes through the reader, inheritance, the
// reference graph and the validator: nothing may panic, a SyntaxError must
// carry a position, and every diagnostic must be located. Seeds are the
// fixtures and, when present, the shared corpus.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata", "../fixtures", "/work/shared/corpus/files"} {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".yaml")) {
				if data, err := os.ReadFile(p); err == nil {
					f.Add(data)
				}
			}
			return nil
		})
	}
	f.Add([]byte(`{"objects": [{"id": "A", "parent": {"ref": "A"}}]}`))
	f.Add([]byte(`{"pipelineObjects": [{"id": "A", "name": "A", "fields": [{"key": "type", "stringValue": "Schedule"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The YAML/CloudFormation path (intrinsics included) must hold too.
		if d, err := definition.ParseSource("fuzz.yaml", data, definition.ReadOptions{CloudFormation: map[string]string{"Env": "x"}}); err != nil {
			if se, ok := err.(*definition.SyntaxError); !ok || se.Pos.Line < 1 {
				t.Fatalf("YAML: %T %v", err, err)
			}
		} else {
			_ = validate.Definition(d, validate.Options{})
		}
		d, err := definition.Parse("fuzz.json", data)
		if err != nil {
			se, ok := err.(*definition.SyntaxError)
			if !ok {
				t.Fatalf("non-syntax error %T: %v", err, err)
			}
			if !se.Pos.IsValid() {
				t.Fatalf("syntax error without position: %v", se)
			}
			_ = se.Excerpt()
			return
		}
		ds := validate.Definition(d, validate.Options{Strict: true})
		for _, dg := range ds {
			if dg.Message == "" {
				t.Fatalf("diagnostic without message: %+v", dg)
			}
		}
		g := definition.NewGraph(d)
		order, ok := g.TopoOrder()
		if ok && len(order) > len(d.Objects) {
			t.Fatalf("order longer than the object list")
		}
	})
}
