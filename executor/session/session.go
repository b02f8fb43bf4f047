// Package session runs one activation of a pipeline: it resumes or starts
// the activation in the store (whose lock the caller holds through
// OpenStore), runs the in-process worker, serves the control socket (and
// optionally the Data Pipeline API for remote runners), appends every
// event to events.jsonl, and shuts all of that down in order. `dpl run`
// and its interactive view use Open; `dpl serve` drives each pipeline's
// engine through Attach. cmd/dpl only parses flags and prints.
package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/control"
	"github.com/dpl-dev/dpl/executor/local"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// Options say what to run and how.
type Options struct {
	// File is the definition's path; it names the pipeline (its id and
	// name). Definition is the validated definition and Source its bytes
	// (with any overrides applied: their hash identifies the run).
	File       string
	Definition *definition.Definition
	Source     []byte
	// Store is the state folder's store (OpenStore); StateDir the folder.
	Store    *runstore.DB
	StateDir string
	Notifier executor.Notifier
	// Params, RetryDelay, Until and Fresh are the executor.Options fields.
	Params     map[string][]string
	RetryDelay time.Duration
	Until      time.Time
	Fresh      bool

	// Runner runs the in-process worker's tasks; Parallel is how many at
	// once.
	Runner   task.Runner
	Parallel int
	// Serve, when set, is the address the Data Pipeline API is served on
	// for remote runners: the work of every workerGroup then waits for
	// them (`dpl run --serve`). ServeAPI serves it until ctx ends (the
	// caller wires the endpoint package in, which itself drives engines
	// through this package).
	Serve    string
	ServeAPI func(ctx context.Context, eng *executor.Engine) error
	// NoControlSocket and NoEventLog leave out the control socket and
	// events.jsonl: `dpl serve` runs many pipelines in one state folder
	// and answers for them through its API.
	NoControlSocket bool
	NoEventLog      bool
	// Registry gives the resource providers (provider.Default when nil),
	// e.g. the AWS providers of `dpl run --resources aws`.
	Registry *provider.Registry
	// History makes Start read the activation's stored events before the
	// run starts (Session.History), for views that show a resumed run's
	// past.
	History bool
	// Reopenable keeps the session driving the engine after the run
	// ended, when an operator command reopens it (an interactive view is
	// open), until Stop or the end of Start's context.
	Reopenable bool
	// Warnf reports problems that do not stop the run (nil: dropped).
	Warnf func(format string, args ...any)
}

// Session is one activation being run. Open prepares it, Start runs it,
// Wait waits for its end.
type Session struct {
	// Engine is the activation's engine.
	Engine *executor.Engine
	// Events carries every event from Start on; it is closed when the
	// run ends.
	Events <-chan executor.Event
	// History holds the events stored before Start (a resumed run's past,
	// oldest first) when Options.History is set; Events carries the rest.
	History  []executor.Event
	StateDir string

	opts Options
	ctx  context.Context // the run's: ends on Stop or the caller's ctx
	stop context.CancelFunc

	waitOnce sync.Once
	done     chan result
	final    result
	cleanup  []func()
}

type result struct {
	sum *executor.Summary
	err error
}

// Open resumes the pipeline's unfinished activation in the store, or
// starts a new one. When the latest activation ended and is asked for the
// same way (definition, parameters, Until) it starts nothing and returns
// an *executor.ActivationEndedError (Fresh starts a new one). Nothing runs
// until Start.
func Open(opts Options) (*Session, error) {
	eng, err := executor.New(executor.Options{
		Definition: opts.Definition, Source: opts.Source,
		PipelineID:   executor.PipelineIDFor(opts.File),
		PipelineName: strings.TrimSuffix(filepath.Base(opts.File), filepath.Ext(opts.File)),
		Store:        opts.Store, StateDir: opts.StateDir,
		Notifier: opts.Notifier,
		Params:   opts.Params, RetryDelay: opts.RetryDelay, Until: opts.Until, Fresh: opts.Fresh,
		KeepEnded: true, // the same command again reports the ended run; Fresh starts another
		RemoteAll: opts.Serve != "",
		Registry:  opts.Registry,
	})
	if err != nil {
		return nil, err
	}
	return Attach(eng, opts), nil
}

// Attach makes a session of an engine built elsewhere (`dpl serve` builds
// its engines from the stored definitions); opts' definition and store
// fields are not used.
func Attach(eng *executor.Engine, opts Options) *Session {
	if opts.Warnf == nil {
		opts.Warnf = func(string, ...any) {}
	}
	return &Session{Engine: eng, StateDir: opts.StateDir, opts: opts}
}

// WorkerGroups are the groups whose work waits for remote runners (with
// Options.Serve).
func (s *Session) WorkerGroups() []string {
	if s.opts.Serve == "" {
		return nil
	}
	return s.Engine.WorkerGroups()
}

