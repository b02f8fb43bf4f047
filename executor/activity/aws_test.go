package activity

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
	"github.com/dpl-dev/dpl/executor/task"
)

// TestDynamoDBToolStepsOnMoto runs the cross-region sample's shape through
// the runner: an EmrActivity exports a table to S3 with the EMR DynamoDB
// tool step, another imports it into a table in a second region, and the
// DynamoDB preconditions see both tables.
func TestDynamoDBToolStepsOnMoto(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	env, err := awsx.LoadConfig(ctx, awsx.Options{Region: "us-east-1", Endpoint: srv.Endpoint,
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	store := env.Store()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	bucket, src, dst := "act-"+suffix, "Src"+suffix, "Dst"+suffix
	if err := store.EnsureBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	mk := func(region, name string) *dynamodb.Client {
		db := env.DynamoDB(region)
		_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}}})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	srcDB, dstDB := mk("us-east-1", src), mk("eu-west-1", dst)
	for i := 0; i < 30; i++ {
		_, err := srcDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(src), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
			"tags": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, "ok": &types.AttributeValueMemberBOOL{Value: i%2 == 0}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	r := New(Options{Root: t.TempDir(), Store: store, AWS: env})

	const jar = "s3://dynamodb-emr-us-east-1/emr-dynamodb-tools/emr-dynamodb-tools-4.0.0.jar"
	dir := "s3://" + bucket + "/tmp/export"
	srcNode := obj("@SrcTable_1", "type", "DynamoDBDataNode", "tableName", src, "region", "us-east-1")
	dstNode := obj("@DstTable_1", "type", "DynamoDBDataNode", "tableName", dst, "region", "eu-west-1")
	export := obj("@Export_Attempt=1", "type", "EmrActivity", "input", "ref:@SrcTable_1",
		"step", jar+",org.apache.hadoop.dynamodb.tools.DynamoDbExport,"+dir+","+src+",0.25")
	if res, _, errs := run(t, r, newTask(export, srcNode)); res.Status != task.Finished {
		t.Fatalf("export: %s %s\n%s", res.Status, res.ErrorMessage, errs)
	}
	imp := obj("@Import_Attempt=1", "type", "EmrActivity", "output", "ref:@DstTable_1",
		"step", jar+",org.apache.hadoop.dynamodb.tools.DynamoDbImport,"+dir+","+dst+",0.25")
	if res, _, errs := run(t, r, newTask(imp, dstNode)); res.Status != task.Finished {
		t.Fatalf("import: %s %s\n%s", res.Status, res.ErrorMessage, errs)
	}
	out, err := dstDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(dst)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 30 {
		t.Fatalf("destination holds %d items, want 30", out.Count)
	}
	for _, c := range []struct {
		typ, table, region string
		want               task.Status
	}{
		{"DynamoDBTableExists", dst, "eu-west-1", task.Finished},
		{"DynamoDBTableExists", "missing" + suffix, "eu-west-1", task.False},
		{"DynamoDBDataExists", src, "us-east-1", task.Finished},
	} {
		p := obj("@P_Attempt=1", "type", c.typ, "tableName", c.table, "region", c.region)
		if res, _, _ := run(t, r, newTask(p)); res.Status != c.want {
			t.Errorf("%s %s: %s (%s), want %s", c.typ, c.table, res.Status, res.ErrorMessage, c.want)
		}
	}
}
