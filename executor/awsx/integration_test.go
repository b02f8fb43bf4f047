package awsx_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"sort"
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
	"github.com/dpl-dev/dpl/executor/objstore/storetest"
)

var seq atomic.Int64

// unique returns a per-run name so tests can share one moto server.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

func motoEnv(t testing.TB) *awsx.Env {
	t.Helper()
	srv := mototest.Start(t)
	env, err := awsx.LoadConfig(context.Background(), awsx.Options{
		Region:          "us-east-1",
		Endpoint:        srv.Endpoint,
		AccessKeyID:     mototest.AccessKeyID,
		SecretAccessKey: mototest.SecretAccessKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func newBucket(t testing.TB, env *awsx.Env) (*awsx.S3Store, string) {
	t.Helper()
	store := env.Store()
	bucket := unique("bkt")
	if err := store.EnsureBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	return store, bucket
}

func TestS3Store(t *testing.T) {
	env := motoEnv(t)
	store, bucket := newBucket(t, env)
	storetest.Run(t, store, "s3://"+bucket+"/conformance")

	t.Run("MultipartObject", func(t *testing.T) {
		ctx := context.Background()
		// 21 MiB + 5 bytes: three parts at 8 MiB, last one partial.
		data := make([]byte, 21<<20+5)
		rand.Read(data)
		uri := "s3://" + bucket + "/big/object.bin"
		w, err := store.Create(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		// Write in odd-sized chunks to exercise the pipe.
		for off := 0; off < len(data); off += 777777 {
			end := min(off+777777, len(data))
			if _, err := w.Write(data[off:end]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		info, err := store.Stat(ctx, uri)
		if err != nil || info.Size != int64(len(data)) {
			t.Fatalf("stat = %+v, %v", info, err)
		}
		r, err := store.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		r.Close()
		if err != nil || n != int64(len(data)) {
			t.Fatalf("read %d bytes, %v", n, err)
		}
		if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatal("multipart object content differs")
		}
		var sizes []int64
		store.List(ctx, "s3://"+bucket+"/big/", func(i objstore.Info) error { sizes = append(sizes, i.Size); return nil })
		if !reflect.DeepEqual(sizes, []int64{int64(len(data))}) {
			t.Fatalf("listing sizes %v", sizes)
		}
	})

	t.Run("Preconditions", func(t *testing.T) {
		ctx := context.Background()
		w, _ := store.Create(ctx, "s3://"+bucket+"/pre/data/part-0")
		io.WriteString(w, "x")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			fn   func() (bool, error)
			want bool
		}{
			{"S3KeyExists met", func() (bool, error) { return objstore.Exists(ctx, store, "s3://"+bucket+"/pre/data/part-0") }, true},
			{"S3KeyExists unmet", func() (bool, error) { return objstore.Exists(ctx, store, "s3://"+bucket+"/pre/data/part-1") }, false},
			{"S3KeyExists missing bucket", func() (bool, error) { return objstore.Exists(ctx, store, "s3://no-such-bucket-dpl/x") }, false},
			{"S3PrefixNotEmpty met", func() (bool, error) { return objstore.PrefixNotEmpty(ctx, store, "s3://"+bucket+"/pre/data/") }, true},
			{"S3PrefixNotEmpty unmet", func() (bool, error) { return objstore.PrefixNotEmpty(ctx, store, "s3://"+bucket+"/pre/other/") }, false},
		}
		for _, c := range cases {
			got, err := c.fn()
			if err != nil || got != c.want {
				t.Errorf("%s = %v, %v; want %v", c.name, got, err, c.want)
			}
		}
	})
}

func TestSNSPublishReachesSQS(t *testing.T) {
	env := motoEnv(t)
	ctx := context.Background()
	const region = "eu-west-1" // not the default: the ARN must pick the client
	topic, err := env.SNS(region).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(unique("alarms"))})
	if err != nil {
		t.Fatal(err)
	}
	q, err := env.SQS(region).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(unique("inbox"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := env.SQS(region).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.SNS(region).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	id, err := env.Publish(ctx, *topic.TopicArn, "Pipeline failed:\nCopyData", "Activity CopyData failed at 2024-01-01T00:00:00")
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Fatal("no message id")
	}
	out, err := env.SQS(region).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("received %d messages", len(out.Messages))
	}
	var envelope struct{ Subject, Message, MessageId string }
	if err := json.Unmarshal([]byte(*out.Messages[0].Body), &envelope); err != nil {
		t.Fatal(err)
	}
	if envelope.Subject != "Pipeline failed: CopyData" || envelope.Message != "Activity CopyData failed at 2024-01-01T00:00:00" || envelope.MessageId != id {
		t.Fatalf("delivered %+v", envelope)
	}
	if _, err := env.Publish(ctx, "arn:aws:sns:eu-west-1:123456789012:does-not-exist", "s", "m"); err == nil {
		t.Fatal("publishing to a missing topic succeeded")
	}
}

func createTable(t testing.TB, db *dynamodb.Client, name string, onDemand bool) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
	}
	if onDemand {
		in.BillingMode = types.BillingModePayPerRequest
	} else {
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1000), WriteCapacityUnits: aws.Int64(1000)}
	}
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// typedItem builds an item using every attribute type.
func typedItem(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":   &types.AttributeValueMemberS{Value: fmt.Sprintf("user#%d \"q\" é", i%7)},
		"sk":   &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		"bin":  &types.AttributeValueMemberB{Value: []byte{byte(i), 0, 0xff}},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", fmt.Sprint("b", i)}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1.5", fmt.Sprint(-i - 1)}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1, 2}, {byte(i), 9}}},
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"nested": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberNULL{Value: true}}}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "42"}, &types.AttributeValueMemberBOOL{Value: i%2 == 0}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
		"flag": &types.AttributeValueMemberBOOL{Value: i%3 == 0},
		"none": &types.AttributeValueMemberNULL{Value: true},
	}
}

