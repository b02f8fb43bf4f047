package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/convert"
	"github.com/dpl-dev/dpl/executor/errcode"
)

type convertFlags struct {
	to, format, name, logicalID, description string
	activate                                 bool
}

func init() {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert --to api|file|cloudformation [flags] FILE",
		Short: "Translate a definition between file, API and CloudFormation formats",
		Long: `Convert a pipeline definition between the CLI file format, the API format
(what 'aws datapipeline put-pipeline-definition' sends) and a CloudFormation
template with one AWS::DataPipeline::Pipeline resource. The input format (JSON
or YAML) is detected.

  --to api             exactly what the AWS CLI v1 sends: name defaults to id,
                       fields sorted by key, lists become repeated keys.
  --to file            what 'aws datapipeline get-pipeline-definition' prints:
                       repeated keys become lists, single values scalars.
  --to cloudformation  PipelineObjects/ParameterObjects/ParameterValues with
                       Name (--name, default: the file name) and Activate.

Values are written as they are, secrets included: the output is the
definition itself. FILE may be - for stdin.

Exit codes: 0 converted, 1 the definition has errors that would lose values,
2 usage or I/O error.`,
		Example: `  dpl convert --to api pipeline.json > put-request.json
  aws datapipeline get-pipeline-definition --pipeline-id df-1 | dpl convert --to file -
  dpl convert --to cloudformation --format yaml --name nightly pipeline.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runConvert(cmd, f, args[0]) },
	}
	cmd.Flags().StringVar(&f.to, "to", "", "target format: api, file or cloudformation (required)")
	cmd.Flags().StringVar(&f.format, "format", "json", "output syntax: json or yaml")
	cmd.Flags().StringVar(&f.name, "name", "", "CloudFormation: pipeline Name (default: from the template, else the file name)")
	cmd.Flags().StringVar(&f.logicalID, "resource", "", "CloudFormation: logical id of the resource (default DataPipeline)")
	cmd.Flags().StringVar(&f.description, "description", "", "CloudFormation: pipeline Description")
	cmd.Flags().BoolVar(&f.activate, "activate", true, "CloudFormation: Activate property (CloudFormation's default is true)")
	addReadFlags(cmd.Flags())
	_ = cmd.MarkFlagRequired("to")
	rootCmd.AddCommand(cmd)
}

func runConvert(cmd *cobra.Command, f convertFlags, path string) error {
	var to definition.Format
	switch f.to {
	case "api":
		to = definition.FormatAPI
	case "file":
		to = definition.FormatFile
	case "cloudformation", "cfn":
		to = definition.FormatCloudFormation
	default:
		return withCode(exitUsage, fmt.Errorf("--to %q: want api, file or cloudformation", f.to))
	}
	if f.format != "json" && f.format != "yaml" {
		return withCode(exitUsage, fmt.Errorf("--format %q: want json or yaml", f.format))
	}
	src, err := readSource(path)
	if err != nil {
		return err
	}
	if err := convert.CheckLossless(src.Def); err != nil {
		return withCode(exitFailed, fmt.Errorf("%s: %w", src.Def.File, err))
	}
	opt := src.Opts
	flags := cmd.Flags()
	if flags.Changed("name") {
		opt.CloudFormation.Name = f.name
	}
	if flags.Changed("resource") {
		opt.CloudFormation.LogicalID = f.logicalID
	}
	if flags.Changed("description") {
		opt.CloudFormation.Description = f.description
	}
	if flags.Changed("activate") || src.Def.Format != definition.FormatCloudFormation {
		opt.CloudFormation.Activate = f.activate
	}
	n, err := convert.To(src.Def, to, opt)
	if err != nil {
		return withCode(exitUsage, err)
	}
	out := n.MarshalIndent()
	if f.format == "yaml" {
		if out, err = n.MarshalYAML(); err != nil {
			return withCode(exitFailed, err)
		}
	}
	_, err = cmd.OutOrStdout().Write(out)
	return err
}

// readInput reads a definition file ("-" is stdin) and names it.
func readInput(path string) (string, []byte, error) {
	name, data, _, err := readDefinition(path)
	return name, data, err
}

// readSource reads and parses a definition for the conversion commands.
func readSource(path string) (*convert.Source, error) { return readConvertSource(path) }

// code 2); other errors get code.
func readError(err error, code errcode.Code) error {
	var se *definition.SyntaxError
	if errors.As(err, &se) {
		msg := se.Error()
		if ex := se.Excerpt(); ex != "" {
			msg += "\n" + ex
		}
		return withCode(errcode.Definition, errors.New(msg))
	}
	return withCode(code, err)
}
