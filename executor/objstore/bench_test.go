package objstore_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// BenchmarkLocalWriteRead measures the embedded store: atomic write
// (temp file + rename) then a streamed read of a 4 MiB object.
func BenchmarkLocalWriteRead(b *testing.B) {
	l, err := objstore.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		w, err := l.Create(ctx, "s3://bench/dir/object")
		if err != nil {
			b.Fatal(err)
		}
		w.Write(payload)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		r, err := l.Open(ctx, "s3://bench/dir/object")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
