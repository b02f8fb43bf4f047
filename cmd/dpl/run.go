package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/convert"
	"github.com/dpl-dev/dpl/definition/validate"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/session"
	"github.com/dpl-dev/dpl/executor/store"
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
	addSetFlag(fl, &f.sets)
	addReadFlags(fl)
	fl.Var(durationFlag{&f.retryDelay}, "retry-delay", "override every retryDelay and precondition re-check interval (e.g. 2s)")
	fl.StringVar(&f.until, "until", "", "create no instance starting at or after this time (yyyy-MM-ddTHH:mm:ss, UTC)")
	fl.BoolVar(&f.fresh, "fresh", false, "start a new run even if an unfinished one exists")
	fl.StringVarP(&f.output, "output", "o", "text", "progress format: text or jsonl")
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
		return withCode(exitUsage, fmt.Errorf("%s has errors; nothing was run", file))
	}
	if len(overrides) > 0 || res.Definition.Format == definition.FormatCloudFormation {
		// The run's definition is the file with its overrides (and, for a
		// template, its intrinsics resolved with --cfn-param): store that
		// (so resume, dpl tui and set-status see what ran) and let its hash
		// tell a run with other overrides apart.
		src = convert.ToFile(res.Definition, convert.Options{}).MarshalIndent()
	}

	if f.serve != "" {
		host, _, err := net.SplitHostPort(f.serve)
		if err != nil {
			pending.Discard()
			return withCode(exitUsage, fmt.Errorf("--serve %q: %w", f.serve, err))
		}
		if !isLoopback(host) {
			pending.Discard()
			return withCode(exitUsage, fmt.Errorf("--serve %q: only loopback addresses (no authentication); use dpl serve for more", f.serve))
		}
	}
	db, err := pending.Wait()
	if err != nil {
		if busy := session.BusyError(cmd.Context(), stateDir); busy != nil {
			err = busy
		}
		return withCode(exitUsage, err)
	}
	defer db.Close()
	be, err := f.backend.open(cmd.Context(), stateDir)
	if err != nil {
		return withCode(exitUsage, err)
	}
	interactive := !f.headless && runInteractive != nil && isTerminal(stdout) && f.output == "text"
	s, err := session.Open(session.Options{
		File: file, Definition: res.Definition, Source: src,
		Store: db, StateDir: stateDir, Notifier: be.Notifier,
		Params: values, RetryDelay: f.retryDelay, Until: until, Fresh: f.fresh,
		Runner: activity.New(be.Runner), Parallel: f.parallel, Serve: f.serve,
		History: interactive, Reopenable: interactive,
		Warnf: func(format string, args ...any) { fmt.Fprintf(stderr, "dpl: "+format+"\n", args...) },
	})
	if errors.Is(err, executor.ErrDefinitionChanged) {
		// --set overrides are part of the run's definition.
		return withCode(exitUsage, fmt.Errorf("%w (--set flags count as part of the definition: give the ones the run started with)", err))
	}
	if err != nil {
		return withCode(exitUsage, err)
	}
	if f.output == "text" {
		fmt.Fprintf(stderr, "dpl: %s\n", be.Describe)
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
		printEvents(stdout, stderr, s.Events, f.output)
	}()
	sum, runErr := s.Wait()
	<-printed
	if sum != nil && f.output == "text" {
		printSummary(stdout, sum)
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

// runBlockers are validator warnings (the value may come at activation)
// that make a run fail for sure: a parameter with no value, or a name that
// is neither a parameter nor a field. A run has been activated, so they
// are errors here, reported before anything runs rather than as a failed
// attempt later.
var runBlockers = map[string]bool{"MISSING_PARAMETER_VALUE": true, "UNKNOWN_PARAMETER": true}

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

// printEvents writes progress: one line per status change (text) or one
// JSON object per event (jsonl).
func printEvents(stdout, stderr io.Writer, events <-chan executor.Event, format string) {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	live := format == "text" && isTerminal(stderr)
	counts := map[string]executor.Status{}
	for ev := range events {
		if format == "jsonl" {
			b, _ := ev.MarshalJSON()
			out.Write(append(b, '\n'))
		} else if line := textLine(ev); line != "" {
			out.WriteString(line + "\n")
		}
		if ev.Kind == executor.EventStatus {
			counts[ev.Instance] = ev.Status
		}
		if len(events) == 0 {
			out.Flush()
			if live {
				fmt.Fprintf(stderr, "\r\033[K%s", liveLine(counts))
			}
		}
	}
	if live {
		fmt.Fprint(stderr, "\r\033[K")
	}
}

func liveLine(m map[string]executor.Status) string {
	c := map[executor.Status]int{}
	for _, s := range m {
		c[s]++
	}
	var parts []string
	for _, s := range []executor.Status{executor.Running, executor.WaitingForRunner, executor.WaitingOnDependencies, executor.Finished, executor.Failed, executor.CascadeFailed} {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], strings.ToLower(string(s))))
		}
	}
	return strings.Join(parts, ", ")
}

