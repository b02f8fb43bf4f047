package main

// End-to-end runs of SQL pipelines with the real binary: the corpus samples
// that load S3 into Redshift or copy between RDS and S3, run unchanged
// against local PostgreSQL (standing in for Redshift and RDS PostgreSQL)
// and MariaDB (RDS MySQL). Only parameters (--param), connection
// overrides (--set, --db-endpoint) and the input data under the local
// backend's <state-dir>/s3 differ from what a user would run on AWS.

import (
	"archive/zip"
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

// server is how to reach one kind of database server for a throwaway
// database: its driver, admin DSN and how to name a database in it.
type server struct {
	label, driver, dsn, host string
	dbDSN, jdbc              func(name string) string
	drop                     string // DROP statement, with %s for the name
	user, pw                 string
}

// throwaway creates a database on srv, dropped after the test, or skips
// loudly when the server is not configured or unreachable.
func throwaway(t *testing.T, srv server) *testDB {
	t.Helper()
	admin, err := sql.Open(srv.driver, srv.dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("SKIPPING %s end-to-end test: server at %s unreachable: %v", srv.label, srv.host, err)
	}
	name := "dpl_e2e_" + randSuffix()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	db, err := sql.Open(srv.driver, srv.dbDSN(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		_, _ = admin.Exec(fmt.Sprintf(srv.drop, name))
		admin.Close()
	})
	return &testDB{db: db, jdbc: srv.jdbc(name), name: name, user: srv.user, pw: srv.pw}
}

// newPGDB creates a PostgreSQL database dropped after the test.
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
	pw, _ := u.User.Password()
	return throwaway(t, server{label: "PostgreSQL", driver: "pgx", dsn: dsn, host: u.Host,
		dbDSN: func(name string) string { du := *u; du.Path = "/" + name; return du.String() },
		jdbc:  func(name string) string { return "jdbc:postgresql://" + u.Host + "/" + name },
		drop:  "DROP DATABASE IF EXISTS %s WITH (FORCE)", user: u.User.Username(), pw: pw})
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
	return throwaway(t, server{label: "MariaDB", driver: "mysql", dsn: dsn, host: cfg.Addr,
		dbDSN: func(name string) string { c := cfg.Clone(); c.DBName = name; return c.FormatDSN() },
		jdbc:  func(name string) string { return "jdbc:mysql://" + cfg.Addr + "/" + name },
		drop:  "DROP DATABASE IF EXISTS %s", user: cfg.User, pw: cfg.Passwd})
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

// runDplEnv is runDpl with extra environment variables for dpl.
func runDplEnv(t *testing.T, env []string, state string, args ...string) dplRun {
	t.Helper()
	bin := dplBinary(t)
	full := append([]string{"run", "--headless", "--state-dir", state, "--retry-delay", "1s", "--parallel", "2"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return dplRun{stdout: out.String(), stderr: errb.String(), code: exitCode(err)}
}

type dplRun struct {
	stdout, stderr string
	code           int
}

// runDpl runs `dpl run --headless` with the given arguments and state folder.
// flags flattens strings and string slices into one argument list.
func flags(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

// redshiftParams are the connection parameters the AWS Redshift samples
// share, pointed at the test database.
func (d *testDB) redshiftParams() []string {
	return []string{"-p", "myRedshiftJdbcConnectStr=" + d.jdbc, "-p", "myRedshiftDbName=" + d.name,
		"-p", "myRedshiftUsername=" + d.user, "-p", "*myRedshiftPassword=" + d.pw}
}

func runDpl(t *testing.T, state string, args ...string) dplRun {
	t.Helper()
	return runDplEnv(t, nil, state, args...)
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
	r := runDpl(t, state, flags(
		// The sample reads #{myRedshiftPassword} (no *) for its *password.
		pg.redshiftParams(),
		"-p", "myRedshiftSecurityGrpIds=sg-local",
		"-p", "myRedshiftTableName=unused",
		// A folder, as the sample means it: COPY loads every object under it.
		"-p", "myInputTsvFilesS3Loc=s3://tsv-files/2015-10-27",
		file)...)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, pg.pw)
	wantRows(t, pg.db, "SELECT id, name, amount FROM schemaNameInRedshift.DestRedshiftTableName ORDER BY id",
		"1|alice|10.5", "2|bob|3", "3|carol|NULL", `4|dan "the man", jr|7`, "9|keep|9")
}

// S3TsvFilesToRedshiftTablesIfReady: two loads, each behind an S3KeyExists
// precondition, into tables in the PUBLIC schema.
func TestSQLCorpusS3TsvFilesToRedshiftTablesIfReady(t *testing.T) {
	file := corpusSample(t, awslabs+"samples__S3TsvFilesToRedshiftTablesIfReady__S3TsvFilesToRedshiftTablesIfReady.json")
	pg := newPGDB(t)
	pg.exec(t, "CREATE TABLE orders (id int PRIMARY KEY, item text, qty int)",
		"CREATE TABLE customers (id int PRIMARY KEY, name text)",
		"INSERT INTO orders VALUES (1, 'stale', 0), (5, 'kept', 5)")
	state := t.TempDir()
	putS3(t, state, "s3://landing/orders.tsv", "1\tpen\t2\n2\tink\t\\N\n3\tpad\t7\n")
	putS3(t, state, "s3://landing/customers.tsv", "10\tAcme, Inc.\n11\tO'Brien\n")
	r := runDpl(t, state, flags(
		pg.redshiftParams(),
		"-p", "myRedshiftSecurityGrpIds=sg-local",
		"-p", "myInputTsvFilesS3Loc_1=s3://landing/orders.tsv",
		"-p", "myDestRedshiftTable_1=orders",
		"-p", "myInputTsvFilesS3Loc_2=s3://landing/customers.tsv",
		"-p", "myDestRedshiftTable_2=customers",
		"-p", "myLogUri=s3://logs/",
		file)...)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, pg.pw)
	wantRows(t, pg.db, "SELECT id, item, qty FROM orders ORDER BY id", "1|pen|2", "2|ink|NULL", "3|pad|7", "5|kept|5")
	wantRows(t, pg.db, "SELECT id, name FROM customers ORDER BY id", "10|Acme, Inc.", "11|O'Brien")
}

// RDStoS3: CopyActivity from a MySqlDataNode (selectQuery) to an S3 folder
// named by @scheduledStartTime.
func TestSQLCorpusRDStoS3(t *testing.T) {
	file := corpusSample(t, awslabs+"samples__RDStoS3__RDStoS3Pipeline.json")
	my := newMariaDB(t)
	my.exec(t, "CREATE TABLE sales (id INT PRIMARY KEY, item VARCHAR(40), price DECIMAL(8,2), sold DATETIME)",
		`INSERT INTO sales VALUES (1, 'pen', 1.50, '2024-03-01 10:00:00'), (2, 'ink, blue', NULL, '2024-03-02 11:30:00'), (3, 'say "hi"', 3.00, NULL)`)
	state := t.TempDir()
	r := runDpl(t, state,
		"-p", "myRDSConnectStr="+my.jdbc,
		"-p", "myRDSUsername="+my.user,
		"-p", "*myRDSPassword="+my.pw,
		"-p", "myRDSTableName=sales",
		"-p", "myOutputS3Path=s3://exports/sales",
		"-p", "myS3LogsPath=s3://logs/",
		"-p", "myEc2RdsSecurityGrps=sg-local",
		file)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, my.pw)
	got := readS3Dir(t, state, "s3://exports/sales")
	for _, want := range []string{"1,pen,1.50,2024-03-01 10:00:00", `2,"ink, blue",`, `3,"say ""hi""",3.00,`} {
		if !strings.Contains(got, want) {
			t.Errorf("export lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(strings.TrimSpace(got), "\n") + 1; n != 3 {
		t.Errorf("export has %d lines, want 3:\n%s", n, got)
	}
}

// redshiftToRDS runs one of the RedshiftToRDS samples: RedshiftCopyActivity
// unloads a Redshift table to S3, CopyActivity loads it into RDS MySQL. The
// cluster and the RDS instance are reached through --db-endpoint. Their last
// step, S3CleanupActivity, runs `sudo yum -y update aws-cli` — meant for an
// EC2 Amazon Linux host — and is expected to fail here with the shell's own
// message; everything before it must have finished.
func redshiftToRDS(t *testing.T, sample string, createTable bool) {
	file := corpusSample(t, awslabs+sample)
	pg := newPGDB(t)
	my := newMariaDB(t)
	pg.exec(t, "CREATE TABLE events (id int PRIMARY KEY, kind text, note text)",
		`INSERT INTO events VALUES (1, 'click', 'plain'), (2, 'view', 'with, comma'), (3, 'buy', NULL)`)
	create := "CREATE TABLE events_copy (id INT PRIMARY KEY, kind VARCHAR(20), note VARCHAR(40))"
	if !createTable {
		my.exec(t, create)
	}
	state := t.TempDir()
	args := []string{
		"--db-endpoint", "local-cluster=" + pg.jdbc,
		"--db-endpoint", "local-rds=" + my.jdbc,
		"-p", "myRedshiftInstanceId=local-cluster",
		"-p", "myRedshiftDatabaseName=" + pg.name,
		"-p", "myRedshiftUsername=" + pg.user,
		"-p", "*myRedshiftPassword=" + pg.pw,
		"-p", "myRedshiftTableName=events",
		"-p", "myRDSInstanceId=local-rds",
		"-p", "myRDSDatabaseName=" + my.name,
		"-p", "myRDSUsername=" + my.user,
		"-p", "*myRDSPassword=" + my.pw,
		"-p", "myRDSTableName=events_copy",
		"-p", "myInsertQueryPreparedStatement=INSERT INTO events_copy (id, kind, note) VALUES (?, ?, ?)",
		"-p", "myOutputS3Path=s3://staging/events",
		"-p", "myEc2SecurityGrps=sg-local",
		"-p", "myS3LogsPath=s3://logs/",
	}
	if createTable {
		args = append(args, "-p", "myCreateTableQuery="+create)
	}
	r := runDpl(t, state, append(args, file)...)
	r.noSecret(t, pg.pw, my.pw)
	wantRows(t, my.db, "SELECT id, kind, note FROM events_copy ORDER BY id", "1|click|plain", "2|view|with, comma", "3|buy|NULL")
	if r.code != 1 {
		t.Fatalf("want exit 1 (S3CleanupActivity needs sudo and yum on EC2):\n%s", r)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, " FAILED ") && strings.Contains(line, "@") && !strings.Contains(line, "@S3CleanupActivity_") {
			t.Errorf("only S3CleanupActivity may fail: %s", line)
		}
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "@S3CleanupActivity_") {
			t.Logf("expected failure: %s", line)
		}
	}
	// The failure says what the command needed, in the shell's words.
	if !strings.Contains(r.stdout, "@S3CleanupActivity_") || !strings.Contains(r.stdout, "sudo") {
		t.Errorf("the summary does not name the failed cleanup and its command:\n%s", r)
	}
}

func TestSQLCorpusRedshiftToRDSWithoutRDSCreate(t *testing.T) {
	redshiftToRDS(t, "samples__RedshiftToRDS__RedshiftToRDS_WithoutRDSCreate.json", false)
}

func TestSQLCorpusRedshiftToRDSWithTableCreate(t *testing.T) {
	redshiftToRDS(t, "samples__RedshiftToRDS__RedshiftToRDS_withTableCreate.json", true)
}

// s3ToPostgresRDS (pushpeshg) cannot run unchanged: it declares only
// myFilePath and myUsername but refers to nine other parameters and gives
// values for them. The service rejects such a definition, and so does dpl:
// exit 2 before anything runs, each undeclared parameter named with its
// position.
func TestSQLCorpusS3ToPostgresRDSRefused(t *testing.T) {
	file := corpusSample(t, "pushpeshg-data-pipeline-samples/samples__S3ToPostgresRDS__s3ToPostgresRDS@a6ab05d.json")
	pg := newPGDB(t)
	state := t.TempDir()
	r := runDpl(t, state,
		"--db-endpoint", "local-postgres="+pg.jdbc,
		"-p", "myUsername="+pg.user,
		"-p", "myFilePath=s3://input/names.csv",
		file)
	if r.code != 2 {
		t.Fatalf("want exit 2 (definition errors):\n%s", r)
	}
	for _, want := range []string{
		`field "rdsInstanceId": UNKNOWN_PARAMETER: #{myRdsInstanceId} is neither a declared parameter`,
		`a value is given for "mySchemaName", which is not a declared parameter`,
		"nothing was run",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "work")); err == nil {
		t.Errorf("a refused definition ran something (work folder exists)")
	}
}

