package hive

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// testEnv is a session over a local object store in a temporary folder.
type testEnv struct {
	t      *testing.T
	store  *objstore.Local
	s      *Session
	stdout bytes.Buffer
	stderr bytes.Buffer
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &testEnv{t: t, store: st}
	s, err := NewSession(Options{Store: st, Dir: filepath.Join(dir, "hive"), Stdout: &e.stdout, Stderr: &e.stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e.s = s
	return e
}

func (e *testEnv) put(uri, body string) {
	e.t.Helper()
	w, err := e.store.Create(context.Background(), uri)
	if err != nil {
		e.t.Fatal(err)
	}
	io.WriteString(w, body)
	if err := w.Close(); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) get(uri string) string {
	e.t.Helper()
	r, err := e.store.Open(context.Background(), uri)
	if err != nil {
		e.t.Fatalf("open %s: %v", uri, err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

// keys lists the objects under a prefix, relative to it.
func (e *testEnv) keys(prefix string) []string {
	e.t.Helper()
	var out []string
	e.store.List(context.Background(), prefix, func(i objstore.Info) error {
		out = append(out, strings.TrimPrefix(i.URI, prefix))
		return nil
	})
	sort.Strings(out)
	return out
}

func (e *testEnv) run(script string) {
	e.t.Helper()
	if err := e.s.Run(context.Background(), script); err != nil {
		e.t.Fatalf("script failed: %v\nstderr:\n%s", err, e.stderr.String())
	}
}

func (e *testEnv) fail(script string) *Error {
	e.t.Helper()
	err := e.s.Run(context.Background(), script)
	if err == nil {
		e.t.Fatalf("script succeeded, want an error")
	}
	he, ok := err.(*Error)
	if !ok {
		e.t.Fatalf("error %T %v is not *Error", err, err)
	}
	return he
}
