package awsx_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/objstore"
)

// Example shows how the engine wires the AWS backend: one Env per run,
// the S3 store for data nodes and staging, per-object regions for
// DynamoDB, native EMR DynamoDB tool steps, and the child environment for
// shell commands. (Compile-only: it needs AWS or moto to run.)
func Example() {
	ctx := context.Background()
	env, err := awsx.LoadConfig(ctx, awsx.Options{Region: "us-east-1", Endpoint: os.Getenv("DPL_AWS_ENDPOINT")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(env.Describe()) // printed once at start

	var store objstore.Store = env.Store() // --backend aws; storage.NewLocal(stateDir) otherwise

	// S3KeyExists / S3PrefixNotEmpty preconditions.
	met, _ := objstore.Exists(ctx, store, "s3://bucket/input/_SUCCESS")
	_, _ = objstore.PrefixNotEmpty(ctx, store, "s3://bucket/input/")

	// ShellCommandActivity with stage: true.
	_, _ = objstore.DownloadDir(ctx, store, "s3://bucket/input", "/tmp/attempt/INPUT1_STAGING_DIR")
	cmd := exec.Command("/bin/sh", "-c", "aws s3 ls s3://bucket/")
	cmd.Env = append(os.Environ(), env.ChildEnv()...)
	_ = cmd.Run()
	_, _ = objstore.UploadDir(ctx, store, "/tmp/attempt/OUTPUT1_STAGING_DIR", "s3://bucket/output")

	// DynamoDB preconditions in the data node's region.
	_, _ = env.TableExists(ctx, "eu-west-1", "Orders")
	_, _ = env.DataExists(ctx, "eu-west-1", "Orders")

	// EmrActivity step, after expression evaluation.
	step := "s3://dynamodb-emr-eu-west-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar," +
		"org.apache.hadoop.dynamodb.tools.DynamoDbExport,s3://bucket/tmp/2024-01-01,Orders,0.25"
	if ts, ok := awsx.ParseDynamoDBToolStep(step); ok {
		region := ts.JarRegion // or the DynamoDBDataNode / EmrCluster region field
		if err := env.RunToolStep(ctx, ts, region, store, log.Printf); err != nil {
			log.Print(err)
		}
	} else if why := awsx.UnsupportedStepReason(step); why != "" {
		log.Print(why)
	}

	// SnsAlarm.
	_, _ = env.Publish(ctx, "arn:aws:sns:us-east-1:123456789012:alerts", "subject", "message")
	_ = met
}
