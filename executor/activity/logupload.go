package activity

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// pipelineLog copies an attempt's stdout and stderr to files in the attempt
// folder while it runs, and uploads them when it ends to the service's
// layout under pipelineLogUri:
// <pipelineLogUri>/<pipelineId>/<componentId>/<instanceId>/<attemptId>/{StdOut,StdErr}.
type pipelineLog struct {
	prefix string // s3://.../<attemptId>/
	files  [2]*os.File
	mu     [2]sync.Mutex
}

// serviceRun are the types the service checks itself (no Task Runner, so
// no attempt logs); uploading two empty objects per check would only
// clutter the log folder.
var serviceRun = map[string]bool{
	"S3KeyExists": true, "S3PrefixNotEmpty": true, "DynamoDBTableExists": true, "DynamoDBDataExists": true, "Exists": true,
}

// startPipelineLog returns nil when the attempt has no s3:// pipelineLogUri
// (or the runner has no store); logs are then left untouched.
func (r *Runner) startPipelineLog(t *task.Task, logs *task.Logs) (*pipelineLog, error) {
	a := t.Attempt()
	uri := strings.TrimSpace(a.Get("pipelineLogUri"))
	if uri == "" || r.opts.Store == nil || !strings.HasPrefix(uri, "s3://") || serviceRun[a.Get("type")] {
		return nil, nil
	}
	component := first(a.Refs("@componentParent"))
	instance := first(a.Refs("@instanceParent"))
	if instance == "" {
		instance = t.AttemptID
		if i := strings.LastIndex(instance, "_Attempt="); i > 0 {
			instance = instance[:i]
		}
	}
	if component == "" {
		component = strings.TrimPrefix(instance, "@")
		if i := strings.LastIndex(component, "_"); i > 0 {
			component = component[:i]
		}
	}
	pipeline := a.Get("@pipelineId")
	if pipeline == "" {
		pipeline = t.PipelineID
	}
	dir, err := r.attemptDir(t)
	if err != nil {
		return nil, err
	}
	pl := &pipelineLog{prefix: strings.TrimSuffix(uri, "/") + "/" + strings.Join([]string{pipeline, component, instance, t.AttemptID}, "/") + "/"}
	for i, name := range []string{"StdOut", "StdErr"} {
		f, err := os.Create(filepath.Join(dir, "pipelineLog."+name))
		if err != nil {
			pl.discard()
			return nil, fmt.Errorf("pipelineLogUri: %w", err)
		}
		pl.files[i] = f
	}
	logs.Stdout = io.MultiWriter(logs.Stdout, lockedWriter{&pl.mu[0], pl.files[0]})
	logs.Stderr = io.MultiWriter(logs.Stderr, lockedWriter{&pl.mu[1], pl.files[1]})
	return pl, nil
}

// upload sends both streams to S3 and removes the local copies.
// It runs even after a cancel, so a stopped attempt's output is kept.
func (pl *pipelineLog) upload(ctx context.Context, r *Runner) error {
	defer pl.discard()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	for i, name := range []string{"StdOut", "StdErr"} {
		pl.mu[i].Lock()
		f := pl.files[i]
		_, err := f.Seek(0, io.SeekStart)
		if err == nil {
			err = r.putObject(ctx, pl.prefix+name, f)
		}
		pl.mu[i].Unlock()
		if err != nil {
			return fmt.Errorf("upload %s%s: %w", pl.prefix, name, err)
		}
	}
	return nil
}

func (pl *pipelineLog) discard() {
	for _, f := range pl.files {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

func (r *Runner) putObject(ctx context.Context, uri string, src io.Reader) error {
	w, err := r.opts.Store.Create(ctx, uri)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		objstore.Abort(w, err)
		return err
	}
	return w.Close()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
