package activity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/proc"
	"github.com/dpl-dev/dpl/executor/task"
)

func runShellActivity(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	res, _ := r.runShell(ctx, t, logs, true)
	return res
}

// runShellPrecondition maps a non-zero exit to FALSE (condition not met);
// only failures to run at all are FAILED.
func runShellPrecondition(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	res, exited := r.runShell(ctx, t, logs, false)
	if res.Status == task.Failed && exited {
		res.Status = task.False
	}
	return res
}

// runShell runs `command` (with scriptArgument as $1...) or the script at
// scriptUri, with staging when asked. exited reports whether the command ran
// and exited on its own (as opposed to not starting or being killed).
func (r *Runner) runShell(ctx context.Context, t *task.Task, logs task.Logs, stage bool) (res task.Result, exited bool) {
	a := t.Attempt()
	dir, err := r.workDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err), false
	}
	command, scriptURI := a.Get("command"), a.Get("scriptUri")
	args := a.All("scriptArgument")
	var argv []string
	switch {
	case command != "" && scriptURI != "":
		return failf(task.ErrorIDInvalidTask, "both command and scriptUri are set; give only one"), false
	case command != "":
		argv = append([]string{r.opts.Shell, "-c", command, r.opts.Shell}, args...)
	case scriptURI != "":
		adir, err := r.attemptDir(t)
		if err != nil {
			return failf("Runner_WorkDir", "%v", err), false
		}
		path, err := r.fetchScript(ctx, scriptURI, adir)
		if err != nil {
			return failf("Runner_ScriptUri", "fetch scriptUri %s: %v", scriptURI, err), false
		}
		// The service passes scriptArgument to a fetched script as $1…$n,
		// as it does to command (AWS's own samples rely on it).
		argv = append([]string{r.opts.Shell, path}, args...)
	default:
		return failf(task.ErrorIDInvalidTask, "neither command nor scriptUri is set"), false
	}

	env := append(os.Environ(), r.opts.Env...)
	var outputs []outputDir
	if stage && isTrue(a.Get("stage")) {
		adir, err := r.attemptDir(t)
		if err != nil {
			return failf("Runner_WorkDir", "%v", err), false
		}
		env, outputs, err = r.stageInputs(ctx, t, adir, env)
		if err != nil {
			return failf("Runner_Staging", "stage inputs: %v", err), false
		}
	}

	stdout, stderr := logs.Stdout, logs.Stderr
	var sinks []*fieldSink
	for _, s := range []struct {
		key string
		w   *io.Writer
	}{{"stdout", &stdout}, {"stderr", &stderr}} {
		if p := a.Get(s.key); p != "" {
			sink, err := r.openSink(ctx, p)
			if err != nil {
				return failf("Runner_Output", "open %s %s: %v", s.key, p, err), false
			}
			sinks = append(sinks, sink)
			*s.w = io.MultiWriter(*s.w, sink.w)
		}
	}
	tail := &tailBuffer{max: 2048}
	stderr = io.MultiWriter(stderr, tail)

	runErr := r.exec(ctx, argv, dir, env, stdout, stderr)
	for _, s := range sinks {
		if err := s.close(ctx); err != nil && runErr == nil {
			runErr = fmt.Errorf("write %s: %w", s.name, err)
		}
	}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return failf("Runner_Canceled", "command stopped: %v", context.Cause(ctx)), false
	case errors.As(runErr, &exitErr):
		msg := fmt.Sprintf("command exited with status %d", exitErr.ExitCode())
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			msg = fmt.Sprintf("command killed by signal %s", ws.Signal())
		}
		last := tail.lastLines(5)
		if last != "" {
			msg += ": " + last
		}
		id := "Runner_CommandFailed"
		if hint := missingCommandHint(a, exitErr.ExitCode(), last); hint != "" {
			msg += " — " + hint
		}
		if commandNotFound(exitErr.ExitCode(), last) {
			// No retry installs a program: fail now, not after maximumRetries × retryDelay.
			id = task.ErrorIDCommandNotFound
		}
		return task.Result{Status: task.Failed, ErrorID: id, ErrorMessage: msg}, true
	case errors.Is(runErr, exec.ErrNotFound) || errors.Is(runErr, fs.ErrNotExist) || errors.Is(runErr, fs.ErrPermission):
		return failf(task.ErrorIDCommandNotFound, "run command: %v", runErr), false
	case runErr != nil:
		return failf("Runner_Exec", "run command: %v", runErr), false
	}
	if err := r.flushOutputs(ctx, outputs); err != nil {
		return failf("Runner_Staging", "stage outputs: %v", err), false
	}
	return finished(), true
}

