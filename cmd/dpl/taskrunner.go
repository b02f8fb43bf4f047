package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/local"
	"github.com/dpl-dev/dpl/executor/proc"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/remote"
)

type taskRunnerFlags struct {
	endpoint    string
	workerGroup string
	tasks       int
	id          string
	region      string
	output      string
	progress    time.Duration
	heartbeat   time.Duration
	grace       time.Duration
	ackDelay    time.Duration
	pollTimeout time.Duration
	callTimeout time.Duration
	quiet       bool
	backend     backendFlags
	keyParam    string
	ssmRegion   string
}

func init() {
	var f taskRunnerFlags
	cmd := &cobra.Command{
		Use:   "taskrunner --endpoint URL --worker-group NAME [flags]",
		Short: "Run tasks of a worker group for a Data Pipeline endpoint",
		Long: `Poll a Data Pipeline endpoint (dpl serve, or any server of the API) for tasks of one
worker group and run them with dpl's activity runner — the same code the local
worker uses. Each task is acknowledged, its progress reported, and its result sent
back; heartbeats tell the server the runner is alive. With several endpoints
(--endpoint URL,URL,...) a call that cannot reach one (connection refused or
reset, timeout, HTTP 502/503/504) goes to the next, which then stays in use.

Credentials and region come from the usual AWS environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...). On SIGTERM or SIGINT the runner stops
polling, lets running tasks finish for --shutdown-grace, then gives the rest back
(reported FAILED with errorId TaskRunnerShutdown, so they are retried elsewhere).

Every command's processes carry a marker of the --output folder; a runner
killed with -9 takes its direct children with it (parent-death signal), and
the next runner started on the same folder stops whatever else it left
running before it takes a task.`,
		Example: `  dpl taskrunner --endpoint http://127.0.0.1:8642 --worker-group etl
  dpl taskrunner --endpoint http://dpl:8642 --worker-group etl --tasks 8 --output /var/lib/dpl-runner`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTaskRunner(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.endpoint, "endpoint", "", "endpoint URL (e.g. http://127.0.0.1:8642), or URL,URL,... to fail over between several")
	fl.StringVar(&f.workerGroup, "worker-group", "", "worker group to poll (exact, case-sensitive)")
	fl.IntVar(&f.tasks, "tasks", remote.DefaultTasks, "tasks run at once")
	fl.StringVar(&f.id, "taskrunner-id", "", "id sent with heartbeats (default: random)")
	fl.StringVar(&f.region, "endpoint-region", "us-east-1", "region requests to --endpoint are signed for")
	fl.StringVar(&f.output, "output", "", "folder for working directories, attempt logs and s3:// data (default $DPL_STATE_DIR or ./.dpl)")
	fl.DurationVar(&f.progress, "progress-interval", remote.DefaultProgressInterval, "how often running tasks report progress")
	fl.DurationVar(&f.heartbeat, "heartbeat-interval", remote.DefaultHeartbeatInterval, "how often heartbeats are sent")
	fl.DurationVar(&f.ackDelay, "ack-delay", remote.DefaultAckDelay, "acknowledge a task only if it still runs this long after it started (one that ends sooner is acknowledged by its result); keep it well below the server's ack timeout (dpl serve --ack-timeout); 0: before it starts")
	fl.DurationVar(&f.grace, "shutdown-grace", remote.DefaultShutdownGrace, "how long running tasks may finish after SIGTERM")
	fl.DurationVar(&f.pollTimeout, "poll-timeout", executor.PollTimeout, "the server's long poll (dpl serve --poll-timeout); a poll unanswered 10 s past it fails over to the next --endpoint")
	fl.DurationVar(&f.callTimeout, "call-timeout", remote.DefaultCallTimeout, "how long any other call may take before it fails over to the next --endpoint")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors")
	addBackendFlags(fl, &f.backend)
	fl.StringVar(&f.keyParam, "endpoint-credentials-ssm", "", "sign requests to --endpoint with the key in this SSM SecureString parameter (ID:SECRET, re-read every minute; how runners on dpl's EC2 instances get their key)")
	fl.StringVar(&f.ssmRegion, "ssm-region", "", "region of --endpoint-credentials-ssm (default: the SDK's configuration)")
	_ = cmd.MarkFlagRequired("endpoint")
	_ = cmd.MarkFlagRequired("worker-group")
	rootCmd.AddCommand(cmd)
}

func runTaskRunner(cmd *cobra.Command, f taskRunnerFlags) error {
	if f.tasks < 1 {
		return withCode(exitUsage, fmt.Errorf("--tasks %d: want at least 1", f.tasks))
	}
	root := stateDirFor(f.output)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return withCode(exitUsage, fmt.Errorf("output folder: %w", err))
	}
	root, _ = filepath.Abs(root)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	be, err := f.backend.open(ctx, root)
	if err != nil {
		return withCode(exitUsage, err)
	}
	stderr := cmd.ErrOrStderr()
	// A runner killed with -9 leaves its commands' children behind (the
	// direct child dies with it: parent-death signal); they carry the
	// folder's marker. Stop them before taking tasks, so that the retry of
	// an attempt the killed runner had never runs beside what is left of it.
	if n, err := proc.KillLeftovers(root, nil, 10*time.Second); err != nil {
		return withCode(exitFailed, fmt.Errorf("stop what a killed runner left in %s: %w", root, err))
	} else if n > 0 {
		fmt.Fprintf(stderr, "dpl taskrunner: stopped %d process(es) that a killed runner left in %s\n", n, root)
	}
	var creds aws.CredentialsProvider
	if f.keyParam != "" {
		// The instance's own credentials (its role) read the key; the key
		// signs the requests to the endpoint.
		var lo []func(*config.LoadOptions) error
		if f.ssmRegion != "" {
			lo = append(lo, config.WithRegion(f.ssmRegion))
		}
		cfg, err := config.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--endpoint-credentials-ssm: %w", err))
		}
		keys := awsprov.RunnerKeyCredentials{SSM: ssm.NewFromConfig(cfg), Name: f.keyParam}
		creds = aws.NewCredentialsCache(keys)
		if _, err := creds.Retrieve(ctx); err != nil {
			return withCode(exitFailed, err)
		}
		// dpl deletes the key when it terminates the resource: then the
		// runner stops as on SIGTERM (its instance is going away).
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			if keys.WaitDeleted(ctx, awsprov.RunnerKeyCheck) {
				fmt.Fprintf(cmd.ErrOrStderr(), "dpl taskrunner: the endpoint key %s was deleted (the resource is terminated): stopping\n", f.keyParam)
				cancel()
			}
		}()
	}
	client, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: f.endpoint, Region: f.region, Credentials: creds, PollTimeout: f.pollTimeout, CallTimeout: f.callTimeout,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "dpl taskrunner: "+format+"\n", args...) }})
	if err != nil {
		return withCode(exitUsage, err)
	}
	ackDelay := f.ackDelay
	if ackDelay <= 0 {
		ackDelay = -1 // acknowledge before the task starts
	}
	r := &remote.TaskRunner{API: client, WorkerGroup: f.workerGroup, ID: f.id, Tasks: f.tasks,
		Runner: activity.New(be.Runner), Logs: local.LogFiles(root),
		ProgressInterval: f.progress, HeartbeatInterval: f.heartbeat, ShutdownGrace: f.grace, AckDelay: ackDelay}
	if !f.quiet {
		r.Logf = func(format string, args ...any) {
			fmt.Fprintf(stderr, "%s dpl taskrunner: "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
		}
		fmt.Fprintf(stderr, "dpl taskrunner: polling %s for worker group %q with %d slots; %s\n", f.endpoint, f.workerGroup, f.tasks, be.Describe)
	}
	if err := r.Run(ctx); err != nil {
		return withCode(exitFailed, err)
	}
	st := r.Stats()
	if !f.quiet {
		fmt.Fprintf(stderr, "dpl taskrunner: stopped: %d finished, %d failed, %d given back\n", st.Finished, st.Failed, st.Returned)
	}
	return nil
}