func putItems(t testing.TB, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(items); i += 25 {
		var reqs []types.WriteRequest
		for _, it := range items[i:min(i+25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		for len(reqs) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				t.Fatal(err)
			}
			reqs = out.UnprocessedItems[table]
		}
	}
}

// scanAll returns the table's items keyed by pk/sk, with set members
// sorted so the comparison ignores set order (sets are unordered).
func scanAll(t testing.TB, db *dynamodb.Client, table string) map[string]map[string]types.AttributeValue {
	t.Helper()
	out := map[string]map[string]types.AttributeValue{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			key := it["pk"].(*types.AttributeValueMemberS).Value + "/" + it["sk"].(*types.AttributeValueMemberN).Value
			out[key] = normalize(it)
		}
	}
	return out
}

func normalize(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	for k, v := range m {
		m[k] = normalizeValue(v)
	}
	return m
}

func normalizeValue(v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberSS:
		sort.Strings(v.Value)
	case *types.AttributeValueMemberNS:
		sort.Strings(v.Value)
	case *types.AttributeValueMemberBS:
		sort.Slice(v.Value, func(i, j int) bool { return bytes.Compare(v.Value[i], v.Value[j]) < 0 })
	case *types.AttributeValueMemberM:
		normalize(v.Value)
	case *types.AttributeValueMemberL:
		for i := range v.Value {
			v.Value[i] = normalizeValue(v.Value[i])
		}
	}
	return v
}