// SQLActivityWithTimeout: a SqlActivity whose scriptUri is a fixed
// s3://data-pipeline-samples/... object (put into the local store) against an
// RdsDatabase with no databaseName (the --db-endpoint URL names it).
func TestSQLCorpusSQLActivityWithTimeout(t *testing.T) {
	file := corpusSample(t, awslabs+"samples__SQLActivityWithTimeout__pipeline.json")
	my := newMariaDB(t)
	state := t.TempDir()
	putS3(t, state, "s3://data-pipeline-samples/sqlactivity/script.sql",
		"CREATE TABLE IF NOT EXISTS heartbeat (id INT PRIMARY KEY, note VARCHAR(40));\nINSERT INTO heartbeat VALUES (1, 'from scriptUri; with a semicolon');\n")
	r := runDpl(t, state,
		"--db-endpoint", "local-rds="+my.jdbc,
		"-p", "myRDSId=local-rds",
		"-p", "myRDSUsername="+my.user,
		"-p", "myRDSPassword="+my.pw,
		"-p", "myS3LogsPath=s3://logs/",
		file)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, my.pw)
	wantRows(t, my.db, "SELECT id, note FROM heartbeat", "1|from scriptUri; with a semicolon")
}

// fixtureSQL copies fixtures/sql/sales.csv into a fresh state folder's
// local S3 (where the fixture's default myInputFile points).
func fixtureSQL(t *testing.T) (file, state string) {
	t.Helper()
	file, _ = filepath.Abs("../../fixtures/sql/sqlite-roundtrip.json")
	csv, err := os.ReadFile("../../fixtures/sql/sales.csv")
	if err != nil {
		t.Fatal(err)
	}
	state = t.TempDir()
	putS3(t, state, "s3://dpl-fixtures/sql/sales.csv", string(csv))
	return file, state
}