// exec runs argv in its own process group and, when ctx ends, stops the
// whole group: SIGTERM, then SIGKILL after the grace period. Leftover
// background children are killed when the command exits, so an attempt
// never leaves processes behind.
func (r *Runner) exec(ctx context.Context, argv []string, dir string, env []string, stdout, stderr io.Writer) error {
	var cmd *exec.Cmd
	if argv[0] == r.shellName && r.shellPath != "" {
		// The shell was looked up once; exec.Command would search PATH
		// (a stat per directory) for every task.
		cmd = &exec.Cmd{Path: r.shellPath, Args: argv}
	} else {
		cmd = exec.Command(argv[0], argv[1:]...)
	}
	if id := attemptOf(ctx); id != "" {
		// Marks every process of the attempt, so that leftovers of a dpl
		// killed mid-attempt are found and stopped by the next run.
		env = append(env[:len(env):len(env)], proc.EnvVar+"="+proc.Marker(r.opts.Root, id))
	}
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = pooledCopy{stdout}, pooledCopy{stderr}
	// Pdeathsig (Linux): the command dies with the dpl thread that started
	// it, so a kill -9 of dpl does not leave it running beside its rerun.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: proc.Pdeathsig}
	// A background child holding the output pipe must not block Wait forever.
	cmd.WaitDelay = r.opts.KillGrace + time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	pgid := cmd.Process.Pid
	start, _ := proc.StartTime(pgid)
	task.ProcessStarted(ctx, task.Process{Pgid: pgid, Start: start})
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(r.opts.KillGrace):
			}
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // reap leftovers of the group
	return err
}

// copyBuffers holds the buffers that copy a child's output pipes: os/exec
// otherwise allocates 32 KiB per stream per task, which is most of what
// the garbage collector has to do on a run of many short commands.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// pooledCopy is a Writer whose ReadFrom copies through a pooled buffer.
type pooledCopy struct{ io.Writer }

func (w pooledCopy) ReadFrom(r io.Reader) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{w.Writer}, r, *bp)
}

// fetchScript copies a script (s3:// through the store, or a local path)
// into the working folder.
func (r *Runner) fetchScript(ctx context.Context, uri, dir string) (string, error) {
	dst := filepath.Join(dir, "script-"+filepath.Base(strings.TrimRight(uri, "/")))
	var src io.ReadCloser
	var err error
	if objstore.IsURI(uri) {
		if r.opts.Store == nil {
			return "", errors.New("no object store configured")
		}
		src, err = r.opts.Store.Open(ctx, uri)
	} else {
		src, err = os.Open(uri)
	}
	if err != nil {
		return "", err
	}
	defer src.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return "", err
	}
	return dst, f.Close()
}

// fieldSink is where a `stdout`/`stderr` field sends output: a local file
// (appended, so retries keep earlier attempts' output) or an S3 object
// (written once the command ends).
type fieldSink struct {
	name  string
	w     io.Writer
	close func(ctx context.Context) error
}

func (r *Runner) openSink(ctx context.Context, path string) (*fieldSink, error) {
	if objstore.IsURI(path) {
		if r.opts.Store == nil {
			return nil, errors.New("no object store configured")
		}
		w, err := r.opts.Store.Create(ctx, path)
		if err != nil {
			return nil, err
		}
		return &fieldSink{name: path, w: w, close: func(context.Context) error { return w.Close() }}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &fieldSink{name: path, w: f, close: func(context.Context) error { return f.Close() }}, nil
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

// lastLines returns up to n trailing non-empty lines joined by " | ".
func (b *tailBuffer) lastLines(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(b.buf), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var out []string
	for _, l := range lines {
		if s := strings.TrimSpace(string(l)); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " | ")
}

func isTrue(s string) bool {
	b, _ := strconv.ParseBool(strings.ToLower(strings.TrimSpace(s)))
	return b
}
