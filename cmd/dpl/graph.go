package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/definition/convert"
)

func init() {
	var format string
	cmd := &cobra.Command{
		Use:   "graph [--format dot|mermaid] FILE",
		Short: "Draw a definition's component graph",
		Long: `Print the component graph of a pipeline definition for documentation:
one node per object labelled with its id and type, shaped by family (data
nodes, activities, resources, preconditions, databases, data formats,
actions, schedules), and one edge per reference labelled with the field that
holds it (runsOn, input, output, dependsOn, schedule, parent, my... fields).
References to missing objects are drawn in red. Each ref is drawn from the
object that writes it (Default's schedule once, not once per object).

  dot      Graphviz: dpl graph p.json | dot -Tsvg > p.svg
  mermaid  a Mermaid flowchart for Markdown (GitHub renders it)`,
		Example: `  dpl graph pipeline.json | dot -Tpng > pipeline.png
  dpl graph --format mermaid pipeline.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "dot" && format != "mermaid" {
				return withCode(exitUsage, fmt.Errorf("--format %q: want dot or mermaid", format))
			}
			src, err := readSource(args[0])
			if err != nil {
				return err
			}
			g := convert.BuildGraph(src.Def)
			out := g.DOT()
			if format == "mermaid" {
				out = g.Mermaid()
			}
			_, err = io.WriteString(cmd.OutOrStdout(), out)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "dot", "output: dot or mermaid")
	addReadFlags(cmd.Flags())
	rootCmd.AddCommand(cmd)
}