func textLine(ev executor.Event) string {
	ts := ev.Time.UTC().Format("15:04:05")
	switch ev.Kind {
	case executor.EventRun:
		return fmt.Sprintf("%s  run       %s", ts, ev.Message)
	case executor.EventStatus:
		line := fmt.Sprintf("%s  %-23s %s", ts, ev.Status, ev.Instance)
		if ev.Error != "" {
			line += ": " + ev.Error
		}
		return line
	case executor.EventWaiting:
		if ev.Message != "" {
			return fmt.Sprintf("%s  %-23s %s: %s", ts, "waiting", ev.Instance, ev.Message)
		}
	case executor.EventAlarm:
		return fmt.Sprintf("%s  %-23s %s for %s → %s: %s — %s", ts, "ALARM", ev.Object, ev.Node, ev.TopicArn, ev.Subject, ev.Message)
	case executor.EventAction:
		if ev.Object == "" { // an operator command
			target := ev.Instance
			if target == "" {
				target = ev.Component
			}
			return fmt.Sprintf("%s  %-23s %s: %s", ts, "command", target, ev.Message)
		}
		if ev.Error != "" {
			return fmt.Sprintf("%s  %-23s %s: %s", ts, "action", ev.Object, ev.Error)
		}
		return fmt.Sprintf("%s  %-23s %s on %s: %s", ts, "action", ev.Object, ev.Node, ev.Message)
	case executor.EventAttempt:
		if ev.Status == executor.Failed && ev.Error != "" {
			return fmt.Sprintf("%s  %-23s %s: %s", ts, "attempt failed", ev.Attempt, ev.Error)
		}
	}
	return ""
}

func printSummary(w io.Writer, s *executor.Summary) {
	type row struct {
		comp   string
		counts map[string]int
	}
	byComp := map[string]*row{}
	var comps []string
	for _, i := range s.Instances {
		r := byComp[i.Component]
		if r == nil {
			r = &row{comp: i.Component, counts: map[string]int{}}
			byComp[i.Component] = r
			comps = append(comps, i.Component)
		}
		r.counts[i.Status]++
	}
	sort.Strings(comps)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tINSTANCES\tSTATUS")
	for _, c := range comps {
		r := byComp[c]
		var st []string
		n := 0
		for k, v := range r.counts {
			st = append(st, fmt.Sprintf("%d %s", v, k))
			n += v
		}
		sort.Strings(st)
		fmt.Fprintf(tw, "%s\t%d\t%s\n", c, n, strings.Join(st, ", "))
	}
	tw.Flush()
	var bad []store.Instance
	for _, i := range s.Instances {
		if executor.Status(i.Status).Bad() {
			bad = append(bad, i)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "INSTANCE\tSTATUS\tATTEMPTS\tERROR")
		for _, i := range bad {
			msg := i.ErrorMessage
			if i.CascadeFrom != "" {
				msg = "cascade from " + i.CascadeFrom
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", i.ID, i.Status, i.Attempts, oneLine(msg))
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if s.OK {
		fmt.Fprintf(w, "run %d of %s finished: %d instances\n", s.Activation, s.PipelineID, len(s.Instances))
	} else {
		fmt.Fprintf(w, "run %d of %s did not finish: %s\n", s.Activation, s.PipelineID, s.Reason)
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
