package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAcceptedShapes: every definition under definition/testdata/valid is
// what the service accepts and runs, so validate reports nothing about it,
// not even a warning, also with --strict. Each fixture stands for a class
// of real definitions that dpl once refused or warned about (issue 14):
// scriptUri with scriptArgument and stage, type Default on Default,
// runsOn on Default, optional parameters without a value, long EMR steps
// and bootstrap actions, values built from parameters.
func TestAcceptedShapes(t *testing.T) {
	files, err := filepath.Glob("../testdata/valid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures under ../testdata/valid: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, strict := range []bool{false, true} {
				r, err := Bytes(path, data, Options{Now: testNow, Strict: strict})
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Diagnostics) != 0 {
					t.Errorf("strict=%v: want no diagnostics, got:\n%s", strict, dump(r.Diagnostics))
				}
			}
		})
	}
}
