package activity

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// outputDir is a staging folder to flush to an output data node.
type outputDir struct {
	local, uri string
}

// stageInputs fills INPUTn_STAGING_DIR from each input S3DataNode and makes
// empty OUTPUTn_STAGING_DIR folders, numbering nodes in field order.
func (r *Runner) stageInputs(ctx context.Context, t *task.Task, dir string, env []string) ([]string, []outputDir, error) {
	if r.opts.Store == nil {
		return nil, nil, fmt.Errorf("no object store configured")
	}
	a := t.Attempt()
	for i, id := range a.Refs("input") {
		node := t.Objects[id]
		if node == nil {
			return nil, nil, fmt.Errorf("input %s is not part of the task", id)
		}
		local := filepath.Join(dir, "staging", fmt.Sprintf("input%d", i+1))
		if err := os.MkdirAll(local, 0o755); err != nil {
			return nil, nil, err
		}
		if err := r.downloadNode(ctx, node, local); err != nil {
			return nil, nil, fmt.Errorf("input %d (%s): %w", i+1, id, err)
		}
		env = append(env, fmt.Sprintf("INPUT%d_STAGING_DIR=%s", i+1, local))
	}
	var outs []outputDir
	for i, id := range a.Refs("output") {
		node := t.Objects[id]
		if node == nil {
			return nil, nil, fmt.Errorf("output %s is not part of the task", id)
		}
		local := filepath.Join(dir, "staging", fmt.Sprintf("output%d", i+1))
		if err := os.RemoveAll(local); err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(local, 0o755); err != nil {
			return nil, nil, err
		}
		env = append(env, fmt.Sprintf("OUTPUT%d_STAGING_DIR=%s", i+1, local))
		if node.Get("type") != "S3DataNode" {
			continue // staging only moves S3 data; other outputs are dependencies only
		}
		uri := node.Get("directoryPath")
		if uri == "" {
			return nil, nil, fmt.Errorf("output %d (%s): staging needs directoryPath on the output S3DataNode", i+1, id)
		}
		outs = append(outs, outputDir{local: local, uri: uri})
	}
	return env, outs, nil
}

// downloadNode copies an S3DataNode's data (directoryPath or filePath) into local.
func (r *Runner) downloadNode(ctx context.Context, node *task.Object, local string) error {
	if node.Get("type") != "S3DataNode" {
		return nil
	}
	if dp := node.Get("directoryPath"); dp != "" {
		_, err := objstore.DownloadDir(ctx, r.opts.Store, dp, local)
		return err
	}
	if fp := node.Get("filePath"); fp != "" {
		_, key, err := objstore.ParseURI(fp)
		if err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(local, filepath.Base(key)))
		if err != nil {
			return err
		}
		src, err := r.opts.Store.Open(ctx, fp)
		if err != nil {
			f.Close()
			return err
		}
		defer src.Close()
		if _, err := f.ReadFrom(src); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return fmt.Errorf("S3DataNode %s has neither directoryPath nor filePath", node.ID)
}

func (r *Runner) flushOutputs(ctx context.Context, outs []outputDir) error {
	for _, o := range outs {
		if _, err := objstore.UploadDir(ctx, r.opts.Store, o.local, o.uri); err != nil {
			return fmt.Errorf("upload %s to %s: %w", o.local, o.uri, err)
		}
	}
	return nil
}
