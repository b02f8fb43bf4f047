package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	// EmrCluster on Amazon EMR (registers itself with awsprov).
	_ "github.com/dpl-dev/dpl/executor/provider/emr"
	// The AWS resource providers register themselves with awsprov.
	_ "github.com/dpl-dev/dpl/executor/provider/ec2"
)

// resourceFlags choose where resources (Ec2Resource, EmrCluster) are
// created: the local worker or AWS.
type resourceFlags struct {
	resources      string
	perObject      []string
	keep           bool
	defaultAMI     string
	runnerEndpoint string
	runnerBinary   string
}

func addResourceFlags(fs *pflag.FlagSet, f *resourceFlags, run bool) {
	fs.StringVar(&f.resources, "resources", "local", "where resources run: local (the local worker) or aws (Ec2Resource on EC2, EmrCluster on EMR; same AWS configuration as --backend aws)")
	fs.StringArrayVar(&f.perObject, "resource-provider", nil, "per-object override of --resources: ID=aws or ID=local (repeatable)")
	fs.StringVar(&f.defaultAMI, "default-ami", "", "AMI of an Ec2Resource without imageId (default: the latest Amazon Linux 2023 AMI of the region, from the SSM public parameter)")
	if !run {
		return
	}
	fs.BoolVar(&f.keep, "keep-resources", false, "do not terminate AWS resources when the run is interrupted (dpl serve: when it stops); a resumed run reuses them; they are still terminated when their work ends")
	fs.StringVar(&f.runnerBinary, "runner-binary", "", "where EC2 instances without dpl download it (https:// or s3://; default: the release for the instance's architecture)")
	fs.StringVar(&f.runnerEndpoint, "runner-endpoint", "", "URL task runners on EC2 instances poll (default http://<--serve ADDR>; dpl serve: its --listen address); it must be reachable from the instances' subnet")
}

// awsResources is what a run with resources on AWS holds.
type awsResources struct {
	env      *awsprov.Env
	registry *provider.Registry
	keys     *endpoint.KeyRing
	keep     bool
}

// open prepares the AWS providers when any resource goes to AWS; nil
// otherwise.
func (f *resourceFlags) open(ctx context.Context, b *backendFlags, stateDir, serve string) (*awsResources, error) {
	routing, err := awsprov.ParseRouting(f.resources, f.perObject)
	if err != nil {
		return nil, err
	}
	if !routing.Any() {
		if f.keep || f.runnerEndpoint != "" || f.defaultAMI != "" || f.runnerBinary != "" {
			return nil, fmt.Errorf("--keep-resources, --runner-endpoint, --runner-binary and --default-ami need --resources aws (or --resource-provider ID=aws)")
		}
		return nil, nil
	}
	// Only runners on EC2 poll the run's endpoint (runServeCheck demands
	// --serve for them); EMR's runner is in-process.
	ep := f.runnerEndpoint
	if ep == "" && serve != "" {
		ep = "http://" + serve
	}
	env, err := awsx.LoadConfig(ctx, awsx.Options{Region: b.region, Endpoint: b.endpoint, Profile: b.profile})
	if err != nil {
		return nil, fmt.Errorf("--resources aws: %w", err)
	}
	keys := &endpoint.KeyRing{}
	penv := &awsprov.Env{AWS: env, Record: awsprov.OpenRecord(stateDir), DefaultAMI: f.defaultAMI, RunnerBinary: f.runnerBinary,
		Runner: awsprov.RunnerAccess{Endpoint: ep, Region: endpoint.DefaultRegion, Keys: keys}}
	return &awsResources{env: penv, registry: penv.Registry(nil, routing), keys: keys, keep: f.keep}, nil
}

