// Package storetest holds behaviour checks that every storage.Store must
// pass; backend tests call Run with a fresh, empty prefix URI.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// Run checks round trips, listing, stat, delete, aborted writes, the
// directory helpers and gzip against s. base is an s3:// prefix (e.g.
// s3://bucket/test-xyz) under which nothing exists yet.
func Run(t *testing.T, s objstore.Store, base string) {
	t.Helper()
	ctx := context.Background()
	base = strings.TrimRight(base, "/")
	put := func(key, body string) {
		t.Helper()
		w, err := s.Create(ctx, base+"/"+key)
		if err != nil {
			t.Fatalf("create %s: %v", key, err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatalf("write %s: %v", key, err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("close %s: %v", key, err)
		}
	}
	get := func(key string) string {
		t.Helper()
		r, err := s.Open(ctx, base+"/"+key)
		if err != nil {
			t.Fatalf("open %s: %v", key, err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		return string(b)
	}
	list := func(prefix string) []string {
		t.Helper()
		var keys []string
		err := s.List(ctx, base+"/"+prefix, func(i objstore.Info) error {
			keys = append(keys, strings.TrimPrefix(i.URI, base+"/"))
			return nil
		})
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		return keys
	}

	t.Run("RoundTrip", func(t *testing.T) {
		put("rt/a.txt", "hello\n")
		if got := get("rt/a.txt"); got != "hello\n" {
			t.Fatalf("read back %q", got)
		}
		put("rt/a.txt", "replaced")
		if got := get("rt/a.txt"); got != "replaced" {
			t.Fatalf("overwrite read back %q", got)
		}
		info, err := s.Stat(ctx, base+"/rt/a.txt")
		if err != nil || info.Size != int64(len("replaced")) {
			t.Fatalf("stat = %+v, %v", info, err)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		if _, err := s.Open(ctx, base+"/nope/x"); !errors.Is(err, objstore.ErrNotExist) {
			t.Fatalf("open missing: %v, want ErrNotExist", err)
		}
		if _, err := s.Stat(ctx, base+"/nope/x"); !errors.Is(err, objstore.ErrNotExist) {
			t.Fatalf("stat missing: %v, want ErrNotExist", err)
		}
		ok, err := objstore.Exists(ctx, s, base+"/nope/x")
		if err != nil || ok {
			t.Fatalf("Exists(missing) = %v, %v", ok, err)
		}
		if err := s.Delete(ctx, base+"/nope/x"); err != nil {
			t.Fatalf("delete missing: %v", err)
		}
	})

	t.Run("ListOrderAndPrefix", func(t *testing.T) {
		for _, k := range []string{"ls/b/2", "ls/a-c", "ls/a/1", "ls/a/0", "lsx"} {
			put(k, k)
		}
		want := []string{"ls/a-c", "ls/a/0", "ls/a/1", "ls/b/2"}
		if got := list("ls/"); !reflect.DeepEqual(got, want) {
			t.Fatalf("list ls/ = %v, want %v", got, want)
		}
		if got := list("ls/a"); !reflect.DeepEqual(got, want[:3]) {
			t.Fatalf("list ls/a = %v, want %v", got, want[:3])
		}
		if got := list("ls"); len(got) != 5 {
			t.Fatalf("list ls = %v, want 5 keys", got)
		}
		if got := list("zz"); len(got) != 0 {
			t.Fatalf("list zz = %v, want none", got)
		}
		ok, err := objstore.PrefixNotEmpty(ctx, s, base+"/ls/b/")
		if err != nil || !ok {
			t.Fatalf("PrefixNotEmpty(ls/b/) = %v, %v", ok, err)
		}
		ok, err = objstore.PrefixNotEmpty(ctx, s, base+"/ls/c/")
		if err != nil || ok {
			t.Fatalf("PrefixNotEmpty(ls/c/) = %v, %v", ok, err)
		}
		if err := s.Delete(ctx, base+"/ls/b/2"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := objstore.Exists(ctx, s, base+"/ls/b/2"); ok {
			t.Fatal("object still exists after Delete")
		}
	})

	t.Run("AbortPublishesNothing", func(t *testing.T) {
		w, err := s.Create(ctx, base+"/abort/x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, "partial"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := objstore.Exists(ctx, s, base+"/abort/x"); ok {
			t.Fatal("object visible before Close")
		}
		objstore.Abort(w, errors.New("test abort"))
		if ok, _ := objstore.Exists(ctx, s, base+"/abort/x"); ok {
			t.Fatal("aborted object was published")
		}
		if got := list("abort/"); len(got) != 0 {
			t.Fatalf("list after abort = %v", got)
		}
	})

	t.Run("Gzip", func(t *testing.T) {
		w, err := objstore.CreateCompressed(ctx, s, base+"/gz/data.gz", "gzip")
		if err != nil {
			t.Fatal(err)
		}
		payload := strings.Repeat("line of text\n", 1000)
		io.WriteString(w, payload)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		info, err := s.Stat(ctx, base+"/gz/data.gz")
		if err != nil || info.Size >= int64(len(payload)) {
			t.Fatalf("compressed size %d (err %v) not below %d", info.Size, err, len(payload))
		}
		r, err := objstore.OpenCompressed(ctx, s, base+"/gz/data.gz", "GZIP")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != payload {
			t.Fatalf("gzip round trip lost data (%d bytes back)", len(b))
		}
	})

	t.Run("DirHelpers", func(t *testing.T) {
		src := t.TempDir()
		files := map[string]string{"a.txt": "A", "sub/b.txt": "BB", "sub/deeper/c": "CCC"}
		for rel, body := range files {
			p := filepath.Join(src, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(body), 0o644)
		}
		st, err := objstore.UploadDir(ctx, s, src, base+"/dir")
		if err != nil || st.Files != 3 || st.Bytes != 6 {
			t.Fatalf("UploadDir = %+v, %v", st, err)
		}
		if got := list("dir/"); len(got) != 3 {
			t.Fatalf("uploaded keys %v", got)
		}
		dst := t.TempDir()
		st, err = objstore.DownloadDir(ctx, s, base+"/dir", dst)
		if err != nil || st.Files != 3 {
			t.Fatalf("DownloadDir = %+v, %v", st, err)
		}
		for rel, body := range files {
			b, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(rel)))
			if err != nil || !bytes.Equal(b, []byte(body)) {
				t.Fatalf("downloaded %s = %q, %v", rel, b, err)
			}
		}
	})
}
