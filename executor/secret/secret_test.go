package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvKey, "")
	s, err := ForStateDir(dir, true)
	if err != nil || s == nil {
		t.Fatalf("ForStateDir: %v %v", s, err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", st, err)
	}
	plain := []byte(`{"*password":"hunter2-secret"}`)
	sealed := s.Seal(plain)
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value contains the plaintext")
	}
	if bytes.Equal(sealed, s.Seal(plain)) {
		t.Error("two seals are equal: the nonce is not random")
	}
	got, err := s.Open(sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// The same folder gives the same key; values from before sealing pass.
	s2, _ := ForStateDir(dir, false)
	if got, err := s2.Open(sealed); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("reopened key: %q %v", got, err)
	}
	if got, _ := s2.Open([]byte("old clear value")); string(got) != "old clear value" {
		t.Errorf("clear value: %q", got)
	}
	// Another key does not open it, and says why.
	t.Setenv(EnvKey, "a passphrase")
	other, _ := ForStateDir(dir, false)
	if _, err := other.Open(sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("other key: %v, want ErrOpen", err)
	}
	if _, err := other.Open(sealed[:len(sealed)-3]); !errors.Is(err, ErrOpen) {
		t.Errorf("truncated: %v, want ErrOpen", err)
	}
	// Parameters: only `*` ids are sealed.
	p := s.SealParams(map[string][]string{"*myPassword": {"pw-1"}, "myBucket": {"b"}})
	if p["myBucket"][0] != "b" || p["*myPassword"][0] == "pw-1" {
		t.Errorf("sealed params %v", p)
	}
	back, err := s.OpenParams(p)
	if err != nil || back["*myPassword"][0] != "pw-1" {
		t.Errorf("opened params %v %v", back, err)
	}
}
