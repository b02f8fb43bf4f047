package runstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// hashTree maps every file under dir to the SHA-256 of its bytes.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for name, h := range before {
		switch a, ok := after[name]; {
		case !ok:
			t.Errorf("%s was removed", name)
		case a != h:
			t.Errorf("%s changed", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s was created", name)
		}
	}
}

func writeSome(t *testing.T, db *DB) {
	t.Helper()
	if err := db.PutPipeline(&Pipeline{ID: "df-A", Name: "a", Created: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutActivation(&Activation{Pipeline: "df-A", Seq: 1, Hash: "h", State: ActRunning}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write("df-A", 1, Change{Instances: []*Instance{{ID: "@X_1", Component: "X", Status: "FINISHED"}},
		Events: []Event{{Seq: 1, Data: []byte(`{"event":"status"}`)}}}); err != nil {
		t.Fatal(err)
	}
}

// readBack checks what writeSome wrote, and that writes are refused.
func readBack(t *testing.T, db *DB) {
	t.Helper()
	if !db.ReadOnly() {
		t.Error("ReadOnly() = false")
	}
	ins, err := db.Instances("df-A", 1)
	if err != nil || len(ins) != 1 || ins[0].Status != "FINISHED" {
		t.Errorf("Instances = %+v, %v", ins, err)
	}
	if err := db.PutPipeline(&Pipeline{ID: "df-B"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("PutPipeline on a read-only store = %v, want ErrReadOnly", err)
	}
	if err := db.Write("df-A", 1, Change{Events: []Event{{Seq: 2, Data: []byte(`{}`)}}}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Write on a read-only store = %v, want ErrReadOnly", err)
	}
	if err := db.DeletePipeline("df-A"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("DeletePipeline on a read-only store = %v, want ErrReadOnly", err)
	}
}

func TestOpenReadOnlyChangesNoFile(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	writeSome(t, db)
	db.Close()

	before := hashTree(t, dir)
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, ro)
	// Two readers at once are fine; a writer is kept out meanwhile.
	ro2, err := OpenReadOnly(dir)
	if err != nil {
		t.Errorf("second reader: %v", err)
	} else {
		ro2.Close()
	}
	if w, err := Open(dir); err == nil {
		w.Close()
		t.Error("Open for writing succeeded while a reader holds the store")
	}
	ro.Close()
	sameTree(t, before, hashTree(t, dir))
}

func TestOpenReadOnlyFailsWhileAWriterHoldsTheStore(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ro, err := OpenReadOnly(dir); err == nil {
		ro.Close()
		t.Fatal("OpenReadOnly succeeded while a writer holds the store")
	}
}

// A process killed mid-run leaves a write log badger replays by truncating
// it: the reader works on a copy and still sees every write.
func TestOpenReadOnlyAfterAKilledWriter(t *testing.T) {
	if os.Getenv("DPL_STORE_KILLED_WRITER") != "" {
		db, err := Open(os.Getenv("DPL_STORE_KILLED_WRITER"))
		if err != nil {
			os.Exit(3)
		}
		writeSome(t, db)
		os.Exit(0) // no Close: the files are as a kill -9 leaves them
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenReadOnlyAfterAKilledWriter$")
	cmd.Env = append(os.Environ(), "DPL_STORE_KILLED_WRITER="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer: %v\n%s", err, out)
	}
	before := hashTree(t, dir)
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ro.tmpCopy == "" {
		t.Error("badger opened the killed writer's store in place: the copy path is not covered any more")
	}
	readBack(t, ro)
	tmp := ro.tmpCopy
	ro.Close()
	if tmp != "" {
		if _, err := os.Stat(tmp); err == nil {
			t.Errorf("the private copy %s is left behind", tmp)
		}
	}
	sameTree(t, before, hashTree(t, dir))

	// The writer's next open still recovers everything.
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ins, err := db.Instances("df-A", 1); err != nil || len(ins) != 1 {
		t.Errorf("after the reader, Instances = %+v, %v", ins, err)
	}
}
