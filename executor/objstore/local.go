package objstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// tmpPrefix marks in-progress writes; List never reports them.
const tmpPrefix = ".dpl-tmp-"

// emptySegment is the folder name that holds an empty key segment: S3 keys
// such as out//x (a trailing-slash parameter followed by "/") are legal and
// distinct from out/x, but a file system has no empty names. The name is
// reserved, so the mapping is reversible.
const emptySegment = ".dpl-empty"

// Local is the embedded default backend: s3://bucket/key is the file
// <root>/s3/bucket/key (an empty segment, as in out//x, is the folder
// .dpl-empty). Every access goes through an os.Root, so keys with
// ".." segments, absolute paths, NUL bytes or symlinks that lead outside
// <root>/s3 are refused and never followed. Buckets are directories created
// on first write.
type Local struct {
	dir  string // <root>/s3, for messages
	root *os.Root
}

// NewLocal opens (creating if needed) the local object store under
// root/s3. root is normally the executor's state directory.
func NewLocal(root string) (*Local, error) {
	dir := filepath.Join(root, "s3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	return &Local{dir: dir, root: r}, nil
}

// Close releases the store's directory handle.
func (l *Local) Close() error { return l.root.Close() }

// Dir is the directory that holds the buckets.
func (l *Local) Dir() string { return l.dir }

// Describe implements Store.
func (l *Local) Describe() string { return "local object store in " + l.dir }

// Path returns the file that holds uri, after validating it. It is meant
// for messages and for tools that need a real file name; callers must not
// use it to bypass the confinement checks.
func (l *Local) Path(uri string) (string, error) {
	name, err := l.name(uri, false)
	if err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(name)), nil
}

// name validates uri and returns the slash path below the store root.
func (l *Local) name(uri string, prefix bool) (string, error) {
	bucket, key, err := ParseURI(uri)
	if err != nil {
		return "", err
	}
	if err := checkSegment(bucket); err != nil {
		return "", fmt.Errorf("local store: bucket of %q: %w", uri, err)
	}
	if prefix {
		// A listing prefix may end in a partial name or a slash; only its
		// directory part must be a clean relative path.
		dir := dirOf(key)
		if strings.HasPrefix(dir, "/") {
			return "", fmt.Errorf("local store: key of %q is an absolute path", uri)
		}
		for _, seg := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
			if seg == "" {
				continue
			}
			if err := checkSegment(seg); err != nil {
				return "", fmt.Errorf("local store: key of %q: %w", uri, err)
			}
		}
		if strings.ContainsRune(key, 0) {
			return "", fmt.Errorf("local store: key of %q contains a NUL byte", uri)
		}
		return bucket + "/" + encodeKey(dir) + key[len(dir):], nil
	}
	if err := checkKey(uri, key, false); err != nil {
		return "", err
	}
	return bucket + "/" + encodeKey(key), nil
}

// encodeKey maps a checked key (or a key's folder part ending in "/") to
// its slash path: empty segments become emptySegment.
func encodeKey(key string) string {
	if !strings.Contains(key, "//") {
		return key
	}
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		if seg == "" && i > 0 && i < len(segs)-1 {
			segs[i] = emptySegment
		}
	}
	return strings.Join(segs, "/")
}

// decodeKey is encodeKey's inverse, for listings.
func decodeKey(p string) string {
	if !strings.Contains(p, emptySegment) {
		return p
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if seg == emptySegment {
			segs[i] = ""
		}
	}
	return strings.Join(segs, "/")
}

func checkKey(uri, key string, allowEmpty bool) error {
	if key == "" {
		if allowEmpty {
			return nil
		}
		return fmt.Errorf("local store: %q names a bucket, not an object", uri)
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("local store: key of %q is an absolute path", uri)
	}
	if strings.HasSuffix(key, "/") {
		return fmt.Errorf("local store: key of %q ends with '/' (a folder marker cannot be stored as a file)", uri)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" {
			continue // a legal S3 key segment; stored as emptySegment
		}
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("local store: key of %q: %w", uri, err)
		}
	}
	return nil
}

func checkSegment(seg string) error {
	switch {
	case seg == "":
		return errors.New("empty path segment ('//')")
	case seg == "." || seg == "..":
		return fmt.Errorf("%q segment would leave the store", seg)
	case strings.ContainsRune(seg, 0):
		return errors.New("contains a NUL byte")
	case strings.ContainsRune(seg, '\\'):
		return errors.New("contains a backslash")
	case strings.HasPrefix(seg, tmpPrefix):
		return fmt.Errorf("segment %q uses the reserved prefix %s", seg, tmpPrefix)
	case seg == emptySegment:
		return fmt.Errorf("segment %q is reserved (it stores empty segments)", seg)
	}
	return nil
}

