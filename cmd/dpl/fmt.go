package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/definition/convert"
)

type fmtFlags struct {
	write, check bool
}

func init() {
	var f fmtFlags
	cmd := &cobra.Command{
		Use:   "fmt [-w | --check] FILE...",
		Short: "Lay definitions out canonically",
		Long: `Rewrite pipeline definitions in one canonical layout, keeping their format
(file, API, CloudFormation; JSON or YAML) and every value, unknown and secret
fields and one-element lists included:

  - objects: Default first, then sorted by id;
  - in an object: id, name, type, then the other fields sorted by key
    (API and CloudFormation: fields sorted by key, as the AWS CLI sends them);
  - parameters sorted by id (id, type, then sorted); values sorted by id;
  - list elements keep their order; 2-space indentation; final newline.

Formatting is idempotent and never changes what the definition means (dpl
checks this before writing). Without flags the result goes to stdout.

Exit codes: 0 done (or already formatted with --check), 1 --check found files
that would change, 2 usage, I/O or syntax error.`,
		Example: `  dpl fmt pipeline.json
  dpl fmt -w definitions/
  dpl fmt --check definitions/   # in CI or pre-commit`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runFmt(cmd, f, args) },
	}
	cmd.Flags().BoolVarP(&f.write, "write", "w", false, "rewrite the files in place (atomically)")
	cmd.Flags().BoolVar(&f.check, "check", false, "list files that are not formatted and exit 1 if any")
	addReadFlags(cmd.Flags())
	cmd.MarkFlagsMutuallyExclusive("write", "check")
	rootCmd.AddCommand(cmd)
}

func runFmt(cmd *cobra.Command, f fmtFlags, args []string) error {
	paths, err := expandPaths(args)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if f.write && containsStdin(paths) {
		return withCode(exitUsage, fmt.Errorf("-w cannot rewrite standard input"))
	}
	unformatted := 0
	for _, p := range paths {
		name, data, err := readInput(p)
		if err != nil {
			return withCode(exitUsage, err)
		}
		out, err := convert.Format(name, data)
		if err != nil {
			return readError(err, exitUsage)
		}
		changed := !bytes.Equal(out, data)
		switch {
		case f.check:
			if changed {
				unformatted++
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
		case f.write:
			if changed {
				if err := writeAtomic(p, out); err != nil {
					return withCode(exitUsage, err)
				}
			}
		default:
			if _, err := cmd.OutOrStdout().Write(out); err != nil {
				return err
			}
		}
	}
	if unformatted > 0 {
		return withCode(exitFailed, nil)
	}
	return nil
}

func containsStdin(paths []string) bool {
	for _, p := range paths {
		if p == "-" {
			return true
		}
	}
	return false
}

// writeAtomic replaces path with data through a temporary file in the
// same directory, keeping the file's permissions.
func writeAtomic(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".dpl-fmt-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
