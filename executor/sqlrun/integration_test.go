package sqlrun

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
)

var ctx = context.Background()

// typedTable creates the round-trip table in the dialect's types.
func typedTable(t *testing.T, c *Conn, name string) {
	t.Helper()
	ts, dbl := "timestamp", "double precision"
	switch c.Dialect {
	case MySQL:
		ts, dbl = "datetime(6)", "double"
	case SQLite:
		ts, dbl = "timestamp", "real"
	}
	mustExec(t, c, fmt.Sprintf(`CREATE TABLE %s (id integer PRIMARY KEY, big bigint, amount decimal(12,3), ratio %s, label varchar(200), created %s)`, name, dbl, ts))
}

func TestRunScript(t *testing.T) {
	eachDialect(t, func(t *testing.T, c *Conn) {
		mustExec(t, c, "CREATE TABLE items (id integer PRIMARY KEY, name varchar(50))")
		script := `-- load two items; the second name has a ; inside quotes
INSERT INTO items (id, name) VALUES (?, ?);
/* block; comment */
INSERT INTO items (id, name) VALUES (?, 'semi;colon');
UPDATE items SET name = CONCAT_NAME WHERE id = $1;
`
		concat := "name || '!'"
		if c.Dialect == MySQL {
			concat = "CONCAT(name, '!')"
		}
		script = strings.Replace(script, "CONCAT_NAME", concat, 1)
		if err := RunScript(ctx, c, script, []string{"1", "first", "2"}); err != nil {
			t.Fatal(err)
		}
		if got, want := dump(t, c, "SELECT id, name FROM items ORDER BY id"), "1|first!\n2|semi;colon"; got != want {
			t.Errorf("rows:\n%s\nwant\n%s", got, want)
		}

		// A failing third statement rolls back the first two and is named.
		bad := "INSERT INTO items VALUES (10, 'x');\nINSERT INTO items VALUES (11, 'y');\n\nINSERT INTO no_such_table VALUES (1);"
		err := RunScript(ctx, c, bad, nil)
		if err == nil {
			t.Fatal("failing script succeeded")
		}
		msg := err.Error()
		if !strings.Contains(msg, "statement 3 of 3 (line 4: INSERT INTO no_such_table VALUES (1))") || !strings.Contains(strings.ToLower(msg), "no_such_table") {
			t.Errorf("error does not name the failing statement: %s", msg)
		}
		if got := dump(t, c, "SELECT count(*) FROM items WHERE id >= 10"); got != "0" {
			t.Errorf("rows of the failed run were committed: %s", got)
		}
		if err := RunScript(ctx, c, "select ?", nil); err == nil {
			t.Error("placeholder without arguments succeeded")
		}
		if err := RunScript(ctx, c, "insert into items values (?, ?)", []string{"5"}); err == nil || !strings.Contains(err.Error(), "placeholder 2 has no scriptArgument") {
			t.Errorf("missing argument: %v", err)
		}
	})
}

func TestRunScriptDollarQuotedFunction(t *testing.T) {
	_, c := newPG(t)
	script := `CREATE FUNCTION add_one(i integer) RETURNS integer AS $$
BEGIN
  RETURN i + 1; -- semicolons inside the body
END;
$$ LANGUAGE plpgsql;
CREATE TABLE r AS SELECT add_one($1::int) AS v;`
	if err := RunScript(ctx, c, script, []string{"41"}); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, c, "SELECT v FROM r"); got != "42" {
		t.Errorf("v = %s", got)
	}
}

