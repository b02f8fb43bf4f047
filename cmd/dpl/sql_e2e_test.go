package main

// End-to-end runs of SQL pipelines with the real binary: the corpus samples
// that load S3 into Redshift or copy between RDS and S3, run unchanged
// against local PostgreSQL (standing in for Redshift and RDS PostgreSQL)
// and MariaDB (RDS MySQL). Only parameters (--param), connection
// overrides (--set, --db-endpoint) and the input data under the local
// backend's <state-dir>/s3 differ from what a user would run on AWS.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"
)

// testDB is a throwaway database on a real server.
type testDB struct {
	db       *sql.DB
	jdbc     string // jdbc:postgresql://host:port/name or jdbc:mysql://...
	name     string
	user, pw string
}

func randSuffix() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newPGDB creates a PostgreSQL database dropped after the test, or skips
// loudly when no server is configured or reachable.
func newPGDB(t *testing.T) *testDB {
	t.Helper()
	dsn := os.Getenv("DPL_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("SKIPPING PostgreSQL end-to-end test: DPL_TEST_PG_DSN is unset (run `source .ci/databases.sh`)")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DPL_TEST_PG_DSN is not a URL: %v", err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("SKIPPING PostgreSQL end-to-end test: server at %s unreachable: %v", u.Host, err)
	}
	name := "dpl_e2e_" + randSuffix()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	pw, _ := u.User.Password()
	du := *u
	du.Path = "/" + name
	db, err := sql.Open("pgx", du.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	return &testDB{db: db, jdbc: "jdbc:postgresql://" + u.Host + "/" + name, name: name, user: u.User.Username(), pw: pw}
}

// newMariaDB creates a MySQL/MariaDB database dropped after the test.
func newMariaDB(t *testing.T) *testDB {
	t.Helper()
	dsn := os.Getenv("DPL_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Skip("SKIPPING MariaDB end-to-end test: DPL_TEST_MYSQL_DSN is unset (run `source .ci/databases.sh`)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("DPL_TEST_MYSQL_DSN: %v", err)
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("SKIPPING MariaDB end-to-end test: server at %s unreachable: %v", cfg.Addr, err)
	}
	name := "dpl_e2e_" + randSuffix()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	c := cfg.Clone()
	c.DBName = name
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	})
	return &testDB{db: db, jdbc: "jdbc:mysql://" + cfg.Addr + "/" + name, name: name, user: cfg.User, pw: cfg.Passwd}
}

func (d *testDB) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := d.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rows returns a query's rows, each as its columns joined by "|" (NULL
// as "NULL"), so expectations read like a table.
func queryRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantRows(t *testing.T, db *sql.DB, q string, want ...string) {
	t.Helper()
	got := queryRows(t, db, q)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot\n  %s\nwant\n  %s", q, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// corpusSample returns the path of a corpus definition or skips.
func corpusSample(t *testing.T, rel string) string {
	t.Helper()
	for _, dir := range []string{os.Getenv("DPL_CORPUS_DIR"), "../../../shared/corpus/files", "/work/shared/corpus/files"} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	t.Skipf("SKIPPING corpus end-to-end test: %s not found (set DPL_CORPUS_DIR)", rel)
	return ""
}

// putS3 writes an object into the local backend's store.
func putS3(t *testing.T, state, uri, content string) {
	t.Helper()
	key, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		t.Fatalf("not an s3 URI: %s", uri)
	}
	p := filepath.Join(state, "s3", filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readS3Dir concatenates every object below an s3:// folder of the local
// backend (sorted by key).
func readS3Dir(t *testing.T, state, uri string) string {
	t.Helper()
	root := filepath.Join(state, "s3", filepath.FromSlash(strings.TrimPrefix(uri, "s3://")))
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	return b.String()
}

type dplRun struct {
	stdout, stderr string
	code           int
}

// runDpl runs `dpl run --headless` with the given arguments and state folder.
func runDpl(t *testing.T, state string, args ...string) dplRun {
	t.Helper()
	bin := dplBinary(t)
	full := append([]string{"run", "--headless", "--state-dir", state, "--retry-delay", "1s", "--parallel", "2"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return dplRun{stdout: out.String(), stderr: errb.String(), code: exitCode(err)}
}

func (r dplRun) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// noSecret fails when a password shows up in the run's output.
func (r dplRun) noSecret(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
			t.Errorf("the password appears in dpl's output:\n%s", r)
		}
	}
}

const awslabs = "awslabs-data-pipeline-samples/"

// LoadTsvFilesInS3ToRedshift: RedshiftCopyActivity OVERWRITE_EXISTING from
// a TSV S3DataNode into an existing table with a primary key.
func TestSQLCorpusLoadTsvFilesInS3ToRedshift(t *testing.T) {
	file := corpusSample(t, awslabs+"samples__LoadTsvFilesInS3ToRedshift__LoadTsvFilesInS3ToRedshift.json")
	pg := newPGDB(t)
	pg.exec(t, "CREATE SCHEMA schemaNameInRedshift",
		"CREATE TABLE schemaNameInRedshift.DestRedshiftTableName (id int PRIMARY KEY, name text, amount numeric)",
		"INSERT INTO schemaNameInRedshift.DestRedshiftTableName VALUES (2, 'old', 1), (9, 'keep', 9)")
	state := t.TempDir()
	putS3(t, state, "s3://tsv-files/2015-10-27/part-0.tsv", "1\talice\t10.5\n2\tbob\t3\n3\tcarol\t\\N\n4\tdan \"the man\", jr\t7\n")
	r := runDpl(t, state,
		"-p", "myRedshiftJdbcConnectStr="+pg.jdbc,
		"-p", "myRedshiftDbName="+pg.name,
		"-p", "myRedshiftUsername="+pg.user,
		"-p", "*myRedshiftPassword="+pg.pw,
		// The sample reads #{myRedshiftPassword} (no *) for its *password
		// field: point the field at the parameter (see the report).
		"--set", "RedshiftCluster.*password=#{*myRedshiftPassword}",
		"-p", "myRedshiftSecurityGrpIds=sg-local",
		"-p", "myRedshiftTableName=unused",
		// The sample's folder parameter names one file here: prefix
		// loads (COPY FROM a folder) are not read by the local store yet.
		"-p", "myInputTsvFilesS3Loc=s3://tsv-files/2015-10-27/part-0.tsv",
		file)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, pg.pw)
	wantRows(t, pg.db, "SELECT id, name, amount FROM schemaNameInRedshift.DestRedshiftTableName ORDER BY id",
		"1|alice|10.5", "2|bob|3", "3|carol|NULL", `4|dan "the man", jr|7`, "9|keep|9")
}
