package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deterministicRuns are commands whose output must be byte-identical from
// run to run (no map order, hint order or scheduling shows through): over
// files with many objects, findings and hints.
func deterministicRuns(t *testing.T) [][]string {
	t.Helper()
	valid, _ := filepath.Glob("../../fixtures/valid/*.json")
	invalid, _ := filepath.Glob("../../definition/testdata/invalid/*.json")
	if len(valid) < 2 || len(invalid) < 10 {
		t.Fatalf("fixtures missing: %d valid, %d invalid", len(valid), len(invalid))
	}
	all := append(append([]string{}, valid...), invalid...)
	var runs [][]string
	for _, o := range []string{"text", "json", "sarif"} {
		runs = append(runs, append([]string{"validate", "--output", o}, all...))
	}
	for _, f := range valid {
		runs = append(runs,
			[]string{"plan", "--count", "3", "--now", "2026-01-01T00:00:00", f},
			[]string{"plan", "--output", "json", "--count", "3", "--now", "2026-01-01T00:00:00", f},
			[]string{"graph", f}, []string{"graph", "--format", "mermaid", f},
			[]string{"fmt", f},
			[]string{"convert", "--to", "api", f}, []string{"convert", "--to", "cloudformation", f},
		)
	}
	runs = append(runs, []string{"diff", valid[0], valid[1]}, []string{"diff", "--effective", "--output", "json", valid[0], valid[1]})
	return runs
}

// TestOutputIsDeterministic runs every command twice in-process and twice
// as the built binary and compares the bytes.
func TestOutputIsDeterministic(t *testing.T) {
	bin := dplBinary(t)
	for _, args := range deterministicRuns(t) {
		name := strings.Join(args, " ")
		first := runCLIAll(t, args...)
		if second := runCLIAll(t, args...); first != second {
			t.Errorf("dpl %s: two in-process runs differ:\n--- first\n%s\n--- second\n%s", name, first, second)
		}
		var outs [2][]byte
		for i := range outs {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(cmd.Environ(), "NO_COLOR=1")
			out, err := cmd.CombinedOutput()
			if code := exitCode(err); code < 0 {
				t.Fatalf("dpl %s: %v", name, err)
			}
			outs[i] = out
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("dpl %s: two runs of the binary differ:\n--- first\n%s\n--- second\n%s", name, outs[0], outs[1])
		}
	}
}
