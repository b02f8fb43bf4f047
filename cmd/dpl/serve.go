package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/endpoint"
	"github.com/dpl-dev/dpl/executor/pgstore"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/runstore"
)

type serveFlags struct {
	listen          string
	stateDir        string
	credentials     string
	noAuth          bool
	region          string
	parallel        int
	ackTimeout      time.Duration
	progressTimeout time.Duration
	pollTimeout     time.Duration
	maxBody         int64
	maxObjects      int
	retryDelay      time.Duration
	headerTimeout   time.Duration
	bodyTimeout     time.Duration
	maxConns        int
	rateLimit       float64
	store           string
	advertise       string
	schema          string
	leaderTTL       time.Duration
	backend         backendFlags
	res             resourceFlags
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

Every request must be signed (AWS Signature Version 4, service datapipeline,
region --endpoint-region) with a key pair of --credentials (an AWS
shared-credentials file; every profile's pair is accepted). Without
--credentials, serve generates a key pair on first start and writes it to
<state-dir>/serve/credentials (mode 0600) as profile dpl-serve; it prints the
line that points the AWS CLI, the SDKs and dpl taskrunner at it:

  export AWS_SHARED_CREDENTIALS_FILE=.../serve/credentials AWS_PROFILE=dpl-serve

--no-auth accepts unsigned requests; it is refused unless --listen is a loopback
address, and even then any local user can run commands as this server's user.

--resources aws (or --resource-provider ID=aws) creates the resources of
activated pipelines on AWS as dpl run does: an Ec2Resource becomes an EC2
instance whose user-data starts dpl taskrunner polling this server
(--runner-endpoint, else the listen address) with its own short-lived key; an
EmrCluster becomes an EMR cluster running the activities as steps. Everything is
tagged with the pipeline id and run, and terminated when the run's work ends,
on DeactivatePipeline and DeletePipeline, and when serve stops (SIGINT/SIGTERM)
unless --keep-resources (the resumed runs then reuse it).`,
		Example: `  dpl serve
  dpl serve --listen 127.0.0.1:9000 --state-dir /var/lib/dpl
  dpl serve --listen 0.0.0.0:8642 --credentials /etc/dpl/credentials
  dpl serve --listen 0.0.0.0:8642 --resources aws --runner-endpoint http://10.0.0.5:8642`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8642", "address to listen on")
	fl.StringVar(&f.stateDir, "state-dir", "", "state folder (default $DPL_STATE_DIR or ./.dpl)")
	fl.StringVar(&f.credentials, "credentials", "", "AWS shared-credentials file whose key pairs may sign requests (default: a generated pair in <state-dir>/serve/credentials)")
	fl.BoolVar(&f.noAuth, "no-auth", false, "accept unsigned requests (loopback --listen only; any local user can then run commands as this user)")
	fl.StringVar(&f.store, "store", "", "where pipelines and run state live: badger:DIR (default: the state folder) or postgres://user:pass@host/db (several serve processes share it: one leads, the others stand by and pass requests to it)")
	fl.StringVar(&f.schema, "store-schema", "dpl", "with a postgres:// store: the database schema dpl's tables live in (serve processes of one group share it)")
	fl.StringVar(&f.advertise, "advertise", "", "with a postgres:// store: the URL the other serve processes reach this one at (default http://<--listen>)")
	fl.DurationVar(&f.leaderTTL, "leader-ttl", endpoint.DefaultLeaderTTL, "with a postgres:// store: how long the leader's lease lasts unrenewed (renewed every second); a standby takes over after it runs out")
	fl.StringVar(&f.region, "endpoint-region", endpoint.DefaultRegion, "region requests must be signed for")
	fl.IntVar(&f.parallel, "parallel", 2, "tasks run at once per pipeline by the in-process worker")
	fl.DurationVar(&f.ackTimeout, "ack-timeout", endpoint.DefaultAckTimeout, "hand a task out again when its runner does not acknowledge it within this time")
	fl.DurationVar(&f.progressTimeout, "progress-timeout", endpoint.DefaultProgressTimeout, "hand a task out again when its runner stops reporting progress for this long (unless the activity sets reportProgressTimeout)")
	fl.DurationVar(&f.pollTimeout, "poll-timeout", executor.PollTimeout, "how long PollForTask waits for work")
	fl.Int64Var(&f.maxBody, "max-body", endpoint.DefaultMaxBody, "largest request body accepted, in bytes")
	fl.IntVar(&f.maxObjects, "max-objects", endpoint.DefaultMaxObjects, "most objects a pipeline definition may have")
	fl.DurationVar(&f.retryDelay, "retry-delay", 0, "override every retryDelay (e.g. 2s)")
	fl.DurationVar(&f.headerTimeout, "header-timeout", endpoint.DefaultHeaderTimeout, "close connections whose request headers take longer")
	fl.DurationVar(&f.bodyTimeout, "body-timeout", endpoint.DefaultBodyTimeout, "answer RequestTimeoutException when a request body takes longer")
	fl.IntVar(&f.maxConns, "max-conns-per-client", endpoint.DefaultMaxConnsPerClient, "connections one IP address may hold open (more are closed at once; -1: no cap)")
	fl.Float64Var(&f.rateLimit, "rate-limit", endpoint.DefaultRateLimit, "requests per second one IP address may make before ThrottlingException (bursts of twice that; -1: no limit)")
	addBackendFlags(fl, &f.backend)
	addResourceFlags(fl, &f.res, true)
	rootCmd.AddCommand(cmd)
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--listen %q: %w", f.listen, err))
	}
	stateDir := stateDirFor(f.stateDir)
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return withCode(exitUsage, fmt.Errorf("state folder: %w", err))
	}
	stderr := cmd.ErrOrStderr()
	creds, err := serveCredentials(f, host, stateDir, stderr)
	if err != nil {
		return withCode(exitUsage, err)
	}
	routing, err := awsprov.ParseRouting(f.res.resources, f.res.perObject)
	if err != nil {
		return withCode(exitUsage, err)
	}
	f.backend.resourcesOnAWS = routing.Any()
	be, err := f.backend.open(cmd.Context(), stateDir)
	if err != nil {
		return withCode(exitUsage, err)
	}
	backendStore, storeDesc, err := openServeStore(cmd.Context(), f.store, f.schema, stateDir)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if backendStore != nil {
		defer backendStore.Close()
	}
	opts := endpoint.Options{
		Store:    backendStore,
		StateDir: stateDir, Credentials: creds, NoAuth: f.noAuth, Region: f.region,
		Runner:   activity.New(be.Runner),
		Parallel: f.parallel, PollTimeout: f.pollTimeout, AckTimeout: f.ackTimeout, ProgressTimeout: f.progressTimeout,
		MaxBodyBytes: f.maxBody, MaxObjects: f.maxObjects, RetryDelay: f.retryDelay,
		HeaderTimeout: f.headerTimeout, BodyTimeout: f.bodyTimeout, MaxConnsPerClient: f.maxConns, RateLimit: f.rateLimit,
		Notifier: be.Notifier,
		Logf:     func(format string, args ...any) { fmt.Fprintf(stderr, "dpl serve: "+format+"\n", args...) },
	}
	l, err := net.Listen("tcp", f.listen)
	if err != nil {
		return withCode(exitUsage, err)
	}
	// Resources on AWS: each run gets its own providers; task runners on
	// EC2 poll this server (--runner-endpoint, else the listen address).
	awsRes, err := openServeResources(cmd.Context(), &f, routing, stateDir, advertised(l.Addr()), stderr)
	if err != nil {
		l.Close()
		return withCode(exitUsage, err)
	}
	if awsRes != nil {
		opts.Resources, opts.KeyRing = awsRes.perRun, awsRes.keys
	}
	var srv interface {
		Serve(context.Context, net.Listener) error
		Close() error
	}
	if pg, ok := backendStore.(*pgstore.Store); ok {
		addr := f.advertise
		if addr == "" {
			addr = "http://" + advertised(l.Addr())
		}
		node, err := endpoint.StartNode(endpoint.NodeOptions{Server: opts, Store: pg, Addr: addr, TTL: f.leaderTTL, Logf: opts.Logf})
		if err != nil {
			l.Close()
			return withCode(exitUsage, err)
		}
		fmt.Fprintf(stderr, "dpl serve: node %s (%s): leads when no other serve on the store does, else passes requests to the leader\n", node.ID(), addr)
		srv = node
	} else {
		s, err := endpoint.New(opts)
		if err != nil {
			l.Close()
			return withCode(exitUsage, err)
		}
		srv = s
	}
	defer srv.Close()
	auth := "SigV4 required, region " + f.region
	if f.noAuth {
		auth = "NO authentication"
	}
	fmt.Fprintf(stderr, "dpl serve: listening on http://%s (%s), state in %s; %s\n", l.Addr(), auth, storeDesc, be.Describe)
	if awsRes != nil {
		fmt.Fprintf(stderr, "dpl serve: %s\n", awsRes.describe)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx, l); err != nil && !errors.Is(err, context.Canceled) {
		return withCode(exitFailed, err)
	}
	return nil
}

