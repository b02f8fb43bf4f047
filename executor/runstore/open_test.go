package runstore

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestOpenLockedNamesTheHolder(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "locked by process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("message %q does not name the holding PID %d", err, os.Getpid())
	}
}

func TestOpenPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("SKIPPING: running as root, which reads any folder whatever its mode")
	}
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Chmod(filepath.Join(dir, "db"), 0)
	defer os.Chmod(filepath.Join(dir, "db"), 0o700)
	if _, err := Open(dir); !errors.Is(err, ErrPermission) {
		t.Fatalf("open: %v, want ErrPermission", err)
	}
}

// TestOpenDamagedStore: truncated or overwritten store files are reported
// as a damaged store, with what to do — never a panic.
func TestOpenDamagedStore(t *testing.T) {
	damage := map[string]func(t *testing.T, db string){
		"garbage manifest": func(t *testing.T, db string) {
			os.WriteFile(filepath.Join(db, "MANIFEST"), []byte("this is not a manifest"), 0o600)
		},
		"truncated manifest": func(t *testing.T, db string) {
			os.Truncate(filepath.Join(db, "MANIFEST"), 3)
		},
		"garbage everywhere": func(t *testing.T, db string) {
			entries, _ := os.ReadDir(db)
			for _, e := range entries {
				if e.Name() != "LOCK" {
					os.WriteFile(filepath.Join(db, e.Name()), []byte{0xff, 0x00, 0x13, 0x37}, 0o600)
				}
			}
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			db.PutPipeline(&Pipeline{ID: "df-X", Name: "x"})
			db.Close()
			fn(t, filepath.Join(dir, "db"))
			db, err = Open(dir)
			t.Logf("open after damage: %v", err)
			if err == nil {
				// badger may rebuild from what is left; reading must still not panic.
				_, _ = db.Pipelines()
				db.Close()
				return
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "move the folder away") {
				t.Errorf("open: %v, want a damaged-store message", err)
			}
		})
	}
}
