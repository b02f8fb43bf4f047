package objstore_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/objstore/storetest"
)

func newLocal(t *testing.T) (*objstore.Local, string) {
	t.Helper()
	root := t.TempDir()
	l, err := objstore.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, root
}

func TestLocalStore(t *testing.T) {
	l, root := newLocal(t)
	storetest.Run(t, l, "s3://bucket/base")
	// The mapping is part of the contract: <root>/s3/bucket/key.
	if _, err := os.Stat(filepath.Join(root, "s3", "bucket", "base", "rt", "a.txt")); err != nil {
		t.Fatalf("object not stored at <root>/s3/bucket/key: %v", err)
	}
}

func TestLocalRejectsEscapingKeys(t *testing.T) {
	l, _ := newLocal(t)
	ctx := context.Background()
	bad := []struct{ uri, want string }{
		{"s3://bucket/../outside", "would leave the store"},
		{"s3://bucket/a/../../outside", "would leave the store"},
		{"s3://../x", "would leave the store"},
		{"s3://bucket//etc/passwd", "absolute path"},
		{"s3://bucket/a//../../../x", "would leave the store"},
		{"s3://bucket/a/.dpl-empty/b", "reserved"},
		{"s3://bucket/a\x00b", "NUL"},
		{"s3://bucket/dir/", "folder marker"},
		{"s3://bucket", "names a bucket"},
		{"/etc/passwd", "not an S3 URI"},
	}
	for _, tc := range bad {
		_, err := l.Create(ctx, tc.uri)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Create(%q) error = %v, want it to mention %q", tc.uri, err, tc.want)
		}
		if _, err := l.Open(ctx, tc.uri); err == nil {
			t.Errorf("Open(%q) succeeded", tc.uri)
		}
	}
	if err := l.List(ctx, "s3://bucket/../", func(objstore.Info) error { return nil }); err == nil {
		t.Error("List with a '..' prefix succeeded")
	}
}