func TestDynamoDBExportImportCrossRegion(t *testing.T) {
	env := motoEnv(t)
	ctx := context.Background()
	store, bucket := newBucket(t, env)
	src, dst := unique("src"), unique("dst")
	srcDB, dstDB := env.DynamoDB("us-east-1"), env.DynamoDB("eu-west-1")
	createTable(t, srcDB, src, false)
	createTable(t, dstDB, dst, true)
	var items []map[string]types.AttributeValue
	for i := 0; i < 260; i++ {
		items = append(items, typedItem(i))
	}
	putItems(t, srcDB, src, items)

	dir := "s3://" + bucket + "/tmp/2024-01-01-00-00-00"
	var logs []string
	logf := func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }
	st, err := awsx.Export(ctx, srcDB, store, src, dir, awsx.ExportOptions{ReadRatio: 0.25, Segments: 3, MaxItemsPerFile: 100, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	if st.Items != 260 || st.Files < 3 {
		t.Fatalf("export stats %+v", st)
	}

	// Layout: UUID-named data files, manifest listing them, _SUCCESS.
	var names []string
	store.List(ctx, dir+"/", func(i objstore.Info) error {
		names = append(names, strings.TrimPrefix(i.Key, "tmp/2024-01-01-00-00-00/"))
		return nil
	})
	if !contains(names, "manifest") || !contains(names, "_SUCCESS") || len(names) != st.Files+2 {
		t.Fatalf("export objects %v", names)
	}
	r, _ := store.Open(ctx, dir+"/manifest")
	mbytes, _ := io.ReadAll(r)
	r.Close()
	if !strings.HasPrefix(string(mbytes), "{\"name\":\"DynamoDB-export\",\"version\":3,\n\"entries\": [\n{\"url\":\""+dir+"/") || !strings.HasSuffix(string(mbytes), "\n]}") {
		t.Fatalf("manifest layout:\n%s", mbytes)
	}
	var manifest struct {
		Entries []struct {
			URL       string
			Mandatory bool
		}
	}
	if err := json.Unmarshal(mbytes, &manifest); err != nil || len(manifest.Entries) != st.Files {
		t.Fatalf("manifest %s: %v", mbytes, err)
	}
	for _, e := range manifest.Entries {
		if !e.Mandatory {
			t.Errorf("entry %s not mandatory", e.URL)
		}
		info, err := store.Stat(ctx, e.URL)
		if err != nil || info.Size == 0 {
			t.Errorf("entry %s: %+v %v", e.URL, info, err)
		}
	}
	// A rerun into the same folder is refused, like the EMR tool.
	if _, err := awsx.Export(ctx, srcDB, store, src, dir, awsx.ExportOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("export into a non-empty folder: %v", err)
	}

	ist, err := awsx.Import(ctx, dstDB, store, dir, dst, awsx.ImportOptions{WriteRatio: 0.5, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	if ist.Items != 260 || ist.Files != st.Files {
		t.Fatalf("import stats %+v", ist)
	}
	want := scanAll(t, srcDB, src)
	got := scanAll(t, dstDB, dst)
	if len(got) != 260 || !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				gb, _ := awsx.MarshalItem(got[k])
				wb, _ := awsx.MarshalItem(want[k])
				t.Fatalf("item %s differs:\n got %s\nwant %s", k, gb, wb)
			}
		}
		t.Fatalf("destination has %d items", len(got))
	}
	// The destination region really is separate.
	if ok, _ := env.TableExists(ctx, "us-east-1", dst); ok {
		t.Fatal("destination table visible in the source region")
	}

	// Without the manifest, every non-hidden file is read.
	store.Delete(ctx, dir+"/manifest")
	dst2 := unique("dst2")
	createTable(t, dstDB, dst2, true)
	if ist, err := awsx.Import(ctx, dstDB, store, dir, dst2, awsx.ImportOptions{}); err != nil || ist.Items != 260 {
		t.Fatalf("manifest-less import = %+v, %v", ist, err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestToolStepsRunNatively(t *testing.T) {
	env := motoEnv(t)
	ctx := context.Background()
	store, bucket := newBucket(t, env)
	src, dst := unique("Orders"), unique("OrdersCopy")
	createTable(t, env.DynamoDB("us-west-2"), src, true)
	createTable(t, env.DynamoDB("ap-south-1"), dst, true)
	putItems(t, env.DynamoDB("us-west-2"), src, []map[string]types.AttributeValue{typedItem(1), typedItem(2)})
	dir := "s3://" + bucket + "/tmp/run1"
	exp, ok := awsx.ParseDynamoDBToolStep("s3://dynamodb-emr-us-west-2/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar,org.apache.hadoop.dynamodb.tools.DynamoDbExport," + dir + "," + src + ",0.25")
	if !ok {
		t.Fatal("export step not recognised")
	}
	imp, ok := awsx.ParseDynamoDBToolStep("s3://dynamodb-emr-ap-south-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar,org.apache.hadoop.dynamodb.tools.DynamoDbImport," + dir + "," + dst + ",0.25")
	if !ok {
		t.Fatal("import step not recognised")
	}
	if err := env.RunToolStep(ctx, exp, exp.JarRegion, store, nil); err != nil {
		t.Fatal(err)
	}
	if err := env.RunToolStep(ctx, imp, imp.JarRegion, store, nil); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, env.DynamoDB("ap-south-1"), dst); len(got) != 2 {
		t.Fatalf("copied %d items", len(got))
	}
}

func TestTableAndDataExists(t *testing.T) {
	env := motoEnv(t)
	ctx := context.Background()
	db := env.DynamoDB("")
	table := unique("pre")
	check := func(name string, fn func(context.Context, string, string) (bool, error), want bool) {
		t.Helper()
		got, err := fn(ctx, "", table)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", name, got, err, want)
		}
	}
	check("DynamoDBTableExists before create", env.TableExists, false)
	check("DynamoDBDataExists before create", env.DataExists, false)
	createTable(t, db, table, true)
	check("DynamoDBTableExists after create", env.TableExists, true)
	check("DynamoDBDataExists empty table", env.DataExists, false)
	putItems(t, db, table, []map[string]types.AttributeValue{typedItem(0)})
	check("DynamoDBDataExists with an item", env.DataExists, true)
}

func TestChildEnvDrivesAWSCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("SKIPPED: aws CLI not on PATH; child-environment check not run")
	}
	env := motoEnv(t)
	store, bucket := newBucket(t, env)
	ctx := context.Background()
	w, _ := store.Create(ctx, "s3://"+bucket+"/cli/hello.txt")
	io.WriteString(w, "hi")
	w.Close()
	cmd := exec.Command(aws, "s3", "ls", "s3://"+bucket+"/cli/")
	// Start from an environment without AWS settings so only ChildEnv counts.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env.ChildEnv()...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "hello.txt") {
		t.Fatalf("aws s3 ls with ChildEnv: %v\n%s", err, out)
	}
}

