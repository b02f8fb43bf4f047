package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
)

type serveFlags struct {
	listen          string
	stateDir        string
	credentials     string
	parallel        int
	ackTimeout      time.Duration
	progressTimeout time.Duration
	pollTimeout     time.Duration
	maxBody         int64
	maxObjects      int
	retryDelay      time.Duration
	backend         backendFlags
}

func init() {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Serve the AWS Data Pipeline API over the local executor",
		Long: `Serve the AWS Data Pipeline JSON 1.1 API (all 19 operations) so that the AWS CLI,
the SDKs and task runners work against dpl unchanged:

  aws datapipeline list-pipelines --endpoint-url http://127.0.0.1:8642

Pipelines created through the API are kept in the state folder and run by dpl's
engine when activated. Work of activities with a workerGroup is handed to task
runners polling that group (dpl taskrunner, or any client of the API); the rest
runs in this process.

Requests are verified with AWS Signature Version 4 against --credentials (an AWS
shared-credentials file; every profile's key pair is accepted) or, without it,
against AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. With neither, requests are not
authenticated, which is only allowed on a loopback address.`,
		Example: `  dpl serve
  dpl serve --listen 127.0.0.1:9000 --state-dir /var/lib/dpl
  dpl serve --listen 0.0.0.0:8642 --credentials /etc/dpl/credentials`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8642", "address to listen on")
	fl.StringVar(&f.stateDir, "state-dir", "", "state folder (default $DPL_STATE_DIR or ./.dpl)")
	fl.StringVar(&f.credentials, "credentials", "", "AWS shared-credentials file whose key pairs may sign requests")
	fl.IntVar(&f.parallel, "parallel", 2, "tasks run at once per pipeline by the in-process worker")
	fl.DurationVar(&f.ackTimeout, "ack-timeout", endpoint.DefaultAckTimeout, "hand a task out again when its runner does not acknowledge it within this time")
	fl.DurationVar(&f.progressTimeout, "progress-timeout", endpoint.DefaultProgressTimeout, "hand a task out again when its runner stops reporting progress for this long (unless the activity sets reportProgressTimeout)")
	fl.DurationVar(&f.pollTimeout, "poll-timeout", executor.PollTimeout, "how long PollForTask waits for work")
	fl.Int64Var(&f.maxBody, "max-body", endpoint.DefaultMaxBody, "largest request body accepted, in bytes")
	fl.IntVar(&f.maxObjects, "max-objects", endpoint.DefaultMaxObjects, "most objects a pipeline definition may have")
	fl.DurationVar(&f.retryDelay, "retry-delay", 0, "override every retryDelay (e.g. 2s)")
	addBackendFlags(fl, &f.backend)
	rootCmd.AddCommand(cmd)
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	creds := endpoint.EnvCredentials()
	if f.credentials != "" {
		c, err := endpoint.LoadCredentials(f.credentials)
		if err != nil {
			return withCode(exitUsage, err)
		}
		creds = c
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--listen %q: %w", f.listen, err))
	}
	if len(creds) == 0 && !isLoopback(host) {
		return withCode(exitUsage, fmt.Errorf("--listen %s is not a loopback address: give --credentials (or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) so that requests are authenticated", f.listen))
	}
	stateDir := stateDirFor(f.stateDir)
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return withCode(exitUsage, fmt.Errorf("state folder: %w", err))
	}
	be, err := f.backend.open(cmd.Context(), stateDir)
	if err != nil {
		return withCode(exitUsage, err)
	}
	stderr := cmd.ErrOrStderr()
	srv, err := endpoint.New(endpoint.Options{
		StateDir: stateDir, Credentials: creds,
		Runner:   activity.New(be.Runner),
		Parallel: f.parallel, PollTimeout: f.pollTimeout, AckTimeout: f.ackTimeout, ProgressTimeout: f.progressTimeout,
		MaxBodyBytes: f.maxBody, MaxObjects: f.maxObjects, RetryDelay: f.retryDelay,
		Notifier: be.Notifier,
		Logf:     func(format string, args ...any) { fmt.Fprintf(stderr, "dpl serve: "+format+"\n", args...) },
	})
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("%w (is another dpl using %s?)", err, stateDir))
	}
	defer srv.Close()
	l, err := net.Listen("tcp", f.listen)
	if err != nil {
		return withCode(exitUsage, err)
	}
	auth := "SigV4 verified"
	if len(creds) == 0 {
		auth = "no authentication (loopback only)"
	}
	fmt.Fprintf(stderr, "dpl serve: listening on http://%s (%s), state in %s; %s\n", l.Addr(), auth, stateDir, be.Describe)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx, l); err != nil && !errors.Is(err, context.Canceled) {
		return withCode(exitFailed, err)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
