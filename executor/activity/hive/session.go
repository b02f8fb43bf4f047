// Package hive is dpl's embedded Hive: a HiveQL front end over the embedded
// SQLite engine (modernc.org/sqlite). Tables keep their data where Hive
// keeps it — files in the object store (s3://), in the session's HDFS
// folder, or DynamoDB tables — and are loaded into SQLite when a query
// reads them; results are written back in the table's row format, as Hive
// writes them (000000_0 files, the table's delimiters, \N for NULL).
// Statements outside the supported subset fail at once with their line and
// the construct named.
package hive

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// Options configure a Session.
type Options struct {
	// Store holds s3:// locations (the local object store or real S3).
	Store objstore.Store
	// Dir is a private working folder: the engine's database, result
	// staging, and the folder standing in for HDFS (managed tables live in
	// Dir/hdfs/user/hive/warehouse).
	Dir string
	// Vars are hivevar variables (scriptVariable, -d NAME=VALUE).
	Vars map[string]string
	// Conf are hiveconf settings (-hiveconf, SET).
	Conf map[string]string
	// DynamoDB reaches DynamoDB tables; nil makes them fail with a hint.
	DynamoDB DynamoDB
	// Stdout receives SELECT results (tab-separated, as the Hive CLI
	// prints them); Stderr notes and progress lines.
	Stdout, Stderr io.Writer
	// Progress, when set, is called after every statement.
	Progress func(Progress)
}

// Progress reports how far a script got.
type Progress struct {
	Done, Total int    // statements
	Unit        string // "statements", or "staging statements" (RunStaging)
	Rows        int64  // rows written by the session so far
	Statement   string
}

// Session runs HiveQL statements against one metastore.
type Session struct {
	opts     Options
	db       *sql.DB
	tables   map[string]*table
	conf     map[string]string
	hivevar  map[string]string
	hdfsRoot string
	rows     int64
	tmpSeq   int
	// writing reports rows written so far by the running statement.
	writing func(rows int64)
}

