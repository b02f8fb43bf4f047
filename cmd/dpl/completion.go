package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/control"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// Shell completion beyond cobra's commands and flags: the values of enum
// flags, and instance, component and pipeline ids read from the state
// folder (through the control socket while a run holds it). Flag typos get
// a "did you mean".

// flagValues are the fixed values of enum flags, per command ("" for any
// command having that flag).
var flagValues = map[string]map[string][]string{
	"output":  {"run": {"text", "jsonl"}, "events": {"text", "jsonl"}, "validate": {"text", "json", "sarif"}, "runs": {"text", "json"}, "plan": {"text", "json"}},
	"backend": {"": {"local", "aws"}},
	"summary": {"": {"short", "full"}},
	"to":      {"": {"api", "file", "cloudformation"}},
	"format":  {"graph": {"dot", "mermaid"}, "convert": {"json", "yaml"}},
	"status":  {"": {"WAITING_ON_DEPENDENCIES", "WAITING_FOR_RUNNER", "CREATING", "RUNNING", "FINISHED", "FAILED", "CASCADE_FAILED", "CANCELED", "TIMEDOUT", "SHUTTING_DOWN", "SKIPPED", "PAUSED"}},
}

func init() {
	rootCmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		msg := err.Error()
		if hint := flagSuggestion(cmd, msg); hint != "" {
			msg += " (did you mean " + hint + "?)"
		}
		//lint:ignore ST1005 cobra's usage hint, a sentence of its own on the last line
		return withCode(exitUsage, fmt.Errorf("%s\nRun '%s --help' for usage.", msg, cmd.CommandPath()))
	})
}

// registerCompletions wires value completion into every command; called
// from main once all commands are added.
func registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if vals, ok := flagValues[f.Name]; ok {
				v := vals[c.Name()]
				if v == nil {
					v = vals[""]
				}
				if v != nil {
					_ = c.RegisterFlagCompletionFunc(f.Name, fixed(v))
				}
			}
			if f.Name == "pipeline" {
				_ = c.RegisterFlagCompletionFunc(f.Name, stateIDs(func(s *stateInfo) []string { return s.pipelines }))
			}
			if f.Name == "state-dir" {
				_ = c.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					return nil, cobra.ShellCompDirectiveFilterDirs
				})
			}
		})
		switch c.Name() {
		case "rerun", "cancel", "mark-finished":
			c.ValidArgsFunction = stateIDs(func(s *stateInfo) []string { return s.instances })
		case "pause", "resume":
			c.ValidArgsFunction = stateIDs(func(s *stateInfo) []string { return s.components })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func fixed(vals []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return withPrefix(vals, prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

func withPrefix(vals []string, prefix string) []string {
	var out []string
	for _, v := range vals {
		if strings.HasPrefix(strings.ToLower(v), strings.ToLower(prefix)) {
			out = append(out, v)
		}
	}
	return out
}

// stateInfo is what completion knows of a state folder's latest runs.
type stateInfo struct {
	pipelines, components, instances []string
}

// stateIDs completes ids from the state folder given by --state-dir.
func stateIDs(pick func(*stateInfo) []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		dirFlag, _ := cmd.Flags().GetString("state-dir")
		pipeline, _ := cmd.Flags().GetString("pipeline")
		info := readStateInfo(stateDirFor(dirFlag), pipeline)
		if info == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return withPrefix(pick(info), prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// readStateInfo reads the ids of the latest activation of each pipeline
// (or of pipeline); nil when the folder has no state.
func readStateInfo(dir, pipeline string) *stateInfo {
	info := &stateInfo{}
	comps, insts := map[string]bool{}, map[string]bool{}
	// Completing only looks: the state folder stays as it was.
	db, err := runstore.OpenReadOnly(dir)
	if err != nil {
		// A run holds the store: ask it.
		c, cerr := control.Dial(dir)
		if cerr != nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		snap, err := c.Snapshot(ctx)
		if err != nil {
			return nil
		}
		info.pipelines = []string{snap.Pipeline}
		for _, in := range snap.Instances {
			comps[in.Component], insts[in.ID] = true, true
		}
	} else {
		defer db.Close()
		ps, err := db.Pipelines()
		if err != nil {
			return nil
		}
		for _, p := range ps {
			info.pipelines = append(info.pipelines, p.ID)
			if pipeline != "" && p.ID != pipeline {
				continue
			}
			act, err := db.Latest(p.ID)
			if err != nil {
				continue
			}
			ins, err := db.Instances(p.ID, act.Seq)
			if err != nil {
				continue
			}
			for _, in := range ins {
				comps[in.Component], insts[in.ID] = true, true
			}
		}
	}
	info.components, info.instances = sortedKeys(comps), sortedKeys(insts)
	return info
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// flagSuggestion is "--state-dir" for "unknown flag: --state-dri": the
// closest flag of cmd (its own and inherited), when close enough.
func flagSuggestion(cmd *cobra.Command, msg string) string {
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		if sh, ok := strings.CutPrefix(msg, "unknown shorthand flag: "); ok {
			// "'x' in -x": a long flag given with one dash (-verbose).
			if i := strings.Index(sh, " in -"); i >= 0 {
				name = sh[i+len(" in -"):]
			}
		}
	}
	if name == "" {
		return ""
	}
	best, bestD := "", 1<<30
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if d := definition.EditDistance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" || bestD > max(2, len(name)/3) {
		return ""
	}
	return "--" + best
}