// ec2OnAWS lists the Ec2Resource objects of d that go to AWS under
// routing: their task runners poll the run's endpoint.
func ec2OnAWS(d *definition.Definition, routing awsprov.Routing) []string {
	var ids []string
	for _, o := range d.Objects {
		if d.Effective(o).Type == "Ec2Resource" && routing.OnAWS(o.ID) {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// needServe says why a run needs --serve: the Ec2Resources routed to AWS,
// whose task runners on EC2 poll the run's API. EmrClusters do not: their
// steps are submitted by dpl itself.
func needServe(file string, d *definition.Definition, routing awsprov.Routing, serve string) error {
	if serve != "" {
		return nil
	}
	ids := ec2OnAWS(d, routing)
	if len(ids) == 0 {
		return nil
	}
	what := "Ec2Resource " + ids[0] + " goes"
	if len(ids) > 1 {
		what = "Ec2Resources " + strings.Join(ids, ", ") + " go"
	}
	return fmt.Errorf("%s: %s to AWS, and the task runner on its EC2 instance polls the run's API: add --serve ADDR (an address the instances reach, e.g. 0.0.0.0:8998) and, behind NAT, --runner-endpoint URL (or keep it local: --resource-provider %s=local)", file, what, ids[0])
}

// checkServeAddr allows a non-loopback --serve only when the API requires
// signatures (resources on AWS: each runner has its own key).
func checkServeAddr(serve string, signed bool) error {
	host, _, err := net.SplitHostPort(serve)
	if err != nil {
		return fmt.Errorf("--serve %q: %w", serve, err)
	}
	if !signed && !isLoopback(host) {
		return fmt.Errorf("--serve %q: only loopback addresses (no authentication); use dpl serve for more", serve)
	}
	return nil
}

// cleanup terminates what the run created on AWS, unless it was
// interrupted with --keep-resources. It has its own time limit: the run's
// context may be gone (Ctrl-C).
func (a *awsResources) cleanup(stderr io.Writer, pipelineID string, activation int, interrupted bool) error {
	if a == nil {
		return nil
	}
	if interrupted && a.keep {
		fmt.Fprintf(stderr, "dpl: --keep-resources: AWS resources of this run are left up; the resumed run reuses them (dpl resources --cleanup ends them)\n")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done, err := a.env.CleanupRun(ctx, pipelineID, activation)
	for _, o := range done {
		fmt.Fprintf(stderr, "dpl: terminated %s %s in %s (%s)\n", o.Kind, o.ID, o.Region, o.Tags[awsprov.TagInstance])
	}
	if err != nil {
		fmt.Fprintf(stderr, "dpl: cleaning up AWS resources: %v; list what is left with dpl resources --state-dir\n", err)
	}
	return err
}

func init() {
	var (
		stateDir, region, awsEndpoint, profile, output string
		cleanup                                        bool
	)
	cmd := &cobra.Command{
		Use:   "resources [--state-dir DIR] [--cleanup]",
		Short: "List (and terminate) AWS resources dpl created that are still up",
		Long: `List the EC2 instances and EMR clusters that dpl runs created and that are not
terminated yet, found by their ownership tags (dpl:pipelineId, dpl:run,
dpl:object, dpl:instance). Without --state-dir: every dpl-owned resource in the
region (--region, else the SDK's configuration). With --state-dir: the resources
of that state folder's pipelines, in every region its ownership record names.
--cleanup terminates what is listed.`,
		Example: `  dpl resources
  dpl resources --state-dir .dpl --cleanup
  dpl resources --aws-endpoint http://127.0.0.1:5000 --region eu-west-1 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return withCode(exitUsage, fmt.Errorf("--output %q: want text or json", output))
			}
			env, err := awsx.LoadConfig(cmd.Context(), awsx.Options{Region: region, Endpoint: awsEndpoint, Profile: profile})
			if err != nil {
				return withCode(exitUsage, err)
			}
			penv := &awsprov.Env{AWS: env}
			var owned []awsprov.Owned
			if cmd.Flags().Changed("state-dir") {
				if _, err := os.Stat(stateDir); err != nil {
					return withCode(exitUsage, fmt.Errorf("--state-dir: %w", err))
				}
				penv.Record = awsprov.OpenRecord(stateDir)
				recorded, err := penv.Record.Open()
				if err != nil {
					return withCode(exitFailed, err)
				}
				pipelines := map[string]bool{}
				for _, o := range recorded {
					pipelines[o.Tags[awsprov.TagPipeline]] = true
				}
				ids := make([]string, 0, len(pipelines))
				for p := range pipelines {
					ids = append(ids, p)
				}
				sort.Strings(ids)
				for _, p := range ids {
					found, err := penv.Leftovers(cmd.Context(), map[string]string{awsprov.TagPipeline: p})
					if err != nil {
						return withCode(exitFailed, err)
					}
					owned = append(owned, found...)
				}
			} else {
				owned, err = penv.Leftovers(cmd.Context(), nil)
				if err != nil {
					return withCode(exitFailed, err)
				}
			}
			if err := writeOwned(cmd.OutOrStdout(), owned, output == "json"); err != nil {
				return withCode(exitFailed, err)
			}
			if !cleanup || len(owned) == 0 {
				return nil
			}
			if err := penv.Terminate(cmd.Context(), owned); err != nil {
				return withCode(exitFailed, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "dpl: terminated %d resources\n", len(owned))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&stateDir, "state-dir", "", "only the resources of this state folder's pipelines")
	fl.BoolVar(&cleanup, "cleanup", false, "terminate the resources listed")
	fl.StringVar(&region, "region", "", "AWS region (default: the SDK's configuration, else us-east-1)")
	fl.StringVar(&awsEndpoint, "aws-endpoint", "", "AWS endpoint URL, e.g. http://127.0.0.1:5000 for moto")
	fl.StringVar(&profile, "profile", "", "AWS shared-config profile")
	fl.StringVarP(&output, "output", "o", "text", "text or json")
	rootCmd.AddCommand(cmd)
}

func writeOwned(w io.Writer, owned []awsprov.Owned, asJSON bool) error {
	if asJSON {
		if owned == nil {
			owned = []awsprov.Owned{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(owned)
	}
	if len(owned) == 0 {
		_, err := fmt.Fprintln(w, "no dpl resources are up")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tREGION\tID\tSTATE\tPIPELINE\tRUN\tINSTANCE\tSINCE")
	for _, o := range owned {
		since := ""
		if !o.Time.IsZero() {
			since = o.Time.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Kind, o.Region, o.ID, o.State,
			o.Tags[awsprov.TagPipeline], o.Tags[awsprov.TagRun], o.Tags[awsprov.TagInstance], since)
	}
	return tw.Flush()
}

// planAWS writes the AWS requests of `dpl plan --resources aws`.
func planAWS(w io.Writer, d *definition.Definition, plan awsprov.PlanOptions, asJSON bool) ([]string, error) {
	planned, notes, err := awsprov.Plan(d, plan)
	if err != nil {
		return notes, err
	}
	return notes, awsprov.WritePlan(w, planned, asJSON)
}