// NewSession opens an engine in opts.Dir.
func NewSession(opts Options) (*Session, error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.Dir == "" {
		return nil, fmt.Errorf("hive: no working folder")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(opts.Dir, "hive-engine.db")
	_ = os.Remove(dbPath)
	registerDriver()
	db, err := sql.Open(driverName, "file:"+dbPath)
	if err != nil {
		return nil, err
	}
	// One connection: the session's tables and pragmas live on it.
	db.SetMaxOpenConns(1)
	for _, p := range []string{
		"PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-131072",
		"PRAGMA temp_store=FILE", "PRAGMA case_sensitive_like=ON", "PRAGMA locking_mode=EXCLUSIVE",
	} {
		if _, err := db.Exec(p); err != nil {
			db.Close()
			return nil, fmt.Errorf("hive engine: %s: %w", p, err)
		}
	}
	s := &Session{opts: opts, db: db, tables: map[string]*table{}, conf: map[string]string{}, hivevar: map[string]string{},
		hdfsRoot: filepath.Join(opts.Dir, "hdfs")}
	for k, v := range opts.Conf {
		s.conf[k] = v
	}
	for k, v := range opts.Vars {
		s.hivevar[k] = v
	}
	return s, nil
}

// Close drops the engine's database.
func (s *Session) Close() error {
	err := s.db.Close()
	os.Remove(filepath.Join(s.opts.Dir, "hive-engine.db"))
	return err
}

// SetVar defines a hivevar (as -d NAME=VALUE does).
func (s *Session) SetVar(name, value string) { s.hivevar[name] = value }

// RowsWritten is the number of rows the session's statements wrote.
func (s *Session) RowsWritten() int64 { return s.rows }

// Run executes a script statement by statement; the first failure stops it
// and is returned as *Error with the statement and its line.
func (s *Session) Run(ctx context.Context, script string) error {
	return s.run(ctx, script, "statements")
}

// RunStaging runs the DDL dpl writes for staged data nodes; its progress
// counts "staging statements", apart from the script's.
func (s *Session) RunStaging(ctx context.Context, ddl string) error {
	return s.run(ctx, ddl, "staging statements")
}

func (s *Session) run(ctx context.Context, script, unit string) error {
	stmts := splitScript(script)
	for i, st := range stmts {
		start := time.Now()
		before := s.rows
		summary := shorten(st.text)
		if len(summary) > 80 {
			summary = summary[:77] + "..."
		}
		s.writing = nil
		if s.opts.Progress != nil {
			s.writing = func(rows int64) {
				s.opts.Progress(Progress{Done: i, Total: len(stmts), Unit: unit, Rows: s.rows + rows, Statement: "running: " + summary})
			}
		}
		err := s.exec(ctx, st)
		if err != nil {
			he, ok := err.(*Error)
			if !ok {
				he = &Error{Code: CodeIO, Err: err}
			}
			if he.Line == 0 {
				he.Line, he.Col = st.line, 0
			}
			if he.Stmt == "" {
				he.Stmt = shorten(s.substitute(st.text))
			}
			return he
		}
		fmt.Fprintf(s.opts.Stderr, "dpl hive: statement %d/%d done in %s, %d rows written: %s\n",
			i+1, len(stmts), time.Since(start).Round(time.Millisecond), s.rows-before, summary)
		if s.opts.Progress != nil {
			s.opts.Progress(Progress{Done: i + 1, Total: len(stmts), Unit: unit, Rows: s.rows, Statement: summary})
		}
	}
	return nil
}

func (s *Session) exec(ctx context.Context, st statement) error {
	text := s.substitute(st.text)
	if w := strings.Fields(text); len(w) > 0 && strings.EqualFold(w[0], "add") {
		return s.execAdd(st, w)
	}
	toks, err := lex(text, st.line, st.col)
	if err != nil {
		if he, ok := err.(*Error); ok && he.Code == "" {
			he.Code = CodeSyntax
		}
		return err
	}
	p := &parser{toks: toks}
	first := p.peek()
	switch {
	case first.is("set"):
		return s.execSet(text)
	case first.is("reset"):
		s.conf = map[string]string{}
		return nil
	case first.is("create"):
		return s.execCreate(ctx, p)
	case first.is("drop"):
		return s.execDrop(ctx, p)
	case first.is("insert"):
		return s.execInsert(ctx, p)
	case first.is("select", "with") || first.isOp("("):
		return s.execSelect(ctx, p)
	case first.is("msck"):
		return s.execMSCK(ctx, p)
	case first.is("alter"):
		return s.execAlter(ctx, p)
	case first.is("load"):
		return s.execLoad(ctx, p)
	case first.is("use"):
		return nil // one database: names are qualified as db__table
	case first.is("show", "describe", "desc"):
		return s.execShow(p)
	case first.is("from"):
		return unsupported(first, "FROM ... INSERT (multi-table insert)", "write one INSERT ... SELECT per target")
	case first.is("explain", "analyze", "grant", "revoke", "export", "import", "truncate", "update", "delete", "merge", "lock", "unlock", "reload", "compile", "dfs", "source", "list", "delete"):
		return unsupported(first, keywordsAt(toks, 2), "")
	}
	if first.kind == tIdent {
		return syntaxErr(first, "cannot recognize input near %s", first)
	}
	return syntaxErr(first, "unexpected %s at the start of a statement", first)
}

// execSet handles SET k=v (kept as hiveconf; hive.*, mapred.*, dynamodb.*
// tuning settings change nothing here) and SET k (prints the value).
func (s *Session) execSet(text string) error {
	rest := strings.TrimSpace(text)
	rest = strings.TrimSpace(rest[3:])
	if rest == "" || rest == "-v" {
		for _, k := range sortedKeys(s.conf) {
			fmt.Fprintf(s.opts.Stdout, "%s=%s\n", k, s.conf[k])
		}
		return nil
	}
	k, v, found := strings.Cut(rest, "=")
	k = strings.TrimSpace(k)
	if !found {
		if v, ok := s.conf[k]; ok {
			fmt.Fprintf(s.opts.Stdout, "%s=%s\n", k, v)
		} else {
			fmt.Fprintf(s.opts.Stdout, "%s is undefined\n", k)
		}
		return nil
	}
	v = strings.TrimSpace(v)
	if ns, key, ok := strings.Cut(k, ":"); ok && strings.EqualFold(ns, "hivevar") {
		s.hivevar[key] = v
		return nil
	}
	k = strings.TrimPrefix(strings.TrimPrefix(k, "hiveconf:"), "system:")
	s.conf[k] = v
	if noted := tuningPrefix(k); noted {
		fmt.Fprintf(s.opts.Stderr, "dpl hive: note: SET %s=%s kept; it tunes a Hadoop cluster and changes nothing in the embedded engine\n", k, v)
	}
	return nil
}

func tuningPrefix(k string) bool {
	for _, p := range []string{"mapred.", "mapreduce.", "hive.exec.", "hive.merge.", "hive.optimize.", "hive.auto.", "tez.", "yarn.", "dfs.", "io.", "dynamodb."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// knownJars are the jars EMR provides whose classes the embedded engine
// implements natively.
var knownJars = []string{
	"emr-ddb-hive", "emr-dynamodb-hive", "emr-dynamodb-connector", "hive-hcatalog-core", "hive-contrib",
	"json-serde", "json-udf", "csv-serde", "opencsv", "hive-serde",
}

// execAdd handles ADD JAR|FILE|ARCHIVE path...; paths are bare words, so
// the statement is read as words, not tokens.
func (s *Session) execAdd(st statement, words []string) error {
	add := token{kind: tIdent, text: words[0], line: st.line, col: st.col}
	if len(words) < 3 {
		return syntaxErr(add, "ADD needs JAR, FILE or ARCHIVE and a path")
	}
	kind := token{kind: tIdent, text: words[1], line: st.line, col: st.col}
	path := strings.Join(words[2:], " ")
	switch {
	case kind.is("jar", "jars"):
		base := strings.ToLower(filepath.Base(path))
		for _, k := range knownJars {
			if strings.HasPrefix(base, k) {
				fmt.Fprintf(s.opts.Stderr, "dpl hive: note: ADD JAR %s: its classes are built into the embedded engine\n", path)
				return nil
			}
		}
		return &Error{Code: CodeUnsupported, Line: add.line, Col: add.col, Construct: "ADD JAR " + path,
			Msg: fmt.Sprintf("ADD JAR %s: unknown jar; the embedded Hive runs no Java code, so the SerDes, UDFs and input formats it holds are not available "+
				"(known EMR jars: the DynamoDB connector, hive-hcatalog-core, hive-contrib, json-serde). Run with --emr host on a machine with Hive to use it", path)}
	case kind.is("file", "files", "archive", "archives"):
		fmt.Fprintf(s.opts.Stderr, "dpl hive: note: ADD %s %s ignored (only TRANSFORM scripts would use it)\n", strings.ToUpper(kind.text), path)
		return nil
	}
	return syntaxErr(kind, "expected JAR, FILE or ARCHIVE after ADD, found %s", kind)
}

// table looks a table up by name, failing as Hive does.
func (s *Session) table(t token, name string) (*table, error) {
	tbl, ok := s.tables[name]
	if !ok {
		return nil, semanticErr(t, "Table not found '%s'", name)
	}
	return tbl, nil
}

// tempFile makes a private file for staging results.
func (s *Session) tempFile() (*os.File, error) {
	dir := filepath.Join(s.opts.Dir, "staging")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s.tmpSeq++
	return os.Create(filepath.Join(dir, fmt.Sprintf("result-%d", s.tmpSeq)))
}

// printRows writes query results the way the Hive CLI prints them.
func printRows(w io.Writer, rows resultRows) (int64, error) {
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			if i > 0 {
				bw.WriteByte('\t')
			}
			if v == nil {
				bw.WriteString("NULL")
			} else {
				bw.WriteString(textOf(v))
			}
		}
		bw.WriteByte('\n')
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
