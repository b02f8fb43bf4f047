package awsx_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
	"github.com/dpl-dev/dpl/executor/objstore"
)

// Benchmarks run against one moto server per test binary
// (mototest.Shared) or DPL_TEST_MOTO_ENDPOINT. Sizes:
//   DPL_BENCH_ITEMS  items in the DynamoDB benchmarks (default 100000)
//   DPL_BENCH_FILE   file for the S3 staging benchmark (default: 64 MiB
//                    of random bytes in a temp dir)
// executor/awsx/bench/run.sh runs them beside `aws s3 cp` of the same file.

func TestMain(m *testing.M) {
	code := m.Run()
	mototest.StopShared()
	os.Exit(code)
}

func benchEnv(b *testing.B) *awsx.Env {
	b.Helper()
	srv := mototest.Shared(b)
	env, err := awsx.LoadConfig(context.Background(), awsx.Options{
		Region: "us-east-1", Endpoint: srv.Endpoint,
		AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey,
	})
	if err != nil {
		b.Fatal(err)
	}
	return env
}

func benchItems() int {
	if n, err := strconv.Atoi(os.Getenv("DPL_BENCH_ITEMS")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// seeded holds a source table filled once for all DynamoDB benchmarks.
var seeded struct {
	once  sync.Once
	table string
	dir   string // an export of the table
	err   error
}

// seed writes an export-format file straight to S3 and imports it, which
// is much faster than item-by-item puts, then exports it once.
func seed(b *testing.B, env *awsx.Env) (table, dir string) {
	seeded.once.Do(func() {
		ctx := context.Background()
		store, bucket := newBucket(b, env)
		n := benchItems()
		src := "s3://" + bucket + "/seed"
		w, err := store.Create(ctx, src+"/data-0")
		if err != nil {
			seeded.err = err
			return
		}
		for i := 0; i < n; i++ {
			line, _ := awsx.MarshalItem(benchItem(i))
			w.Write(append(line, '\n'))
		}
		if seeded.err = w.Close(); seeded.err != nil {
			return
		}
		seeded.table = unique("bench-src")
		createTable(b, env.DynamoDB(""), seeded.table, true)
		if _, seeded.err = awsx.Import(ctx, env.DynamoDB(""), store, src, seeded.table, awsx.ImportOptions{}); seeded.err != nil {
			return
		}
		seeded.dir = "s3://" + bucket + "/export-seed"
		_, seeded.err = awsx.Export(ctx, env.DynamoDB(""), store, seeded.table, seeded.dir, awsx.ExportOptions{})
	})
	if seeded.err != nil {
		b.Fatal(seeded.err)
	}
	return seeded.table, seeded.dir
}

func BenchmarkDynamoDBExport(b *testing.B) {
	env := benchEnv(b)
	table, _ := seed(b, env)
	store, bucket := newBucket(b, env)
	ctx := context.Background()
	var items int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := awsx.Export(ctx, env.DynamoDB(""), store, table, fmt.Sprintf("s3://%s/run-%d", bucket, i), awsx.ExportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		items += st.Items
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkDynamoDBRawScan is the baseline for Export: a plain
// sequential Scan of the same table that keeps nothing, i.e. what moto
// itself can serve.
func BenchmarkDynamoDBRawScan(b *testing.B) {
	env := benchEnv(b)
	table, _ := seed(b, env)
	ctx := context.Background()
	var items int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := dynamodb.NewScanPaginator(env.DynamoDB(""), &dynamodb.ScanInput{TableName: &table})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			items += int64(len(page.Items))
		}
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkDynamoDBImport(b *testing.B) {
	env := benchEnv(b)
	_, dir := seed(b, env)
	store := env.Store()
	ctx := context.Background()
	var items int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := unique("bench-dst")
		createTable(b, env.DynamoDB("eu-west-1"), dst, true)
		b.StartTimer()
		st, err := awsx.Import(ctx, env.DynamoDB("eu-west-1"), store, dir, dst, awsx.ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		items += st.Items
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// benchFile returns DPL_BENCH_FILE or a 64 MiB random file.
func benchFile(b *testing.B) string {
	if f := os.Getenv("DPL_BENCH_FILE"); f != "" {
		return f
	}
	p := filepath.Join(b.TempDir(), "payload.bin")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, 64<<20); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return p
}

// BenchmarkS3StagingUpload measures UploadDir (output staging) of a folder
// holding the benchmark file; compare with `aws s3 cp` in bench/run.sh.
func BenchmarkS3StagingUpload(b *testing.B) {
	env := benchEnv(b)
	store, bucket := newBucket(b, env)
	file := benchFile(b)
	dir := b.TempDir()
	staged := filepath.Join(dir, filepath.Base(file))
	if err := os.Link(file, staged); err != nil {
		copyFile(b, file, staged)
	}
	st, err := os.Stat(staged)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := objstore.UploadDir(context.Background(), store, dir, "s3://"+bucket+"/staged"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkS3StagingDownload measures DownloadDir (input staging).
func BenchmarkS3StagingDownload(b *testing.B) {
	env := benchEnv(b)
	store, bucket := newBucket(b, env)
	file := benchFile(b)
	st, _ := os.Stat(file)
	f, _ := os.Open(file)
	w, _ := store.Create(context.Background(), "s3://"+bucket+"/in/payload.bin")
	io.Copy(w, f)
	f.Close()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := objstore.DownloadDir(context.Background(), store, "s3://"+bucket+"/in", b.TempDir()); err != nil {
			b.Fatal(err)
		}
	}
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	out.Close()
}

// benchItem is a ~200-byte item with a unique hash key. moto's Scan cost
// grows steeply with item complexity and hash-key collisions, so the
// all-types items of the correctness tests would measure moto, not us.
func benchItem(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":      &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%08d", i)},
		"sk":      &types.AttributeValueMemberN{Value: strconv.Itoa(i % 10)},
		"payload": &types.AttributeValueMemberS{Value: fmt.Sprintf("%0120d", i)},
		"score":   &types.AttributeValueMemberN{Value: strconv.Itoa(i * 7)},
		"active":  &types.AttributeValueMemberBOOL{Value: i%2 == 0},
		"tags":    &types.AttributeValueMemberSS{Value: []string{"bench", "t" + strconv.Itoa(i%5)}},
	}
}
