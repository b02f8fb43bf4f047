package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/schedule"
)

func init() {
	var (
		start, end, now, output string
		paramFile               string
		count                   int
		params, sets            []string
		res                     resourceFlags
	)
	cmd := &cobra.Command{
		Use:   "plan FILE",
		Short: "List the instances a definition would create, in the order they become runnable",
		Long: `plan is the dry run: every instance the definition's schedules create in the
window, in the order they become runnable, with what each one waits on and
the resource instance it runs on. JSON output also carries every effective
field with its expressions evaluated (secret * fields masked).

The window defaults to the schedules' own bounds; unbounded schedules are
cut at 100 instances per component (a note on stderr says so). --start also
sets the activation time used by startAt FIRST_ACTIVATION_DATE_TIME and
on-demand pipelines (default: --now). Times are UTC, yyyy-MM-ddTHH:mm:ss.

With --resources aws (or --resource-provider ID=aws) plan shows instead the
AWS requests (RunInstances, RunJobFlow, AddJobFlowSteps, …) each resource
instance would make, with secrets masked: review them, and their cost,
before dpl run --resources aws.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req schedule.Request
			var err error
			for _, f := range []struct {
				name, val string
				dst       *time.Time
			}{{"--start", start, &req.From}, {"--end", end, &req.To}, {"--now", now, &req.Now}} {
				if f.val == "" {
					continue
				}
				if *f.dst, err = schedule.ParseTime(f.val); err != nil {
					return withCode(exitUsage, fmt.Errorf("%s: %w", f.name, err))
				}
			}
			if end != "" && cmd.Flags().Changed("count") {
				return withCode(exitUsage, fmt.Errorf("--end and --count cannot be used together"))
			}
			if count < 0 {
				return withCode(exitUsage, fmt.Errorf("--count %d: want a positive number", count))
			}
			req.Count = count
			switch output {
			case "text":
			case "json":
				req.JSON = true
			default:
				return withCode(exitUsage, fmt.Errorf("--output %q: want text or json", output))
			}
			values, err := paramValues(paramFile, params)
			if err != nil {
				return withCode(exitUsage, err)
			}
			req.Params = values
			d, _, err := loadDefinition(args[0])
			if err != nil {
				return err
			}
			overrides, err := definition.ApplyOverrides(d, sets)
			if err != nil {
				return withCode(exitUsage, err)
			}
			if unknown := validate.UnknownParams(d, req.Params); len(unknown) > 0 {
				sort.Strings(unknown)
				return withCode(exitUsage, fmt.Errorf("--param: %s declares no parameter %s", args[0], strings.Join(unknown, ", ")))
			}
			diags := validate.Definition(d, validate.Options{Values: req.Params, Now: req.Now})
			if validate.Errored(diags) {
				for _, dg := range diags {
					if dg.Severity == definition.SeverityError {
						fmt.Fprintln(cmd.ErrOrStderr(), dg.Error())
					}
				}
				return withCode(exitUsage, fmt.Errorf("%s: the definition does not validate; fix the errors above before planning", args[0]))
			}
			routing, err := awsprov.ParseRouting(res.resources, res.perObject)
			if err != nil {
				return withCode(exitUsage, err)
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			writeOverrides(out, cmd.ErrOrStderr(), overrides, req.JSON)
			var notes []string
			if routing.Any() {
				// The requests the AWS providers would send, for review
				// (and cost) before running.
				notes, err = planAWS(out, d, awsprov.PlanOptions{PipelineID: executor.PipelineIDFor(args[0]), Routing: routing,
					Schedule: req, Env: &awsprov.Env{DefaultAMI: res.defaultAMI}}, req.JSON)
			} else {
				notes, err = schedule.Render(out, d, req)
			}
			if ferr := out.Flush(); err == nil {
				err = ferr
			}
			for _, n := range notes {
				fmt.Fprintln(cmd.ErrOrStderr(), n)
			}
			if err != nil {
				return withCode(exitFailed, fmt.Errorf("%s: %w", args[0], err))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&start, "start", "", "first scheduled start to show (and the activation time)")
	f.StringVar(&end, "end", "", "show scheduled starts before this time")
	f.IntVar(&count, "count", 0, "show at most N instances per component")
	f.StringArrayVar(&params, "param", nil, "parameter value id=value (repeat an id for array parameters)")
	f.StringVar(&paramFile, "param-file", "", `parameter values file {"values": {...}} (as the AWS CLI takes); --param wins`)
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	f.StringVar(&now, "now", "", "the current time for backfill decisions (default: the clock)")
	addReadFlags(f)
	addSetFlag(f, &sets)
	addResourceFlags(f, &res, false)
	rootCmd.AddCommand(cmd)
}

// writeOverrides lists the --set values the plan was made with (secrets
// masked): at the top of the text plan, or on stderr beside JSON so the
// JSON stays one document (its "fields" carry the overridden values).
func writeOverrides(out *bufio.Writer, stderr io.Writer, ovs []definition.Override, json bool) {
	if len(ovs) == 0 {
		return
	}
	w := io.Writer(out)
	if json {
		w = stderr
	}
	fmt.Fprintln(w, "overridden by --set:")
	for _, ov := range ovs {
		fmt.Fprintf(w, "  %s.%s = %s\n", ov.ObjectID, ov.Key, ov.DisplayValue())
	}
	if !json {
		fmt.Fprintln(w)
	}
}
