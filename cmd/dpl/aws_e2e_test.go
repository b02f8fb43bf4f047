package main

// End-to-end tests of `dpl run --backend aws`: the real binary against a real
// moto server (started per test by mototest; skipped loudly without
// moto_server), driven and checked through the real AWS SDK.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
	"github.com/dpl-dev/dpl/executor/objstore"
)

const crossRegionSample = "../../../shared/corpus/files/awslabs-data-pipeline-samples/samples__dynamodb-to-dynamodb-crossregion__pipeline.json"

var awsSeq atomic.Int64

// awsName is unique within the test binary (tests may share one moto).
func awsName(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, awsRunToken, awsSeq.Add(1))
}

// awsRunToken tells this test process's names apart from earlier ones on a
// long-lived moto server (a reused PID made "Table already exists").
var awsRunToken = strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36)

type awsRig struct {
	srv *mototest.Server
	env *awsx.Env
}

func newAWSRig(t *testing.T) *awsRig {
	t.Helper()
	srv := mototest.Start(t)
	env, err := awsx.LoadConfig(context.Background(), awsx.Options{
		Region: "us-east-1", Endpoint: srv.Endpoint,
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &awsRig{srv: srv, env: env}
}

// dplResult is one finished `dpl run`: exit code, output, and the last
// status (and error) of every instance from the jsonl event stream.
type dplResult struct {
	code           int
	stdout, stderr string
	status, errors map[string]string // by component id
	falseChecks    map[string]int    // precondition checks that said FALSE
}

// run runs `dpl run --headless --backend aws --aws-endpoint E --output jsonl`
// with moto's credentials and no other AWS settings from the environment.
func (r *awsRig) run(t *testing.T, args ...string) *dplResult {
	t.Helper()
	bin := dplBinary(t)
	full := append([]string{"run", "--headless", "--backend", "aws", "--aws-endpoint", r.srv.Endpoint,
		"--state-dir", t.TempDir(), "--output", "jsonl"}, args...)
	cmd := exec.Command(bin, full...)
	cmd.Env = awsChildEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := &dplResult{code: exitCode(err), stdout: out.String(), stderr: errb.String(),
		status: map[string]string{}, errors: map[string]string{}, falseChecks: map[string]int{}}
	t.Logf("dpl %s\nexit %d; stderr:\n%s", strings.Join(full, " "), res.code, res.stderr)
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Event, Component, Status, Error, LastResult string
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		switch {
		case ev.Event == "status" && ev.Component != "":
			res.status[ev.Component] = ev.Status
			if ev.Error != "" {
				res.errors[ev.Component] = ev.Error
			}
		case ev.Event == "waiting" && ev.LastResult == "FALSE":
			res.falseChecks[ev.Component]++
		}
	}
	return res
}

func awsChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID="+mototest.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+mototest.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true")
}

func (res *dplResult) want(t *testing.T, component, status string) {
	t.Helper()
	if got := res.status[component]; got != status {
		t.Errorf("%s ended %q, want %s (error %q)", component, got, status, res.errors[component])
	}
}

func (r *awsRig) bucket(t *testing.T) string {
	t.Helper()
	b := strings.ToLower(awsName("dpl-e2e"))
	if err := r.env.Store().EnsureBucket(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (r *awsRig) put(t *testing.T, uri, body string) {
	t.Helper()
	w, err := r.env.Store().Create(context.Background(), uri)
	if err == nil {
		_, err = io.WriteString(w, body)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatalf("put %s: %v", uri, err)
	}
}

func (r *awsRig) get(t *testing.T, uri string) string {
	t.Helper()
	rc, err := r.env.Store().Open(context.Background(), uri)
	if err != nil {
		t.Fatalf("get %s: %v", uri, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	return string(b)
}

func (r *awsRig) table(t *testing.T, region, name string) *dynamodb.Client {
	t.Helper()
	db := r.env.DynamoDB(region)
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s in %s: %v", name, region, err)
	}
	return db
}

// everyTypeItem uses all ten attribute types, nested ones included.
func everyTypeItem(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":   &types.AttributeValueMemberS{Value: fmt.Sprintf("user#%d \"q\" é\n", i%5)},
		"sk":   &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		"bin":  &types.AttributeValueMemberB{Value: []byte{byte(i), 0, 0xff, '\n'}},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"z", "a,b", fmt.Sprint("s", i)}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1.5", "-1e3", fmt.Sprint(i + 7)}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{9, 8}, {byte(i), 1}}},
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberSS{Value: []string{"x"}}}}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "0.000001"}, &types.AttributeValueMemberBOOL{Value: false}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
		"ok":   &types.AttributeValueMemberBOOL{Value: i%2 == 0},
		"none": &types.AttributeValueMemberNULL{Value: true},
	}
}

