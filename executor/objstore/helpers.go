package objstore

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
)

// transferWorkers bounds concurrent object transfers in the directory
// helpers; S3 latency, not CPU, is the bottleneck.
const transferWorkers = 4

// DirPrefix turns a directoryPath URI into the key prefix of its objects:
// s3://b/dir becomes s3://b/dir/ (the bucket root stays s3://b/).
func DirPrefix(uri string) string {
	bucket, key, err := ParseURI(uri)
	if err != nil || key == "" || strings.HasSuffix(key, "/") {
		return uri
	}
	return URI(bucket, key+"/")
}

// TransferStats counts what a directory transfer moved.
type TransferStats struct {
	Files int
	Bytes int64
}

// DownloadDir copies every object below the directory prefixURI into
// localDir, recreating the key structure. Keys that would leave localDir
// (".." segments, absolute paths, symlinks already in localDir) are refused
// through an os.Root. Folder markers (keys ending in "/") are skipped.
func DownloadDir(ctx context.Context, s Store, prefixURI, localDir string) (TransferStats, error) {
	prefix := DirPrefix(prefixURI)
	_, keyPrefix, err := ParseURI(prefix)
	if err != nil {
		return TransferStats{}, err
	}
	if err := os.MkdirAll(localDir, 0o755); err != nil {
		return TransferStats{}, fmt.Errorf("download %s: %w", prefixURI, err)
	}
	root, err := os.OpenRoot(localDir)
	if err != nil {
		return TransferStats{}, fmt.Errorf("download %s: %w", prefixURI, err)
	}
	defer root.Close()

	var infos []Info
	if err := s.List(ctx, prefix, func(i Info) error {
		if !strings.HasSuffix(i.Key, "/") {
			infos = append(infos, i)
		}
		return nil
	}); err != nil {
		return TransferStats{}, fmt.Errorf("download %s: %w", prefixURI, err)
	}
	return runTransfers(ctx, len(infos), func(ctx context.Context, n int) (int64, error) {
		info := infos[n]
		rel, err := localRel(strings.TrimPrefix(info.Key, keyPrefix))
		if err != nil {
			return 0, fmt.Errorf("download %s: %w", info.URI, err)
		}
		return downloadOne(ctx, s, info.URI, root, rel)
	})
}

// localRel turns the part of a key below the downloaded prefix into a
// local relative name. Empty segments (out//x) collapse, as a shell's
// path would; "." and ".." segments, which would leave the target folder,
// are refused.
func localRel(rel string) (string, error) {
	var segs []string
	for _, seg := range strings.Split(rel, "/") {
		switch {
		case seg == "":
			continue
		case seg == "." || seg == ".." || strings.ContainsRune(seg, 0):
			return "", fmt.Errorf("key maps to local name %q, which would leave the target folder", rel)
		}
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return "", fmt.Errorf("key maps to an unusable local name %q", rel)
	}
	return strings.Join(segs, "/"), nil
}

func downloadOne(ctx context.Context, s Store, uri string, root *os.Root, rel string) (int64, error) {
	if d := path.Dir(rel); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return 0, fmt.Errorf("download %s: %w", uri, err)
		}
	}
	r, err := s.Open(ctx, uri)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", uri, err)
	}
	defer r.Close()
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", uri, err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("download %s: %w", uri, err)
	}
	return n, nil
}

// UploadDir copies every regular file below localDir to prefixURI/<rel>.
// Symlinks are followed only when they stay inside localDir.
func UploadDir(ctx context.Context, s Store, localDir, prefixURI string) (TransferStats, error) {
	prefix := DirPrefix(prefixURI)
	if _, _, err := ParseURI(prefix); err != nil {
		return TransferStats{}, err
	}
	root, err := os.OpenRoot(localDir)
	if err != nil {
		return TransferStats{}, fmt.Errorf("upload %s: %w", localDir, err)
	}
	defer root.Close()
	var files []string
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := root.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if st.Mode().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return TransferStats{}, fmt.Errorf("upload %s: %w", localDir, err)
	}
	return runTransfers(ctx, len(files), func(ctx context.Context, n int) (int64, error) {
		rel := files[n]
		dst := strings.TrimSuffix(prefix, "/") + "/" + rel
		f, err := root.Open(rel)
		if err != nil {
			return 0, fmt.Errorf("upload %s: %w", rel, err)
		}
		defer f.Close()
		w, err := s.Create(ctx, dst)
		if err != nil {
			return 0, fmt.Errorf("upload %s: %w", rel, err)
		}
		n64, err := io.Copy(w, f)
		if err != nil {
			Abort(w, err)
			return n64, fmt.Errorf("upload %s to %s: %w", rel, dst, err)
		}
		if err := w.Close(); err != nil {
			return n64, fmt.Errorf("upload %s to %s: %w", rel, dst, err)
		}
		return n64, nil
	})
}

// runTransfers runs n jobs on a few workers and stops at the first error.
func runTransfers(ctx context.Context, n int, job func(context.Context, int) (int64, error)) (TransferStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		st    TransferStats
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for w := 0; w < min(transferWorkers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				b, err := job(ctx, i)
				mu.Lock()
				st.Bytes += b
				if err == nil {
					st.Files++
				} else if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		first = ctx.Err()
	}
	return st, first
}

// Compression names accepted by the S3DataNode "compression" field.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
)

// OpenCompressed opens uri and, for compression "gzip", decompresses it
// while reading. "" and "none" read the raw bytes.
func OpenCompressed(ctx context.Context, s Store, uri, compression string) (io.ReadCloser, error) {
	r, err := s.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(compression) {
	case "", CompressionNone:
		return r, nil
	case CompressionGzip:
		return NewGzipReader(r)
	default:
		r.Close()
		return nil, fmt.Errorf("unsupported compression %q (want none or gzip)", compression)
	}
}

// CreateCompressed is Create with optional gzip compression of the content.
func CreateCompressed(ctx context.Context, s Store, uri, compression string) (io.WriteCloser, error) {
	switch strings.ToLower(compression) {
	case "", CompressionNone, CompressionGzip:
	default:
		return nil, fmt.Errorf("unsupported compression %q (want none or gzip)", compression)
	}
	w, err := s.Create(ctx, uri)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(compression, CompressionGzip) {
		return NewGzipWriter(w), nil
	}
	return w, nil
}

// NewGzipReader decompresses r (all gzip members); Close closes r.
func NewGzipReader(r io.ReadCloser) (io.ReadCloser, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return &gzipReader{zr: zr, under: r}, nil
}

type gzipReader struct {
	zr    *gzip.Reader
	under io.ReadCloser
}

func (g *gzipReader) Read(p []byte) (int, error) { return g.zr.Read(p) }
func (g *gzipReader) Close() error {
	err := g.zr.Close()
	if cerr := g.under.Close(); err == nil {
		err = cerr
	}
	return err
}

// NewGzipWriter compresses into w; Close flushes the gzip trailer then
// closes (publishes) w, Abort drops it.
func NewGzipWriter(w io.WriteCloser) io.WriteCloser {
	return &gzipWriter{zw: gzip.NewWriter(w), under: w}
}

type gzipWriter struct {
	zw    *gzip.Writer
	under io.WriteCloser
}

func (g *gzipWriter) Write(p []byte) (int, error) { return g.zw.Write(p) }
func (g *gzipWriter) Close() error {
	if err := g.zw.Close(); err != nil {
		Abort(g.under, err)
		return fmt.Errorf("gzip: %w", err)
	}
	return g.under.Close()
}
func (g *gzipWriter) Abort(err error) { Abort(g.under, err) }
