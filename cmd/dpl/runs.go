package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/control"
	"github.com/dpl-dev/dpl/executor/errcode"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

type runsFlags struct {
	stateDir string
	pipeline string
	status   []string
	output   string
}

func init() {
	var f runsFlags
	cmd := &cobra.Command{
		Use:   "runs [flags]",
		Short: "List the instances of the latest run of each pipeline (like aws datapipeline list-runs)",
		Long: `List the instances of the latest run of each pipeline in the state folder, sorted
by scheduled start and name, with their status, times, attempts and errors.
Preconditions show their last check result and the next check time. While a
dpl run is using the state folder, its live state is asked of it.`,
		Example: `  dpl runs
  dpl runs --status failed,cascade_failed --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRuns(cmd, f) },
	}
	cmd.Flags().StringVar(&f.stateDir, "state-dir", "", "state folder (default $DPL_STATE_DIR or ./.dpl)")
	cmd.Flags().StringVar(&f.pipeline, "pipeline", "", "only this pipeline id")
	cmd.Flags().StringSliceVar(&f.status, "status", nil, "only these statuses (comma-separated, case-insensitive; CANCELLED accepted)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "text or json")
	rootCmd.AddCommand(cmd)
}

// openState opens the state folder's store for a command on a stopped
// run: read-only for the views (no file of the folder changes), for
// writing for the operator commands.
func openState(flag string, write bool) (*runstore.DB, string, error) {
	dir := stateDirFor(flag)
	if _, err := os.Stat(filepath.Join(dir, "db")); err != nil {
		return nil, dir, fmt.Errorf("no dpl state in %s (run `dpl run` first, or give --state-dir)", dir)
	}
	open := runstore.OpenReadOnly
	if write {
		open = runstore.Open
	}
	db, err := open(dir)
	if errors.Is(err, runstore.ErrLocked) {
		return nil, dir, fmt.Errorf("%w (`dpl events --follow` works during a run)", err)
	}
	if err != nil {
		return nil, dir, err
	}
	return db, dir, nil
}

// runRecord is one line of `dpl runs --output json`.
type runRecord struct {
	ID             string   `json:"@id"`
	Pipeline       string   `json:"@pipelineId"`
	Component      string   `json:"@componentParent"`
	Status         string   `json:"@status"`
	ScheduledStart string   `json:"@scheduledStartTime"`
	ScheduledEnd   string   `json:"@scheduledEndTime"`
	ActualStart    string   `json:"@actualStartTime,omitempty"`
	ActualEnd      string   `json:"@actualEndTime,omitempty"`
	Attempts       int      `json:"attemptCount"`
	Error          string   `json:"errorMessage,omitempty"`
	CascadeOn      string   `json:"@cascadeFailedOn,omitempty"`
	WaitingOn      []string `json:"@waitingOn,omitempty"`
	Node           string   `json:"node,omitempty"`
	LastCheck      string   `json:"lastCheckTime,omitempty"`
	LastResult     string   `json:"lastCheckResult,omitempty"`
	NextCheck      string   `json:"nextCheckTime,omitempty"`
	// Progress of the current (or last) attempt: Hive statements or
	// streaming tasks done, rows written.
	Progress *task.Progress `json:"progress,omitempty"`
}

// MarshalJSON writes every documented key: times and errors not set are
// null rather than missing, so scripts can index them directly.
func (r runRecord) MarshalJSON() ([]byte, error) {
	type plain runRecord
	orNull := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		plain
		ActualStart *string `json:"@actualStartTime"`
		ActualEnd   *string `json:"@actualEndTime"`
		Error       *string `json:"errorMessage"`
		CascadeOn   *string `json:"@cascadeFailedOn"`
	}{plain(r), orNull(r.ActualStart), orNull(r.ActualEnd), orNull(r.Error), orNull(r.CascadeOn)})
}

const layout = "2006-01-02T15:04:05"

func runRuns(cmd *cobra.Command, f runsFlags) error {
	if f.output != "text" && f.output != "json" {
		return withCode(exitUsage, fmt.Errorf("--output %q: want text or json", f.output))
	}
	want := map[executor.Status]bool{}
	for _, s := range f.status {
		for _, p := range strings.Split(s, ",") {
			st, ok := executor.ParseStatus(p)
			if !ok {
				return withCode(exitUsage, fmt.Errorf("--status %q: not a status", p))
			}
			want[st] = true
		}
	}
	db, dir, err := openState(f.stateDir, false)
	if err != nil {
		if c, cerr := control.Dial(dir); cerr == nil {
			return liveRuns(cmd, f, c, want)
		}
		return withCode(errcode.IO, err)
	}
	defer db.Close()
	pipes, err := db.Pipelines()
	if err != nil {
		return withCode(exitFailed, err)
	}
	recs := []runRecord{}
	found := false
	for _, p := range pipes {
		if f.pipeline != "" && p.ID != f.pipeline {
			continue
		}
		found = true
		act, err := db.Latest(p.ID)
		if errors.Is(err, runstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return withCode(exitFailed, err)
		}
		ins, err := db.Instances(p.ID, act.Seq)
		if err != nil {
			return withCode(exitFailed, err)
		}
		for _, i := range ins {
			if len(want) > 0 && !want[executor.Status(i.Status)] {
				continue
			}
			recs = append(recs, record(p.ID, i))
		}
	}
	if f.pipeline != "" && !found {
		return withCode(exitUsage, fmt.Errorf("no pipeline %s in the state folder", f.pipeline))
	}
	return writeRecords(cmd.OutOrStdout(), recs, f.output)
}

// liveRuns lists the instances of the run in progress, asked over its
// control socket (the run holds the store).
func liveRuns(cmd *cobra.Command, f runsFlags, c *control.Client, want map[executor.Status]bool) error {
	snap, err := c.Snapshot(cmd.Context())
	if err != nil {
		return withCode(exitFailed, err)
	}
	if f.pipeline != "" && f.pipeline != snap.Pipeline {
		return withCode(exitUsage, fmt.Errorf("pipeline %s cannot be read while a run of %s holds the state folder", f.pipeline, snap.Pipeline))
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "dpl: %s (run %d) is in progress: its state as of now\n", snap.Pipeline, snap.Activation)
	recs := []runRecord{}
	for i := range snap.Instances {
		in := &snap.Instances[i]
		if len(want) > 0 && !want[executor.Status(in.Status)] {
			continue
		}
		recs = append(recs, record(snap.Pipeline, in))
	}
	return writeRecords(cmd.OutOrStdout(), recs, f.output)
}

// writeRecords prints instances sorted by scheduled start, then id.
func writeRecords(out io.Writer, recs []runRecord, format string) error {
	sort.SliceStable(recs, func(a, b int) bool {
		if recs[a].ScheduledStart != recs[b].ScheduledStart {
			return recs[a].ScheduledStart < recs[b].ScheduledStart
		}
		return recs[a].ID < recs[b].ID
	})
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	writeRuns(out, recs)
	return nil
}

func ts(t interface {
	IsZero() bool
	Format(string) string
}) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(layout)
}

func record(pipeline string, i *runstore.Instance) runRecord {
	r := runRecord{ID: i.ID, Pipeline: pipeline, Component: i.Component, Status: i.Status,
		ScheduledStart: ts(i.ScheduledStart.UTC()), ScheduledEnd: ts(i.ScheduledEnd.UTC()),
		ActualStart: ts(i.ActualStart.UTC()), ActualEnd: ts(i.ActualEnd.UTC()),
		Attempts: i.Attempts, Error: i.ErrorMessage, CascadeOn: i.CascadeFrom, WaitingOn: i.WaitingOn, Node: i.Node,
		LastResult: i.LastResult, LastCheck: ts(i.LastCheck.UTC()), NextCheck: ts(i.NextCheck.UTC()), Progress: i.Progress}
	if executor.Status(i.Status).Terminal() {
		r.WaitingOn, r.NextCheck = nil, ""
	}
	return r
}

func writeRuns(w io.Writer, recs []runRecord) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCHEDULED START\tSTATUS\tATTEMPTS\tACTUAL START\tACTUAL END\tDETAIL")
	for _, r := range recs {
		detail := r.Error
		switch {
		case r.CascadeOn != "":
			detail = "cascade from " + r.CascadeOn
		case r.LastResult != "":
			detail = "last check " + r.LastCheck + " " + r.LastResult
			if r.NextCheck != "" {
				detail += ", next " + r.NextCheck
			}
		case len(r.WaitingOn) > 0:
			detail = "waiting on " + strings.Join(r.WaitingOn, ", ")
		case r.Error == "" && r.Progress != nil:
			detail = r.Progress.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.ScheduledStart, r.Status, r.Attempts, r.ActualStart, r.ActualEnd, oneLine(detail))
	}
	tw.Flush()
}