// The same tricky values survive a load into each database and an export
// back out, in TSV and CSV.
func TestCopyRoundTrip(t *testing.T) {
	tsv := strings.Join([]string{
		"1\t9007199254740993\t12345.678\t0.1\tplain text\t2024-02-29 23:59:59.123456",
		"2\t-5\t-0.001\t-1e-07\ttab\\there, comma, \"double\" 'single' back\\\\slash\t1970-01-01 00:00:00",
		"3\t\\N\t\\N\t\\N\t\\N\t\\N",
		"4\t0\t0.000\t3.5\tline\\nbreak|pipe\t2000-01-02 03:04:05.5",
		"5\t1\t1.000\t1\t\t2099-12-31 00:00:00",
	}, "\n") + "\n"
	want := strings.Join([]string{
		"1|9007199254740993|12345.678|0.1|plain text|2024-02-29 23:59:59.123456",
		"2|-5|-0.001|-1e-07|tab\there, comma, \"double\" 'single' back\\slash|1970-01-01 00:00:00",
		"3|NULL|NULL|NULL|NULL|NULL",
		"4|0|0|3.5|line\nbreak|pipe|2000-01-02 03:04:05.5",
		"5|1|1|1||2099-12-31 00:00:00",
	}, "\n")
	eachDialect(t, func(t *testing.T, c *Conn) {
		typedTable(t, c, "typed")
		n, err := CopyToSQL(ctx, c, strings.NewReader(tsv), DataFormat{Type: "TSV"}, SqlNode{ID: "Out", Table: "typed"})
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Errorf("loaded %d rows, want 5", n)
		}
		got := normalizeDecimals(dump(t, c, "SELECT id, big, amount, ratio, label, created FROM typed ORDER BY id"))
		if got != want {
			t.Errorf("table after TSV load:\n%s\nwant\n%s", got, want)
		}

		// Export as TSV: byte-identical to the input (modulo decimals' trailing zeros).
		var out bytes.Buffer
		n, err = CopyFromSQL(ctx, c, SqlNode{ID: "In", SelectQuery: "SELECT id, big, amount, ratio, label, created FROM typed ORDER BY id;"}, DataFormat{Type: "TSV"}, &out)
		if err != nil || n != 5 {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		if normalizeDecimals(out.String()) != normalizeDecimals(tsv) {
			t.Errorf("TSV export:\n%s\nwant\n%s", out.String(), tsv)
		}

		// CSV export then CSV load into a second table gives the same rows.
		out.Reset()
		if _, err := CopyFromSQL(ctx, c, SqlNode{ID: "In", Table: "typed"}, DataFormat{Type: "CSV"}, &out); err != nil {
			t.Fatal(err)
		}
		typedTable(t, c, "typed2")
		if _, err := CopyToSQL(ctx, c, bytes.NewReader(out.Bytes()), DataFormat{Type: "CSV", Columns: []string{"id INT", "big BIGINT", "amount DECIMAL", "ratio DOUBLE", "label STRING", "created TIMESTAMP"}}, SqlNode{ID: "Out2", Table: "typed2"}); err != nil {
			t.Fatalf("CSV load: %v\ndata:\n%s", err, out.String())
		}
		if got := normalizeDecimals(dump(t, c, "SELECT id, big, amount, ratio, label, created FROM typed2 ORDER BY id")); got != want {
			t.Errorf("table after CSV round trip:\n%s\nwant\n%s\nCSV:\n%s", got, want, out.String())
		}
	})
}

// normalizeDecimals trims trailing zeros of decimals ("12345.678000" from
// some servers, "1.000" from others) so servers compare equal.
func normalizeDecimals(s string) string {
	for _, z := range []string{".000|", ".000\t", ".0|", ".0\t"} {
		s = strings.ReplaceAll(s, z, z[len(z)-1:])
	}
	return s
}

func TestCopyToSQLInsertQueryAndCreateTable(t *testing.T) {
	eachDialect(t, func(t *testing.T, c *Conn) {
		node := SqlNode{
			ID:             "RDSDataNode",
			Table:          "table_name",
			CreateTableSQL: "create table table_name(col1 varchar(255),col2 integer);",
			// The RedshiftToRDS sample's watermark, trailing semicolon included.
			InsertQuery: "insert into table_name(col1,col2) values(?,?);",
		}
		var data strings.Builder
		for i := 1; i <= 2500; i++ { // several batches
			fmt.Fprintf(&data, "name %d,%d\n", i, i)
		}
		data.WriteString("\"quoted, with comma\",\n")
		n, err := CopyToSQL(ctx, c, strings.NewReader(data.String()), DataFormat{Type: "CSV"}, node)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2501 {
			t.Errorf("rows = %d", n)
		}
		if got := dump(t, c, "SELECT count(*), sum(col2) FROM table_name"); got != "2501|3126250" {
			t.Errorf("count,sum = %s", got)
		}
		if got := dump(t, c, "SELECT col1, col2 FROM table_name WHERE col2 IS NULL"); got != "quoted, with comma|NULL" {
			t.Errorf("null row = %q", got)
		}
		// Second run: table exists, createTableSql is not re-run.
		if _, err := CopyToSQL(ctx, c, strings.NewReader("again,1\n"), DataFormat{}, node); err != nil {
			t.Fatalf("second run: %v", err)
		}
		// Field count mismatch is reported with the record number.
		_, err = CopyToSQL(ctx, c, strings.NewReader("a,1\nb,2,3\n"), DataFormat{}, node)
		if err == nil || !strings.Contains(err.Error(), "record 2 has 3 fields but insertQuery has 2 placeholders") {
			t.Errorf("mismatch error: %v", err)
		}
	})
}