// serveResources are the AWS resource providers of dpl serve --resources
// aws: one set per pipeline run (the EMR provider drives one engine),
// sharing the SDK configuration, the ownership record and the key ring.
type serveResources struct {
	perRun   func(pipelineID string) *endpoint.RunResources
	keys     *endpoint.KeyRing
	describe string
}

// openServeResources wires --resources (the flags dpl run has) for serve;
// nil when every resource stays local. addr is the listen address as
// runners reach it (the default --runner-endpoint).
func openServeResources(ctx context.Context, f *serveFlags, routing awsprov.Routing, stateDir, addr string, stderr io.Writer) (*serveResources, error) {
	if routing.Any() && f.noAuth {
		// The runners on EC2 sign with their own keys; an unsigned API
		// reachable from a subnet would run anyone's commands.
		return nil, errors.New("--resources aws needs signed requests: drop --no-auth")
	}
	base, err := f.res.open(ctx, &f.backend, stateDir, addr)
	if err != nil || base == nil {
		return nil, err
	}
	// Runners sign for the region this server checks.
	base.env.Runner.Region = f.region
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "dpl serve: "+format+"\n", args...) }
	perRun := func(string) *endpoint.RunResources {
		env := &awsprov.Env{AWS: base.env.AWS, Record: base.env.Record, Runner: base.env.Runner,
			DefaultAMI: base.env.DefaultAMI, RunnerBinary: base.env.RunnerBinary, Logf: logf}
		return &endpoint.RunResources{
			Registry: env.Registry(nil, routing),
			Attach:   func(eng *executor.Engine) { env.Attach(eng) },
			Release: func(eng *executor.Engine, why string) {
				if why == "shutdown" && base.keep {
					logf("--keep-resources: AWS resources of %s (run %d) are left up; serve resumes the run and reuses them", eng.PipelineID(), eng.Activation())
					return
				}
				_ = (&awsResources{env: env}).cleanup(stderr, eng.PipelineID(), eng.Activation(), false)
			},
		}
	}
	return &serveResources{perRun: perRun, keys: base.keys,
		describe: fmt.Sprintf("resources on AWS (%s); task runners on EC2 poll %s with per-instance keys", base.env.AWS.Describe(), base.env.Runner.Endpoint)}, nil
}