func putAll(t *testing.T, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	for _, it := range items {
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
}

// scanCanonical returns the table as sorted JSON lines with set members
// sorted (sets are unordered), so two tables compare by content.
func scanCanonical(t *testing.T, db *dynamodb.Client, table string) []string {
	t.Helper()
	var lines []string
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			b, err := json.Marshal(canonical(&types.AttributeValueMemberM{Value: it}))
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, string(b))
		}
	}
	sort.Strings(lines)
	return lines
}

func canonical(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberSS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		return map[string]any{"SS": s}
	case *types.AttributeValueMemberNS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		return map[string]any{"NS": s}
	case *types.AttributeValueMemberBS:
		s := append([][]byte(nil), v.Value...)
		sort.Slice(s, func(i, j int) bool { return bytes.Compare(s[i], s[j]) < 0 })
		return map[string]any{"BS": s}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = canonical(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range v.Value {
			m[k] = canonical(e)
		}
		return map[string]any{"M": m}
	}
	return fmt.Sprintf("unknown %T", v)
}

// The published cross-region sample, unchanged: export in us-east-1 on
// one "cluster", import in eu-west-1 on the other, then a cleanup command
// that needs Amazon Linux (sudo yum) and must fail with a helpful message.
func TestAWSCrossRegionSampleUnchanged(t *testing.T) {
	sample, err := filepath.Abs(crossRegionSample)
	if err == nil {
		_, err = os.Stat(sample)
	}
	if err != nil {
		t.Skipf("corpus sample not present (%v); cross-region end-to-end not run", err)
	}
	r := newAWSRig(t)
	const srcRegion, dstRegion = "us-east-1", "eu-west-1"
	src, dst := awsName("Src"), awsName("Dst")
	srcDB := r.table(t, srcRegion, src)
	dstDB := r.table(t, dstRegion, dst)
	var items []map[string]types.AttributeValue
	for i := range 150 {
		items = append(items, everyTypeItem(i))
	}
	putAll(t, srcDB, src, items)
	logs, temp := r.bucket(t), r.bucket(t)

	res := r.run(t, "--retry-delay", "1s",
		"-p", "myS3LogsPath=s3://"+logs+"/pipeline-logs",
		"-p", "myDDBSourceTableName="+src, "-p", "myDDBDestinationTableName="+dst,
		"-p", "myDDBSourceRegion="+srcRegion, "-p", "myDDBDestinationRegion="+dstRegion,
		"-p", "myTempS3Folder=s3://"+temp+"/ddb-temp",
		sample)

	res.want(t, "TableBackupActivity", "FINISHED")
	res.want(t, "TableLoadActivity", "FINISHED")
	want, got := scanCanonical(t, srcDB, src), scanCanonical(t, dstDB, dst)
	if len(want) != len(items) {
		t.Fatalf("source holds %d items, want %d", len(want), len(items))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("destination (%d items) differs from source (%d items); first source item:\n%s", len(got), len(want), want[0])
	}

	// The export left its files and manifest in the dated temp folder.
	var exported []string
	err = r.env.Store().List(context.Background(), "s3://"+temp+"/ddb-temp/", func(i objstore.Info) error {
		exported = append(exported, i.Key)
		return nil
	})
	if err != nil || !containsSuffix(exported, "/manifest") {
		t.Errorf("export files under s3://%s/ddb-temp/: %v (err %v), want a manifest", temp, exported, err)
	}

	// The last activity runs `sudo yum -y update aws-cli` and fails here.
	if _, sudoErr := exec.LookPath("sudo"); sudoErr == nil {
		t.Logf("sudo exists on this machine; S3CleanupActivity ended %s: %s", res.status["S3CleanupActivity"], res.errors["S3CleanupActivity"])
	} else {
		res.want(t, "S3CleanupActivity", "FAILED")
		msg := res.errors["S3CleanupActivity"]
		for _, w := range []string{"status 127", `"sudo" is not installed on this machine`, "Amazon Linux EC2/EMR host", "@TableLoadActivity_"} {
			if !strings.Contains(msg, w) {
				t.Errorf("S3CleanupActivity error = %q, want it to contain %q", msg, w)
			}
		}
		if res.code != 1 {
			t.Errorf("exit %d, want 1 (an activity failed)", res.code)
		}
	}

	// pipelineLogUri (#{myS3LogsPath} on Default): attempt logs uploaded.
	var logKeys []string
	err = r.env.Store().List(context.Background(), "s3://"+logs+"/pipeline-logs/", func(i objstore.Info) error {
		logKeys = append(logKeys, i.Key)
		return nil
	})
	if err != nil || !containsSuffix(logKeys, "_Attempt=1/StdErr") || !containsPart(logKeys, "/TableBackupActivity/@TableBackupActivity_") {
		t.Errorf("pipeline logs: %v (err %v), want TableBackupActivity's attempt logs", logKeys, err)
	}
}

