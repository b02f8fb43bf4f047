package sqlrun

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/awsx/mototest"
)

// writeBenchCSV writes rows of id,name,amount,ts,note with a header line.
// Some notes hold commas and quotes so the CSV parser does real work.
func writeBenchCSV(tb testing.TB, path string, rows int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("id,name,amount,ts,note\n")
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= rows; i++ {
		note := "plain"
		switch i % 4 {
		case 1:
			note = `"with, comma and ""quotes"""`
		case 2:
			note = ""
		}
		fmt.Fprintf(w, "%d,name-%d,%d.%02d,%s,%s\n", i, i, i%100000, i%100, base.Add(time.Duration(i)*time.Second).Format("2006-01-02 15:04:05"), note)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// BenchmarkRedshiftCopyVsPsql loads the same 1,000,000-row CSV into
// PostgreSQL with RedshiftCopy (TRUNCATE, commandOptions CSV IGNOREHEADER 1)
// and with `psql \copy`, in the same run, and reports both times and their
// ratio. With moto_server available it also loads the file from local S3.
//
//	source .ci/databases.sh
//	go test ./executor/sqlrun -run '^$' -bench RedshiftCopyVsPsql -benchtime 1x
//
// DPL_BENCH_ROWS overrides the row count.
func BenchmarkRedshiftCopyVsPsql(b *testing.B) {
	rows := 1_000_000
	if s := os.Getenv("DPL_BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Skip("SKIPPING: psql not on PATH; it is the baseline of this benchmark")
	}
	db, c := newPG(b)
	path := filepath.Join(b.TempDir(), "bench.csv")
	size := writeBenchCSV(b, path, rows)
	b.Logf("input: %d rows, %.1f MiB", rows, float64(size)/(1<<20))
	for _, t := range []string{"bench_dpl", "bench_psql", "bench_s3"} {
		mustExec(b, c, "CREATE TABLE "+t+" (id bigint PRIMARY KEY, name text, amount numeric(12,2), ts timestamp, note text)")
	}

	// Local S3 (moto) holding the same file, when available.
	var s3src *Source
	if _, err := exec.LookPath("moto_server"); err == nil || os.Getenv(mototest.EnvEndpoint) != "" {
		srv := mototest.Start(b)
		env, err := awsx.LoadConfig(context.Background(), awsx.Options{Region: "us-east-1", Endpoint: srv.Endpoint,
			AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey})
		if err != nil {
			b.Fatal(err)
		}
		store := env.Store()
		bucket := randName("bench-")
		if err := store.EnsureBucket(ctx, bucket); err != nil {
			b.Fatal(err)
		}
		uri := "s3://" + bucket + "/input/bench.csv"
		w, err := store.Create(ctx, uri)
		if err != nil {
			b.Fatal(err)
		}
		f, _ := os.Open(path)
		if _, err := io.Copy(w, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		s3src = &Source{Name: uri, Open: func(ctx context.Context) (io.ReadCloser, error) { return store.Open(ctx, uri) }}
	} else {
		b.Log("moto_server not available: the local-S3 variant is not measured")
	}

	// psql gets the connection through the environment, never argv.
	u, _ := url.Parse(strings.Replace(db.ConnectionString, "jdbc:postgresql://", "postgres://", 1))
	psqlEnv := append(os.Environ(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+db.Username,
		"PGPASSWORD="+db.Password, "PGDATABASE="+strings.TrimPrefix(u.Path, "/"))
	opts := RedshiftCopyOptions{InsertMode: Truncate, CommandOptions: []string{"CSV", "IGNOREHEADER AS 1"}}
	node := SqlNode{ID: "Bench", Table: "bench_dpl"}
	fileSrc := Source{Name: path, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }}

	var dplTotal, psqlTotal, s3Total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		st, err := RedshiftCopy(ctx, c, []Source{fileSrc}, node, opts)
		if err != nil {
			b.Fatal(err)
		}
		dplTotal += time.Since(start)
		if st.Loaded != int64(rows) {
			b.Fatalf("loaded %d rows, want %d", st.Loaded, rows)
		}

		mustExec(b, c, "TRUNCATE bench_psql")
		start = time.Now()
		cmd := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `\copy bench_psql FROM '`+path+`' WITH (FORMAT csv, HEADER true)`)
		cmd.Env = psqlEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("psql: %v: %s", err, out)
		}
		psqlTotal += time.Since(start)

		if s3src != nil {
			start = time.Now()
			if _, err := RedshiftCopy(ctx, c, []Source{*s3src}, SqlNode{ID: "BenchS3", Table: "bench_s3"}, opts); err != nil {
				b.Fatal(err)
			}
			s3Total += time.Since(start)
		}
	}
	b.StopTimer()
	if got := dump(b, c, "SELECT count(*) FROM bench_dpl"); got != strconv.Itoa(rows) {
		b.Fatalf("bench_dpl has %s rows", got)
	}
	if diff := dump(b, c, "SELECT count(*) FROM (SELECT * FROM bench_dpl EXCEPT SELECT * FROM bench_psql) d"); diff != "0" {
		b.Fatalf("%s rows differ between the dpl load and the psql load", diff)
	}
	n := float64(b.N)
	b.ReportMetric(dplTotal.Seconds()/n, "dpl-s/op")
	b.ReportMetric(psqlTotal.Seconds()/n, "psql-s/op")
	b.ReportMetric(dplTotal.Seconds()/psqlTotal.Seconds(), "dpl/psql")
	if s3src != nil {
		b.ReportMetric(s3Total.Seconds()/n, "dpl-s3-s/op")
		b.ReportMetric(s3Total.Seconds()/psqlTotal.Seconds(), "dpl-s3/psql")
	}
}

