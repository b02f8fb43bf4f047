package activity

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dpl-dev/dpl/executor/activity/hosttools"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
	"github.com/dpl-dev/dpl/executor/task"
)

func TestHiveCopyActivityS3WithFilterSql(t *testing.T) {
	r, st := newRunner(t)
	r.opts.EMR = hosttools.Embedded
	putObj(t, st, "s3://b/in/x.tsv", "1\tann\t30\n2\tbob\t17\n3\tcy\t45\n")
	in := obj("@In_1", "type", "S3DataNode", "directoryPath", "s3://b/in", "dataFormat", "ref:Tsv")
	out := obj("@Out_1", "type", "S3DataNode", "directoryPath", "s3://b/out", "dataFormat", "ref:Custom")
	tsv := obj("Tsv", "type", "TSV", "column", "id INT", "column", "name STRING", "column", "age INT")
	custom := obj("Custom", "type", "Custom", "columnSeparator", "|", "column", "id INT", "column", "name STRING", "column", "age INT")
	a := obj("@Copy_Attempt=1", "type", "HiveCopyActivity", "input", "ref:@In_1", "output", "ref:@Out_1", "filterSql", "age >= 18")
	res, _, errs := run(t, r, newTask(a, in, out, tsv, custom))
	if res.Status != task.Finished {
		t.Fatalf("%s %s\n%s", res.Status, res.ErrorMessage, errs)
	}
	if got, want := getObj(t, st, "s3://b/out/000000_0"), "1|ann|30\n3|cy|45\n"; got != want {
		t.Errorf("copy = %q, want %q", got, want)
	}
	a = obj("@Copy_Attempt=2", "type", "HiveCopyActivity", "input", "ref:@In_1", "output", "ref:@Out_1", "filterSql", "age >>= 18")
	if res, _, _ := run(t, r, newTask(a, in, out, tsv, custom)); res.Status != task.Failed || !task.Permanent(res.ErrorID) {
		t.Errorf("bad filterSql: %s %s %q", res.Status, res.ErrorID, res.ErrorMessage)
	}
}

// HiveCopyActivity between DynamoDB (moto) and S3, both ways, with filterSql.
func TestHiveCopyActivityDynamoDBOnMoto(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	env, err := awsx.LoadConfig(ctx, awsx.Options{Region: "us-east-1", Endpoint: srv.Endpoint,
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	store := env.Store()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	bucket, src, dst := "hivecopy-"+suffix, "HcSrc"+suffix, "HcDst"+suffix
	if err := store.EnsureBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	db := env.DynamoDB("us-east-1")
	for _, name := range []string{src, dst} {
		if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, score := range []string{"5", "50", "500"} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(src), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: fmt.Sprintf("u%d", i)}, "score": &types.AttributeValueMemberN{Value: score}}}); err != nil {
			t.Fatal(err)
		}
	}
	r := New(Options{Root: t.TempDir(), Store: store, AWS: env, EMR: hosttools.Embedded})
	ddbFmt := obj("DdbFmt", "type", "DynamoDBDataFormat", "column", "id STRING", "column", "score BIGINT")
	csvFmt := obj("CsvFmt", "type", "TSV", "column", "id STRING", "column", "score BIGINT")
	srcNode := obj("@Src_1", "type", "DynamoDBDataNode", "tableName", src, "dataFormat", "ref:DdbFmt")
	dstNode := obj("@Dst_1", "type", "DynamoDBDataNode", "tableName", dst, "dataFormat", "ref:DdbFmt")
	s3Node := obj("@S3_1", "type", "S3DataNode", "directoryPath", "s3://"+bucket+"/export", "dataFormat", "ref:CsvFmt")

	out := func(tk *task.Task) {
		t.Helper()
		var errb strings.Builder
		res := r.Run(ctx, tk, task.Logs{Stdout: io.Discard, Stderr: &errb})
		if res.Status != task.Finished {
			t.Fatalf("%s: %s %s\n%s", tk.AttemptID, res.Status, res.ErrorMessage, errb.String())
		}
	}
	out(newTask(obj("@Out_Attempt=1", "type", "HiveCopyActivity", "input", "ref:@Src_1", "output", "ref:@S3_1", "filterSql", "score > 10"),
		srcNode, s3Node, ddbFmt, csvFmt))
	rc, err := store.Open(ctx, "s3://"+bucket+"/export/000000_0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	sort.Strings(lines)
	if got := strings.Join(lines, "|"); got != "u1\t50|u2\t500" {
		t.Errorf("S3 copy = %q", got)
	}
	out(newTask(obj("@In_Attempt=1", "type", "HiveCopyActivity", "input", "ref:@S3_1", "output", "ref:@Dst_1", "filterSql", "score < 100"),
		s3Node, dstNode, ddbFmt, csvFmt))
	scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(dst)})
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Items) != 1 || scan.Items[0]["id"].(*types.AttributeValueMemberS).Value != "u1" ||
		scan.Items[0]["score"].(*types.AttributeValueMemberN).Value != "50" {
		t.Errorf("DynamoDB copy = %v", scan.Items)
	}
}