// Staging in and out of S3 (nested keys), the aws CLI inside a command
// reaching the same endpoint, an SnsAlarm read back from a subscribed SQS
// queue, and attempt logs under pipelineLogUri.
func TestAWSStagingAlarmAndCLI(t *testing.T) {
	r := newAWSRig(t)
	ctx := context.Background()
	b := r.bucket(t)
	first := strings.Repeat("hello staging\n", 5000)
	r.put(t, "s3://"+b+"/in/data.txt", first)
	r.put(t, "s3://"+b+"/in/sub/second.txt", "nested key\n")

	topic, err := r.env.SNS("us-east-1").CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(awsName("done"))})
	if err != nil {
		t.Fatal(err)
	}
	q := r.env.SQS("us-east-1")
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awsName("alarms"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.env.SNS("us-east-1").Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}

	fixture, _ := filepath.Abs("../../fixtures/aws/staging.json")
	res := r.run(t, "-p", "myBucket="+b, "-p", "myTopicArn="+*topic.TopicArn, fixture)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0; statuses %v errors %v", res.code, res.status, res.errors)
	}
	res.want(t, "Upcase", "FINISHED")
	res.want(t, "CliCopy", "FINISHED")

	if got := r.get(t, "s3://"+b+"/out/data.txt"); got != strings.ToUpper(first) {
		t.Errorf("out/data.txt: %d bytes, want the %d upper-cased input bytes", len(got), len(first))
	}
	if got := r.get(t, "s3://"+b+"/out/sub/second.txt"); got != "NESTED KEY\n" {
		t.Errorf("out/sub/second.txt = %q", got)
	}
	if got := r.get(t, "s3://"+b+"/cli/copy.txt"); got != strings.ToUpper(first) {
		t.Errorf("the aws CLI inside CliCopy did not copy out/data.txt through moto (%d bytes)", len(got))
	}

	// The alarm: subject and message evaluated with node bound to Upcase.
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for body == "" && time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			body = aws.ToString(out.Messages[0].Body)
		}
	}
	var envelope struct{ Subject, Message, TopicArn string }
	if err := json.Unmarshal([]byte(body), &envelope); err != nil {
		t.Fatalf("no SNS notification read back from SQS (body %q): %v", body, err)
	}
	year := time.Now().UTC().Format("2006")
	if envelope.Subject != "dpl Upcase finished" || envelope.Message != "Upcase wrote s3://"+b+"/out for "+year || envelope.TopicArn != *topic.TopicArn {
		t.Errorf("notification = %+v", envelope)
	}

	// pipelineLogUri: Upcase's stdout is in its attempt folder.
	var stdoutKey string
	_ = r.env.Store().List(ctx, "s3://"+b+"/logs/", func(i objstore.Info) error {
		if strings.Contains(i.Key, "/Upcase/@Upcase_") && strings.HasSuffix(i.Key, "_Attempt=1/StdOut") {
			stdoutKey = i.Key
		}
		return nil
	})
	if stdoutKey == "" {
		t.Fatalf("Upcase's StdOut not uploaded under s3://%s/logs/", b)
	}
	if got := r.get(t, "s3://"+b+"/"+stdoutKey); got != "staged 2 files\n" {
		t.Errorf("%s = %q", stdoutKey, got)
	}
}