// BenchmarkRedshiftCopyOverwrite measures the staging path (OVERWRITE_EXISTING
// merge by primary key) on half-overlapping data.
func BenchmarkRedshiftCopyOverwrite(b *testing.B) {
	rows := 200_000
	_, c := newPG(b)
	path := filepath.Join(b.TempDir(), "bench.csv")
	writeBenchCSV(b, path, rows)
	mustExec(b, c, "CREATE TABLE bench (id bigint PRIMARY KEY, name text, amount numeric(12,2), ts timestamp, note text)")
	mustExec(b, c, fmt.Sprintf("INSERT INTO bench SELECT g, 'old', 0, now(), '' FROM generate_series(%d, %d) g", rows/2, rows+rows/2))
	src := Source{Name: path, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }}
	opts := RedshiftCopyOptions{InsertMode: OverwriteExisting, CommandOptions: []string{"CSV", "IGNOREHEADER 1"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := RedshiftCopy(ctx, c, []Source{src}, SqlNode{ID: "B", Table: "bench"}, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRecordReader measures CSV parsing, the hot loop of CopyToSQL.
func BenchmarkRecordReader(b *testing.B) {
	path := filepath.Join(b.TempDir(), "r.csv")
	size := writeBenchCSV(b, path, 100_000)
	data, _ := os.ReadFile(path)
	cd, _ := DataFormat{Type: "CSV"}.codec()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rr := newRecordReader(strings.NewReader(string(data)), cd)
		for {
			if _, err := rr.Read(); err != nil {
				if err == io.EOF {
					break
				}
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCopyToSQLPostgres measures the DataFormat -> COPY path of CopyActivity.
func BenchmarkCopyToSQLPostgres(b *testing.B) {
	_, c := newPG(b)
	path := filepath.Join(b.TempDir(), "r.csv")
	const rows = 200_000
	writeBenchCSV(b, path, rows)
	mustExec(b, c, "CREATE TABLE t (id bigint, name text, amount numeric(12,2), ts timestamp, note text)")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustExec(b, c, "TRUNCATE t")
		f, _ := os.Open(path)
		br := bufio.NewReader(f)
		br.ReadString('\n') // header
		if _, err := CopyToSQL(ctx, c, br, DataFormat{Type: "CSV"}, SqlNode{ID: "T", Table: "t"}); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
