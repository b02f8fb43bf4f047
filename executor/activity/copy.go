package activity

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// SQLCopier moves records between an S3 stream and a SqlDataNode; the SQL
// backend provides it. Nil means SQL sides fail with a clear message.
type SQLCopier interface {
	CopyToSQL(ctx context.Context, t *task.Task, node *task.Object, src io.Reader, format *Format) (int64, error)
	CopyFromSQL(ctx context.Context, t *task.Task, node *task.Object, format *Format, dst io.Writer) (int64, error)
}

// runCopyActivity copies its input data node to its output data node:
// S3 to S3 byte for byte when the data formats agree, record by record when
// they differ; SQL sides go through Options.SQL.
func runCopyActivity(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	in, out := t.Ref(a, "input"), t.Ref(a, "output")
	if in == nil || out == nil {
		return failf(task.ErrorIDInvalidTask, "CopyActivity needs one input and one output data node")
	}
	inFmt, err := formatOf(t, in)
	if err != nil {
		return failf("Runner_DataFormat", "input %s: %v", in.ID, err)
	}
	outFmt, err := formatOf(t, out)
	if err != nil {
		return failf("Runner_DataFormat", "output %s: %v", out.ID, err)
	}
	var n int64
	switch it, ot := in.Get("type"), out.Get("type"); {
	case it == "S3DataNode" && ot == "S3DataNode":
		n, err = r.copyS3(ctx, in, out, inFmt, outFmt)
	case it == "S3DataNode" && isSQLNode(ot):
		n, err = r.copyS3ToSQL(ctx, t, in, out, inFmt)
	case isSQLNode(it) && ot == "S3DataNode":
		n, err = r.copySQLToS3(ctx, t, in, out, outFmt)
	default:
		return failf(task.ErrorIDUnsupported, "CopyActivity copies between S3DataNode and SqlDataNode only, not %s to %s", it, ot)
	}
	if err != nil {
		if ctx.Err() != nil {
			return failf("Runner_Canceled", "copy stopped: %v", context.Cause(ctx))
		}
		return failf("Runner_CopyFailed", "copy %s to %s: %v", in.ID, out.ID, err)
	}
	fmt.Fprintf(logs.Stderr, "dpl: copied %d %s from %s to %s\n", n, map[bool]string{true: "records", false: "bytes"}[!sameFormat(inFmt, outFmt)], in.ID, out.ID)
	return finished()
}

func isSQLNode(typ string) bool { return typ == "SqlDataNode" || typ == "MySqlDataNode" }

// sources lists the objects an S3DataNode holds: its filePath, or every
// object below its directoryPath, each with its path relative to the node.
func (r *Runner) sources(ctx context.Context, node *task.Object) ([][2]string, error) {
	if r.opts.Store == nil {
		return nil, errors.New("no object store configured")
	}
	if fp := node.Get("filePath"); fp != "" {
		return [][2]string{{fp, path.Base(fp)}}, nil
	}
	dp := node.Get("directoryPath")
	if dp == "" {
		return nil, fmt.Errorf("S3DataNode %s has neither filePath nor directoryPath", node.ID)
	}
	prefix := objstore.DirPrefix(dp)
	var out [][2]string
	err := r.opts.Store.List(ctx, prefix, func(i objstore.Info) error {
		if !strings.HasSuffix(i.Key, "/") {
			_, pk, _ := objstore.ParseURI(prefix)
			out = append(out, [2]string{i.URI, strings.TrimPrefix(i.Key, pk)})
		}
		return nil
	})
	return out, err
}

func (r *Runner) copyS3(ctx context.Context, in, out *task.Object, inFmt, outFmt *Format) (int64, error) {
	srcs, err := r.sources(ctx, in)
	if err != nil {
		return 0, err
	}
	if len(srcs) == 0 {
		return 0, fmt.Errorf("input %s holds no data", in.ID)
	}
	inComp, outComp := in.Get("compression"), out.Get("compression")
	convert := func(dst io.Writer, src io.Reader) (int64, error) {
		if sameFormat(inFmt, outFmt) {
			return io.Copy(dst, src)
		}
		return convertRecords(dst, src, inFmt, outFmt)
	}
	var total int64
	if fp := out.Get("filePath"); fp != "" {
		// Many inputs into one file: concatenate.
		w, err := objstore.CreateCompressed(ctx, r.opts.Store, fp, outComp)
		if err != nil {
			return 0, err
		}
		for _, s := range srcs {
			n, err := r.copyOne(ctx, s[0], inComp, w, convert)
			total += n
			if err != nil {
				objstore.Abort(w, err)
				return total, err
			}
		}
		return total, w.Close()
	}
	dp := out.Get("directoryPath")
	if dp == "" {
		return 0, fmt.Errorf("output %s has neither filePath nor directoryPath", out.ID)
	}
	for _, s := range srcs {
		w, err := objstore.CreateCompressed(ctx, r.opts.Store, objstore.Join(dp, s[1]), outComp)
		if err != nil {
			return total, err
		}
		n, err := r.copyOne(ctx, s[0], inComp, w, convert)
		total += n
		if err != nil {
			objstore.Abort(w, err)
			return total, err
		}
		if err := w.Close(); err != nil {
			return total, err
		}
	}
	return total, nil
}

func (r *Runner) copyOne(ctx context.Context, uri, comp string, w io.Writer, convert func(io.Writer, io.Reader) (int64, error)) (int64, error) {
	rc, err := objstore.OpenCompressed(ctx, r.opts.Store, uri, comp)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return convert(w, rc)
}

func (r *Runner) copyS3ToSQL(ctx context.Context, t *task.Task, in, out *task.Object, f *Format) (int64, error) {
	if r.opts.SQL == nil {
		return 0, errors.New("not supported by the local runner yet: SqlDataNode needs the SQL backend")
	}
	srcs, err := r.sources(ctx, in)
	if err != nil {
		return 0, err
	}
	var readers []io.Reader
	for _, s := range srcs {
		rc, err := objstore.OpenCompressed(ctx, r.opts.Store, s[0], in.Get("compression"))
		if err != nil {
			return 0, err
		}
		defer rc.Close()
		readers = append(readers, rc)
	}
	return r.opts.SQL.CopyToSQL(ctx, t, out, io.MultiReader(readers...), f)
}

func (r *Runner) copySQLToS3(ctx context.Context, t *task.Task, in, out *task.Object, f *Format) (int64, error) {
	if r.opts.SQL == nil {
		return 0, errors.New("not supported by the local runner yet: SqlDataNode needs the SQL backend")
	}
	dst := out.Get("filePath")
	if dst == "" {
		dp := out.Get("directoryPath")
		if dp == "" {
			return 0, fmt.Errorf("output %s has neither filePath nor directoryPath", out.ID)
		}
		dst = objstore.Join(dp, "part-00000")
	}
	w, err := objstore.CreateCompressed(ctx, r.opts.Store, dst, out.Get("compression"))
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	n, err := r.opts.SQL.CopyFromSQL(ctx, t, in, f, bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		objstore.Abort(w, err)
		return n, err
	}
	return n, w.Close()
}

// open reads an s3:// URI through the store, or a local path.
func (r *Runner) open(ctx context.Context, uri string) (io.ReadCloser, error) {
	if objstore.IsURI(uri) {
		if r.opts.Store == nil {
			return nil, fmt.Errorf("no object store configured for %s", uri)
		}
		return r.opts.Store.Open(ctx, uri)
	}
	return os.Open(uri)
}
