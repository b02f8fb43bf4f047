package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/definition/convert"
)

type diffFlags struct {
	effective bool
	output    string
}

func init() {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff [--effective] [--output text|json] OLD NEW",
		Short: "Show what changed between two definitions",
		Long: `Compare two pipeline definitions by meaning: objects added and removed,
fields added, removed and changed, parameters and parameter values. Order,
layout and format do not matter (a file and its API or CloudFormation form
are equal; a one-element list equals a single value). Secret (*field) values
are masked.

--effective compares each object's fields after inheritance (parent chain,
then Default) and names the object a value was inherited from.

Exit codes: 0 equal, 1 different, 2 usage, I/O or syntax error.`,
		Example: `  dpl diff old.json new.json
  dpl diff --effective --output json prod.json staging.json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runDiff(cmd, f, args[0], args[1]) },
	}
	cmd.Flags().BoolVar(&f.effective, "effective", false, "compare fields after inheritance")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	addReadFlags(cmd.Flags())
	rootCmd.AddCommand(cmd)
}

func runDiff(cmd *cobra.Command, f diffFlags, oldPath, newPath string) error {
	if f.output != "text" && f.output != "json" {
		return withCode(exitUsage, fmt.Errorf("--output %q: want text or json", f.output))
	}
	if oldPath == "-" && newPath == "-" {
		return withCode(exitUsage, fmt.Errorf("only one of OLD and NEW can be standard input"))
	}
	old, err := readSource(oldPath)
	if err != nil {
		return err
	}
	cur, err := readSource(newPath)
	if err != nil {
		return err
	}
	r := convert.Diff(old.Def, cur.Def, convert.DiffOptions{Effective: f.effective})
	out := []byte(r.Text())
	if f.output == "json" {
		if out, err = r.JSON(); err != nil {
			return withCode(exitUsage, err)
		}
	}
	if _, err := cmd.OutOrStdout().Write(out); err != nil {
		return withCode(exitUsage, err)
	}
	if !r.Equal() {
		return withCode(exitFailed, nil)
	}
	return nil
}
