package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/control"
	"github.com/dpl-dev/dpl/executor/remote"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/secret"
	"github.com/dpl-dev/dpl/executor/session"
	"github.com/dpl-dev/dpl/tui"
)

func init() {
	var stateDir, pipeline, endpoint, region string
	var noMouse bool
	cmd := &cobra.Command{
		Use:   "tui [--state-dir DIR | --endpoint URL] [--pipeline ID]",
		Short: "Browse a stored run, or attach to dpl serve, in the terminal UI",
		Long: `Open the interactive view of a run kept in a state folder, read-only: the
component graph coloured by status, the instances grid, instance and attempt
detail with evaluated fields, logs and the event history. Commands (rerun,
cancel, mark finished, pause) need the engine: continue the run with
dpl run, which opens the same view over the live run. While a dpl run (also
a headless one) is using the folder, the view attaches to it through its
control socket instead: live, with commands; quitting leaves the run going.

With --endpoint the view attaches to a running dpl serve (or any Data
Pipeline API) and commands go to it through SetStatus. The API has no event
stream: the view polls every 2 seconds, and its events pane shows the
changes it saw. Logs are not served over the API: the logs view shows each
attempt's errorMessage only. Requests are signed with the default AWS
credential chain (environment, shared files).

Keys: arrows or h j k l move, enter opens, esc goes back, tab switches pane,
/ filters, : runs a command, ? shows every key, q quits.`,
		Example: `  dpl tui
  dpl tui --state-dir /var/lib/dpl --pipeline df-local-1a2b3c
  dpl tui --endpoint http://127.0.0.1:8642 --pipeline df-0123456789ABCDEF`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if endpoint != "" {
				if cmd.Flags().Changed("state-dir") {
					return withCode(exitUsage, errors.New("--endpoint and --state-dir exclude each other"))
				}
				return attachRemote(cmd.Context(), endpoint, region, pipeline, noMouse)
			}
			return browseStored(cmd.Context(), stateDirFor(stateDir), pipeline, noMouse)
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "attach to the Data Pipeline API at this URL (dpl serve); URL,URL,... fails over between several")
	cmd.Flags().StringVar(&region, "region", "", "signing region with --endpoint (default us-east-1)")
	cmd.Flags().StringVar(&stateDir, "state-dir", "", "state folder (default $DPL_STATE_DIR or ./.dpl)")
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "pipeline id when the folder holds several (default: the most recently run)")
	cmd.Flags().BoolVar(&noMouse, "no-mouse", false, "leave the mouse to the terminal (text selection)")
	rootCmd.AddCommand(cmd)

	runInteractive = runTUI
}

// runTUI is `dpl run`'s interactive mode: the UI over the live engine.
// Quitting an active run asks first; `y` stops the run, which stays
// resumable.
func runTUI(ctx context.Context, s *session.Session) error {
	src := &tui.EngineSource{Engine: s.Engine, Name: s.Engine.PipelineName(), Activation: s.Engine.Activation(), StateDir: s.StateDir}
	stop := s.Stop
	// History is what a resumed run did before this process (read before
	// the run started, so nothing is also in Events).
	res, err := tui.Run(ctx, tui.Options{Source: src, Events: s.Events, History: s.History, Stop: stop, Subscribe: s.Engine.Subscribe})
	if err != nil {
		stop()
		_, _ = s.Wait()
		return err
	}
	if res.Stopped {
		fmt.Fprintln(os.Stderr, "dpl: stopping the run…")
	}
	stopped := res.Stopped || s.Stopping()
	// Without a stop asked the run has ended; the session only waits for
	// the view to reopen it (Reopenable): end that wait.
	s.Stop()
	sum, runErr := s.Wait()
	if sum != nil {
		printSummary(os.Stdout, sum, false)
	}
	switch {
	case stopped:
		fmt.Fprintf(os.Stderr, "dpl: run stopped; state kept in %s — run the same command again to continue\n", s.StateDir)
		return nil // dpl run turns the stopped run into its exit code
	case runErr != nil && !errors.Is(runErr, context.Canceled):
		return runErr
	case sum != nil && !sum.OK:
		return fmt.Errorf("run did not finish: %s", sum.Reason)
	}
	return nil
}