func TestLocalRefusesSymlinkEscapes(t *testing.T) {
	l, root := newLocal(t)
	ctx := context.Background()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("do not read"), 0o600); err != nil {
		t.Fatal(err)
	}
	bucket := filepath.Join(root, "s3", "bucket")
	os.MkdirAll(bucket, 0o755)
	// A file symlink, a directory symlink, and an in-store symlink.
	must(t, os.Symlink(secret, filepath.Join(bucket, "leak")))
	must(t, os.Symlink(outside, filepath.Join(bucket, "dirleak")))
	must(t, os.WriteFile(filepath.Join(bucket, "real"), []byte("ok"), 0o644))
	must(t, os.Symlink("real", filepath.Join(bucket, "alias")))

	for _, uri := range []string{"s3://bucket/leak", "s3://bucket/dirleak/secret"} {
		if _, err := l.Open(ctx, uri); err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("Open(%s) = %v, want a refusal naming the escape", uri, err)
		}
		if _, err := l.Stat(ctx, uri); err == nil {
			t.Errorf("Stat(%s) succeeded", uri)
		}
	}
	w, err := l.Create(ctx, "s3://bucket/dirleak/new")
	if err == nil {
		w.Close()
		t.Error("Create through an escaping directory symlink succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Fatal("a file was written outside the store")
	}
	if err := l.Delete(ctx, "s3://bucket/dirleak/secret"); err == nil {
		t.Error("Delete through an escaping directory symlink succeeded")
	}
	if _, err := os.Stat(secret); err != nil {
		t.Fatal("the outside file was deleted")
	}
	// Listing meets the escaping file symlink and must refuse, not leak.
	err = l.List(ctx, "s3://bucket/", func(objstore.Info) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("List = %v, want a refusal naming the escaping link", err)
	}
	// In-store links still work.
	r, err := l.Open(ctx, "s3://bucket/alias")
	if err != nil {
		t.Fatalf("in-store symlink refused: %v", err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "ok" {
		t.Fatalf("alias read %q", b)
	}
}

func TestDownloadDirRefusesEscapingKeys(t *testing.T) {
	// A hostile store could hand out keys with ".." segments; the local
	// target folder must stay confined regardless of the backend.
	ctx := context.Background()
	fake := listOnly{keys: []string{"p/../../escape"}}
	dst := t.TempDir()
	_, err := objstore.DownloadDir(ctx, fake, "s3://b/p", filepath.Join(dst, "in"))
	if err == nil || !strings.Contains(err.Error(), "leave the target folder") {
		t.Fatalf("DownloadDir = %v, want refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("file written outside the download folder")
	}
}

// listOnly is a Store whose listing returns fixed keys; other methods fail.
type listOnly struct{ keys []string }

func (f listOnly) Open(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("x")), nil
}
func (f listOnly) Create(context.Context, string) (io.WriteCloser, error) {
	return nil, errors.New("read-only")
}
func (f listOnly) Stat(context.Context, string) (objstore.Info, error) {
	return objstore.Info{}, objstore.ErrNotExist
}
func (f listOnly) List(_ context.Context, _ string, fn func(objstore.Info) error) error {
	for _, k := range f.keys {
		if err := fn(objstore.Info{URI: "s3://b/" + k, Bucket: "b", Key: k}); err != nil {
			return err
		}
	}
	return nil
}
func (f listOnly) Delete(context.Context, string) error { return nil }
func (f listOnly) Describe() string                     { return "fake" }

func TestParseURI(t *testing.T) {
	tests := []struct {
		in, bucket, key string
		ok              bool
	}{
		{"s3://b/k/x", "b", "k/x", true},
		{"S3N://b/", "b", "", true},
		{"s3a://b", "b", "", true},
		{"s3:///k", "", "", false},
		{"http://b/k", "", "", false},
	}
	for _, tc := range tests {
		b, k, err := objstore.ParseURI(tc.in)
		if (err == nil) != tc.ok || b != tc.bucket || k != tc.key {
			t.Errorf("ParseURI(%q) = %q, %q, %v", tc.in, b, k, err)
		}
	}
	if got := objstore.DirPrefix("s3://b/dir"); got != "s3://b/dir/" {
		t.Errorf("DirPrefix = %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLocalEmptyKeySegments: s3://b/out//x is a legal S3 key, distinct
// from s3://b/out/x; the local store keeps both, inside its folder, and
// lists each under its own key.
func TestLocalEmptyKeySegments(t *testing.T) {
	l, root := newLocal(t)
	ctx := context.Background()
	for uri, body := range map[string]string{
		"s3://bucket/out//x":     "double",
		"s3://bucket/out/x":      "single",
		"s3://bucket/out///deep": "triple",
	} {
		w, err := l.Create(ctx, uri)
		if err != nil {
			t.Fatalf("Create(%q): %v", uri, err)
		}
		io.WriteString(w, body)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for uri, want := range map[string]string{"s3://bucket/out//x": "double", "s3://bucket/out/x": "single", "s3://bucket/out///deep": "triple"} {
		r, err := l.Open(ctx, uri)
		if err != nil {
			t.Fatalf("Open(%q): %v", uri, err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != want {
			t.Errorf("Open(%q) = %q, want %q", uri, b, want)
		}
		if p, err := l.Path(uri); err != nil || !strings.HasPrefix(p, filepath.Join(root, "s3", "bucket")+string(filepath.Separator)) {
			t.Errorf("Path(%q) = %q, %v: want a file inside the store", uri, p, err)
		}
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"s3://bucket/out/", []string{"out///deep", "out//x", "out/x"}},
		{"s3://bucket/out//", []string{"out///deep", "out//x"}},
		{"s3://bucket/out///", []string{"out///deep"}},
		{"s3://bucket/out/x", []string{"out/x"}},
		{"s3://bucket/out/.", nil},
	}
	for _, c := range cases {
		var got []string
		if err := l.List(ctx, c.prefix, func(i objstore.Info) error { got = append(got, i.Key); return nil }); err != nil {
			t.Fatalf("List(%q): %v", c.prefix, err)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("List(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
	// Staging downloads collapse the empty segment into a usable name.
	dst := t.TempDir()
	if _, err := objstore.DownloadDir(ctx, l, "s3://bucket/out/", dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "deep")); err != nil || string(b) != "triple" {
		t.Errorf("downloaded out///deep: %q, %v", b, err)
	}
}
