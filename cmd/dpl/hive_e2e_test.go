package main

// End-to-end runs of the awslabs Hive, Hadoop streaming, Pig and Sqoop
// samples: unchanged definitions, parameters only. The DynamoDB ones run
// with --backend aws against moto (skipped loudly without it) and are
// checked item by item through the SDK.

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dpl-dev/dpl/executor/objstore"
)

const awslabs16 = "awslabs-data-pipeline-samples/"

// hashTable creates a pay-per-request table keyed by a string attribute.
func (r *awsRig) hashTable(t *testing.T, name, key string) *dynamodb.Client {
	t.Helper()
	db := r.env.DynamoDB("us-east-1")
	ctx := context.Background()
	_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: types.ScalarAttributeTypeS}},
	}); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return db
}

func putItems(t *testing.T, db *dynamodb.Client, table string, items ...map[string]types.AttributeValue) {
	t.Helper()
	for _, it := range items {
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// objectsUnder returns every object's content below prefix by key.
func (r *awsRig) objectsUnder(t *testing.T, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := r.env.Store().List(context.Background(), prefix, func(i objstore.Info) error {
		out[strings.TrimPrefix(i.URI, prefix)] = r.get(t, i.URI)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedLines(s string) []string {
	l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	sort.Strings(l)
	return l
}

// DynamoDBExport/DynamoDBtoCSV: a DynamoDBStorageHandler table read with a
// scan, written as a comma-delimited table in S3.
func TestHiveCorpusDynamoDBToCSVOnMoto(t *testing.T) {
	file := corpusSample(t, awslabs16+"samples__DynamoDBExport__DynamoDBtoCSV.json")
	r := newAWSRig(t)
	bucket, table := r.bucket(t), awsName("HiveSrc")
	db := r.hashTable(t, table, "id")
	putItems(t, db, table,
		map[string]types.AttributeValue{"id": s("a1"), "name": s("Ann"), "age": n("30")},
		map[string]types.AttributeValue{"id": s("b2"), "name": s("Bob"), "age": n("41"), "extra": s("not mapped")},
		map[string]types.AttributeValue{"id": s("c3"), "name": s("Cy")})
	res := r.run(t, "--until", untilAfterFirst(),
		"-p", "myOutputS3Loc=s3://"+bucket+"/out", "-p", "myDDBTableName="+table,
		"-p", "myDDBTableColMapping=id:id,name:name,age:age", "-p", "myS3ColMapping=id string,name string,age bigint",
		"-p", "myLogUri=s3://"+bucket+"/logs/", file)
	res.want(t, "TableBackupActivity", "FINISHED")
	files := r.objectsUnder(t, "s3://"+bucket+"/out/")
	var data []string
	for k, v := range files {
		if strings.HasSuffix(k, "/000000_0") {
			data = append(data, v)
		}
	}
	if len(data) != 1 {
		t.Fatalf("want one 000000_0 under out/, got %v", files)
	}
	if got, want := strings.Join(sortedLines(data[0]), "|"), `a1,Ann,30|b2,Bob,41|c3,Cy,\N`; got != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
}

// DynamoDBImportCSV/CSVtoDynamoDB: a delimited S3 table written into a
// DynamoDBStorageHandler table with BatchWriteItem.
func TestHiveCorpusCSVToDynamoDBOnMoto(t *testing.T) {
	file := corpusSample(t, awslabs16+"samples__DynamoDBImportCSV__CSVtoDynamoDB.json")
	r := newAWSRig(t)
	bucket, table := r.bucket(t), awsName("HiveDst")
	db := r.hashTable(t, table, "id")
	var csv strings.Builder
	for i := 0; i < 60; i++ { // more than two BatchWriteItem batches
		csv.WriteString(strings.Join([]string{"id" + itoa(i), itoa(20 + i%50), "job" + itoa(i%3), itoa(i) + ".5"}, ",") + "\n")
	}
	r.put(t, "s3://"+bucket+"/in/bank.csv", csv.String())
	res := r.run(t, "-p", "myInputS3Loc=s3://"+bucket+"/in/", "-p", "myDDBTableName="+table,
		"-p", "myDDBTableColMapping=id:id,age:age,job:job,emp_var_rate:emp_var_rate",
		"-p", "myS3ColMapping=id string,age int,job string,emp_var_rate double",
		"-p", "myDDBColDefn=id string,age bigint,job string,emp_var_rate double",
		"-p", "myLogUri=s3://"+bucket+"/logs/", file)
	res.want(t, "TableRestoreActivity", "FINISHED")
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 60 {
		t.Fatalf("table has %d items, want 60", len(out.Items))
	}
	for _, it := range out.Items {
		id := it["id"].(*types.AttributeValueMemberS).Value
		i := atoi(strings.TrimPrefix(id, "id"))
		if got := it["age"].(*types.AttributeValueMemberN).Value; got != itoa(20+i%50) {
			t.Errorf("%s age = %s", id, got)
		}
		if got := it["job"].(*types.AttributeValueMemberS).Value; got != "job"+itoa(i%3) {
			t.Errorf("%s job = %s", id, got)
		}
		if got := it["emp_var_rate"].(*types.AttributeValueMemberN).Value; got != itoa(i)+".5" {
			t.Errorf("%s emp_var_rate = %s", id, got)
		}
	}
}

// dynamo-db-export-as-csv/ddb-to-csv: EMR's exportDynamoDBTableToS3 Hive
// script step (run natively), then a HiveActivity reading the export with
// DynamoDBExportSerDe into a CSV table. The sample names its bucket and
// table ("bucket", "ddbtable").
func TestHiveCorpusDynamoDBExportSerDeOnMoto(t *testing.T) {
	file := corpusSample(t, awslabs16+"samples__dynamo-db-export-as-csv__ddb-to-csv.json")
	r := newAWSRig(t)
	ctx := context.Background()
	if err := r.env.Store().EnsureBucket(ctx, "bucket"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"s3://bucket/backup/", "s3://bucket/data_as_csv/"} {
		r.env.Store().List(ctx, p, func(i objstore.Info) error { return r.env.Store().Delete(ctx, i.URI) })
	}
	db := r.hashTable(t, "ddbtable", "accountId")
	putItems(t, db, "ddbtable",
		map[string]types.AttributeValue{"accountId": s("acc-1"), "name": s("One"), "description": s("first")},
		map[string]types.AttributeValue{"accountId": s("acc-2"), "name": s("Two")},
		map[string]types.AttributeValue{"accountId": s("acc-3"), "name": s("Three"), "description": s("third"), "other": n("7")})
	res := r.run(t, "--until", untilAfterFirst(), file)
	res.want(t, "EmrActivityId_bxl6C", "FINISHED") // MyExportJob
	res.want(t, "ActivityId_IUO66", "FINISHED")    // DDBExporttoCSV
	got := r.get(t, "s3://bucket/data_as_csv/000000_0")
	if g, want := strings.Join(sortedLines(got), "|"), `acc-1,One,first|acc-2,Two,\N|acc-3,Three,third`; g != want {
		t.Errorf("rows = %s, want %s", g, want)
	}
}

// hadoop-activity-world-count-fair: two HadoopActivity streaming jobs with
// the aggregate reducer, on local files, with a mapper of our own in place
// of the sample's wordSplitter.py.
func TestStreamingCorpusWordCountLocal(t *testing.T) {
	file := corpusSample(t, awslabs16+"samples__hadoop-activity__hadoop-activity-world-count-fair.json")
	state := t.TempDir()
	putS3(t, state, "s3://elasticmapreduce/samples/wordcount/wordSplitter.py",
		"#!/bin/sh\n# our own mapper: LongValueSum:<word>\\t1 per word\ntr -cs 'A-Za-z' '\\n' | tr 'A-Z' 'a-z' | awk 'NF { print \"LongValueSum:\" $0 \"\\t1\" }'\n")
	putS3(t, state, "s3://elasticmapreduce/samples/wordcount/input/0001", "the quick brown fox\nThe lazy dog\n")
	putS3(t, state, "s3://elasticmapreduce/samples/wordcount/input/0002", "quick quick DOG\n")
	if err := os.Chmod(filepath.Join(state, "s3/elasticmapreduce/samples/wordcount/wordSplitter.py"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runDpl(t, state, "--emr", "embedded", "-p", "myOutputFolder=s3://out/wc", "-p", "myFairConfig=s3://cfg/fair.xml",
		"-p", "myPipelineLogUri=s3://logs/", "--until", untilAfterFirst(), file)
	if r.code != 0 {
		t.Fatalf("run failed:\n%s", r)
	}
	var parts []string
	filepath.WalkDir(filepath.Join(state, "s3/out/wc"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "part-00000" {
			parts = append(parts, p)
		}
		return nil
	})
	if len(parts) != 2 {
		t.Fatalf("want part-00000 of queue_1 and queue_2, got %v", parts)
	}
	want := "brown\t1\ndog\t2\nfox\t1\nlazy\t1\nquick\t3\nthe\t2\n"
	for _, p := range parts {
		if got := readFile16(t, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
}

// recordingStandIn16 puts a stand-in for a host tool on dir that records
// its arguments, one per line.
func recordingStandIn16(t *testing.T, dir, tool string) string {
	t.Helper()
	log := filepath.Join(dir, tool+".args")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> " + log + "\n"
	if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return log
}

// SimplePigActivity and S3ToRdsSqoop in host tools mode, with recording
// stand-ins for pig and sqoop on PATH.
func TestHostToolsCorpusPigAndSqoopWithRecordingStandIns(t *testing.T) {
	pigFile := corpusSample(t, awslabs16+"samples__SimplePigActivity__pig_activity_sample.json")
	sqoopFile := corpusSample(t, awslabs16+"samples__S3ToRdsSqoop__sqoop_activity.json")
	bin := t.TempDir()
	pigLog, sqoopLog := recordingStandIn16(t, bin, "pig"), recordingStandIn16(t, bin, "sqoop")
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}

	state := t.TempDir()
	putS3(t, state, "s3://scripts/p.pig", "A = LOAD '$input1' USING PigStorage(',');\nSTORE A INTO '$output1';\n")
	// The sample uses #{my...} parameters it does not declare (its
	// parameter file is not in the corpus), so the fields are set directly.
	r := runDplEnv(t, env, state, "--emr", "host", "--until", untilAfterFirst(), "--set", "PigActivity1.scriptUri=s3://scripts/p.pig",
		"--set", "InputDataNode1.directoryPath=s3://data/in", "--set", "OutputDataNode1.directoryPath=s3://data/out",
		"--set", "PigActivity1.generatedScriptsPath=s3://scripts/gen", "--set", "Default.pipelineLogUri=s3://logs/", pigFile)
	if r.code != 0 {
		t.Fatalf("pig sample:\n%s", r)
	}
	args := strings.Split(strings.TrimSpace(readFile16(t, pigLog)), "\n")
	want := []string{"-param", "column1=First", "-param", "column2=Second", "-param", "input1=s3://data/in", "-param", "output1=s3://data/out", "-param", "three=3", "-f"}
	if len(args) != len(want)+1 || strings.Join(args[:len(want)], " ") != strings.Join(want, " ") || !strings.HasSuffix(args[len(want)], "script-p.pig") {
		t.Errorf("pig invoked with %q, want %q + the fetched script", args, want)
	}

	state = t.TempDir()
	r = runDplEnv(t, env, state, "--emr", "host", "-p", "myRdsEndpoint=db.example:3306", "-p", "myRdsDatabaseName=shop", "-p", "myRdsTableName=orders",
		"-p", "myRdsUsername=loader", "-p", "*myRdsPassword=never-printed", "-p", "myS3InputDataLocation=s3://data/orders", "-p", "myPipelineLogUri=s3://logs/", sqoopFile)
	if r.code != 0 {
		t.Fatalf("sqoop sample:\n%s", r)
	}
	r.noSecret(t, "never-printed")
	got := strings.ReplaceAll(strings.TrimSpace(readFile16(t, sqoopLog)), "\n", " ")
	if want := "export --connect jdbc:mariadb://db.example:3306/shop --driver org.mariadb.jdbc.Driver --table orders --username loader --password never-printed --export-dir s3://data/orders"; got != want {
		t.Errorf("sqoop invoked with\n %s\nwant\n %s", got, want)
	}
}

func readFile16(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
