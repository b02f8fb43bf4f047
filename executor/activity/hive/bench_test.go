package hive

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// benchRows is the size of the benchmark: a 1,000,000-row CSV.
const benchRows = 1_000_000

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchData writes the CSV once per test binary: k0..k999 keys, values in
// [-100, 1000).
func benchData(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "dpl-hive-bench-")
		if benchErr != nil {
			return
		}
		p := filepath.Join(benchDir, "s3", "bench", "in", "data.csv")
		if benchErr = os.MkdirAll(filepath.Dir(p), 0o755); benchErr != nil {
			return
		}
		f, err := os.Create(p)
		if err != nil {
			benchErr = err
			return
		}
		w := bufio.NewWriter(f)
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < benchRows; i++ {
			fmt.Fprintf(w, "k%d,%d\n", r.IntN(1000), r.IntN(1100)-100)
		}
		w.Flush()
		benchErr = f.Close()
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

// BenchmarkGroupBy1M is the query over the 1,000,000-row CSV,
// output written as Hive does (hash aggregation). Compare with
// BenchmarkGroupBy1MSQLiteShell.
func BenchmarkGroupBy1M(b *testing.B) { benchGroupBy(b, "") }

// BenchmarkGroupBy1MSQLitePath is the same query on the general path: the
// table loaded into SQLite, grouped by its sorter.
func BenchmarkGroupBy1MSQLitePath(b *testing.B) {
	benchGroupBy(b, "SET "+confHashAggregate+"=false;\n")
}

func benchGroupBy(b *testing.B, prefix string) {
	root := benchData(b)
	st, err := objstore.NewLocal(root)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	script := prefix + `CREATE EXTERNAL TABLE src (k STRING, v INT) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://bench/in';
CREATE EXTERNAL TABLE dst (k STRING, n BIGINT, total BIGINT) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://bench/out';
INSERT OVERWRITE TABLE dst SELECT k, count(*), sum(v) FROM src WHERE v > 0 GROUP BY k;`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := NewSession(Options{Store: st, Dir: filepath.Join(b.TempDir(), "hive")})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Run(context.Background(), script); err != nil {
			b.Fatal(err)
		}
		if s.RowsWritten() != 1000 {
			b.Fatalf("%d rows written", s.RowsWritten())
		}
		s.Close()
	}
}

// BenchmarkGroupBy1MSQLiteShell is the floor: the sqlite3 shell importing
// the same CSV, running the same query and writing CSV output.
func BenchmarkGroupBy1MSQLiteShell(b *testing.B) {
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Skip("SKIPPED: sqlite3 shell not installed (apt-get install sqlite3); no floor to compare with")
	}
	root := benchData(b)
	in := filepath.Join(root, "s3", "bench", "in", "data.csv")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "out.csv")
		cmd := exec.Command(bin, ":memory:")
		cmd.Stdin = strings.NewReader(fmt.Sprintf("CREATE TABLE src(k TEXT, v INTEGER);\n.mode csv\n.import %s src\n.output %s\nSELECT k, count(*), sum(v) FROM src WHERE v > 0 GROUP BY k;\n.output stdout\n", in, out))
		if outb, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("sqlite3: %v: %s", err, outb)
		}
	}
}