// The embedded SQLite fixture needs no server: CSV from S3 into a
// SqlDataNode (createTableSql, insertQuery), a SqlActivity with a bound
// scriptArgument, then a selectQuery SqlDataNode back out to S3.
func TestSQLFixtureSQLiteRoundTrip(t *testing.T) {
	file, state := fixtureSQL(t)
	dbPath := filepath.Join(t.TempDir(), "sales.db")
	r := runDpl(t, state, "-p", "myDbPath="+dbPath, "-p", "myMinAmount=1", file)
	if r.code != 0 {
		t.Fatal(r)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantRows(t, db, "SELECT id, region, amount, note FROM sales ORDER BY id",
		"1|north|10.5|plain", "2|south|3|with, comma", "3|north|0.5|too small", `4|east|7.25|say "hi"`, "5|south|4|NULL")
	wantRows(t, db, "SELECT region, total, sales FROM totals ORDER BY region", "east|7.25|1", "north|10.5|1", "south|7|2")
	if got, want := readS3Dir(t, state, "s3://dpl-fixtures/sql/totals"), "east,7.25,1\nnorth,10.5,1\nsouth,7,2\n"; got != want {
		t.Errorf("exported totals:\n%s\nwant\n%s", got, want)
	}
}

// --set points the fixture's database at another file and replaces its
// secret; the secret is never printed, and plan lists the overrides.
func TestSetOverridesConnection(t *testing.T) {
	file, state := fixtureSQL(t)
	dbPath := filepath.Join(t.TempDir(), "override.db")
	const secret = "s3cr3t-never-shown"
	sets := []string{"--set", "LocalDb.connectionString=jdbc:sqlite:" + dbPath, "--set", "LocalDb.*password=" + secret,
		"--set", "Summarize.scriptArgument=5"}
	r := runDpl(t, state, append(sets, file)...)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, secret)
	if !strings.Contains(r.stderr, "--set LocalDb.*password = ********") || !strings.Contains(r.stderr, "--set LocalDb.connectionString = jdbc:sqlite:"+dbPath) {
		t.Errorf("run does not list its overrides:\n%s", r.stderr)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// scriptArgument 5 leaves out every sale under 5.
	wantRows(t, db, "SELECT region, total, sales FROM totals ORDER BY region", "east|7.25|1", "north|10.5|1")

	out, err := exec.Command(dplBinary(t), append([]string{"plan"}, append(sets, file)...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if strings.Contains(string(out), secret) || !strings.Contains(string(out), "LocalDb.*password = ********") ||
		!strings.Contains(string(out), "Summarize.scriptArgument = 5") {
		t.Errorf("plan output:\n%s", out)
	}
}

// A --set naming no object is a usage error with a suggestion; a --set
// giving a bad value is a definition error located at the flag.
func TestSetErrors(t *testing.T) {
	file, _ := filepath.Abs("../../fixtures/sql/sqlite-roundtrip.json")
	bin := dplBinary(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", "--set", "LocalDB.username=x", file}, 2, `has no object with id "LocalDB" (did you mean "LocalDb"?)`},
		{[]string{"run", "--headless", "--state-dir", t.TempDir(), "--set", "Nowhere.*password=hunter2", file}, 2, `--set Nowhere.*password=********: `},
		{[]string{"validate", "--set", "Worker.terminateAfter=soon", "--set", "LocalDb.bogus=1", file}, 1, "--set:2:1: error: Object \"LocalDb\" field \"bogus\""},
		{[]string{"plan", "--set", "Summarize", file}, 2, "want ObjectId.field=value"},
		{[]string{"eval", "--file", file, "--object", "LocalDb", "--set", "LocalDb.username=bob", "#{username}@#{connectionString}"}, 0, "bob@jdbc:sqlite:sql-roundtrip.db"},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		if code := exitCode(err); code != tc.code || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "hunter2") {
			t.Errorf("dpl %s: exit %d, want %d with %q:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out)
		}
	}
}

// untilAfterFirst bounds a daily schedule that starts at activation to its
// first instance.
func untilAfterFirst() string {
	return time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05")
}

const songsCSV = "TR1,Song A,SO1,Rel,AR1,mb1,Artist One,201.5,0.5,0.7,1999\nTR2,\"Song, B\",SO2,Rel2,AR2,mb2,Two,180,0.1,0.2,2001\n"

// sqoop/RDSToS3/redshiftpipelinedef: RedshiftCopyActivity from an S3 folder
// into a table created by the sample's Redshift DDL (distkey, sortkey). The
// file's own value myInsertMode=OVERWRITE_EXISTING is outside its
// allowedValues (TRUNCATE), so --param gives TRUNCATE.
func TestSQLCorpusSqoopRedshiftPipelineDef(t *testing.T) {
	file := corpusSample(t, awslabs+"samples__sqoop__RDSToS3__redshiftpipelinedef@190c49d.json")
	pg := newPGDB(t)
	state := t.TempDir()
	putS3(t, state, "s3://songs/in/part-m-00005", songsCSV)
	r := runDpl(t, state, flags("--until", untilAfterFirst(),
		"-p", "myInsertMode=TRUNCATE",
		pg.redshiftParams(),
		"-p", "myInputS3Loc=s3://songs/in",
		"-p", "myRedshiftCopyOpts=CSV",
		"-p", "myPrimaryKeys=track_id",
		file)...)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, pg.pw)
	wantRows(t, pg.db, "SELECT track_id, title, artist_name, duration, year FROM songs ORDER BY track_id",
		"TR1|Song A|Artist One|201.5|1999", "TR2|Song, B|Two|180|2001")
}

// sqoop/SampleCopyS3ToRedshift: the same load with the file's own values
// (a real cluster's address and password) replaced by --param, TRUNCATE
// into a table the test creates (the sample has no createTableSql value).
func TestSQLCorpusSqoopSampleCopyS3ToRedshift(t *testing.T) {
	file := corpusSample(t, awslabs+"samples__sqoop__SampleCopyS3ToRedshift@51e47fd.json")
	pg := newPGDB(t)
	pg.exec(t, "CREATE TABLE songs (track_id varchar(2048) PRIMARY KEY, title varchar(2048), song_id varchar(2048), release_name varchar(2048), artist_id varchar(2048), artist_mbid varchar(2048), artist_name varchar(2048), duration float, artist_familiarity float, artist_hotness float, year int)",
		"INSERT INTO songs (track_id, title) VALUES ('OLD', 'truncated away')")
	state := t.TempDir()
	putS3(t, state, "s3://songs/in/part-m-00005", songsCSV)
	r := runDpl(t, state, flags(
		pg.redshiftParams(),
		"-p", "myInputS3Loc=s3://songs/in",
		"-p", "myRedshiftCopyOpts=CSV",
		"-p", "myPrimaryKeys=track_id",
		"-p", "myRedshiftCreateTableSql=",
		file)...)
	if r.code != 0 {
		t.Fatal(r)
	}
	r.noSecret(t, pg.pw)
	wantRows(t, pg.db, "SELECT track_id, title, year FROM songs ORDER BY track_id", "TR1|Song A|1999", "TR2|Song, B|2001")
}

// billing/template: a ShellCommandActivity unzips the month's detailed
// billing report into gzip on its staged output, RedshiftCopyActivity loads
// it (GZIP, CSV, IGNOREHEADER AS 1, OVERWRITE_EXISTING) into the table its
// Redshift DDL creates, and a cleanup runs `sudo yum ...`.
//
// The unzip command uses bash syntax (${fname//.zip/.gz}): on Amazon Linux
// /bin/sh is bash. With this machine's sh (dash on Debian) it fails with
// "Bad substitution"; with a bash `sh` first on PATH it loads the rows and
// only the EC2-only cleanup fails.
func TestSQLCorpusBillingTemplate(t *testing.T) {
	file := corpusSample(t, awslabs+"samples__billing__template.json")
	for _, tool := range []string{"unzip", "gzip", "find", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPING billing sample: the sample's command needs %s", tool)
		}
	}
	month := time.Now().UTC().Format("2006-01")
	name := "123456789012-aws-billing-detailed-line-items-" + month + ".csv"
	csv := "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,ProductName,RateId,SubscriptionId,PricingPlanId,UsageType,Operation,AvailabilityZone,ReservedInstance,ItemDescription,UsageStartDate,UsageEndDate,UsageQuantity,BlendedRate,BlendedCost,UnBlendedRate,UnBlendedCost\n" +
		"inv1,123,456,LineItem,Amazon EC2,1,2,3,BoxUsage,RunInstances,us-east-1a,N,\"t2.micro, Linux\",2024-01-01 00:00:00,2024-01-01 01:00:00,1,0.0116,0.0116,0.0116,0.0116\n" +
		"inv2,123,456,LineItem,Amazon S3,4,5,6,Requests,GetObject,,N,\"GET \"\"requests\"\"\",2024-01-01 00:00:00,2024-01-01 01:00:00,1000,0.0004,0.4,0.0004,0.4\n"
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create(name)
	w.Write([]byte(csv))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	params := func(pg *testDB) []string {
		return []string{"--until", untilAfterFirst(),
			"-p", "myS3BillingLogLoc=s3://billing/reports",
			"-p", "myS3StagingLoc=s3://billing/staging",
			"-p", "myRedshiftJdbcConnectStr=" + pg.jdbc,
			"-p", "myRedshiftDbName=" + pg.name,
			"-p", "myRedshiftUsername=" + pg.user,
			"-p", "*myRedshiftPassword=" + pg.pw,
			"-p", "myRedshiftTableName=billing",
			file}
	}

	t.Run("dash", func(t *testing.T) {
		if target, _ := filepath.EvalSymlinks("/bin/sh"); strings.HasSuffix(target, "bash") {
			t.Skip("this machine's sh is bash: the sample's bash syntax works")
		}
		pg := newPGDB(t)
		state := t.TempDir()
		putS3(t, state, "s3://billing/reports/"+name+".zip", zbuf.String())
		r := runDpl(t, state, params(pg)...)
		r.noSecret(t, pg.pw)
		if r.code != 1 || !strings.Contains(r.stdout, "@ZipFormatConversionActivity_") || !strings.Contains(r.stdout, "Bad substitution") {
			t.Fatalf("want exit 1 with ZipFormatConversionActivity failing on bash syntax:\n%s", r)
		}
	})
	t.Run("bash as sh", func(t *testing.T) {
		pg := newPGDB(t)
		state := t.TempDir()
		putS3(t, state, "s3://billing/reports/"+name+".zip", zbuf.String())
		bin := t.TempDir()
		if err := os.Symlink(mustLookPath(t, "bash"), filepath.Join(bin, "sh")); err != nil {
			t.Fatal(err)
		}
		r := runDplEnv(t, []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}, state, params(pg)...)
		r.noSecret(t, pg.pw)
		wantRows(t, pg.db, "SELECT invoice_id, product_name, item_description, unblended_cost FROM billing ORDER BY invoice_id",
			"inv1|Amazon EC2|t2.micro, Linux|0.0116", `inv2|Amazon S3|GET "requests"|0.4`)
		if r.code != 1 || !strings.Contains(r.stdout, "@S3StagingCleanupActivity_") || !strings.Contains(r.stdout, "sudo") {
			t.Fatalf("want exit 1 with only the sudo cleanup failing:\n%s", r)
		}
	})
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("SKIPPING: %s not installed", name)
	}
	return p
}