// Each system precondition met, then unmet (failing at preconditionTimeout
// after repeated checks; the activities behind them fail naming it).
func TestAWSPreconditions(t *testing.T) {
	r := newAWSRig(t)
	b := r.bucket(t)
	r.put(t, "s3://"+b+"/ready/_SUCCESS", "")
	full, empty := awsName("Full"), awsName("Empty")
	putAll(t, r.table(t, "us-east-1", full), full, []map[string]types.AttributeValue{everyTypeItem(1)})
	r.table(t, "us-east-1", empty)
	fixture, _ := filepath.Abs("../../fixtures/aws/preconditions.json")
	pairs := map[string]string{"KeyExists": "AfterKey", "PrefixNotEmpty": "AfterPrefix", "TableExists": "AfterTable", "DataExists": "AfterData"}

	t.Run("met", func(t *testing.T) {
		t.Parallel()
		res := r.run(t, "--retry-delay", "1s",
			"-p", "myKey=s3://"+b+"/ready/_SUCCESS", "-p", "myPrefix=s3://"+b+"/ready/",
			"-p", "myTable="+empty, "-p", "myDataTable="+full, fixture)
		if res.code != 0 {
			t.Errorf("exit %d, want 0", res.code)
		}
		for p, a := range pairs {
			res.want(t, p, "FINISHED")
			res.want(t, a, "FINISHED")
		}
	})
	t.Run("unmet", func(t *testing.T) {
		t.Parallel()
		// preconditionTimeout is "1 minute" (the smallest period unit).
		res := r.run(t, "--retry-delay", "5s",
			"-p", "myKey=s3://"+b+"/ready/missing", "-p", "myPrefix=s3://"+b+"/nothing-here/",
			"-p", "myTable="+awsName("NoSuchTable"), "-p", "myDataTable="+empty, fixture)
		if res.code != 1 {
			t.Errorf("exit %d, want 1", res.code)
		}
		for p, a := range pairs {
			res.want(t, p, "FAILED")
			if !strings.Contains(res.errors[p], "preconditionTimeout") {
				t.Errorf("%s error = %q, want the preconditionTimeout", p, res.errors[p])
			}
			if res.falseChecks[p] < 2 {
				t.Errorf("%s was found unmet %d times, want repeated checks every --retry-delay", p, res.falseChecks[p])
			}
			// The guarded activity fails out of WAITING_ON_DEPENDENCIES
			// naming its precondition (runtime.md §3, preconditions).
			res.want(t, a, "FAILED")
			if !strings.Contains(res.errors[a], "precondition "+p) {
				t.Errorf("%s error = %q, want it to name precondition %s", a, res.errors[a], p)
			}
		}
	})
}

func containsSuffix(ss []string, suffix string) bool {
	for _, s := range ss {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

func containsPart(ss []string, part string) bool {
	for _, s := range ss {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}