func TestCopyToSQLBadValueNamesRecords(t *testing.T) {
	eachDialect(t, func(t *testing.T, c *Conn) {
		if c.Dialect == SQLite {
			t.Skip("SQLite stores any value in any column")
		}
		mustExec(t, c, "CREATE TABLE nums (n integer)")
		_, err := CopyToSQL(ctx, c, strings.NewReader("1\n2\nnot-a-number\n"), DataFormat{Type: "TSV"}, SqlNode{ID: "Nums", Table: "nums"})
		if err == nil {
			t.Fatal("bad integer accepted")
		}
		if !strings.Contains(err.Error(), "node Nums: load into nums") {
			t.Errorf("error lacks context: %v", err)
		}
		if got := dump(t, c, "SELECT count(*) FROM nums"); got != "0" {
			t.Errorf("partial load committed: %s rows", got)
		}
	})
}

func TestCopyFromSQLNulls(t *testing.T) {
	eachDialect(t, func(t *testing.T, c *Conn) {
		mustExec(t, c, "CREATE TABLE n (a varchar(10), b varchar(10))")
		mustExec(t, c, "INSERT INTO n VALUES ('', NULL)")
		for _, tt := range []struct {
			f    DataFormat
			want string
		}{
			{DataFormat{Type: "TSV"}, "\t\\N\n"},
			{DataFormat{Type: "CSV"}, "\"\",\n"},
			{DataFormat{Type: "Custom", ColumnSeparator: "|"}, "|\\N\n"},
		} {
			var out bytes.Buffer
			if _, err := CopyFromSQL(ctx, c, SqlNode{ID: "N", Table: "n"}, tt.f, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("%s: %q, want %q", tt.f.Type, out.String(), tt.want)
			}
		}
	})
}

// Credentials never appear in errors, whatever fails.
func TestCredentialsNeverPrinted(t *testing.T) {
	const pw = "Sup3r:s3cr#t@pw/x?y=z"
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, form := range secretForms(pw) {
			if strings.Contains(err.Error(), form) {
				t.Fatalf("error contains the password (%q): %s", form, err)
			}
		}
		if strings.Contains(err.Error(), "s3cr") {
			t.Fatalf("error contains part of the password: %s", err)
		}
	}
	t.Run("unreachable", func(t *testing.T) {
		for _, u := range []string{"jdbc:postgresql://127.0.0.1:1/db", "jdbc:mysql://127.0.0.1:1/db", "jdbc:postgresql://u:" + url.QueryEscape(pw) + "@127.0.0.1:1/db?password=" + url.QueryEscape(pw)} {
			_, err := Open(ctx, Database{Type: TypeJdbc, ID: "X", ConnectionString: u, Username: "u", Password: pw}, Options{})
			check(t, err)
		}
		// Password only in the URL, or only in jdbcProperties.
		for _, db := range []Database{
			{ConnectionString: "jdbc:postgresql://127.0.0.1:1/db?user=u&password=" + url.QueryEscape(pw)},
			{ConnectionString: "jdbc:mysql://127.0.0.1:1/db", Username: "u", JdbcProperties: []string{"password=" + pw}},
			{ConnectionString: "jdbc:postgresql://127.0.0.1:1/db", Username: "u", JdbcProperties: []string{"password=" + pw}},
		} {
			db.ID = "X"
			_, err := Open(ctx, db, Options{})
			check(t, err)
		}
	})
	t.Run("postgres wrong password", func(t *testing.T) {
		db, _ := newPG(t)
		db.Password = pw
		_, err := Open(ctx, db, Options{})
		check(t, err)
		if !strings.Contains(err.Error(), "database TestPG") {
			t.Errorf("error does not name the database object: %s", err)
		}
	})
	t.Run("postgres wrong user", func(t *testing.T) {
		db, _ := newPG(t)
		db.Username, db.Password = "nobody_"+randName(""), pw
		_, err := Open(ctx, db, Options{})
		check(t, err)
	})
	t.Run("mariadb wrong password", func(t *testing.T) {
		db, _ := newMySQL(t)
		db.Password = pw
		_, err := Open(ctx, db, Options{})
		check(t, err)
	})
	t.Run("statement echoing the password", func(t *testing.T) {
		// A script that fails on a statement quoting the password: the
		// message quotes the statement, and the scrubber masks it.
		_, c := newSQLite(t)
		c.secrets = secretForms(pw)
		err := RunScript(ctx, c, "SELECT * FROM missing WHERE pw = '"+pw+"'", nil)
		check(t, err)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("error type %T, want *Error", err)
		}
	})
}

