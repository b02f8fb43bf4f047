// Package activity is dpl's task runner: it executes the work the engine
// hands out (activities and user-managed preconditions) on this machine.
// It implements task.Runner, so the built-in local worker and remote task
// runners share the same code.
package activity

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor/activity/hosttools"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/sqlrun"
	"github.com/dpl-dev/dpl/executor/task"
)

// Options configure a Runner.
type Options struct {
	// Root is the folder working directories are made in (the state dir).
	Root string
	// Store reads and writes s3:// URIs (local files or a real S3).
	Store objstore.Store
	// Env is added to every child process's environment, e.g. the AWS
	// endpoint and region so the aws CLI inside commands hits the same backend.
	Env []string
	// SQL copies between S3 data and SqlDataNodes; nil uses the built-in
	// SQL backend (executor/sqlrun) with SQLOptions.
	SQL SQLCopier
	// SQLOptions reach databases: local endpoint mappings for RDS instance
	// and Redshift cluster ids, and the AWS resolvers with --backend aws.
	SQLOptions sqlrun.Options
	// AWS is the AWS backend (--backend aws): DynamoDB preconditions and
	// EMR DynamoDB tool steps need it; nil leaves them failing with a hint.
	AWS *awsx.Env
	// StepHandlers run EmrActivity steps natively (DynamoDB tools, ...).
	StepHandlers []StepHandler
	// Shell runs `command` fields and scripts (default "sh", or $DPL_SHELL).
	// The service's hosts are Amazon Linux, where sh is bash; set "bash" to
	// run definitions that rely on bash syntax on a machine whose sh is dash.
	Shell string
	// EMR says where Hive, Pig, Hadoop, Spark and Sqoop work runs (--emr):
	// host tools, the embedded engines, or auto (the default).
	EMR hosttools.Mode
	// BeelineURL is the HiveServer2 JDBC URL for beeline, used in host
	// mode when hive is absent and beeline is installed (--beeline-url;
	// "" reads $DPL_BEELINE_URL, else jdbc:hive2://localhost:10000/default).
	BeelineURL string
	// KillGrace is how long a canceled command gets between SIGTERM and
	// SIGKILL (default 5s).
	KillGrace time.Duration
	// Registry holds activity runners by type, registered by packages
	// that add types (provider.Default when nil). Its entries win over the
	// built-in ones; the Runner adds the built-ins to its own copy.
	Registry *provider.Registry
}

// Runner runs tasks by type.
type Runner struct {
	opts     Options
	handlers map[string]handler // the built-ins, while New fills reg
	reg      *provider.Registry
	made     sync.Map // working folders already created
	// shellPath is shellName (Options.Shell) resolved on PATH once.
	shellName, shellPath string
}

