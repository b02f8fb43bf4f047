package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/schemas"
)

func init() { rootCmd.AddCommand(newSchemaCmd()) }

func newSchemaCmd() *cobra.Command {
	var (
		bundle, catalog bool
		outFile         string
	)
	cmd := &cobra.Command{
		Use:   "schema [TYPE]",
		Short: "Print the JSON Schema of an object type, list the types, or write the editor bundle",
		Long: `schema prints the JSON Schema (draft-07) dpl applies to an object type's
effective fields; without TYPE it lists the types by family.

--bundle writes one self-contained JSON Schema for whole definition files
(objects switch on "type"; parameters; values) for VS Code and JetBrains:
save it with -o and associate it with your definition files (see README).
The bundle checks fields as written; required fields and one-of groups may
be inherited from Default or a parent, so only dpl validate checks those.

--catalog prints the machine-readable catalogue: per type its family,
fields (kind, multi-valued, ref targets, deprecations), required fields,
one-of groups, exclusive pairs and runtime fields.`,
		Example: `  dpl schema
  dpl schema ShellCommandActivity
  dpl schema --bundle -o .vscode/datapipeline.schema.json`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return schemas.TypeNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if bundle && catalog || (bundle || catalog) && len(args) > 0 {
				return withCode(exitUsage, errors.New("give one of TYPE, --bundle or --catalog"))
			}
			var data []byte
			var err error
			switch {
			case bundle:
				data = schemas.Bundle()
			case catalog:
				data, err = schemas.File("catalog.json")
			case len(args) == 1:
				data, err = schemas.Schema(args[0])
				if errors.Is(err, schemas.ErrUnknownType) {
					return withCode(exitUsage, fmt.Errorf("%w; run 'dpl schema' to list the types", err))
				}
			default:
				if outFile != "" {
					return withCode(exitUsage, errors.New("-o needs TYPE, --bundle or --catalog"))
				}
				return listTypes(cmd.OutOrStdout())
			}
			if err != nil {
				return withCode(exitUsage, err)
			}
			if outFile == "" || outFile == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if err := os.WriteFile(outFile, data, 0o644); err != nil {
				return withCode(exitUsage, fmt.Errorf("write schema: %w", err))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&bundle, "bundle", false, "write one JSON Schema for whole definition files (for editors)")
	cmd.Flags().BoolVar(&catalog, "catalog", false, "print the machine-readable type catalogue")
	cmd.Flags().StringVarP(&outFile, "output", "o", "", "write to `FILE` instead of standard output")
	return cmd
}

var familyTitles = map[schemas.Family]string{
	schemas.FamilyDataNode: "Data nodes", schemas.FamilyActivity: "Activities", schemas.FamilyResource: "Resources",
	schemas.FamilyPrecondition: "Preconditions", schemas.FamilyDatabase: "Databases", schemas.FamilyDataFormat: "Data formats",
	schemas.FamilyAction: "Actions", schemas.FamilySchedule: "Schedules", schemas.FamilyUtility: "Utilities",
}

// listTypes prints the types grouped by family.
func listTypes(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	families := []schemas.Family{schemas.FamilyDataNode, schemas.FamilyActivity, schemas.FamilyResource,
		schemas.FamilyPrecondition, schemas.FamilyDatabase, schemas.FamilyDataFormat, schemas.FamilyAction,
		schemas.FamilySchedule, schemas.FamilyUtility}
	for i, family := range families {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s:\n", familyTitles[family])
		for _, t := range schemas.Catalog().Types {
			if t.Family != family {
				continue
			}
			desc := t.Description
			if t.Deprecated != "" {
				desc = "(deprecated: " + t.Deprecated + ") " + desc
			}
			fmt.Fprintf(tw, "  %s\t%s\n", t.Name, desc)
		}
	}
	return tw.Flush()
}