func TestRdsDatabaseLocalMapping(t *testing.T) {
	db, _ := newPG(t)
	rdsDB := Database{Type: TypeRds, ID: "RdsDatabase", RdsInstanceID: "my-instance", Username: db.Username, Password: db.Password}
	c, err := Open(ctx, rdsDB, Options{Endpoints: map[string]string{"my-instance": db.ConnectionString}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Dialect != Postgres {
		t.Errorf("dialect %s", c.Dialect)
	}
	// The resolver path: endpoint and engine from a (fake) RDS API.
	u, _ := url.Parse(os.Getenv(envPG))
	dbname := strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(db.ConnectionString, "jdbc:postgresql://"), "?", 2)[0], u.Host+"/")
	rdsDB.DatabaseName = dbname
	c2, err := Open(ctx, rdsDB, Options{ResolveRDS: func(_ context.Context, id, region string) (string, string, error) {
		return u.Host, "postgres", nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	var got string
	if err := c2.DB.QueryRow("SELECT current_database()").Scan(&got); err != nil || got != dbname {
		t.Errorf("connected to %q (%v), want %q", got, err, dbname)
	}
}

func TestSQLiteMemory(t *testing.T) {
	c, err := Open(ctx, Database{ID: "Mem", ConnectionString: "jdbc:sqlite::memory:"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := RunScript(ctx, c, "create table t(a); insert into t values (?);", []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, c, "select a from t"); got != "x" {
		t.Errorf("got %q", got)
	}
}

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestRedshiftCopyModes(t *testing.T) {
	_, c := newPG(t)
	setup := func(t *testing.T) {
		mustExec(t, c, "DROP TABLE IF EXISTS songs")
		mustExec(t, c, "CREATE TABLE songs (track_id varchar(20) PRIMARY KEY, title text, year int)")
		mustExec(t, c, "INSERT INTO songs VALUES ('t1','old one',1990), ('t2','old two',1991)")
	}
	input := "track_id,title,year\nt2,\"new two, remastered\",2001\nt3,three,2003\n"
	srcs := func() []Source { return []Source{ReaderSource("s3://b/part-0.gz", bytes.NewReader(gz(t, input)))} }
	opts := func(mode string) RedshiftCopyOptions {
		return RedshiftCopyOptions{InsertMode: mode, CommandOptions: []string{"GZIP", "CSV", "IGNOREHEADER AS 1"}}
	}
	node := SqlNode{ID: "DestRedshiftTable", Table: "songs", SchemaName: "PUBLIC"}
	tests := []struct {
		mode string
		want string
		st   CopyStats
	}{
		{KeepExisting, "t1|old one|1990\nt2|old two|1991\nt3|three|2003", CopyStats{Loaded: 2, Inserted: 1}},
		{OverwriteExisting, "t1|old one|1990\nt2|new two, remastered|2001\nt3|three|2003", CopyStats{Loaded: 2, Inserted: 2, Deleted: 1}},
		{Truncate, "t2|new two, remastered|2001\nt3|three|2003", CopyStats{Loaded: 2, Inserted: 2, Deleted: 2}},
		{Append, "", CopyStats{}}, // duplicate key t2: the whole load fails and rolls back
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			setup(t)
			st, err := RedshiftCopy(ctx, c, srcs(), node, opts(tt.mode))
			if tt.mode == Append {
				if err == nil || !strings.Contains(err.Error(), "APPEND load into PUBLIC.songs") || !strings.Contains(err.Error(), "duplicate key") {
					t.Fatalf("APPEND over an existing key: %v", err)
				}
				if got := dump(t, c, "SELECT * FROM songs ORDER BY 1"); got != "t1|old one|1990\nt2|old two|1991" {
					t.Errorf("failed APPEND changed the table:\n%s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st != tt.st {
				t.Errorf("stats %+v, want %+v", st, tt.st)
			}
			if got := dump(t, c, "SELECT * FROM songs ORDER BY 1"); got != tt.want {
				t.Errorf("table:\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	t.Run("APPEND new keys", func(t *testing.T) {
		setup(t)
		in := "t5|five|2005\nt6|six\\with backslash|\\N\n"
		st, err := RedshiftCopy(ctx, c, []Source{ReaderSource("a", strings.NewReader(in))}, node, RedshiftCopyOptions{InsertMode: Append})
		if err != nil {
			t.Fatal(err)
		}
		if st.Inserted != 2 {
			t.Errorf("stats %+v", st)
		}
		if got := dump(t, c, "SELECT * FROM songs WHERE track_id > 't4' ORDER BY 1"); got != "t5|five|2005\nt6|six\\with backslash|NULL" {
			t.Errorf("table:\n%s", got)
		}
	})
}

func TestRedshiftCopyTransformAndCreate(t *testing.T) {
	_, c := newPG(t)
	mustExec(t, c, "CREATE SCHEMA schemaNameInRedshift")
	node := SqlNode{
		ID: "DestRedshiftTable", Table: "DestRedshiftTableName", SchemaName: "schemaNameInRedshift",
		CreateTableSQL: "CREATE TABLE IF NOT EXISTS schemaNameInRedshift.DestRedshiftTableName (id varchar(255), name varchar(255), address varchar(255) ENCODE lzo, primary key(id)) distkey(id) sortkey(id);",
		PrimaryKeys:    []string{"id"},
	}
	// Two TSV files (the LoadTsvFilesInS3ToRedshift shape), the first lacking a final newline.
	srcs := []Source{
		ReaderSource("s3://b/1.tsv", strings.NewReader("a\tAlice\t1 Main St\nb\tBob\t\\N")),
		ReaderSource("s3://b/2.tsv", strings.NewReader("c\tCarol\tx\\ty\n")),
	}
	st, err := RedshiftCopy(ctx, c, srcs, node, RedshiftCopyOptions{
		InsertMode:   OverwriteExisting,
		Format:       &DataFormat{Type: "TSV"},
		TransformSQL: "SELECT id, upper(name), coalesce(address, 'unknown') FROM staging",
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Loaded != 3 || st.Inserted != 3 {
		t.Errorf("stats %+v", st)
	}
	if got := dump(t, c, "SELECT * FROM schemanameinredshift.destredshifttablename ORDER BY 1"); got != "a|ALICE|1 Main St\nb|BOB|unknown\nc|CAROL|x\ty" {
		t.Errorf("table:\n%s", got)
	}
	// Missing table without createTableSql.
	_, err = RedshiftCopy(ctx, c, srcs[:1], SqlNode{ID: "N", Table: "absent"}, RedshiftCopyOptions{InsertMode: Append})
	if err == nil || !strings.Contains(err.Error(), "table absent does not exist and the node has no createTableSql") {
		t.Errorf("missing table: %v", err)
	}
	// Unsupported option names itself.
	_, err = RedshiftCopy(ctx, c, srcs[:1], node, RedshiftCopyOptions{InsertMode: Append, CommandOptions: []string{"JSON 'auto'"}})
	if err == nil || !strings.Contains(err.Error(), "COPY option JSON is not supported") {
		t.Errorf("unsupported option: %v", err)
	}
	// KEEP_EXISTING without any key.
	mustExec(t, c, "CREATE TABLE nokey (a int)")
	_, err = RedshiftCopy(ctx, c, srcs[:1], SqlNode{ID: "N", Table: "nokey"}, RedshiftCopyOptions{InsertMode: KeepExisting})
	if err == nil || !strings.Contains(err.Error(), "need the node's primaryKeys, a primary key on nokey, or DISTKEY") {
		t.Errorf("no key: %v", err)
	}
	// A bad row fails the load with the COPY line.
	_, err = RedshiftCopy(ctx, c, []Source{ReaderSource("bad", strings.NewReader("1\nx\n"))}, SqlNode{ID: "N", Table: "nokey"}, RedshiftCopyOptions{InsertMode: Append})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad row: %v", err)
	}
	// A source that is not gzip although GZIP is set names the source; the load is rolled back.
	_, err = RedshiftCopy(ctx, c, []Source{ReaderSource("s3://b/plain.csv", strings.NewReader("1\n"))}, SqlNode{ID: "N", Table: "nokey"}, RedshiftCopyOptions{InsertMode: Append, CommandOptions: []string{"GZIP"}})
	if err == nil || !strings.Contains(err.Error(), "s3://b/plain.csv: gzip") {
		t.Errorf("not gzip: %v", err)
	}
	_, err = RedshiftCopy(ctx, c, []Source{
		ReaderSource("s3://b/ok", strings.NewReader("7\n")),
		{Name: "s3://b/missing", Open: func(context.Context) (io.ReadCloser, error) { return nil, errors.New("NoSuchKey") }},
	}, SqlNode{ID: "N", Table: "nokey"}, RedshiftCopyOptions{InsertMode: Append})
	if err == nil || !strings.Contains(err.Error(), "s3://b/missing: open: NoSuchKey") {
		t.Errorf("open failure: %v", err)
	}
	if got := dump(t, c, "SELECT count(*) FROM nokey"); got != "0" {
		t.Errorf("failed loads left %s rows", got)
	}
	// The table's own primary key drives OVERWRITE_EXISTING when primaryKeys is unset.
	node.PrimaryKeys = nil
	_, err = RedshiftCopy(ctx, c, []Source{ReaderSource("u", strings.NewReader("a\tAl\tnew\n"))}, node, RedshiftCopyOptions{InsertMode: OverwriteExisting, Format: &DataFormat{Type: "TSV"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(t, c, "SELECT * FROM schemanameinredshift.destredshifttablename WHERE id = 'a'"); got != "a|Al|new" {
		t.Errorf("after overwrite: %s", got)
	}
}

func TestRedshiftCopyNeedsPostgres(t *testing.T) {
	_, c := newSQLite(t)
	_, err := RedshiftCopy(ctx, c, nil, SqlNode{ID: "N", Table: "t"}, RedshiftCopyOptions{InsertMode: Append})
	if err == nil || !strings.Contains(err.Error(), "needs a PostgreSQL-protocol database") {
		t.Errorf("got %v", err)
	}
	_, err = RedshiftCopy(ctx, c, nil, SqlNode{ID: "N", Table: "t"}, RedshiftCopyOptions{InsertMode: "MERGE"})
	if err == nil || !strings.Contains(err.Error(), `insertMode "MERGE" is not one of`) {
		t.Errorf("got %v", err)
	}
}

var _ = sql.ErrNoRows

// A password given as a JDBC property (or in the URL) authenticates too.
func TestPasswordFromJdbcProperties(t *testing.T) {
	for _, k := range []struct {
		name string
		open func(testing.TB) (Database, *Conn)
	}{{"postgres", newPG}, {"mariadb", newMySQL}} {
		t.Run(k.name, func(t *testing.T) {
			db, _ := k.open(t)
			db.JdbcProperties, db.Password = []string{"password=" + db.Password}, ""
			c, err := Open(ctx, db, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		})
	}
}