// browseStored opens the latest activation of a pipeline in the state
// folder through an engine that is never run, so the view and the
// evaluated fields are exactly those of the live UI.
func browseStored(ctx context.Context, stateDir, pipeline string, noMouse bool) error {
	if _, err := os.Stat(filepath.Join(stateDir, "db")); err != nil {
		return withCode(exitUsage, fmt.Errorf("no stored run in %s (run a pipeline with dpl run first, or pass --state-dir)", stateDir))
	}
	db, err := runstore.OpenReadOnly(stateDir)
	if err != nil {
		if c, cerr := control.Dial(stateDir); cerr == nil {
			return attachLive(ctx, c, stateDir, pipeline, noMouse)
		}
		return withCode(exitUsage, fmt.Errorf("%w (a running dpl holds it and does not answer on its control socket)", err))
	}
	defer db.Close()
	runs, err := listRuns(db)
	if err != nil {
		return withCode(exitFailed, fmt.Errorf("%s: %w", stateDir, err))
	}
	if pipeline != "" || len(runs) < 2 {
		s, history, err := openStored(db, stateDir, pipeline, 0)
		if err != nil {
			return withCode(exitUsage, err)
		}
		if _, err := tui.Run(ctx, tui.Options{Source: s, History: history, NoMouse: noMouse}); err != nil {
			return withCode(exitFailed, err)
		}
		return nil
	}
	// Several pipelines or runs: the run list first; `:runs` in a view
	// comes back to it.
	for {
		run, ok, err := tui.PickRun(ctx, stateDir, runs, noMouse)
		if err != nil {
			return withCode(exitFailed, err)
		}
		if !ok {
			return nil
		}
		s, history, err := openStored(db, stateDir, run.PipelineID, run.Seq)
		if err != nil {
			return withCode(exitFailed, fmt.Errorf("run %d of %s: %w", run.Seq, run.PipelineID, err))
		}
		res, err := tui.Run(ctx, tui.Options{Source: s, History: history, NoMouse: noMouse, RunList: true})
		if err != nil {
			return withCode(exitFailed, err)
		}
		if !res.Runs {
			return nil
		}
	}
}

// listRuns is every activation of every pipeline in the store.
func listRuns(db *runstore.DB) ([]tui.RunEntry, error) {
	ps, err := db.Pipelines()
	if err != nil {
		return nil, err
	}
	var runs []tui.RunEntry
	for _, p := range ps {
		acts, err := db.Activations(p.ID)
		if err != nil {
			return nil, fmt.Errorf("runs of %s: %w", p.ID, err)
		}
		for i, a := range acts {
			runs = append(runs, tui.RunEntry{PipelineID: p.ID, Name: p.Name, Seq: a.Seq, State: a.State,
				Started: a.Started, Ended: a.Ended, Reason: a.Reason, Latest: i == len(acts)-1})
		}
	}
	return runs, nil
}

// openStored is the read-only source of a pipeline's activation seq (0:
// the latest) in an open store, with its event history.
func openStored(db *runstore.DB, stateDir, pipeline string, seq int) (*tui.EngineSource, []executor.Event, error) {
	p, act, err := pickActivation(db, pipeline)
	if err != nil {
		return nil, nil, err
	}
	if seq > 0 && seq != act.Seq {
		acts, err := db.Activations(p.ID)
		if err != nil {
			return nil, nil, err
		}
		act = nil
		for _, a := range acts {
			if a.Seq == seq {
				act = a
			}
		}
		if act == nil {
			return nil, nil, fmt.Errorf("%s has no run %d", p.ID, seq)
		}
	}
	src, err := storedDefinition(db, stateDir, p.ID, act.Hash)
	if err != nil {
		return nil, nil, fmt.Errorf("definition of %s run %d: %w", p.ID, act.Seq, err)
	}
	file := p.File
	if file == "" {
		file = p.ID + ".json"
	}
	d, err := parseStored(file, src)
	if err != nil {
		return nil, nil, fmt.Errorf("stored definition of %s: %w", p.ID, err)
	}
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: p.ID, PipelineName: p.Name,
		Store: db, StateDir: stateDir, Latest: true, Activation: act.Seq})
	if err != nil {
		return nil, nil, err
	}
	history, err := eng.History(0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dpl: the events of run %d are not shown: %v\n", act.Seq, err)
	}
	return &tui.EngineSource{Engine: eng, Name: eng.PipelineName(), Activation: eng.Activation(), StateDir: stateDir, ReadOnly: true}, history, nil
}

