package hive

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// aggTestData is a table with NULLs (\N), values that are not numbers
// (NULL in an INT or DOUBLE column), negative zero, NaN, big integers
// whose sum overflows only in some groups, and partitions.
func aggTestData(e *testEnv) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, part := range []string{"a", "b"} {
		var b strings.Builder
		for i := 0; i < 3000; i++ {
			k := fmt.Sprintf("k%d", r.IntN(40))
			if r.IntN(30) == 0 {
				k = `\N`
			}
			g := fmt.Sprint(r.IntN(5) - 2)
			v := fmt.Sprint(r.IntN(2000) - 500)
			switch r.IntN(25) {
			case 0:
				v = `\N`
			case 1:
				v = "not-a-number"
			}
			if i%1000 == 7 {
				v = "1152921504606846976" // 2^60: exact, three of them per partition
			}
			w := fmt.Sprint(r.IntN(100))
			if i%1000 == 500 {
				k, w = "k1", "4611686018427387904" // 2^62: four in group k1 overflow sum(w)
			}
			d := fmt.Sprintf("%.3f", r.Float64()*100-50)
			switch r.IntN(40) {
			case 0:
				d = "-0.0"
			case 1:
				d = "NaN"
			case 2:
				d = `\N`
			case 3:
				d = "1e300"
			}
			s := []string{"x", "y", "Z", "", "é"}[r.IntN(5)]
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\n", k, g, v, d, s, w)
		}
		e.put("s3://b/t/p="+part+"/000000_0", b.String())
	}
	e.run(`CREATE EXTERNAL TABLE t (k STRING, g INT, v BIGINT, d DOUBLE, s STRING, w BIGINT) PARTITIONED BY (p STRING)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t' LOCATION 's3://b/t';
MSCK REPAIR TABLE t;
CREATE EXTERNAL TABLE out3 (a STRING, b BIGINT, c BIGINT) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/out3';`)
}