// dirOf returns key up to and including its last slash.
func dirOf(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return ""
}

// wrap turns os.Root errors into messages that say what was refused.
func (l *Local) wrap(op, uri string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local store: %s %s: %w", op, uri, ErrNotExist)
	}
	if strings.Contains(err.Error(), "escapes from parent") {
		return fmt.Errorf("local store: %s %s: refused: the path resolves outside %s (symlink or '..' escape): %w", op, uri, l.dir, err)
	}
	return fmt.Errorf("local store: %s %s: %w", op, uri, err)
}

// Open implements Store.
func (l *Local) Open(_ context.Context, uri string) (io.ReadCloser, error) {
	name, err := l.name(uri, false)
	if err != nil {
		return nil, err
	}
	f, err := l.root.Open(name)
	if err != nil {
		return nil, l.wrap("open", uri, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, l.wrap("open", uri, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, l.wrap("open", uri, fs.ErrNotExist)
	}
	return f, nil
}

// Stat implements Store.
func (l *Local) Stat(_ context.Context, uri string) (Info, error) {
	name, err := l.name(uri, false)
	if err != nil {
		return Info{}, err
	}
	st, err := l.root.Stat(name)
	if err != nil {
		return Info{}, l.wrap("stat", uri, err)
	}
	if !st.Mode().IsRegular() {
		return Info{}, l.wrap("stat", uri, fs.ErrNotExist)
	}
	bucket, key, _ := ParseURI(uri)
	return Info{URI: URI(bucket, key), Bucket: bucket, Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, uri string) error {
	name, err := l.name(uri, false)
	if err != nil {
		return err
	}
	st, err := l.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return l.wrap("delete", uri, err)
	}
	if st.IsDir() {
		return nil // a "folder" is not an object
	}
	if err := l.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return l.wrap("delete", uri, err)
	}
	return nil
}

// Create implements Store: content goes to a temporary file in the target
// directory and is renamed into place on Close, so readers never see a
// partial object.
func (l *Local) Create(_ context.Context, uri string) (io.WriteCloser, error) {
	name, err := l.name(uri, false)
	if err != nil {
		return nil, err
	}
	dir := path.Dir(name)
	if err := l.root.MkdirAll(dir, 0o755); err != nil {
		return nil, l.wrap("create", uri, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := dir + "/" + tmpPrefix + hex.EncodeToString(rnd[:])
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, l.wrap("create", uri, err)
	}
	return &localWriter{l: l, f: f, tmp: tmp, name: name, uri: uri}, nil
}

type localWriter struct {
	l              *Local
	f              *os.File
	tmp, name, uri string
	done           bool
}

func (w *localWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *localWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.f.Close(); err != nil {
		_ = w.l.root.Remove(w.tmp)
		return w.l.wrap("write", w.uri, err)
	}
	if err := w.l.root.Rename(w.tmp, w.name); err != nil {
		_ = w.l.root.Remove(w.tmp)
		return w.l.wrap("write", w.uri, err)
	}
	return nil
}

func (w *localWriter) Abort(error) {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	_ = w.l.root.Remove(w.tmp)
}

// List implements Store. Objects are reported in S3 key order. Symlinks
// are followed only when they stay inside the store; one that escapes
// makes List fail with a message naming it.
func (l *Local) List(ctx context.Context, prefixURI string, fn func(Info) error) error {
	name, err := l.name(prefixURI, true)
	if err != nil {
		return err
	}
	bucket, keyPrefix, _ := ParseURI(prefixURI)
	start := strings.TrimSuffix(bucket+"/"+encodeKey(dirOf(keyPrefix)), "/")
	if st, err := l.root.Stat(start); err != nil || !st.IsDir() {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return l.wrap("list", prefixURI, err)
		}
		return nil
	}
	var found []Info
	fsys := l.root.FS()
	err = fs.WalkDir(fsys, start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return l.wrap("list", prefixURI, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		if d.IsDir() {
			// Prune folders that cannot hold matching keys.
			if p != start && !strings.HasPrefix(p+"/", name) && !strings.HasPrefix(name, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		key := decodeKey(strings.TrimPrefix(p, bucket+"/"))
		if !strings.HasPrefix(key, keyPrefix) {
			return nil
		}
		st, err := l.root.Stat(p) // follows symlinks, confined to the root
		if err != nil {
			return l.wrap("list", "s3://"+p, err)
		}
		if !st.Mode().IsRegular() {
			return nil
		}
		found = append(found, Info{URI: URI(bucket, key), Bucket: bucket, Key: key, Size: st.Size(), ModTime: st.ModTime()})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Key < found[j].Key })
	for _, info := range found {
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}