// attachLive opens the view over a `dpl run` in another process, through
// its control socket: live events and operator commands; quitting leaves
// that run going. When that run ends the view switches to the stored
// final state.
func attachLive(ctx context.Context, c *control.Client, stateDir, pipeline string, noMouse bool) error {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	live, history, events, err := tui.NewControlSource(wctx, c, stateDir)
	if err != nil {
		return withCode(exitFailed, err)
	}
	if pipeline == "" {
		pipeline = live.Info().PipelineID
	}
	// The final state's store is closed when the view ends (the final
	// source is opened off the UI goroutine, possibly as it ends).
	var (
		mu     sync.Mutex
		db     *runstore.DB
		closed bool
	)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		closed = true
		if db != nil {
			db.Close()
		}
	}()
	final := func(ctx context.Context) (tui.Source, []executor.Event, error) {
		// The run lets go of the store just after its socket closes.
		for delay := 20 * time.Millisecond; ; delay = min(2*delay, time.Second) {
			d, err := runstore.Open(stateDir)
			if err == nil {
				mu.Lock()
				defer mu.Unlock()
				s, history, err := openStored(d, stateDir, pipeline, 0)
				if err != nil || closed {
					d.Close()
					return nil, nil, err
				}
				db = d
				return s, history, nil
			}
			select {
			case <-ctx.Done():
				return nil, nil, err
			case <-time.After(delay):
			}
		}
	}
	if _, err := tui.Run(ctx, tui.Options{Source: tui.Attached(live, final), Events: events, History: history, NoMouse: noMouse}); err != nil {
		return withCode(exitFailed, err)
	}
	return nil
}

// pickActivation finds the pipeline asked for, or the one run last.
func pickActivation(db *runstore.DB, id string) (*runstore.Pipeline, *runstore.Activation, error) {
	ps, err := db.Pipelines()
	if err != nil {
		return nil, nil, err
	}
	var best *runstore.Pipeline
	var bestAct *runstore.Activation
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
		if id != "" && p.ID != id {
			continue
		}
		a, err := db.Latest(p.ID)
		if err != nil {
			continue
		}
		if bestAct == nil || a.Started.After(bestAct.Started) {
			best, bestAct = p, a
		}
	}
	if best == nil {
		if id != "" {
			return nil, nil, fmt.Errorf("no run of pipeline %q in the state folder (it has: %s)", id, strings.Join(ids, ", "))
		}
		return nil, nil, errors.New("the state folder has no run yet")
	}
	return best, bestAct, nil
}

// attachRemote opens the view over a pipeline of a running endpoint.
func attachRemote(ctx context.Context, endpoint, region, pipeline string, noMouse bool) error {
	c, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: endpoint, Region: region})
	if err != nil {
		return withCode(exitUsage, err)
	}
	if pipeline == "" {
		if pipeline, err = tui.PickRemotePipeline(ctx, c); err != nil {
			return withCode(exitUsage, fmt.Errorf("%s: %w", endpoint, err))
		}
	}
	src, err := tui.NewRemote(ctx, c, endpoint, pipeline)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("%s: %w", endpoint, err))
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := src.Watch(wctx, tui.RemoteInterval)
	if _, err := tui.Run(ctx, tui.Options{Source: src, Events: events, NoMouse: noMouse}); err != nil {
		return withCode(exitFailed, err)
	}
	return nil
}

// storedDefinition reads a run's definition from the store, opening it
// with the state folder's secret key (the engine seals it).
func storedDefinition(db *runstore.DB, stateDir, pipeline, hash string) ([]byte, error) {
	b, err := db.Definition(pipeline, hash)
	if err != nil {
		return nil, err
	}
	sealer, err := secret.ForStateDir(stateDir, false)
	if err != nil {
		return nil, err
	}
	return sealer.Open(b)
}
