package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
)

func init() { rootCmd.AddCommand(newEvalCmd()) }

func newEvalCmd() *cobra.Command {
	var (
		file, object, start, end string
		params, sets             []string
	)
	cmd := &cobra.Command{
		Use:   "eval [--file F --object ID] [--scheduled-start T] [--scheduled-end T] [--param id=value]... STRING",
		Short: "Evaluate a string containing #{...} expressions",
		Long: `eval substitutes every #{...} expression in STRING and prints the result:
the offline twin of the service's EvaluateExpression.

Without --file, the functions, literals, --param values and
@scheduledStartTime/@scheduledEndTime (from the flags) are available.
With --file and --object, names resolve as they would for that object:
its fields through parent/Default inheritance, references (input.x),
and the definition's parameters (--param, then values, then defaults).

A result that is a list prints one element per line. Times are UTC,
yyyy-MM-ddTHH:mm:ss (an RFC 3339 offset is also accepted).`,
		Example: `  dpl eval --scheduled-start 2011-05-24T17:10:00 "s3://b/#{format(@scheduledStartTime,'YYYY-MM-dd')}"
  dpl eval --param myDays=3 "#{plusDays(makeDate(2024,2,27), myDays)}"
  dpl eval --file pipeline.json --object MyCopy "#{input.directoryPath}"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			runtime := map[string]expr.Value{}
			for _, f := range []struct{ flag, val, field string }{
				{"--scheduled-start", start, "@scheduledStartTime"},
				{"--scheduled-end", end, "@scheduledEndTime"},
			} {
				if f.val == "" {
					continue
				}
				t, err := parseEvalTime(f.val)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("%s: %w", f.flag, err))
				}
				runtime[f.field] = expr.DateTime(t)
			}
			paramVals := map[string][]string{}
			for _, p := range params {
				id, val, ok := strings.Cut(p, "=")
				if !ok || id == "" {
					return withCode(exitUsage, fmt.Errorf("--param %q: want id=value", p))
				}
				paramVals[id] = append(paramVals[id], val)
			}
			if object != "" && file == "" {
				return withCode(exitUsage, errors.New("--object needs --file"))
			}
			if len(sets) > 0 && file == "" {
				return withCode(exitUsage, errors.New("--set needs --file"))
			}

			var scope expr.Scope
			if file == "" {
				ps := expr.MapScope{}
				for id, vals := range paramVals {
					if len(vals) == 1 {
						ps[id] = expr.String(vals[0])
					} else {
						ps[id] = expr.Strings(vals...)
					}
				}
				scope = expr.Chain{expr.MapScope(runtime), ps}
			} else {
				d, _, err := loadDefinition(file)
				if err != nil {
					return err
				}
				if _, err := definition.ApplyOverrides(d, sets); err != nil {
					return withCode(exitUsage, err)
				}
				d.Resolve()
				if object == "" {
					object = definition.DefaultID
				}
				o := d.Object(object)
				if o == nil {
					return withCode(exitUsage, fmt.Errorf("%s: no object with id %q", file, object))
				}
				// What eval prints is shown, never executed: secrets are masked.
				res := definition.NewResolver(d, paramVals).Masked()
				scope = res.Scope(o, definition.OptionsBinding(definition.ScopeOptions{Runtime: runtime}))
			}

			t, err := expr.ParseTemplate(args[0])
			if err == nil {
				var v expr.Value
				if v, err = t.Eval(scope); err == nil {
					out := cmd.OutOrStdout()
					for _, s := range v.StringList() {
						fmt.Fprintln(out, s)
					}
					return nil
				}
			}
			return withCode(exitFailed, pointAt(args[0], err))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "definition file whose object supplies fields and parameters")
	f.StringVar(&object, "object", "", "id of the object to evaluate in (with --file; default: Default)")
	f.StringVar(&start, "scheduled-start", "", "value of @scheduledStartTime")
	f.StringVar(&end, "scheduled-end", "", "value of @scheduledEndTime")
	f.StringArrayVar(&params, "param", nil, "parameter value id=value (repeat an id for an array)")
	addSetFlag(f, &sets)
	addReadFlags(f)
	return cmd
}

func parseEvalTime(s string) (time.Time, error) {
	if t, ok := expr.ParseDateTime(s); ok {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q: want yyyy-MM-ddTHH:mm:ss", s)
}

// pointAt renders an expression error with the input and a caret under
// the offending column.
func pointAt(input string, err error) error {
	var e *expr.Error
	if !errors.As(err, &e) || strings.ContainsAny(input, "\n\r") {
		return err
	}
	col := len([]rune(input[:min(e.FieldOffset(), len(input))]))
	return fmt.Errorf("column %d: %s\n  %s\n  %s^", col+1, e.Message(), input, strings.Repeat(" ", col))
}
