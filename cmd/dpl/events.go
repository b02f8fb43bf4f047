package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/control"
	"github.com/dpl-dev/dpl/executor/errcode"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/tui"
)

type eventsFlags struct {
	stateDir string
	follow   bool
	output   string
	pipeline string
}

func init() {
	var f eventsFlags
	cmd := &cobra.Command{
		Use:   "events [flags]",
		Short: "Print the event log of the latest run",
		Long: `Print the stored event log (status changes, attempts, alarms, log paths, waiting
reasons) of the latest run of each pipeline in the state folder. With --follow,
keep printing new events of a run in progress until interrupted. While a dpl
run is using the state folder, its events so far are asked of it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEvents(cmd, f) },
	}
	cmd.Flags().StringVar(&f.stateDir, "state-dir", "", "state folder (default $DPL_STATE_DIR or ./.dpl)")
	cmd.Flags().BoolVarP(&f.follow, "follow", "f", false, "keep printing events as a running dpl run writes them")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "text or jsonl")
	cmd.Flags().StringVar(&f.pipeline, "pipeline", "", "only this pipeline id")
	rootCmd.AddCommand(cmd)
}

func runEvents(cmd *cobra.Command, f eventsFlags) error {
	if f.output != "text" && f.output != "jsonl" {
		return withCode(exitUsage, fmt.Errorf("--output %q: want text or jsonl", f.output))
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	print := func(ev executor.Event, raw []byte) {
		if f.pipeline != "" && ev.Pipeline != f.pipeline {
			return
		}
		if f.output == "jsonl" {
			out.Write(append(raw, '\n'))
		} else if ev.Kind == executor.EventAttempt && !ev.Status.Terminal() {
			// an attempt handed out: its RUNNING status line says it
		} else if line := tui.EventLine(ev, tui.ServiceWords); line != "" {
			out.WriteString(ev.Time.UTC().Format("2006-01-02 ") + line + "\n")
		}
	}
	if f.follow {
		return followEvents(cmd, stateDirFor(f.stateDir), out, print)
	}
	db, dir, err := openState(f.stateDir, false)
	if err != nil {
		if c, cerr := control.Dial(dir); cerr == nil {
			return liveEvents(cmd, c, print)
		}
		return withCode(errcode.IO, err)
	}
	defer db.Close()
	pipes, err := db.Pipelines()
	if err != nil {
		return withCode(exitFailed, err)
	}
	for _, p := range pipes {
		if f.pipeline != "" && p.ID != f.pipeline {
			continue
		}
		act, err := db.Latest(p.ID)
		if errors.Is(err, runstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return withCode(exitFailed, err)
		}
		err = db.Events(p.ID, act.Seq, 0, func(e runstore.Event) error {
			var ev executor.Event
			if err := json.Unmarshal(e.Data, &ev); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			print(ev, e.Data)
			return nil
		})
		if err != nil {
			return withCode(exitFailed, err)
		}
	}
	return nil
}

// liveEvents prints the event log of the run in progress, asked over its
// control socket.
func liveEvents(cmd *cobra.Command, c *control.Client, print func(executor.Event, []byte)) error {
	evs, err := c.Events(cmd.Context(), 0)
	if err != nil {
		return withCode(exitFailed, err)
	}
	for _, ev := range evs {
		raw, _ := ev.MarshalJSON()
		print(ev, raw)
	}
	return nil
}

// followEvents tails <state-dir>/events.jsonl, which `dpl run` appends to
// while the store is locked by the run.
func followEvents(cmd *cobra.Command, dir string, out *bufio.Writer, print func(executor.Event, []byte)) error {
	path := filepath.Join(dir, "events.jsonl")
	var fh *os.File
	for fh == nil {
		var err error
		if fh, err = os.Open(path); err != nil {
			if !os.IsNotExist(err) {
				return withCode(exitUsage, err)
			}
			select {
			case <-cmd.Context().Done():
				return nil
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	defer fh.Close()
	r := bufio.NewReader(fh)
	var partial []byte
	for {
		line, err := r.ReadBytes('\n')
		partial = append(partial, line...)
		if err == io.EOF {
			out.Flush()
			select {
			case <-cmd.Context().Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return withCode(exitFailed, err)
		}
		raw := partial[:len(partial)-1]
		partial = nil
		var ev executor.Event
		if json.Unmarshal(raw, &ev) == nil {
			print(ev, raw)
		}
	}
}