// openServeStore opens --store: nil (the server opens badger in the state
// folder), badger:DIR, or a PostgreSQL URL.
func openServeStore(ctx context.Context, spec, schema, stateDir string) (runstore.Backend, string, error) {
	switch {
	case spec == "":
		return nil, stateDir, nil
	case strings.HasPrefix(spec, "badger:"):
		dir := strings.TrimPrefix(spec, "badger:")
		if dir == "" {
			return nil, "", errors.New("--store badger:DIR needs a folder")
		}
		db, err := runstore.Open(dir)
		if err != nil {
			return nil, "", fmt.Errorf("--store: %w", err)
		}
		return db, dir + " (badger)", nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		pg, err := pgstore.Open(ctx, spec, pgstore.Options{Schema: schema})
		if err != nil {
			return nil, "", fmt.Errorf("--store: %w", err)
		}
		return pg, "PostgreSQL (schema " + schema + ")", nil
	}
	return nil, "", fmt.Errorf("--store %q: want badger:DIR or postgres://…", redactURL(spec))
}

// redactURL hides a URL's password.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return s
}

// serveCredentials decides how requests are authenticated: --no-auth
// (loopback only, with a warning), the pairs of --credentials, or the pair
// generated in the state folder on first start.
func serveCredentials(f serveFlags, host, stateDir string, stderr io.Writer) (endpoint.Credentials, error) {
	if f.noAuth {
		if f.credentials != "" {
			return nil, errors.New("--no-auth and --credentials exclude each other")
		}
		if !isLoopback(host) {
			return nil, fmt.Errorf("--no-auth needs a loopback --listen address, not %s: anyone who can reach it could run commands as this user", f.listen)
		}
		fmt.Fprintf(stderr, "dpl serve: WARNING: --no-auth: requests are not authenticated; any local user can create pipelines that run commands as %s\n", currentUser())
		return nil, nil
	}
	if f.credentials != "" {
		return endpoint.LoadCredentials(f.credentials)
	}
	path, err := filepath.Abs(filepath.Join(stateDir, "serve", "credentials"))
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	creds, created, err := endpoint.EnsureCredentials(path, endpoint.GeneratedProfile)
	if err != nil {
		return nil, err
	}
	verb := "uses"
	if created {
		verb = "generated"
	}
	fmt.Fprintf(stderr, "dpl serve: %s a key pair: profile %s in %s (mode 0600); sign requests with it:\n  export AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=%s\n",
		verb, endpoint.GeneratedProfile, path, shellQuote(path), endpoint.GeneratedProfile)
	return creds, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// advertised is a listener's address as other processes reach it: an
// unspecified host (0.0.0.0, ::) becomes the machine's name.
func advertised(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}