// handler runs one task type.
type handler func(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result

// New returns a Runner for the given options.
func New(opts Options) *Runner {
	if opts.KillGrace <= 0 {
		opts.KillGrace = 5 * time.Second
	}
	if opts.Shell == "" {
		opts.Shell = os.Getenv("DPL_SHELL")
	}
	if opts.Shell == "" {
		opts.Shell = "sh"
	}
	// Staging paths are handed to commands running in other folders, so
	// they must not be relative.
	if abs, err := filepath.Abs(opts.Root); err == nil {
		opts.Root = abs
	}
	shellPath, _ := exec.LookPath(opts.Shell)
	r := &Runner{opts: opts, shellName: opts.Shell, shellPath: shellPath, handlers: map[string]handler{
		"ShellCommandActivity":     runShellActivity,
		"ShellCommandPrecondition": runShellPrecondition,
		"S3KeyExists":              runS3KeyExists,
		"S3PrefixNotEmpty":         runS3PrefixNotEmpty,
		"Exists":                   runExists,
		"EmrActivity":              runEmrActivity,
		"CopyActivity":             runCopyActivity,
	}}
	for typ, why := range unsupported {
		r.handlers[typ] = unsupportedHandler(typ, why)
	}
	r.registerEMRTools()
	if opts.AWS != nil {
		r.registerAWS(opts.AWS)
	}
	sb := &sqlBackend{r: r, opts: opts.SQLOptions}
	if r.opts.SQL == nil {
		r.opts.SQL = sb
	}
	r.handlers["SqlActivity"] = func(ctx context.Context, _ *Runner, t *task.Task, logs task.Logs) task.Result {
		return sb.runSqlActivity(ctx, t, logs)
	}
	r.handlers["RedshiftCopyActivity"] = func(ctx context.Context, _ *Runner, t *task.Task, logs task.Logs) task.Result {
		return sb.runRedshiftCopy(ctx, t, logs)
	}
	// One table of types: the registry's registrations, then the
	// built-ins it does not override.
	reg := opts.Registry
	if reg == nil {
		reg = provider.Default
	}
	r.reg = reg.Clone()
	for typ, h := range r.handlers {
		if _, ok := r.reg.Activity(typ); !ok {
			r.reg.RegisterActivity(typ, r.bind(h))
		}
	}
	r.handlers = nil
	return r
}

// bind makes a built-in handler a registry entry.
func (r *Runner) bind(h handler) provider.ActivityFunc {
	return func(ctx context.Context, t *task.Task, logs task.Logs) task.Result { return h(ctx, r, t, logs) }
}

// Register adds or replaces the runner of a task type in this Runner's
// registry; backends (SQL, DynamoDB) plug their activities in this way.
// Packages that add a type for every runner register it in
// provider.Default instead.
func (r *Runner) Register(typ string, h func(ctx context.Context, t *task.Task, logs task.Logs) task.Result) {
	r.reg.RegisterActivity(typ, h)
}

// Registry returns the runner's table of types.
func (r *Runner) Registry() *provider.Registry { return r.reg }

// Run executes t and reports its outcome. It returns when ctx is done,
// after stopping everything it started.
func (r *Runner) Run(ctx context.Context, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	if a == nil {
		return failf(task.ErrorIDNoAttempt, "task %s carries no attempt object %q", t.TaskID, t.AttemptID)
	}
	typ := a.Get("type")
	h, ok := r.reg.Activity(typ)
	if !ok {
		return failf(task.ErrorIDUnknownType, "the local runner does not know how to run objects of type %q", typ)
	}
	ctx = context.WithValue(ctx, attemptKey{}, t.AttemptID)
	pl, err := r.startPipelineLog(t, &logs)
	if err != nil {
		fmt.Fprintf(logs.Stderr, "dpl: warning: attempt logs will not be uploaded: %v\n", err)
	}
	res := h(ctx, t, logs)
	if pl != nil {
		// The service keeps running a task whose log upload fails; so do we,
		// with a warning in the local log.
		if err := pl.upload(ctx, r); err != nil {
			fmt.Fprintf(logs.Stderr, "dpl: warning: pipelineLogUri: %v\n", err)
		}
	}
	return res
}

type attemptKey struct{}

// attemptOf is the attempt whose task ctx runs ("" outside Run).
func attemptOf(ctx context.Context) string {
	id, _ := ctx.Value(attemptKey{}).(string)
	return id
}

// workDir returns (creating it once) the working folder commands run in:
// one per resource instance, shared by every attempt on it, like the task
// runner's folder on one EC2 instance.
func (r *Runner) workDir(t *task.Task) (string, error) {
	group := t.Attempt().Get("@resourceInstance")
	if group == "" {
		group = "worker"
	}
	dir := filepath.Join(r.opts.Root, "work", safeName(group))
	if _, ok := r.made.Load(dir); ok {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create working directory: %w", err)
	}
	r.made.Store(dir, true)
	return dir, nil
}

// attemptDir returns (creating it) a folder private to one attempt, for
// staging directories and fetched scripts.
func (r *Runner) attemptDir(t *task.Task) (string, error) {
	base, err := r.workDir(t)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, safeName(t.AttemptID))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create attempt directory: %w", err)
	}
	return dir, nil
}

// safeName turns an instance or attempt id into one path segment.
func safeName(id string) string {
	id = strings.TrimPrefix(id, "@")
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':', 0:
			return '_'
		}
		return r
	}, id)
}

func failf(id, format string, args ...any) task.Result {
	return task.Result{Status: task.Failed, ErrorID: id, ErrorMessage: fmt.Sprintf(format, args...)}
}

func finished() task.Result { return task.Result{Status: task.Finished} }

// unsupported lists the types the local runner cannot run yet, and why.
var unsupported = map[string]string{
	"DynamoDBTableExists": "the AWS backend (--backend aws)",
	"DynamoDBDataExists":  "the AWS backend (--backend aws)",
}

func unsupportedHandler(typ, why string) handler {
	return func(_ context.Context, _ *Runner, _ *task.Task, logs task.Logs) task.Result {
		msg := fmt.Sprintf("not supported by the local runner yet: %s needs %s", typ, why)
		fmt.Fprintln(logs.Stderr, "dpl: "+msg)
		return failf(task.ErrorIDUnsupported, "%s", msg)
	}
}
