package activity

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/executor/task"
)

// TestSQLiteRoundTrip runs the SQL activities on the embedded SQLite
// driver: a SqlActivity creates and fills a table with bound arguments, a
// CopyActivity exports it to S3 as TSV and another loads that file into a
// second table whose content is checked through a final export.
func TestSQLiteRoundTrip(t *testing.T) {
	r, store := newRunner(t)
	dbPath := filepath.Join(t.TempDir(), "app.db")
	db := obj("Db", "type", "JdbcDatabase", "connectionString", "jdbc:sqlite:"+dbPath,
		"jdbcDriverClass", "org.sqlite.JDBC", "username", "u", "*password", "pw")
	tsv := obj("Tsv", "type", "TSV")

	sqlAct := obj("@Init_Attempt=1", "type", "SqlActivity", "database", "ref:Db",
		"script", "CREATE TABLE src (id INTEGER, name TEXT); INSERT INTO src VALUES (1, ?); INSERT INTO src VALUES (2, ?);",
		"scriptArgument", "tab\there", "scriptArgument", "plain")
	if res, _, errs := run(t, r, newTask(sqlAct, db)); res.Status != task.Finished {
		t.Fatalf("SqlActivity: %s %s %s", res.Status, res.ErrorMessage, errs)
	}

	src := obj("@Src_1", "type", "SqlDataNode", "database", "ref:Db", "table", "src", "selectQuery", "SELECT id, name FROM src ORDER BY id")
	s3 := obj("@S3_1", "type", "S3DataNode", "filePath", "s3://b/export.tsv", "dataFormat", "ref:Tsv")
	export := obj("@Export_Attempt=1", "type", "CopyActivity", "input", "ref:@Src_1", "output", "ref:@S3_1")
	if res, _, errs := run(t, r, newTask(export, src, s3, db, tsv)); res.Status != task.Finished {
		t.Fatalf("export: %s %s %s", res.Status, res.ErrorMessage, errs)
	}
	if got := read(t, store, "s3://b/export.tsv"); got != "1\ttab\\there\n2\tplain\n" {
		t.Fatalf("export = %q", got)
	}

	dst := obj("@Dst_1", "type", "SqlDataNode", "database", "ref:Db", "table", "dst",
		"createTableSql", "CREATE TABLE dst (id INTEGER, name TEXT)")
	load := obj("@Load_Attempt=1", "type", "CopyActivity", "input", "ref:@S3_1", "output", "ref:@Dst_1")
	if res, _, errs := run(t, r, newTask(load, s3, dst, db, tsv)); res.Status != task.Finished {
		t.Fatalf("load: %s %s %s", res.Status, res.ErrorMessage, errs)
	}
	dstSel := obj("@DstSel_1", "type", "SqlDataNode", "database", "ref:Db", "table", "dst", "selectQuery", "SELECT name FROM dst ORDER BY id")
	s3b := obj("@S3b_1", "type", "S3DataNode", "filePath", "s3://b/check.tsv", "dataFormat", "ref:Tsv")
	check := obj("@Check_Attempt=1", "type", "CopyActivity", "input", "ref:@DstSel_1", "output", "ref:@S3b_1")
	if res, _, errs := run(t, r, newTask(check, dstSel, s3b, db, tsv)); res.Status != task.Finished {
		t.Fatalf("check: %s %s %s", res.Status, res.ErrorMessage, errs)
	}
	if got := read(t, store, "s3://b/check.tsv"); got != "tab\\there\nplain\n" {
		t.Errorf("round trip = %q", got)
	}
}

func TestSqlActivityFailureNamesStatementNotPassword(t *testing.T) {
	r, _ := newRunner(t)
	db := obj("Db", "type", "JdbcDatabase", "connectionString", "jdbc:sqlite:"+filepath.Join(t.TempDir(), "x.db"),
		"jdbcDriverClass", "org.sqlite.JDBC", "username", "u", "*password", "hunter2-secret")
	a := obj("@Bad_Attempt=1", "type", "SqlActivity", "database", "ref:Db", "script", "SELECT 1; SELEKT nonsense;")
	res, _, _ := run(t, r, newTask(a, db))
	if res.Status != task.Failed || !strings.Contains(res.ErrorMessage, "statement 2 of 2") {
		t.Errorf("got %s %q", res.Status, res.ErrorMessage)
	}
	if strings.Contains(res.ErrorMessage, "hunter2") {
		t.Errorf("password leaked: %q", res.ErrorMessage)
	}
}