func TestImportEdgeCases(t *testing.T) {
	env := motoEnv(t)
	ctx := context.Background()
	store, bucket := newBucket(t, env)
	db := env.DynamoDB("")
	put := func(uri, body string) {
		t.Helper()
		w, err := store.Create(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("EmptyTable", func(t *testing.T) {
		src, dst := unique("empty"), unique("empty-dst")
		createTable(t, db, src, true)
		createTable(t, db, dst, true)
		dir := "s3://" + bucket + "/empty"
		st, err := awsx.Export(ctx, db, store, src, dir, awsx.ExportOptions{})
		if err != nil || st.Items != 0 || st.Files != 0 {
			t.Fatalf("export = %+v, %v", st, err)
		}
		r, _ := store.Open(ctx, dir+"/manifest")
		m, _ := io.ReadAll(r)
		r.Close()
		if string(m) != "{\"name\":\"DynamoDB-export\",\"version\":3,\n\"entries\": [\n\n]}" {
			t.Fatalf("empty manifest %q", m)
		}
		if ist, err := awsx.Import(ctx, db, store, dir, dst, awsx.ImportOptions{}); err != nil || ist.Items != 0 {
			t.Fatalf("import = %+v, %v", ist, err)
		}
	})

	t.Run("DuplicateKeysAndHiddenFiles", func(t *testing.T) {
		dst := unique("dups")
		createTable(t, db, dst, true)
		dir := "s3://" + bucket + "/dups"
		var lines []string
		for i := 0; i < 10; i++ {
			lines = append(lines, fmt.Sprintf(`{"pk":{"s":"k"},"sk":{"n":"%d"},"v":{"s":"first"}}`, i%4))
		}
		lines = append(lines, `{"pk":{"s":"k"},"sk":{"n":"0"},"v":{"s":"last"}}`)
		put(dir+"/part-a", strings.Join(lines, "\n")+"\n")
		put(dir+"/_SUCCESS", "")
		put(dir+"/.crc", "not json")
		ist, err := awsx.Import(ctx, db, store, dir, dst, awsx.ImportOptions{})
		if err != nil || ist.Items != 11 {
			t.Fatalf("import = %+v, %v", ist, err)
		}
		got := scanAll(t, db, dst)
		if len(got) != 4 || got["k/0"]["v"].(*types.AttributeValueMemberS).Value != "last" {
			t.Fatalf("table after import: %d items, k/0 = %v", len(got), got["k/0"]["v"])
		}
	})

	t.Run("MalformedLineNamesFileAndLine", func(t *testing.T) {
		dst := unique("bad")
		createTable(t, db, dst, true)
		dir := "s3://" + bucket + "/bad"
		put(dir+"/part-0", "{\"pk\":{\"s\":\"a\"},\"sk\":{\"n\":\"1\"}}\n{\"pk\":{\"zz\":1}}\n")
		_, err := awsx.Import(ctx, db, store, dir, dst, awsx.ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), dir+"/part-0 line 2") {
			t.Fatalf("error = %v, want one naming the file and line 2", err)
		}
	})

	t.Run("MissingTable", func(t *testing.T) {
		_, err := awsx.Export(ctx, db, store, "no-such-table", "s3://"+bucket+"/none", awsx.ExportOptions{})
		if err == nil || !strings.Contains(err.Error(), "no-such-table") {
			t.Fatalf("export of a missing table: %v", err)
		}
	})
}

// flakyStore fails Create after a number of successful calls.
type flakyStore struct {
	objstore.Store
	left atomic.Int32
}

func (f *flakyStore) Create(ctx context.Context, uri string) (io.WriteCloser, error) {
	if f.left.Add(-1) < 0 {
		return nil, fmt.Errorf("injected failure creating %s", uri)
	}
	return f.Store.Create(ctx, uri)
}

func TestFailedExportCleansUpForRetry(t *testing.T) {
	env := motoEnv(t)
	ctx := context.Background()
	store, bucket := newBucket(t, env)
	db := env.DynamoDB("")
	src := unique("retry")
	createTable(t, db, src, true)
	var items []map[string]types.AttributeValue
	for i := 0; i < 50; i++ {
		items = append(items, typedItem(i))
	}
	putItems(t, db, src, items)
	dir := "s3://" + bucket + "/retry"
	flaky := &flakyStore{Store: store}
	flaky.left.Store(2)
	if _, err := awsx.Export(ctx, db, flaky, src, dir, awsx.ExportOptions{Segments: 1, MaxItemsPerFile: 10}); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("export through a failing store: %v", err)
	}
	if left, _ := objstore.PrefixNotEmpty(ctx, store, dir+"/"); left {
		t.Fatal("failed export left objects behind")
	}
	if st, err := awsx.Export(ctx, db, store, src, dir, awsx.ExportOptions{Segments: 1, MaxItemsPerFile: 10}); err != nil || st.Items != 50 || st.Files != 5 {
		t.Fatalf("retry = %+v, %v", st, err)
	}
}