// TestHashAggregateMatchesSQLite runs every query with hash aggregation and
// again on SQLite (SET dpl.hive.hashaggregate=false) and wants the same
// output, byte for byte, and the same errors.
func TestHashAggregateMatchesSQLite(t *testing.T) {
	queries := []struct {
		q    string
		hash bool // hash aggregation must take it (else the test would compare SQLite with itself)
	}{
		{"SELECT k, count(*), sum(v) FROM t WHERE v > 0 GROUP BY k", true},
		{"SELECT k, count(*), sum(g) FROM t WHERE g > 0 GROUP BY k", true},
		{"SELECT count(*), count(v), count(d), min(k), max(k), min(s), max(s) FROM t", true},
		{"SELECT g, avg(d), sum(d), min(d), max(d) FROM t GROUP BY g", true},
		{"SELECT p, g, count(*) AS n, avg(g) mean FROM t WHERE s <> 'x' AND (g >= 0 OR d < -10.5) GROUP BY p, g", true},
		{"SELECT k, count(d) FROM t WHERE d IS NOT NULL AND NOT k = 'k3' GROUP BY k", true},
		{"SELECT s, count(*), min(v), max(v), avg(v) FROM t WHERE k IS NULL OR v <= -100 GROUP BY s", true},
		{"SELECT count(*), sum(v), avg(v) FROM t WHERE g = 99", true},
		{"SELECT k, count(*) FROM t WHERE s = '' GROUP BY k", true},
		{"SELECT x.k, sum(x.g) FROM t x WHERE x.g != -1 GROUP BY x.k", true},
		{"SELECT d, count(*) FROM t WHERE d < 0.5 AND d > -0.5 GROUP BY d", true},
		{"SELECT k FROM t WHERE g == 2 GROUP BY k", true},
		{"SELECT k, sum(v) FROM t GROUP BY k", true},
		{"SELECT k, sum(w) FROM t GROUP BY k", true}, // overflows in group k1
		{"SELECT k, sum(w) FROM t WHERE k <> 'k1' GROUP BY k", true},
		{"SELECT k, avg(w), sum(d) FROM t GROUP BY k", true}, // avg after the integer sum overflowed
		// Shapes hash aggregation leaves to SQLite: still equal.
		{"SELECT k, count(*) FROM t GROUP BY k HAVING count(*) > 150", false},
		{"SELECT k, count(DISTINCT s) FROM t GROUP BY k", false},
		{"SELECT k, sum(v) FROM t WHERE k > 5 GROUP BY k", false},
	}
	for _, tc := range queries {
		t.Run(tc.q, func(t *testing.T) {
			hash := newEnv(t)
			aggTestData(hash)
			sqlite := newEnv(t)
			aggTestData(sqlite)
			sqlite.run("SET dpl.hive.hashaggregate=false")

			toks, err := lex(tc.q, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := hash.s.planHashAggregate(toks) != nil; got != tc.hash {
				t.Fatalf("hash aggregation planned = %v, want %v", got, tc.hash)
			}
			if sqlite.s.planHashAggregate(toks) != nil {
				t.Fatal("SET dpl.hive.hashaggregate=false did not turn hash aggregation off")
			}
			hash.stdout.Reset()
			sqlite.stdout.Reset()
			errH := hash.s.Run(context.Background(), tc.q)
			errS := sqlite.s.Run(context.Background(), tc.q)
			if !sameError(errH, errS) {
				t.Fatalf("errors differ:\nhash:   %v\nsqlite: %v", errH, errS)
			}
			if hash.stdout.String() != sqlite.stdout.String() {
				t.Fatalf("results differ:\nhash:\n%s\nsqlite:\n%s", hash.stdout.String(), sqlite.stdout.String())
			}
			if errH == nil && strings.Count(hash.stdout.String(), "\n") == 0 {
				t.Fatal("no rows: the query tests nothing")
			}
		})
	}
}

// TestHashAggregateInsertMatchesSQLite: the files INSERT OVERWRITE writes
// are the same both ways.
func TestHashAggregateInsertMatchesSQLite(t *testing.T) {
	var files [2]string
	for i, off := range []bool{false, true} {
		e := newEnv(t)
		aggTestData(e)
		if off {
			e.run("SET dpl.hive.hashaggregate=false")
		}
		e.run("INSERT OVERWRITE TABLE out3 SELECT k, count(*), sum(g) FROM t WHERE g > 0 GROUP BY k")
		if got := e.s.RowsWritten(); got != 41 {
			t.Fatalf("rows written = %d, want 41 (40 keys and NULL)", got)
		}
		files[i] = e.get("s3://b/out3/000000_0")
	}
	if files[0] != files[1] {
		t.Fatalf("files differ:\nhash:\n%s\nsqlite:\n%s", files[0], files[1])
	}
	if !strings.HasPrefix(files[0], `\N,`) {
		t.Errorf("the NULL group should come first, as a \\N key: %q", files[0][:40])
	}
}

// TestHashAggregateJSONNumbersInStringColumn: a JSON number and the same
// digits as a JSON string are one group of a STRING column.
func TestHashAggregateJSONNumbersInStringColumn(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/j/x.json", "{\"k\":1,\"v\":2}\n{\"k\":\"1\",\"v\":3}\n{\"k\":\"a\",\"v\":4}\n")
	e.run(`CREATE EXTERNAL TABLE j (k STRING, v INT) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://b/j';
SELECT k, sum(v) FROM j GROUP BY k;`)
	if got, want := e.stdout.String(), "1\t5\na\t4\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestHashAggregatePlanRefusals(t *testing.T) {
	dir := t.TempDir()
	st, _ := objstore.NewLocal(dir)
	defer st.Close()
	s, err := NewSession(Options{Store: st, Dir: filepath.Join(dir, "hive"), Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Run(context.Background(), `CREATE TABLE t (k STRING, v INT, b BINARY);`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT k, v FROM t",                              // no aggregate
		"SELECT k, v, count(*) FROM t GROUP BY k",         // bare column outside GROUP BY
		"SELECT k, count(*) FROM t GROUP BY k ORDER BY k", // ORDER BY
		"SELECT upper(k), count(*) FROM t GROUP BY k",     // function
		"SELECT k, count(*) FROM t JOIN t u ON t.k = u.k GROUP BY k",
		"SELECT b, count(*) FROM t GROUP BY b",               // binary
		"SELECT k, sum(k) FROM t GROUP BY k",                 // sum of text
		"SELECT k, count(*) FROM t WHERE v = '1' GROUP BY k", // cross-type comparison
		"SELECT k, count(*) FROM t WHERE v IN (1, 2) GROUP BY k",
		"SELECT k, count(*) FROM t WHERE v > 1 GROUP BY k LIMIT 3",
	} {
		toks, err := lex(q, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if s.planHashAggregate(toks) != nil {
			t.Errorf("%s: planned as a hash aggregation", q)
		}
	}
}

// sameError: both nil, or both *Error with the same code and line and the
// hash error's cause within SQLite's (which adds its result code, "(1)").
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ea, okA := a.(*Error)
	eb, okB := b.(*Error)
	if !okA || !okB {
		return false
	}
	return ea.Code == eb.Code && ea.Line == eb.Line && ea.Err != nil && eb.Err != nil && strings.Contains(eb.Err.Error(), ea.Err.Error())
}

// TestFitAffinity: values are stored as SQLite stores them in a column of
// that affinity; a conversion not copied (a number into TEXT) reports false,
// which sends the query to SQLite.
func TestFitAffinity(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, tc := range []struct {
		aff  string
		in   any
		want any
		ok   bool
	}{
		{"INTEGER", int64(5), int64(5), true},
		{"INTEGER", 5.0, int64(5), true},
		{"INTEGER", 5.5, 5.5, true},
		{"INTEGER", 1e17, 1e17, true}, // beyond 2^51 a real stays real
		{"INTEGER", negZero, int64(0), true},
		{"REAL", int64(3), 3.0, true},
		{"REAL", math.NaN(), nil, true},
		{"TEXT", "x", "x", true},
		{"TEXT", int64(1), nil, false},
		{"TEXT", 1.5, nil, false},
		{"INTEGER", "12", nil, false},
		{"REAL", nil, nil, true},
	} {
		got, ok := fitAffinity(tc.aff, tc.in)
		if ok != tc.ok || ok && fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", tc.want, tc.want) {
			t.Errorf("fitAffinity(%s, %v) = %T %v, %v; want %T %v, %v", tc.aff, tc.in, got, got, ok, tc.want, tc.want, tc.ok)
		}
	}
	if got, _ := fitAffinity("REAL", negZero); math.Signbit(got.(float64)) {
		t.Error("REAL -0.0 kept its sign; SQLite stores it as 0")
	}
}
