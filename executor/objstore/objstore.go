// Package objstore is the object-store abstraction every S3 use of the
// executor goes through. Objects are addressed by s3://bucket/key URIs; a
// Store may be the embedded local backend (NewLocal) or a real S3-compatible
// service (awsx.NewS3Store). Implementations stream: no method loads a whole
// object into memory.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) when an object does not exist. It is
// fs.ErrNotExist so callers can use errors.Is with either name.
var ErrNotExist = fs.ErrNotExist

// Info describes one object.
type Info struct {
	URI     string // s3://bucket/key
	Bucket  string
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is an object store addressed by s3://bucket/key URIs.
type Store interface {
	// Open streams an object's content. A missing object yields an error
	// matching ErrNotExist.
	Open(ctx context.Context, uri string) (io.ReadCloser, error)
	// Create returns a writer whose content becomes the object on a
	// successful Close. Nothing is visible before Close; use Abort to drop
	// a partial write.
	Create(ctx context.Context, uri string) (io.WriteCloser, error)
	// Stat describes an object; a missing object yields ErrNotExist.
	Stat(ctx context.Context, uri string) (Info, error)
	// List calls fn for every object whose key starts with the key of
	// prefixURI (a plain string prefix, as in S3), in key order.
	List(ctx context.Context, prefixURI string, fn func(Info) error) error
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, uri string) error
	// Describe names the backend for start-up messages.
	Describe() string
}

// Aborter is implemented by writers returned from Store.Create: Abort drops
// the partial object instead of publishing it.
type Aborter interface {
	Abort(err error)
}

// Abort drops a partial write when w supports it, else closes it.
func Abort(w io.WriteCloser, err error) {
	if a, ok := w.(Aborter); ok {
		a.Abort(err)
		return
	}
	_ = w.Close()
}

// ParseURI splits s3://bucket/key (s3n:// and s3a:// are accepted as
// aliases, as EMR does) into bucket and key. The key may be empty.
func ParseURI(uri string) (bucket, key string, err error) {
	rest, ok := cutScheme(uri)
	if !ok {
		return "", "", fmt.Errorf("%q is not an S3 URI (want s3://bucket/key)", uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q has no bucket name (want s3://bucket/key)", uri)
	}
	return bucket, key, nil
}

// IsURI reports whether s looks like an S3 URI.
func IsURI(s string) bool {
	_, ok := cutScheme(s)
	return ok
}

func cutScheme(uri string) (string, bool) {
	for _, p := range []string{"s3://", "s3n://", "s3a://"} {
		if len(uri) >= len(p) && strings.EqualFold(uri[:len(p)], p) {
			return uri[len(p):], true
		}
	}
	return "", false
}

// URI builds s3://bucket/key.
func URI(bucket, key string) string { return "s3://" + bucket + "/" + key }

// Join appends a relative slash-separated path to a prefix URI, inserting
// exactly one slash between them.
func Join(prefixURI, rel string) string {
	return strings.TrimRight(prefixURI, "/") + "/" + strings.TrimLeft(rel, "/")
}

// Exists reports whether the object at uri exists.
func Exists(ctx context.Context, s Store, uri string) (bool, error) {
	_, err := s.Stat(ctx, uri)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, ErrNotExist) {
		return false, nil
	}
	return false, err
}

// errStop ends a List early without being reported as a failure.
var errStop = errors.New("stop listing")

// PrefixNotEmpty reports whether at least one object's key starts with the
// key of uri (S3PrefixNotEmpty semantics).
func PrefixNotEmpty(ctx context.Context, s Store, uri string) (bool, error) {
	found := false
	err := s.List(ctx, uri, func(Info) error {
		found = true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	return found, nil
}

// Copy streams one object to another URI, possibly across stores.
func Copy(ctx context.Context, src Store, srcURI string, dst Store, dstURI string) (int64, error) {
	r, err := src.Open(ctx, srcURI)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := dst.Create(ctx, dstURI)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, r)
	if err != nil {
		Abort(w, err)
		return n, fmt.Errorf("copy %s to %s: %w", srcURI, dstURI, err)
	}
	if err := w.Close(); err != nil {
		return n, fmt.Errorf("copy %s to %s: %w", srcURI, dstURI, err)
	}
	return n, nil
}