// Corpus samples that cannot run on this machine: each stops with a
// message that says why (a program of the EMR/EC2 image, a backend dpl
// lacks locally, or parameters the definition never declares).
func TestSQLCorpusUnrunnable(t *testing.T) {
	placeholders := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, "-p", id+"=x")
		}
		return out
	}
	for _, tc := range []struct {
		sample string
		args   []string
		code   int
		want   []string
	}{
		{"samples__S3ToRdsSqoop__sqoop_activity.json",
			[]string{"-p", "myRdsEndpoint=127.0.0.1:3306", "-p", "myRdsDatabaseName=db", "-p", "myRdsTableName=t", "-p", "myRdsUsername=u",
				"-p", "*myRdsPassword=never-printed", "-p", "myS3InputDataLocation=s3://in", "-p", "myPipelineLogUri=s3://logs/"},
			1, []string{"@SqoopActivity_", `"sqoop" is not installed on this machine`}},
		{"samples__S3ToRdsSqoop__sqoop_activity.json", nil,
			2, []string{`MISSING_PARAMETER_VALUE: parameter "myRdsEndpoint" has no value`, "give one with --param myRdsEndpoint=VALUE", "nothing was run"}},
		{"samples__DynamoDBToRedshiftConvertDataUsingHive__DynamoDBtoRedshiftHiveCSV.json",
			append(placeholders("myDDBTableColMapping", "myDDBTableName", "myHiveSelectColumns", "myRedshiftCreateTableQuery", "myRedshiftEndpoint",
				"myRedshiftPrimaryKeys", "myRedshiftTable", "myRedshiftUsername", "myS3SourceColMapping", "myS3TargetColMapping"),
				"-p", "*myRedshiftPassword=never-printed", "-p", "myOutputS3Loc=s3://out", "-p", "myLogUri=s3://logs/", "--until", untilAfterFirst()),
			// The placeholder column list "x" is not a Hive column definition: the embedded Hive names the spot and does not retry.
			1, []string{"@TableBackupStagingActivity_", "[Hive_SyntaxError] line 5, column 39: expected a column type, found ')'", "not retried"}},
		{"samples__dynamo-db-to-redshift__dynamo-db-to-redshift.json", nil,
			1, []string{"@DefaultRedshiftCopyActivity1_", "not supported by the local runner yet: RedshiftCopyActivity from a DynamoDBDataNode"}},
		{"samples__RedshiftCopyActivityFromDynamoDBTable__RedshiftCopyActivityFromDynamoDBTable.json", nil,
			2, []string{`error: Object "ActivityId_vmVn4" field "script": UNKNOWN_PARAMETER: #{myScript} is neither a declared parameter`, "nothing was run"}},
		{"samples__oracle-backup__definition.json", nil,
			2, []string{`error: Object "Instance" field "terminateAfter": UNKNOWN_PARAMETER: #{myTerminateAfter}`, "nothing was run"}},
	} {
		t.Run(strings.TrimSuffix(tc.sample, ".json"), func(t *testing.T) {
			file := corpusSample(t, awslabs+tc.sample)
			state := t.TempDir()
			r := runDpl(t, state, append(tc.args, file)...)
			r.noSecret(t, "never-printed")
			if r.code != tc.code {
				t.Fatalf("want exit %d:\n%s", tc.code, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("output lacks %q:\n%s", w, r)
				}
			}
		})
	}
}

