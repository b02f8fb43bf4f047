package activity

import (
	"context"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// check turns a yes/no answer into FINISHED (met) or FALSE (not met).
func check(ok bool, err error, what string) task.Result {
	switch {
	case err != nil:
		return failf("Runner_Precondition", "%s: %v", what, err)
	case ok:
		return finished()
	}
	return task.Result{Status: task.False, ErrorMessage: what + ": not met"}
}

func runS3KeyExists(ctx context.Context, r *Runner, t *task.Task, _ task.Logs) task.Result {
	key := t.Attempt().Get("s3Key")
	if key == "" || r.opts.Store == nil {
		return failf(task.ErrorIDInvalidTask, "S3KeyExists needs s3Key and an object store")
	}
	ok, err := objstore.Exists(ctx, r.opts.Store, key)
	return check(ok, err, "S3KeyExists "+key)
}

func runS3PrefixNotEmpty(ctx context.Context, r *Runner, t *task.Task, _ task.Logs) task.Result {
	prefix := t.Attempt().Get("s3Prefix")
	if prefix == "" || r.opts.Store == nil {
		return failf(task.ErrorIDInvalidTask, "S3PrefixNotEmpty needs s3Prefix and an object store")
	}
	ok, err := objstore.PrefixNotEmpty(ctx, r.opts.Store, prefix)
	return check(ok, err, "S3PrefixNotEmpty "+prefix)
}

// runExists checks that the data of the node the precondition guards is
// there. Only S3 data nodes can be checked locally; other kinds fail with a
// message rather than pretending.
func runExists(ctx context.Context, r *Runner, t *task.Task, _ task.Logs) task.Result {
	node := t.Ref(t.Attempt(), "node")
	if node == nil {
		return failf(task.ErrorIDInvalidTask, "Exists precondition has no node to check")
	}
	typ := node.Get("type")
	if typ != "S3DataNode" {
		return failf(task.ErrorIDUnsupported, "not supported by the local runner yet: Exists on a %s (only S3DataNode data can be checked)", typ)
	}
	if r.opts.Store == nil {
		return failf(task.ErrorIDInvalidTask, "no object store configured")
	}
	if fp := node.Get("filePath"); fp != "" {
		ok, err := objstore.Exists(ctx, r.opts.Store, fp)
		return check(ok, err, "Exists "+fp)
	}
	dp := node.Get("directoryPath")
	ok, err := objstore.PrefixNotEmpty(ctx, r.opts.Store, objstore.DirPrefix(dp))
	return check(ok, err, "Exists "+dp)
}
