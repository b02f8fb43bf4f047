package hive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// Locations are either s3://bucket/key (through the object store; s3n and
// s3a are the same) or absolute paths on this machine (the session's
// stand-in for HDFS, LOAD DATA LOCAL and LOCAL DIRECTORY).

// normLocation checks a LOCATION and returns its normal form.
func (s *Session) normLocation(t token, loc string) (string, error) {
	loc = strings.TrimSpace(loc)
	if objstore.IsURI(loc) {
		bucket, key, err := objstore.ParseURI(loc)
		if err != nil {
			return "", semanticErr(t, "LOCATION %q: %v", loc, err)
		}
		key = strings.Trim(key, "/")
		for _, seg := range strings.Split(key, "/") {
			if seg == ".." || seg == "." {
				return "", semanticErr(t, "LOCATION %q is outside the object store's root (a key may not have '%s' segments)", loc, seg)
			}
		}
		norm := "s3://" + bucket
		if key != "" {
			norm += "/" + key
		}
		if p, ok := s.opts.Store.(interface{ Path(string) (string, error) }); ok {
			if _, err := p.Path(norm + "/x"); err != nil {
				return "", semanticErr(t, "LOCATION %q is outside the object store's root: %v", loc, err)
			}
		}
		return norm, nil
	}
	low := strings.ToLower(loc)
	switch {
	case strings.HasPrefix(low, "hdfs://"):
		rest := loc[len("hdfs://"):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i:] // drop the namenode authority
		} else {
			rest = "/"
		}
		return s.hdfsPath(t, loc, rest)
	case strings.HasPrefix(loc, "/"):
		return s.hdfsPath(t, loc, loc)
	case strings.HasPrefix(low, "file:"):
		return "", semanticErr(t, "LOCATION %q: tables live in the object store (s3://...) or HDFS (hdfs:///...); file: locations are not supported", loc)
	}
	return "", semanticErr(t, "LOCATION %q: want s3://bucket/prefix or hdfs:///path", loc)
}

func (s *Session) hdfsPath(t token, orig, p string) (string, error) {
	clean := path.Clean("/" + p)
	if strings.Contains(p, "..") && clean != path.Clean(p) {
		return "", semanticErr(t, "LOCATION %q is outside the HDFS root", orig)
	}
	return filepath.Join(s.hdfsRoot, filepath.FromSlash(clean)), nil
}

// localPath checks a LOCAL path (LOAD DATA LOCAL, LOCAL DIRECTORY).
func localPath(t token, p string) (string, error) {
	p = strings.TrimPrefix(p, "file://")
	if !filepath.IsAbs(p) {
		return "", semanticErr(t, "local path %q must be absolute", p)
	}
	return filepath.Clean(p), nil
}

func isS3(loc string) bool { return strings.HasPrefix(loc, "s3://") }

func joinLoc(dir, name string) string {
	if isS3(dir) {
		return strings.TrimRight(dir, "/") + "/" + name
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}

type entry struct {
	name string
	loc  string
}

// list returns the files and sub-folders directly in dir, in name order.
func (s *Session) list(ctx context.Context, dir string) (files []entry, dirs []string, err error) {
	if isS3(dir) {
		prefix := strings.TrimRight(dir, "/") + "/"
		seen := map[string]bool{}
		err = s.opts.Store.List(ctx, prefix, func(info objstore.Info) error {
			rel := strings.TrimPrefix(info.URI, prefix)
			if info.URI == rel { // store returned another spelling; rebuild from the key
				_, key, _ := objstore.ParseURI(prefix)
				rel = strings.TrimPrefix(info.Key, key)
			}
			if rel == "" {
				return nil
			}
			if i := strings.IndexByte(rel, '/'); i >= 0 {
				if d := rel[:i]; !seen[d] {
					seen[d] = true
					dirs = append(dirs, d)
				}
				return nil
			}
			files = append(files, entry{rel, prefix + rel})
			return nil
		})
		return files, dirs, err
	}
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, de := range des {
		if de.IsDir() {
			dirs = append(dirs, de.Name())
		} else {
			files = append(files, entry{de.Name(), filepath.Join(dir, de.Name())})
		}
	}
	sort.Strings(dirs)
	return files, dirs, nil
}

func (s *Session) open(ctx context.Context, loc string) (io.ReadCloser, error) {
	var r io.ReadCloser
	var err error
	if isS3(loc) {
		r, err = s.opts.Store.Open(ctx, loc)
	} else {
		r, err = os.Open(loc)
	}
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(loc, ".gz") {
		return objstore.NewGzipReader(r)
	}
	return r, nil
}

// create returns a writer whose content appears at loc on Close.
func (s *Session) create(ctx context.Context, loc string) (io.WriteCloser, error) {
	if isS3(loc) {
		return s.opts.Store.Create(ctx, loc)
	}
	if err := os.MkdirAll(filepath.Dir(loc), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(loc), ".hive-tmp-*")
	if err != nil {
		return nil, err
	}
	return &localWriter{f: f, dst: loc}, nil
}

type localWriter struct {
	f   *os.File
	dst string
}

func (w *localWriter) Write(p []byte) (int, error) { return w.f.Write(p) }
func (w *localWriter) Close() error {
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return err
	}
	return os.Rename(w.f.Name(), w.dst)
}
func (w *localWriter) Abort(error) {
	w.f.Close()
	os.Remove(w.f.Name())
}

func (s *Session) remove(ctx context.Context, loc string) error {
	if isS3(loc) {
		return s.opts.Store.Delete(ctx, loc)
	}
	err := os.Remove(loc)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// removeTree deletes everything under dir.
func (s *Session) removeTree(ctx context.Context, dir string) error {
	if !isS3(dir) {
		return os.RemoveAll(dir)
	}
	var uris []string
	if err := s.opts.Store.List(ctx, strings.TrimRight(dir, "/")+"/", func(info objstore.Info) error {
		uris = append(uris, info.URI)
		return nil
	}); err != nil {
		return err
	}
	for _, u := range uris {
		if err := s.opts.Store.Delete(ctx, u); err != nil {
			return fmt.Errorf("delete %s: %w", u, err)
		}
	}
	return nil
}

// dataFile reports whether Hive reads a file: names starting with _ or .
// are Hadoop's hidden files (_SUCCESS, .crc, staging).
func dataFile(name string) bool {
	return name != "" && name[0] != '_' && name[0] != '.'
}
