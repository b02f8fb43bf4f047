package sqlrun

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
)

// The AWS resolvers against moto's RDS and Redshift APIs.
func TestAWSResolversMoto(t *testing.T) {
	srv := mototest.Start(t)
	env, err := awsx.LoadConfig(context.Background(), awsx.Options{Region: "us-east-1", Endpoint: srv.Endpoint,
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Config()
	inst := randName("db-")
	_, err = rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(inst), Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123"), AllocatedStorage: aws.Int32(20),
	})
	if err != nil {
		t.Fatal(err)
	}
	ep, engine, err := NewAWSRDSResolver(cfg)(ctx, inst, "")
	if err != nil {
		t.Fatal(err)
	}
	if engine != "postgres" || !strings.HasPrefix(ep, inst+".") || !strings.HasSuffix(ep, ":5432") {
		t.Errorf("RDS endpoint %q engine %q", ep, engine)
	}
	if _, _, err := NewAWSRDSResolver(cfg)(ctx, "no-such-instance", ""); err == nil {
		t.Error("missing instance resolved")
	}

	cluster := randName("rs-")
	form := url.Values{"Action": {"CreateCluster"}, "Version": {"2012-12-01"}, "ClusterIdentifier": {cluster},
		"NodeType": {"dc2.large"}, "MasterUsername": {"admin"}, "MasterUserPassword": {"Password123"}, "ClusterType": {"single-node"}}
	if _, err := redshiftQuery(ctx, cfg, srv.Endpoint, "us-east-1", form); err != nil {
		t.Fatal(err)
	}
	rep, err := NewAWSRedshiftResolver(cfg, "")(ctx, cluster, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep, cluster+".") || !strings.HasSuffix(rep, ":5439") {
		t.Errorf("Redshift endpoint %q", rep)
	}
	if _, err := NewAWSRedshiftResolver(cfg, "")(ctx, "absent-cluster", "us-east-1"); err == nil || !strings.Contains(err.Error(), "ClusterNotFound") {
		t.Errorf("missing cluster: %v", err)
	}
	// Through Open: the resolved (fake) host is unreachable, and the error says where it tried.
	_, err = Open(ctx, Database{Type: TypeRedshift, ID: "RedshiftCluster", ClusterID: cluster, DatabaseName: "dev", Username: "u", Password: "pw-never-shown"},
		Options{ResolveRedshift: NewAWSRedshiftResolver(cfg, ""), ConnectTimeout: 2e9})
	if err == nil || !strings.Contains(err.Error(), cluster) || strings.Contains(err.Error(), "pw-never-shown") {
		t.Errorf("open via resolver: %v", err)
	}
}