// Start runs the activation until it ends, ctx ends or Stop is called:
// the engine, the in-process worker, the control socket, the API server
// with Options.Serve, and the event log. Call Wait for the outcome.
func (s *Session) Start(ctx context.Context) {
	eng, opts := s.Engine, s.opts
	s.ctx, s.stop = context.WithCancel(ctx)
	events, unsubscribe := eng.Subscribe()
	s.Events = events
	// Every event also goes to <state-dir>/events.jsonl, which `dpl events
	// --follow` tails while the run holds the store.
	logged := make(chan struct{})
	unsubscribeLog := func() {}
	if opts.NoEventLog {
		close(logged)
	} else {
		var logEvents <-chan executor.Event
		logEvents, unsubscribeLog = eng.Subscribe()
		go func() {
			defer close(logged)
			appendEventLog(logEvents, filepath.Join(opts.StateDir, "events.jsonl"))
		}()
	}

	workCtx, stopWork := context.WithCancel(s.ctx)
	workerDone := make(chan error, 1)
	if opts.Runner == nil {
		// Every task goes to remote runners.
		workerDone <- nil
	} else {
		w := &local.Worker{API: eng, PipelineID: eng.PipelineID(), Runner: opts.Runner, Parallel: opts.Parallel, Logs: local.LogFiles(opts.StateDir)}
		go func() { workerDone <- w.Run(workCtx) }()
	}
	// `dpl runs`, rerun, cancel ... reach this run through its control socket.
	controlDone := closedChan()
	if !opts.NoControlSocket {
		var err error
		if controlDone, err = control.Serve(workCtx, opts.StateDir, eng); err != nil {
			opts.Warnf("other dpl commands cannot reach this run: %v", err)
			controlDone = closedChan()
		}
	}
	serveDone := make(chan struct{})
	if opts.Serve == "" || opts.ServeAPI == nil {
		close(serveDone)
	} else {
		go func() {
			defer close(serveDone)
			if err := opts.ServeAPI(workCtx, eng); err != nil && workCtx.Err() == nil {
				opts.Warnf("--serve: %v", err)
			}
		}()
	}
	if opts.History {
		// Read before the run starts, so nothing is both here and in Events.
		var err error
		if s.History, err = eng.History(0); err != nil {
			opts.Warnf("earlier events of this run are not shown: %v", err)
		}
	}
	s.done = make(chan result, 1)
	go func() {
		sum, err := eng.Run(s.ctx)
		// With a view open, an operator command (rerun, mark finished)
		// reopens the ended run: drive it again until Stop.
		for opts.Reopenable && err == nil && reopened(s.ctx, eng) {
			sum, err = eng.Run(s.ctx)
		}
		s.done <- result{sum, err}
	}()
	s.cleanup = []func(){
		stopWork,
		func() {
			if werr := <-workerDone; werr != nil && s.final.err == nil {
				s.final.err = werr
			}
		},
		func() { <-serveDone },
		func() { <-controlDone },
		unsubscribe, unsubscribeLog,
		func() { <-logged },
	}
}

func closedChan() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// reopened waits until an operator command reopens the ended run (true)
// or ctx ends (false).
func reopened(ctx context.Context, eng *executor.Engine) bool {
	select {
	case <-eng.Active():
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// Wait blocks until the run ended and everything Start started has shut
// down, and returns the run's summary. It may be called any number of
// times, from any goroutine.
func (s *Session) Wait() (*executor.Summary, error) {
	s.waitOnce.Do(func() {
		s.final = <-s.done
		for _, f := range s.cleanup {
			f()
		}
	})
	return s.final.sum, s.final.err
}

// Stop ends the run cleanly (state kept, resumable), as SIGINT does.
func (s *Session) Stop() { s.stop() }

// Interrupted reports whether the run ended because it was stopped (Stop
// or the end of Start's context) rather than on its own. Call it after
// Wait.
func (s *Session) Interrupted() bool {
	return s.ctx.Err() != nil && errors.Is(s.final.err, context.Canceled)
}

// Context is the run's context: it ends when Stop is called or Start's
// context ends.
func (s *Session) Context() context.Context { return s.ctx }

// Stopping reports whether Stop was called or Start's context ended.
func (s *Session) Stopping() bool { return s.ctx.Err() != nil }

// appendEventLog appends every event as a JSON line to path, flushing
// whenever the stream is momentarily empty.
func appendEventLog(events <-chan executor.Event, path string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		for range events {
		}
		return
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	defer w.Flush()
	for ev := range events {
		b, _ := ev.MarshalJSON() // json.Marshal would re-scan and compact it
		w.Write(append(b, '\n'))
		if len(events) == 0 {
			w.Flush()
		}
	}
}

// BusyError names the run that holds stateDir, when one answers on its
// control socket; nil otherwise.
func BusyError(ctx context.Context, stateDir string) error {
	c, err := control.Dial(stateDir)
	if err != nil {
		return nil
	}
	snap, err := c.Snapshot(ctx)
	if err != nil {
		return nil
	}
	return fmt.Errorf("%s is in use by run %d of %s (%s); watch it with `dpl tui --state-dir %s`, or give this run another --state-dir",
		stateDir, snap.Activation, snap.Pipeline, snap.Name, stateDir)
}