// TestRedshiftCopyOnPostgres loads S3 CSV into PostgreSQL with
// OVERWRITE_EXISTING (a primary-key merge) when a server is available.
func TestRedshiftCopyOnPostgres(t *testing.T) {
	dsn := os.Getenv("DPL_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("SKIPPING: DPL_TEST_PG_DSN is not set (source .ci/databases.sh to start PostgreSQL)")
	}
	host := strings.TrimPrefix(strings.SplitN(strings.SplitN(dsn, "@", 2)[1], "/", 2)[0], "")
	r, store := newRunner(t)
	db := obj("Rs", "type", "RedshiftDatabase", "connectionString", "jdbc:postgresql://"+host+"/postgres",
		"username", os.Getenv("DPL_TEST_DB_USER"), "*password", os.Getenv("DPL_TEST_DB_PASSWORD"))
	table := "dpl_act_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	ctx := context.Background()
	setup := obj("@Setup_Attempt=1", "type", "SqlActivity", "database", "ref:Rs",
		"script", "DROP TABLE IF EXISTS "+table+"; CREATE TABLE "+table+" (id int primary key, v text); INSERT INTO "+table+" VALUES (1, 'old'), (3, 'keep');")
	if res, _, _ := run(t, r, newTask(setup, db)); res.Status != task.Finished {
		t.Skipf("SKIPPING: PostgreSQL not reachable: %s", res.ErrorMessage)
	}
	t.Cleanup(func() {
		drop := obj("@Drop_Attempt=1", "type", "SqlActivity", "database", "ref:Rs", "script", "DROP TABLE IF EXISTS "+table)
		r.Run(ctx, newTask(drop, db), task.Logs{Stdout: io.Discard, Stderr: io.Discard})
	})
	put(t, store, "s3://b/load/part-0.csv", "1,new\n2,added\n")
	csv := obj("Csv", "type", "CSV")
	in := obj("@In_1", "type", "S3DataNode", "directoryPath", "s3://b/load", "dataFormat", "ref:Csv")
	out := obj("@Out_1", "type", "RedshiftDataNode", "database", "ref:Rs", "tableName", table)
	a := obj("@Load_Attempt=1", "type", "RedshiftCopyActivity", "input", "ref:@In_1", "output", "ref:@Out_1",
		"insertMode", "OVERWRITE_EXISTING", "commandOptions", "CSV")
	if res, _, errs := run(t, r, newTask(a, in, out, db, csv)); res.Status != task.Finished {
		t.Fatalf("%s %s %s", res.Status, res.ErrorMessage, errs)
	}
	s3 := obj("@S3_1", "type", "S3DataNode", "filePath", "s3://b/out.csv", "dataFormat", "ref:Csv")
	sel := obj("@Sel_1", "type", "SqlDataNode", "database", "ref:Rs", "table", table, "selectQuery", "SELECT id, v FROM "+table+" ORDER BY id")
	exp := obj("@Exp_Attempt=1", "type", "CopyActivity", "input", "ref:@Sel_1", "output", "ref:@S3_1")
	if res, _, errs := run(t, r, newTask(exp, sel, s3, db, csv)); res.Status != task.Finished {
		t.Fatalf("%s %s %s", res.Status, res.ErrorMessage, errs)
	}
	if got := read(t, store, "s3://b/out.csv"); got != "1,new\n2,added\n3,keep\n" {
		t.Errorf("table after OVERWRITE_EXISTING = %q", got)
	}
}

func read(t *testing.T, s interface {
	Open(context.Context, string) (io.ReadCloser, error)
}, uri string) string {
	t.Helper()
	rc, err := s.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}
