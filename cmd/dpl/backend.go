package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/activity"
	"github.com/dpl-dev/dpl/executor/activity/hosttools"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/sqlrun"
)

// backendFlags choose where data lives: local files or AWS (or an
// AWS-compatible endpoint), and where SQL database objects point.
type backendFlags struct {
	kind        string
	region      string
	endpoint    string
	profile     string
	dbEndpoints []string
	emr         string
	// resourcesOnAWS: --region, --aws-endpoint and --profile also
	// configure --resources aws, so they are allowed with --backend local.
	resourcesOnAWS bool
	beelineURL     string
}

func addBackendFlags(fs *pflag.FlagSet, b *backendFlags) {
	fs.StringVar(&b.kind, "backend", "local", "data backend: local (s3:// is files under the state folder) or aws (S3, DynamoDB, SNS through the AWS SDK)")
	fs.StringVar(&b.region, "region", "", "AWS region with --backend aws (default: the SDK's configuration, else us-east-1)")
	fs.StringVar(&b.endpoint, "aws-endpoint", "", "AWS endpoint URL with --backend aws, e.g. http://127.0.0.1:5000 for moto")
	fs.StringVar(&b.profile, "profile", "", "AWS shared-config profile with --backend aws")
	fs.StringVar(&b.emr, "emr", "auto", "where EMR work (Hive, Pig, Hadoop, Spark, Sqoop) runs: host (hive/pig/hadoop/spark-submit/sqoop on PATH or DPL_HIVE, DPL_PIG, ...), embedded (dpl's Hive engine and streaming only) or auto (a host tool when installed, else embedded)")
	fs.StringVar(&b.beelineURL, "beeline-url", "", "HiveServer2 JDBC URL for beeline, which runs Hive scripts in host mode when hive is not installed (default $DPL_BEELINE_URL, else jdbc:hive2://localhost:10000/default)")
	fs.StringArrayVar(&b.dbEndpoints, "db-endpoint", nil, "point an RdsDatabase rdsInstanceId or RedshiftDatabase clusterId at a JDBC URL: ID=jdbc:postgresql://127.0.0.1:5432/db (repeatable)")
}

// backend is what a run needs from the chosen backend.
type backend struct {
	Store    objstore.Store
	Notifier executor.Notifier
	Runner   activity.Options
	// Describe says, once at start, which backend and endpoints are in use.
	Describe string
}

// open builds the object store, alarm notifier and runner options.
func (b *backendFlags) open(ctx context.Context, stateDir string) (*backend, error) {
	endpoints := map[string]string{}
	for _, e := range b.dbEndpoints {
		id, url, ok := strings.Cut(e, "=")
		if !ok || id == "" || !strings.HasPrefix(url, "jdbc:") {
			//lint:ignore ST1005 the message shows the flag's form, ending in "..."
			return nil, fmt.Errorf("--db-endpoint %q: want ID=jdbc:...", e)
		}
		endpoints[id] = url
	}
	emr, err := hosttools.ParseMode(b.emr)
	if err != nil {
		return nil, err
	}
	if b.beelineURL != "" && !strings.HasPrefix(b.beelineURL, "jdbc:hive2://") {
		return nil, fmt.Errorf("--beeline-url %q: want a HiveServer2 JDBC URL, jdbc:hive2://HOST:PORT/DB", b.beelineURL)
	}
	be, err := b.openKind(ctx, stateDir, endpoints)
	if err != nil {
		return nil, err
	}
	be.Runner.EMR = emr
	be.Runner.BeelineURL = b.beelineURL
	return be, nil
}

func (b *backendFlags) openKind(ctx context.Context, stateDir string, endpoints map[string]string) (*backend, error) {
	outbox := &executor.Outbox{Path: filepath.Join(stateDir, "outbox.jsonl")}
	switch b.kind {
	case "local", "":
		if !b.resourcesOnAWS && (b.region != "" || b.endpoint != "" || b.profile != "") {
			return nil, fmt.Errorf("--region, --aws-endpoint and --profile need --backend aws or --resources aws")
		}
		st, err := objstore.NewLocal(stateDir)
		if err != nil {
			return nil, err
		}
		return &backend{Store: st, Notifier: outbox, Describe: st.Describe() + "; alarms to " + outbox.Path,
			Runner: activity.Options{Root: stateDir, Store: st, SQLOptions: sqlrun.Options{Endpoints: endpoints}}}, nil
	case "aws":
		env, err := awsx.LoadConfig(ctx, awsx.Options{Region: b.region, Endpoint: b.endpoint, Profile: b.profile})
		if err != nil {
			return nil, fmt.Errorf("--backend aws: %w", err)
		}
		st := env.Store()
		return &backend{Store: st, Notifier: &snsNotifier{env: env, outbox: outbox}, Describe: env.Describe(),
			Runner: activity.Options{Root: stateDir, Store: st, AWS: env, Env: env.ChildEnv(),
				SQLOptions: sqlrun.Options{Endpoints: endpoints, ResolveRDS: sqlrun.NewAWSRDSResolver(env.Config()),
					ResolveRedshift: sqlrun.NewAWSRedshiftResolver(env.Config(), b.endpoint)}}}, nil
	}
	return nil, fmt.Errorf("--backend %q: want local or aws", b.kind)
}

// snsNotifier publishes alarms to SNS and keeps the local outbox record.
type snsNotifier struct {
	env    *awsx.Env
	outbox *executor.Outbox
}

func (n *snsNotifier) Publish(ctx context.Context, a executor.Alarm) error {
	if err := n.outbox.Publish(ctx, a); err != nil {
		return err
	}
	if _, err := n.env.Publish(ctx, a.TopicArn, a.Subject, a.Message); err != nil {
		return fmt.Errorf("SnsAlarm %s: %w", a.Object, err)
	}
	return nil
}
