package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedStoreIsReported: every command that opens the state store
// says the store is damaged and what to do, with exit 2 — no panic, no
// "is a dpl run using it?" guess.
func TestDamagedStoreIsReported(t *testing.T) {
	bin := dplBinary(t)
	state := t.TempDir()
	def := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(def, []byte(`{"objects":[{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg"},
 {"id":"A","name":"A","type":"ShellCommandActivity","command":"true"}]}`), 0o644)
	if out, err := exec.Command(bin, "run", "--headless", "--state-dir", state, def).CombinedOutput(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	if err := os.Truncate(filepath.Join(state, "db", "MANIFEST"), 5); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"runs"}, {"events"}, {"run", "--headless", def}} {
		cmd := exec.Command(bin, append(args, "--state-dir", state)...)
		out, err := cmd.CombinedOutput()
		if code := exitCode(err); code != 2 {
			t.Errorf("dpl %s: exit %d, want 2\n%s", args[0], code, out)
		}
		s := string(out)
		if !strings.Contains(s, "damaged") || strings.Contains(s, "panic") || strings.Contains(s, "using it") || strings.Contains(s, "another dpl") {
			t.Errorf("dpl %s: %s", args[0], s)
		}
	}
}
