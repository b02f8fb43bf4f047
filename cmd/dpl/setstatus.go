package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/control"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// Operator commands on a stopped run: the service's SetStatus values.
func init() {
	for _, c := range []struct{ use, status, short string }{
		{"rerun", executor.CmdRerun, "Run instances again (RERUN); `dpl run` then continues"},
		{"cancel", executor.CmdTryCancel, "Cancel instances (TRY_CANCEL)"},
		{"mark-finished", executor.CmdMarkFinished, "Mark instances FINISHED so their dependents can run (MARK_FINISHED)"},
		{"pause", executor.CmdPause, "Pause components (PAUSE): their waiting instances stay PAUSED"},
		{"resume", executor.CmdResume, "Resume paused components (RESUME)"},
	} {
		var stateDir, pipeline string
		status := c.status
		what := "INSTANCE"
		if status == executor.CmdPause || status == executor.CmdResume {
			what = "COMPONENT"
		}
		cmd := &cobra.Command{
			Use:   c.use + " [flags] " + what + "...",
			Short: c.short,
			Long: c.short + `.

Works on the latest run of the pipeline in the state folder; while a ` + "`dpl run`" + ` is
using the folder, that run applies the change at once. Ids are as shown by
` + "`dpl runs`" + ` (e.g. @MyActivity_2024-01-01T00:00:00).`,
			Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runSetStatus(cmd, stateDir, pipeline, status, args)
			},
		}
		cmd.Flags().StringVar(&stateDir, "state-dir", "", "state folder (default $DPL_STATE_DIR or ./.dpl)")
		cmd.Flags().StringVar(&pipeline, "pipeline", "", "pipeline id (needed when the state folder holds several)")
		rootCmd.AddCommand(cmd)
	}
}

func runSetStatus(cmd *cobra.Command, stateFlag, pipeline, status string, ids []string) error {
	db, dir, err := openState(stateFlag, true)
	if err != nil {
		if c, cerr := control.Dial(dir); cerr == nil {
			// A run is in progress: it applies the change itself.
			if err := c.SetStatus(cmd.Context(), pipeline, ids, status); err != nil {
				return withCode(exitUsage, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s applied to %s in the run in progress\n", status, strings.Join(ids, ", "))
			return nil
		}
		return withCode(exitUsage, err)
	}
	defer db.Close()
	pipes, err := db.Pipelines()
	if err != nil {
		return withCode(exitFailed, err)
	}
	var p *runstore.Pipeline
	for _, x := range pipes {
		if pipeline == "" || x.ID == pipeline {
			if p != nil {
				return withCode(exitUsage, fmt.Errorf("the state folder holds several pipelines; choose one with --pipeline (%s, %s, ...)", p.ID, x.ID))
			}
			p = x
		}
	}
	if p == nil {
		return withCode(exitUsage, fmt.Errorf("no pipeline %q in %s", pipeline, dir))
	}
	act, err := db.Latest(p.ID)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("pipeline %s has no run: %w", p.ID, err))
	}
	src, err := storedDefinition(db, dir, p.ID, act.Hash)
	if err != nil {
		return withCode(exitFailed, fmt.Errorf("stored definition of run %d: %w", act.Seq, err))
	}
	d, err := parseStored(p.File, src)
	if err != nil {
		return withCode(exitFailed, fmt.Errorf("stored definition: %w", err))
	}
	eng, err := executor.New(executor.Options{Definition: d, Source: src, PipelineID: p.ID, Store: db, StateDir: dir, Latest: true})
	if err != nil {
		return withCode(exitFailed, err)
	}
	if err := eng.SetStatus(context.Background(), p.ID, ids, status); err != nil {
		return withCode(exitUsage, err)
	}
	again := ""
	if cur, err := os.ReadFile(p.File); err == nil && executor.DefinitionHash(cur) != act.Hash {
		// The run stored the file with its --set overrides applied (or the
		// file changed since): the same flags are needed to continue it.
		again = " with the same --set flags it started with"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %s applied to %s; continue with: dpl run %s%s\n", p.ID, status, strings.Join(ids, ", "), p.File, again)
	_ = os.Stdout.Sync()
	return nil
}
