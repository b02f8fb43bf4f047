package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/convert"
	"github.com/dpl-dev/dpl/definition/validate"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/errcode"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/session"
)

type runFlags struct {
	headless   bool
	stateDir   string
	params     []string
	paramFile  string
	parallel   int
	backend    backendFlags
	retryDelay time.Duration
	until      string
	fresh      bool
	output     string
	serve      string
	sets       []string
	verbose    bool
	summary    string
	res        resourceFlags
}

// runInteractive is the TUI hook: when set (by the TUI's file) and the
// output is a terminal without --headless, `dpl run` hands the started
// session to it instead of printing progress lines. Its error ends the
// command.
var runInteractive func(ctx context.Context, s *session.Session) error

func init() {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] FILE",
		Short: "Run a pipeline definition on this machine",
		Long: `Run a pipeline definition locally the way AWS Data Pipeline would: instances per
schedule period, dependencies, preconditions, retries, timeouts, cascade failure,
resources and actions. State is kept in the state folder, so an interrupted run
continues where it stopped when run again.

--set ObjectId.field=value replaces a field of an object (creating it when
absent) before validation, e.g. to point a database at a local server;
secret (*) fields are masked wherever the override is shown. Overrides are
part of the run's definition: continue a run with the same --set flags.

The definition is validated first. Without a terminal, or with --headless,
progress is printed as one line per status change, then a summary.
While it runs, dpl runs, dpl events and the operator commands (rerun, cancel,
mark-finished, pause, resume) reach it through <state-dir>/control.sock.

Exit codes: 0 everything finished, 1 something failed, cascade-failed, timed out
or was canceled, 2 usage or definition errors, 130 interrupted (resumable).`,
		Example: `  dpl run --headless fixtures/quickstart/pipeline.json
  dpl run --retry-delay 5s --param myBucket=s3://data pipeline.json
  dpl run --output jsonl --until 2024-01-02T00:00:00 pipeline.json
  dpl run --set RedshiftCluster.connectionString=jdbc:postgresql://127.0.0.1:5432/dev pipeline.json
  dpl run --db-endpoint my-rds-instance=jdbc:mysql://127.0.0.1:3306/db pipeline.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.headless, "headless", false, "print progress lines instead of the interactive view")
	fl.StringVar(&f.stateDir, "state-dir", "", "state folder (default $DPL_STATE_DIR or ./.dpl)")
	fl.StringArrayVarP(&f.params, "param", "p", nil, "parameter value id=value (repeat an id for array parameters)")
	fl.StringVar(&f.paramFile, "param-file", "", `JSON file of parameter values: {"values": {"myId": "value"}}`)
	fl.IntVar(&f.parallel, "parallel", runtime.NumCPU(), "tasks run at once")
	addBackendFlags(fl, &f.backend)
	addResourceFlags(fl, &f.res, true)
	addSetFlag(fl, &f.sets)
	addReadFlags(fl)
	fl.Var(durationFlag{&f.retryDelay}, "retry-delay", "override every retryDelay and precondition re-check interval (e.g. 2s)")
	fl.StringVar(&f.until, "until", "", "create no instance starting at or after this time (yyyy-MM-ddTHH:mm:ss, UTC)")
	fl.BoolVar(&f.fresh, "fresh", false, "start a new run even if an unfinished one exists")
	fl.StringVarP(&f.output, "output", "o", "text", "progress format: text or jsonl")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "text: print every status change, not only attempt ends and failures")
	fl.StringVar(&f.summary, "summary", "short", "text: short (counts per component, failed instances) or full (every instance)")
	fl.StringVar(&f.serve, "serve", "", "ADDR: also serve the Data Pipeline API on this loopback address (e.g. 127.0.0.1:8998): objects with a workerGroup then wait for dpl taskrunner (or Task Runner) polling it")
	rootCmd.AddCommand(cmd)
}

// stateDirFor applies the state folder defaults.
func stateDirFor(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("DPL_STATE_DIR"); env != "" {
		return env
	}
	return ".dpl"
}

func runRun(cmd *cobra.Command, f runFlags, file string) error {
	// main picks a lazy collector for short commands; a run is long-lived
	// and keeps its heap small instead (peak memory matters for big runs).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	if f.output != "text" && f.output != "jsonl" {
		return withCode(exitUsage, fmt.Errorf("--output %q: want text or jsonl", f.output))
	}
	if f.summary != "short" && f.summary != "full" {
		return withCode(exitUsage, fmt.Errorf("--summary %q: want short or full", f.summary))
	}
	if f.parallel < 1 {
		return withCode(exitUsage, fmt.Errorf("--parallel %d: want at least 1", f.parallel))
	}
	switch f.backend.kind {
	case "local", "aws":
	default:
		return withCode(exitUsage, fmt.Errorf("--backend %q: want local or aws", f.backend.kind))
	}
	var until time.Time
	if f.until != "" {
		t, err := schedule.ParseTime(f.until)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--until: %w", err))
		}
		until = t
	}
	values, err := paramValues(f.paramFile, f.params)
	if err != nil {
		return withCode(exitUsage, err)
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()

	// Absolute, because commands run in their own working folders and get
	// paths under the state folder (staging directories, logs).
	stateDir, err := filepath.Abs(stateDirFor(f.stateDir))
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("state folder: %w", err))
	}
	// Opening the store (milliseconds of file creation and syncing) overlaps
	// validation; a definition with errors leaves no new state folder behind.
	pending := session.OpenStore(stateDir)

	// Validate first; errors stop the run with the validator's report.
	name, src, _, err := readDefinition(file)
	if err != nil {
		pending.Discard()
		return err
	}
	res, overrides, err := validateSource(name, src, validate.Options{Values: values}, f.sets)
	if err != nil {
		pending.Discard()
		return withCode(exitUsage, err)
	}
	promoteRunBlockers(res)
	if res.Errored() || res.Definition == nil {
		pending.Discard()
		_ = validate.WriteText(stderr, []*validate.Result{res}, validate.TextOptions{Color: colorOutput(stderr)})
		return withCode(errcode.Definition, fmt.Errorf("%s has errors; nothing was run", file))
	}
	if len(overrides) > 0 || res.Definition.Format == definition.FormatCloudFormation {
		// The run's definition is the file with its overrides (and, for a
		// template, its intrinsics resolved with --cfn-param): store that
		// (so resume, dpl tui and set-status see what ran) and let its hash
		// tell a run with other overrides apart.
		src = convert.ToFile(res.Definition, convert.Options{}).MarshalIndent()
	}

	routing, err := awsprov.ParseRouting(f.res.resources, f.res.perObject)
	if err != nil {
		pending.Discard()
		return withCode(exitUsage, err)
	}
	if err := needServe(file, res.Definition, routing, f.serve); err != nil {
		pending.Discard()
		return withCode(exitUsage, err)
	}
	if f.serve != "" {
		// With resources on AWS the API requires signatures (each runner
		// on EC2 has its own key), so it may listen beyond loopback.
		if err := checkServeAddr(f.serve, routing.Any()); err != nil {
			pending.Discard()
			return withCode(exitUsage, err)
		}
	}
	db, err := pending.Wait()
	if err != nil {
		if busy := session.BusyError(cmd.Context(), stateDir); busy != nil {
			err = busy
		}
		return withCode(errcode.IO, err)
	}
	defer db.Close()
	f.backend.resourcesOnAWS = routing.Any()
	be, err := f.backend.open(cmd.Context(), stateDir)
	if err != nil {
		return withCode(exitUsage, err)
	}
	awsRes, err := f.res.open(cmd.Context(), &f.backend, stateDir, f.serve)
	if err != nil {
		return withCode(exitUsage, err)
	}
	var registry *provider.Registry
	var keys *endpoint.KeyRing
	if awsRes != nil {
		registry, keys = awsRes.registry, awsRes.keys
	}
	interactive := !f.headless && runInteractive != nil && isTerminal(stdout) && f.output == "text"
	runner := activity.New(be.Runner)
	s, err := session.Open(session.Options{
		File: file, Definition: res.Definition, Source: src,
		Store: db, StateDir: stateDir, Notifier: be.Notifier,
		Params: values, RetryDelay: f.retryDelay, Until: until, Fresh: f.fresh,
		Runner: runner, Parallel: f.parallel, Serve: f.serve,
		ServeAPI: func(ctx context.Context, eng *executor.Engine) error {
			// After the run ends the server keeps answering for a short
			// grace period, telling remote runners to terminate.
			return endpoint.ServeEngine(ctx, f.serve, eng, eng.PipelineID(), eng.WorkerGroups(),
				endpoint.Options{StateDir: stateDir, Store: db, Runner: runner,
					NoAuth: keys == nil, KeyRing: keys})
		},
		Registry: registry,
		History:  interactive, Reopenable: interactive,
		Warnf: func(format string, args ...any) { fmt.Fprintf(stderr, "dpl: "+format+"\n", args...) },
	})
	var ended *executor.ActivationEndedError
	if errors.As(err, &ended) {
		return reportEnded(stdout, stderr, ended, f)
	}
	if errors.Is(err, executor.ErrDefinitionChanged) {
		// --set overrides are part of the run's definition.
		return withCode(errcode.Definition, fmt.Errorf("%w (--set flags count as part of the definition: give the ones the run started with)", err))
	}
	if err != nil {
		return withCode(exitUsage, err)
	}
	if awsRes != nil {
		awsRes.env.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, "dpl: "+format+"\n", args...) }
		awsRes.env.Attach(s.Engine)
	}
	if why := s.Engine.Follows(); why != "" {
		fmt.Fprintf(stderr, "dpl: %s\n", why)
	}
	// Whatever ends the run (its end, a failure, Ctrl-C, SIGTERM), what it
	// created on AWS is terminated before dpl exits (--keep-resources
	// keeps it on an interrupt, for the resumed run to reuse).
	defer func() {
		_ = awsRes.cleanup(stderr, s.Engine.PipelineID(), s.Engine.Activation(), s.Interrupted())
	}()
	if f.output == "text" {
		fmt.Fprintf(stderr, "dpl: %s\n", be.Describe)
		switch {
		case awsRes != nil && awsRes.env.Runner.Endpoint != "":
			fmt.Fprintf(stderr, "dpl: resources on AWS (%s); task runners on EC2 poll %s with per-instance keys\n", awsRes.env.AWS.Describe(), awsRes.env.Runner.Endpoint)
		case awsRes != nil:
			fmt.Fprintf(stderr, "dpl: resources on AWS (%s)\n", awsRes.env.AWS.Describe())
		}
		for _, ov := range overrides {
			fmt.Fprintf(stderr, "dpl: --set %s.%s = %s\n", ov.ObjectID, ov.Key, ov.DisplayValue())
		}
	}

	sigCtx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s.Start(sigCtx)
	if f.serve != "" {
		fmt.Fprintf(stderr, "dpl: serving the API on http://%s; worker groups %s wait for runners\n", f.serve, strings.Join(s.WorkerGroups(), ", "))
	}

	if interactive {
		uiErr := runInteractive(s.Context(), s)
		s.Stop() // the UI is gone: nothing more to show, stop cleanly if still running
		sum, runErr := s.Wait()
		switch {
		case s.Interrupted() && (sum == nil || !sum.OK):
			return withCode(exitInterrupted, nil)
		case runErr != nil:
			return withCode(exitFailed, runErr)
		case uiErr != nil && (sum == nil || !sum.OK):
			return withCode(exitFailed, uiErr)
		case sum != nil && !sum.OK:
			return withCode(exitFailed, nil)
		}
		return nil
	}

	printed := make(chan struct{})
	go func() {
		defer close(printed)
		printEvents(stdout, stderr, s.Events, progressOptions{format: f.output, verbose: f.verbose, parallel: f.parallel, instances: len(s.Engine.Instances())})
	}()
	sum, runErr := s.Wait()
	<-printed
	if sum != nil && f.output == "text" {
		printSummary(stdout, sum, f.summary == "full")
	}
	switch {
	case s.Interrupted():
		fmt.Fprintf(stderr, "dpl: interrupted; state kept in %s — run the same command again to continue\n", stateDir)
		return withCode(exitInterrupted, nil)
	case runErr != nil:
		return withCode(exitFailed, runErr)
	case !sum.OK:
		return withCode(exitFailed, nil)
	}
	return nil
}

// reportEnded answers a `dpl run` of an activation that already ended
// (the same command again, or after a kill between its end and dpl's
// exit): nothing runs; it says how the activation ended and that --fresh
// starts another, and exits as that run did.
func reportEnded(stdout, stderr io.Writer, ended *executor.ActivationEndedError, f runFlags) error {
	sum := ended.Summary
	if f.output == "jsonl" {
		st := executor.Finished
		if !sum.OK {
			st = executor.Failed
		}
		b, _ := executor.Event{Time: time.Now().UTC(), Kind: executor.EventRun, Pipeline: sum.PipelineID, Status: st, Message: ended.Error()}.MarshalJSON()
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printSummary(stdout, sum, f.summary == "full")
	}
	fmt.Fprintf(stderr, "dpl: %s\n", ended.Error())
	if !sum.OK {
		return withCode(exitFailed, nil)
	}
	return nil
}

// runBlockers are validator warnings (the value may come at activation)
// that make a run fail for sure: a parameter with no value, or a name that
// is neither a parameter nor a field. A run has been activated, so they
// are errors here, reported before anything runs rather than as a failed
// attempt later.
// A CloudFormation value only a deployed stack knows blocks a run like an
// unset parameter: running its placeholder would run something else.
var runBlockers = map[string]bool{"MISSING_PARAMETER_VALUE": true, "UNKNOWN_PARAMETER": true, definition.CodeCFNUnresolved: true}

func promoteRunBlockers(res *validate.Result) {
	for i, d := range res.Diagnostics {
		if d.Severity == definition.SeverityWarning && runBlockers[d.Code] {
			d.Severity = definition.SeverityError
			d.Hint = strings.Replace(d.Hint, "; an error with --strict", "", 1)
			res.Diagnostics[i] = d
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