// A run started with --set stores the definition with its overrides:
// set-status works on it, and continuing needs the same flags.
func TestSetResumeNeedsSameFlags(t *testing.T) {
	file, state := fixtureSQL(t)
	dir := filepath.Join(t.TempDir(), "not-yet")
	set := []string{"--set", "LocalDb.connectionString=jdbc:sqlite:" + filepath.Join(dir, "x.db")}
	r := runDpl(t, state, append(set, file)...)
	if r.code != 1 {
		t.Fatalf("want exit 1 (the database folder does not exist):\n%s", r)
	}
	bin := dplBinary(t)
	out, err := exec.Command(bin, "runs", "--state-dir", state, "--status", "FAILED", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var failed string
	for _, f := range strings.Split(string(out), `"`) {
		if strings.HasPrefix(f, "@LoadSales_") {
			failed = f
			break
		}
	}
	if failed == "" {
		t.Fatalf("no failed LoadSales instance in:\n%s", out)
	}
	out, err = exec.Command(bin, "rerun", "--state-dir", state, failed).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "with the same --set flags") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	if r := runDpl(t, state, file); r.code != 2 || !strings.Contains(r.stderr, "--set flags count as part of the definition") {
		t.Fatalf("continuing without the --set flags: want exit 2 naming them:\n%s", r)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r = runDpl(t, state, append(set, file)...)
	if !strings.Contains(r.stdout, "run 1 of") {
		t.Fatalf("the same --set flags did not continue run 1:\n%s", r)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantRows(t, db, "SELECT count(*) FROM sales", "5")
}
