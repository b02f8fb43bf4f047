package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
)

type validateFlags struct {
	output    string
	params    []string
	paramFile string
	strict    bool
	sets      []string
}

func init() {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate [flags] PATH...",
		Short: "Check pipeline definitions offline",
		Long: `Validate AWS Data Pipeline definitions (file, API or CloudFormation format)
without calling AWS: JSON syntax, object types and fields, references,
inheritance, schedules, parameters, #{...} expressions and the service's limits.

PATH is a file (JSON, or a CloudFormation YAML template), a directory
(searched recursively for *.json) or - for stdin.

Exit codes: 0 valid (warnings allowed), 1 definition errors, 2 usage or I/O error.`,
		Example: `  dpl validate pipeline.json
  dpl validate --output json --param myBucket=s3://b/in definitions/
  cat pipeline.json | dpl validate -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runValidate(cmd, f, args) },
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text, json or sarif")
	cmd.Flags().StringArrayVarP(&f.params, "param", "p", nil, "parameter value id=value (repeat an id for array parameters)")
	cmd.Flags().StringVar(&f.paramFile, "param-file", "", `JSON file of parameter values: {"values": {"myId": "value"}}`)
	cmd.Flags().BoolVar(&f.strict, "strict", false, "treat the service's limits as errors")
	addSetFlag(cmd.Flags(), &f.sets)
	addReadFlags(cmd.Flags())
	rootCmd.AddCommand(cmd)
}

func runValidate(cmd *cobra.Command, f validateFlags, args []string) error {
	switch f.output {
	case "text", "json", "sarif":
	default:
		return withCode(exitUsage, fmt.Errorf("--output %q: want text, json or sarif", f.output))
	}
	values, err := paramValues(f.paramFile, f.params)
	if err != nil {
		return withCode(exitUsage, err)
	}
	paths, err := expandPaths(args)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if len(paths) == 0 {
		return withCode(exitUsage, fmt.Errorf("no *.json definitions found in %s", strings.Join(args, ", ")))
	}
	if len(f.sets) > 0 && len(paths) != 1 {
		return withCode(exitUsage, fmt.Errorf("--set needs exactly one definition (got %d)", len(paths)))
	}
	tuneGC(paths)
	opts := validate.Options{Strict: f.strict, Values: values}
	results := make([]*validate.Result, 0, len(paths))
	for _, p := range paths {
		r, _, err := validateFile(p, opts, f.sets)
		if err != nil {
			return withCode(exitUsage, err)
		}
		if r.Definition != nil && len(values) > 0 && len(paths) == 1 {
			if unknown := validate.UnknownParams(r.Definition, values); len(unknown) > 0 {
				sort.Strings(unknown)
				return withCode(exitUsage, fmt.Errorf("--param: %s not declared in %s", strings.Join(unknown, ", "), r.File))
			}
		}
		results = append(results, r)
	}
	writeHeapProfile() // DPL_MEMPROFILE: every result is in memory here
	out := cmd.OutOrStdout()
	switch f.output {
	case "json":
		err = validate.WriteJSON(out, results)
	case "sarif":
		err = validate.WriteSARIF(out, results, versionString())
	default:
		err = validate.WriteText(out, results, validate.TextOptions{Color: colorOutput(out)})
	}
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("write report: %w", err))
	}
	for _, r := range results {
		if r.Errored() {
			return withCode(exitFailed, nil)
		}
	}
	return nil
}

// gcBytesPerInput is the heap budget per byte of input: validating a
// 24 MB definition peaks at about 10 (valid) to 13 (72,000 errors) bytes
// of live heap per byte of JSON (GODEBUG=gctrace=1). 16 trades CPU for
// memory: with 72,000 errors 445 MB peak RSS and 2.7 s user instead of
// 540 MB and 2.3 s at 20; 14 costs 3.3 s, 12 4.8 s (back-to-back
// collections); valid files keep ~1 s.
const gcBytesPerInput = 16

// gcBase is the budget every run gets on top: 32 MiB covers start-up and
// a small definition without a collection (64 MiB measured the same on
// 5,000 objects).
const gcBase = 32 << 20

// tuneGC sizes the collector to the inputs (unless GOGC or GOMEMLIMIT is
// set). validate is a one-shot command whose heap is mostly live data
// kept for the report: the default pacing collects again and again while
// a small heap grows (a fifth of the CPU of validating 5,000 objects),
// then lets a large heap reach twice the live data. Collecting only as the
// heap nears a limit sized from the input (gcBase plus gcBytesPerInput
// per byte read) removes both. The limit is soft: a heap beyond it is
// still collected, never an out-of-memory failure.
func tuneGC(paths []string) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	var total int64
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		} else if p == "-" {
			total += 64 << 20 // unknown: as much as the default --max-size
		}
	}
	debug.SetMemoryLimit(gcBase + gcBytesPerInput*total)
	debug.SetGCPercent(-1)
}

// addSetFlag registers the repeatable --set ObjectId.field=value flag.
func addSetFlag(fs *pflag.FlagSet, sets *[]string) {
	fs.StringArrayVar(sets, "set", nil, "override a field of an object before validation: ObjectId.field=value, e.g. RedshiftCluster.connectionString=jdbc:postgresql://127.0.0.1:5432/dev (repeat the same ObjectId.field for a list; {\"ref\":\"Id\"} for a reference)")
}

// validateFile reads (path "-" is stdin) and validates one definition like
// validate.File, applying --set overrides between parsing and validation.
// A bad --set is returned as an error (a usage error).
func validateFile(path string, opts validate.Options, sets []string) (*validate.Result, []definition.Override, error) {
	name, data, _, err := readDefinition(path)
	if err != nil {
		return nil, nil, err
	}
	return validateSource(name, data, opts, sets)
}

// validateSource is validateFile on bytes already read: any format, with
// the --cfn-param values.
func validateSource(name string, data []byte, opts validate.Options, sets []string) (*validate.Result, []definition.Override, error) {
	ropts, err := readOptions()
	if err != nil {
		return nil, nil, err
	}
	d, err := definition.ParseSource(name, data, ropts)
	var se *definition.SyntaxError
	switch {
	case errors.As(err, &se):
		return &validate.Result{File: name, Syntax: se, Diagnostics: []definition.Diagnostic{{
			Severity: definition.SeverityError, Code: "SYNTAX_ERROR", Message: se.Msg, Pos: se.Pos}}}, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var ovs []definition.Override
	if len(sets) > 0 {
		if ovs, err = definition.ApplyOverrides(d, sets); err != nil {
			return nil, nil, err
		}
	}
	return &validate.Result{File: name, Definition: d, Diagnostics: validate.Definition(d, opts)}, ovs, nil
}

// colorOutput: colours only on a terminal, and never with NO_COLOR set.
func colorOutput(w any) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// paramValues merges --param-file ({"values": {...}}, as the AWS CLI
// takes) and --param id=value flags; flags win, and repeating an id
// builds an array value.
func paramValues(file string, flags []string) (map[string][]string, error) {
	values := map[string][]string{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--param-file: %w", err)
		}
		var doc struct {
			Values map[string]json.RawMessage `json:"values"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("--param-file %s: %w", file, err)
		}
		if doc.Values == nil {
			return nil, fmt.Errorf(`--param-file %s: no "values" object (want {"values": {"myId": "value"}})`, file)
		}
		for id, raw := range doc.Values {
			var one string
			var many []string
			switch {
			case json.Unmarshal(raw, &one) == nil:
				values[id] = []string{one}
			case json.Unmarshal(raw, &many) == nil:
				values[id] = many
			default:
				return nil, fmt.Errorf("--param-file %s: value of %q must be a string or a list of strings", file, id)
			}
		}
	}
	fromFlags := map[string][]string{}
	for _, p := range flags {
		id, v, ok := strings.Cut(p, "=")
		if !ok || id == "" {
			return nil, fmt.Errorf("--param %q: want id=value", p)
		}
		fromFlags[id] = append(fromFlags[id], v)
	}
	for id, vs := range fromFlags {
		values[id] = vs
	}
	return values, nil
}
