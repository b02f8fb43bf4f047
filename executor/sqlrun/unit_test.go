package sqlrun

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		d    Dialect
		in   string
		want []string
	}{
		{"simple", Postgres, "select 1; select 2;", []string{"select 1", "select 2"}},
		{"no trailing semicolon", MySQL, "select 1;\nselect 2", []string{"select 1", "select 2"}},
		{"quotes", Postgres, `insert into t values ('a;b', 'it''s;'); select ";x" from t`,
			[]string{`insert into t values ('a;b', 'it''s;')`, `select ";x" from t`}},
		{"comments", Postgres, "-- drop; this\nselect 1; /* a; b */ select 2; -- trailing; only\n",
			[]string{"-- drop; this\nselect 1", "/* a; b */ select 2"}},
		{"nested block comment pg", Postgres, "/* a /* b; */ c; */ select 1; select 2",
			[]string{"/* a /* b; */ c; */ select 1", "select 2"}},
		{"dollar quoting", Postgres,
			"create function f() returns int as $$ begin return 1; end; $$ language plpgsql; select $tag$ ; $tag$",
			[]string{"create function f() returns int as $$ begin return 1; end; $$ language plpgsql", "select $tag$ ; $tag$"}},
		{"dollar param is not a quote", Postgres, "select $1; select 2", []string{"select $1", "select 2"}},
		{"mysql backslash and backtick and hash", MySQL, "insert into `a;b` values ('x\\';y'); # c;d\nselect 1",
			[]string{"insert into `a;b` values ('x\\';y')", "# c;d\nselect 1"}},
		{"empty and comment-only dropped", SQLite, " ; -- nothing\n ;; select 1 ;", []string{"select 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range SplitStatements(tt.in, tt.d) {
				got = append(got, s.Text)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSplitStatementsLines(t *testing.T) {
	st := SplitStatements("select 1;\n\n  -- c\nselect 2;\nselect\n3", Postgres)
	var lines []int
	for _, s := range st {
		lines = append(lines, s.Line)
	}
	if want := []int{1, 3, 5}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
}

func TestBindPlaceholders(t *testing.T) {
	args := []string{"a", "b", "c"}
	tests := []struct {
		d        Dialect
		in       string
		next     int
		want     string
		wantArgs []any
		wantNext int
	}{
		{Postgres, "insert into t values (?, ?)", 0, "insert into t values ($1, $2)", []any{"a", "b"}, 2},
		{Postgres, "select ? , '?' , \"?\"", 2, "select $1 , '?' , \"?\"", []any{"c"}, 3},
		{Postgres, "select $2, $1, $2", 0, "select $1, $2, $3", []any{"b", "a", "b"}, 0},
		{MySQL, "select $3, ?", 0, "select ?, ?", []any{"c", "a"}, 1},
		{SQLite, "select x$1 from t where a = ?", 0, "select x$1 from t where a = ?", []any{"a"}, 1},
		{Postgres, "select '{}'::jsonb ?| array['a'], ?", 0, "select '{}'::jsonb ?| array['a'], $1", []any{"a"}, 1},
	}
	for _, tt := range tests {
		next := tt.next
		got, gotArgs, err := bindPlaceholders(tt.in, tt.d, args, &next)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got != tt.want || !reflect.DeepEqual(gotArgs, tt.wantArgs) || next != tt.wantNext {
			t.Errorf("%s %q: got %q %v next %d; want %q %v next %d", tt.d, tt.in, got, gotArgs, next, tt.want, tt.wantArgs, tt.wantNext)
		}
	}
	next := 0
	if _, _, err := bindPlaceholders("select ?, ?, ?, ?", MySQL, args, &next); err == nil || !strings.Contains(err.Error(), "placeholder 4 has no scriptArgument (3 given)") {
		t.Errorf("missing argument error = %v", err)
	}
}

func TestDriverDSN(t *testing.T) {
	db := Database{Username: "bob", Password: "p@ss:w/rd?", DatabaseName: "fallback"}
	tests := []struct {
		url, props      string
		driver, dsn     string
		dialect         Dialect
		wantErrContains string
	}{
		{url: "jdbc:postgresql://db.example:5439/dev?tcpKeepAlive=true", driver: "pgx", dialect: Postgres,
			dsn: "postgres://bob:p%40ss%3Aw%2Frd%3F@db.example:5439/dev?sslmode=prefer"},
		{url: "jdbc:postgresql://h/", props: "ssl=true", driver: "pgx", dialect: Postgres,
			dsn: "postgres://bob:p%40ss%3Aw%2Frd%3F@h:5432/fallback?sslmode=require"},
		{url: "jdbc:redshift://cluster.example:5439/dev", driver: "pgx", dialect: Postgres,
			dsn: "postgres://bob:p%40ss%3Aw%2Frd%3F@cluster.example:5439/dev?sslmode=prefer"},
		{url: "jdbc:redshift://cluster.example/dev", driver: "pgx", dialect: Postgres,
			dsn: "postgres://bob:p%40ss%3Aw%2Frd%3F@cluster.example:5439/dev?sslmode=prefer"},
		{url: "jdbc:mysql://connectionstring:3306/dbname", driver: "mysql", dialect: MySQL,
			dsn: "bob:p@ss:w/rd?@tcp(connectionstring:3306)/dbname"},
		{url: "jdbc:mariadb://h/x?useSSL=false", driver: "mysql", dialect: MySQL, dsn: "bob:p@ss:w/rd?@tcp(h:3306)/x"},
		{url: "jdbc:sqlite:/tmp/x.db", driver: "sqlite", dialect: SQLite, dsn: "file:/tmp/x.db?_pragma=busy_timeout(10000)"},
		{url: "jdbc:oracle:thin:@h:1521:ORCL", wantErrContains: "jdbc:oracle (jdbcDriverClass oracle.jdbc.OracleDriver) is not supported"},
		{url: "postgres://h/db", wantErrContains: "does not start with jdbc:"},
		{url: "jdbc:postgresql://h/db", props: "novalue", wantErrContains: `jdbcProperties entry "novalue" is not key=value`},
	}
	for _, tt := range tests {
		d := db
		if tt.props != "" {
			d.JdbcProperties = []string{tt.props}
		}
		if strings.Contains(tt.url, "oracle") {
			d.JdbcDriverClass = "oracle.jdbc.OracleDriver"
		}
		driver, dsn, dialect, err := driverDSN(tt.url, d)
		if tt.wantErrContains != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrContains) {
				t.Errorf("%s: error %v, want containing %q", tt.url, err, tt.wantErrContains)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if driver != tt.driver || dsn != tt.dsn || dialect != tt.dialect {
			t.Errorf("%s:\n got %s %s %s\nwant %s %s %s", tt.url, driver, dsn, dialect, tt.driver, tt.dsn, tt.dialect)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	ctx := context.Background()
	opts := Options{
		Endpoints: map[string]string{"mapped-db": "jdbc:sqlite::memory:"},
		ResolveRDS: func(_ context.Context, id, region string) (string, string, error) {
			if id == "broken" {
				return "", "", errors.New("not found")
			}
			return id + ".rds.example:5432", "postgres", nil
		},
		ResolveRedshift: func(_ context.Context, id, region string) (string, error) {
			return id + "." + region + ".redshift.example:5439", nil
		},
	}
	tests := []struct {
		db   Database
		want string
		err  string
	}{
		{Database{Type: TypeRds, RdsInstanceID: "mapped-db"}, "jdbc:sqlite::memory:", ""},
		{Database{Type: TypeRds, RdsInstanceID: "inst", DatabaseName: "app"}, "jdbc:postgresql://inst.rds.example:5432/app", ""},
		{Database{Type: TypeRds, RdsInstanceID: "broken"}, "", `resolve rdsInstanceId "broken": not found`},
		{Database{Type: TypeRedshift, ClusterID: "c1", Region: "eu-west-1", DatabaseName: "dev"}, "jdbc:redshift://c1.eu-west-1.redshift.example:5439/dev", ""},
		{Database{Type: TypeRedshift, ClusterID: "c1", ConnectionString: "jdbc:redshift://x/y"}, "", "mutually exclusive"},
		{Database{Type: TypeRds}, "", "rdsInstanceId is empty"},
	}
	for _, tt := range tests {
		got, err := resolveTarget(ctx, tt.db, opts)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: error %v, want %q", tt.db, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v: got %q, %v; want %q", tt.db, got, err, tt.want)
		}
	}
	if _, err := resolveTarget(ctx, Database{Type: TypeRds, RdsInstanceID: "x"}, Options{}); err == nil || !strings.Contains(err.Error(), "no endpoint mapping and no RDS resolver") {
		t.Errorf("unresolvable RDS: %v", err)
	}
}

func TestScrub(t *testing.T) {
	pw := "s3cr#t:p@ss/w?rd"
	sec := secretForms(pw)
	msg := "dial postgres://u:" + "s3cr%23t%3Ap%40ss%2Fw%3Frd" + "@h/db failed; raw " + pw
	got := scrub(sec, msg)
	if strings.Contains(got, pw) || strings.Contains(got, "s3cr%23t") || strings.Contains(got, "s3cr") {
		t.Errorf("password survived scrubbing: %q", got)
	}
	if !strings.Contains(got, "********") {
		t.Errorf("no mask in %q", got)
	}
	if r := redactURL("postgres://u:secret@h:5432/db"); r != "postgres://u:********@h:5432/db" {
		t.Errorf("redactURL = %q", r)
	}
	if r := redactURL("jdbc:postgresql://h/db?user=u&password=hunter2&ssl=true"); strings.Contains(r, "hunter2") {
		t.Errorf("redactURL = %q", r)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	records := [][]Field{
		{{B: []byte("1")}, {B: []byte(`plain`)}, {Null: true}},
		{{B: []byte("2")}, {B: []byte("tab\there, comma, \"quote\", back\\slash")}, {B: []byte("")}},
		{{B: []byte("3")}, {B: []byte("multi\nline\r\nvalue|pipe")}, {B: []byte(`\N`)}},
	}
	for _, f := range []DataFormat{
		{Type: "CSV"}, {Type: "TSV"}, {Type: "Custom", ColumnSeparator: "|", EscapeChar: `\`},
		{Type: "TSV", ColumnSeparator: `\u0001`}, {Type: "Custom", ColumnSeparator: ";", RecordSeparator: "~", EscapeChar: "\\"},
	} {
		t.Run(f.Type+f.ColumnSeparator, func(t *testing.T) {
			c, err := f.codec()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w := newRecordWriter(&buf, c)
			for _, r := range records {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			rr := newRecordReader(bytes.NewReader(buf.Bytes()), c)
			for i, want := range records {
				got, err := rr.Read()
				if err != nil {
					t.Fatalf("record %d: %v (data %q)", i+1, err, buf.String())
				}
				if !fieldsEqual(got, want) {
					t.Errorf("record %d: got %s want %s (data %q)", i+1, showFields(got), showFields(want), buf.String())
				}
			}
			if _, err := rr.Read(); err != io.EOF {
				t.Errorf("want EOF, got %v", err)
			}
		})
	}
}

func TestCSVReaderDialect(t *testing.T) {
	c, _ := DataFormat{Type: "CSV"}.codec()
	in := "a,\"b,\"\"c\"\"\",d\\,e,,\\N,\"\"\r\n\n x ,last"
	rr := newRecordReader(strings.NewReader(in), c)
	got, err := rr.Read()
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{B: []byte("a")}, {B: []byte(`b,"c"`)}, {B: []byte("d,e")}, {Null: true}, {Null: true}, {B: []byte("")}}
	if !fieldsEqual(got, want) {
		t.Errorf("got %s want %s", showFields(got), showFields(want))
	}
	got, err = rr.Read() // the blank line is skipped
	if err != nil || !fieldsEqual(got, []Field{{B: []byte(" x ")}, {B: []byte("last")}}) {
		t.Errorf("second record %s %v", showFields(got), err)
	}
	if _, err := newRecordReader(strings.NewReader(`"open`), c).Read(); err == nil || !strings.Contains(err.Error(), "unterminated quoted field") {
		t.Errorf("unterminated quote: %v", err)
	}
	if _, err := (DataFormat{Type: "RegEx"}).codec(); err == nil {
		t.Error("RegEx format accepted")
	}
	if _, err := (DataFormat{Type: "Custom"}).codec(); err == nil {
		t.Error("Custom without columnSeparator accepted")
	}
}

func fieldsEqual(a, b []Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Null != b[i].Null || !bytes.Equal(a[i].B, b[i].B) {
			return false
		}
	}
	return true
}

func showFields(fs []Field) string {
	var parts []string
	for _, f := range fs {
		if f.Null {
			parts = append(parts, "NULL")
		} else {
			parts = append(parts, "'"+string(f.B)+"'")
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestParseCopyOptions(t *testing.T) {
	null := func(s string) *string { return &s }
	tests := []struct {
		name string
		o    RedshiftCopyOptions
		want copyOpts
		err  string
	}{
		{"redshift default", RedshiftCopyOptions{}, copyOpts{delim: '|', quote: '"'}, ""},
		{"billing sample", RedshiftCopyOptions{CommandOptions: []string{"GZIP", "CSV", "IGNOREHEADER AS 1"}},
			copyOpts{csv: true, delim: ',', quote: '"', gzip: true, ignoreHeader: 1}, ""},
		{"sqoop sample", RedshiftCopyOptions{CommandOptions: []string{"IGNOREHEADER AS 1"}}, copyOpts{delim: '|', quote: '"', ignoreHeader: 1}, ""},
		{"tsv input node", RedshiftCopyOptions{Format: &DataFormat{Type: "TSV"}}, copyOpts{delim: '\t', quote: '"', escape: true}, ""},
		{"csv input node gzip node", RedshiftCopyOptions{Format: &DataFormat{Type: "CSV"}, Gzip: true}, copyOpts{csv: true, delim: ',', quote: '"', gzip: true}, ""},
		{"delimiter and null", RedshiftCopyOptions{CommandOptions: []string{`DELIMITER '\t'`, "NULL AS 'NULL'", "ESCAPE", "TIMEFORMAT 'auto'", "DATEFORMAT AS 'auto'", "COMPUPDATE OFF", "STATUPDATE ON"}},
			copyOpts{delim: '\t', quote: '"', escape: true, null: null("NULL")}, ""},
		{"format as csv quote", RedshiftCopyOptions{CommandOptions: []string{"FORMAT AS CSV QUOTE AS '''' DELIMITER ';'"}}, copyOpts{csv: true, delim: ';', quote: '\''}, ""},
		{"unsupported", RedshiftCopyOptions{CommandOptions: []string{"CSV", "MAXERROR 10"}}, copyOpts{}, "COPY option MAXERROR is not supported"},
		{"unsupported format", RedshiftCopyOptions{CommandOptions: []string{"FORMAT AS JSON 'auto'"}}, copyOpts{}, "COPY option JSON is not supported"},
		{"bad timeformat", RedshiftCopyOptions{CommandOptions: []string{"TIMEFORMAT 'epochsecs'"}}, copyOpts{}, "TIMEFORMAT 'epochsecs' is not supported"},
		{"csv escape", RedshiftCopyOptions{CommandOptions: []string{"CSV ESCAPE"}}, copyOpts{}, "ESCAPE cannot be used with CSV"},
		{"lzop", RedshiftCopyOptions{CommandOptions: []string{"LZOP"}}, copyOpts{}, "COPY option LZOP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCopyOptions(tt.o)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v want %+v", got, tt.want)
			}
		})
	}
}

func TestTranslateRedshiftDDL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"create table IF NOT EXISTS songs (track_id varchar(2048) not null distkey sortkey, title varchar(2048), year int);",
			"create table IF NOT EXISTS songs (track_id varchar(2048) not null  , title varchar(2048), year int);"},
		{"CREATE TABLE IF NOT EXISTS t (id varchar(255), name varchar(MAX) ENCODE lzo, primary key(id)) distkey(id) sortkey(id);",
			"CREATE TABLE IF NOT EXISTS t (id varchar(255), name varchar , primary key(id))  ;"},
		{"create table t (id bigint identity(1,1), v int) diststyle all compound sortkey(v, id) backup no",
			"create table t (id bigint GENERATED BY DEFAULT AS IDENTITY, v int)   "},
	}
	for _, tt := range tests {
		if got := TranslateRedshiftDDL(tt.in); got != tt.want {
			t.Errorf("TranslateRedshiftDDL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitValuesTuple(t *testing.T) {
	tests := []struct{ q, prefix, tuple string }{
		{"insert into table_name(col1,col2) values(?,?)", "insert into table_name(col1,col2) values", "(?,?)"},
		{"INSERT INTO t VALUES (?, lower(?), 'a)')", "INSERT INTO t VALUES ", "(?, lower(?), 'a)')"},
		{"insert into t values (?) on conflict do nothing", "", ""},
		{"insert into t select ?", "", ""},
	}
	for _, tt := range tests {
		p, tu, ok := splitValuesTuple(tt.q, Postgres)
		if ok != (tt.tuple != "") || p != tt.prefix || tu != tt.tuple {
			t.Errorf("%q: got %q %q %v", tt.q, p, tu, ok)
		}
	}
}

func TestRedshiftDDLKeys(t *testing.T) {
	tests := []struct {
		ddl  string
		want []string
	}{
		{"create table IF NOT EXISTS songs (track_id varchar(2048) not null distkey sortkey, title varchar(2048), year int);", []string{"track_id"}},
		{"CREATE TABLE t (id varchar(255), name varchar(255), primary key(id)) distkey(id) sortkey(id);", []string{"id"}},
		{"create table t (a int sortkey, b numeric(10,2), c date) distkey(b) compound sortkey(c, a)", []string{"a", "b", "c"}},
		{"create table t (a int, b int)", nil},
	}
	for _, tt := range tests {
		if got := RedshiftDDLKeys(tt.ddl); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RedshiftDDLKeys(%q) = %q, want %q", tt.ddl, got, tt.want)
		}
	}
}
