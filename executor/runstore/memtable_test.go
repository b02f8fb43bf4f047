package runstore

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A kill between badger creating a memtable file and sizing it leaves the
// file empty; read-only mode cannot size it, so the reader works on a
// copy (as for a write log to replay), and the writer's next open works.
func TestOpenReadOnlyAfterAKillAtMemtableCreation(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenReadOnlyAfterAKilledWriter$")
	cmd.Env = append(os.Environ(), "DPL_STORE_KILLED_WRITER="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer: %v\n%s", err, out)
	}
	mems, _ := filepath.Glob(filepath.Join(dir, "db", "*.mem"))
	if len(mems) == 0 {
		t.Fatal("the killed writer left no memtable file: the case proves nothing")
	}
	// The memtable file as a kill between its creation and its sizing
	// leaves it (the crash test met it: "truncate …00001.mem: invalid
	// argument" from a read-only open).
	if err := os.Truncate(mems[0], 0); err != nil {
		t.Fatal(err)
	}
	before := hashTree(t, dir)
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatalf("OpenReadOnly after a kill at a memtable creation: %v", err)
	}
	if ro.tmpCopy == "" {
		t.Error("opened in place: the copy path is not covered")
	}
	ro.Close()
	sameTree(t, before, hashTree(t, dir))
	db, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after a kill at a memtable creation: %v", err)
	}
	db.Close()
}
