package hive

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dpl-dev/dpl/executor/objstore"
)

func openLocal(p string) (io.ReadCloser, error) { return os.Open(p) }

func abort(w io.WriteCloser, err error) { objstore.Abort(w, err) }

// execSelect runs a query and prints its rows.
func (s *Session) execSelect(ctx context.Context, p *parser) error {
	first := p.peek()
	sqlText, refs, err := s.translate(p.toks[p.pos:])
	if err != nil {
		return err
	}
	rows, err := s.runQuery(ctx, first, query{sql: sqlText, refs: refs, agg: s.planHashAggregate(p.toks[p.pos:])})
	if err != nil {
		return err
	}
	defer rows.Close()
	_, err = printRows(s.opts.Stdout, rows)
	if err != nil {
		return engineErr(first, err)
	}
	return nil
}

// engineErr reports an error of the SQL engine against the query.
func engineErr(t token, err error) error {
	var he *Error
	if errors.As(err, &he) {
		return err
	}
	msg := err.Error()
	code := CodeSemantic
	if strings.Contains(msg, "interrupted") || errors.Is(err, context.Canceled) {
		code = CodeIO
	}
	return &Error{Code: code, Line: t.line, Col: t.col, Msg: "query failed", Err: errors.New(strings.TrimPrefix(msg, "SQL logic error: "))}
}

func (s *Session) execInsert(ctx context.Context, p *parser) error {
	ins := p.next()
	overwrite := false
	switch {
	case p.accept("overwrite"):
		overwrite = true
	case p.accept("into"):
	default:
		return syntaxErr(p.peek(), "expected OVERWRITE or INTO after INSERT, found %s", p.peek())
	}
	if overwrite && (p.peek().is("directory") || p.peek().is("local")) {
		return s.insertDirectory(ctx, p)
	}
	if !p.accept("table") && overwrite {
		return syntaxErr(p.peek(), "expected TABLE or DIRECTORY after INSERT OVERWRITE, found %s", p.peek())
	}
	name, nt, err := p.tableName()
	if err != nil {
		return err
	}
	tbl, err := s.table(nt, name)
	if err != nil {
		return err
	}
	var static []string
	var set []bool
	if p.peek().is("partition") {
		pt := p.next()
		if static, set, err = s.partitionSpec(p, tbl, pt); err != nil {
			return err
		}
		for i := 1; i < len(set); i++ {
			if set[i] && !set[i-1] {
				return semanticErr(pt, "dynamic partition column %s cannot come before static ones", tbl.partCols[i-1].name)
			}
		}
	} else if len(tbl.partCols) > 0 {
		return semanticErr(nt, "Need to specify partition columns because the destination table %s is partitioned", name)
	}
	p.accept("if", "not", "exists")
	if p.peek().isOp("(") && p.peekAt(1).kind != tIdent || p.peek().isOp("(") && !p.peekAt(1).is("select", "with") {
		return unsupported(p.peek(), "a column list in INSERT", "list the target's columns in SELECT order instead")
	}
	qt := p.peek()
	var q query
	if p.accept("values") {
		q.sql, q.refs, err = s.translate(append([]token{{kind: tIdent, text: "VALUES", line: qt.line, col: qt.col}}, p.toks[p.pos:]...))
	} else {
		q.sql, q.refs, err = s.translate(p.toks[p.pos:])
		q.agg = s.planHashAggregate(p.toks[p.pos:])
	}
	if err != nil {
		return err
	}
	var partVals []*string
	for i := range set {
		if set[i] {
			partVals = append(partVals, &static[i])
		} else {
			partVals = append(partVals, nil)
		}
	}
	_, err = s.insertRows(ctx, ins, tbl, partVals, q, overwrite)
	return err
}

// query is a translated query, with its hash aggregation when it has one.
type query struct {
	sql  string
	refs []tableRef
	agg  *aggPlan
}

// runQuery runs a query by hash aggregation when it is one and its rows
// fit, else on SQLite (loading the tables it reads first).
func (s *Session) runQuery(ctx context.Context, t token, q query) (resultRows, error) {
	if q.agg != nil {
		rows, err := q.agg.run(ctx, s)
		if !errors.Is(err, errNoHashAgg) {
			return rows, err
		}
	}
	if err := s.loadRefs(ctx, q.refs); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q.sql)
	if err != nil {
		return nil, engineErr(t, err)
	}
	return rows, nil
}

// loadRefs makes sure every table a query reads is in the engine.
func (s *Session) loadRefs(ctx context.Context, refs []tableRef) error {
	for _, r := range refs {
		if err := s.ensureLoaded(ctx, r.tok, s.tables[r.name]); err != nil {
			return err
		}
	}
	return nil
}

// ensureLoaded copies a table's data into the engine (once per change).
func (s *Session) ensureLoaded(ctx context.Context, t token, tbl *table) error {
	if tbl.loaded {
		return nil
	}
	cols := tbl.allCols()
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE " + quoteIdent(tbl.name) + " (")
	for i, c := range cols {
		if i > 0 {
			ddl.WriteString(", ")
		}
		ddl.WriteString(quoteIdent(c.name) + " " + sqliteType(c.typ))
	}
	ddl.WriteString(")")
	if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(tbl.name)); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, ddl.String()); err != nil {
		return fmt.Errorf("table %s: %w", tbl.name, err)
	}
	ld, err := s.newLoader(ctx, tbl.name, len(cols))
	if err != nil {
		return err
	}
	if err := s.readTable(ctx, t, tbl, ld.add); err != nil {
		ld.abort()
		return err
	}
	if err := ld.finish(); err != nil {
		return fmt.Errorf("table %s: %w", tbl.name, err)
	}
	tbl.loaded = true
	return nil
}

// loader inserts rows in batches inside one transaction.
type loader struct {
	ctx    context.Context
	tx     *sql.Tx
	stmt   *sql.Stmt
	ncols  int
	batch  int
	args   []any
	insert string
}

func (s *Session) newLoader(ctx context.Context, name string, ncols int) (*loader, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	batch := max(1, 4096/max(ncols, 1))
	ld := &loader{ctx: ctx, tx: tx, ncols: ncols, batch: batch, insert: "INSERT INTO " + quoteIdent(name) + " VALUES "}
	ld.stmt, err = tx.PrepareContext(ctx, ld.sql(batch))
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	return ld, nil
}

func (ld *loader) sql(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", ld.ncols), ",") + ")"
	return ld.insert + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

func (ld *loader) add(row []any) error {
	ld.args = append(ld.args, row...)
	if len(ld.args) == ld.batch*ld.ncols {
		if _, err := ld.stmt.ExecContext(ld.ctx, ld.args...); err != nil {
			return err
		}
		ld.args = ld.args[:0]
	}
	return nil
}

func (ld *loader) finish() error {
	if n := len(ld.args) / max(ld.ncols, 1); n > 0 {
		if _, err := ld.tx.ExecContext(ld.ctx, ld.sql(n), ld.args...); err != nil {
			ld.abort()
			return err
		}
	}
	ld.stmt.Close()
	return ld.tx.Commit()
}

func (ld *loader) abort() {
	ld.stmt.Close()
	ld.tx.Rollback()
}

// readTable streams a table's rows (partition columns last).
func (s *Session) readTable(ctx context.Context, t token, tbl *table, emit func([]any) error) error {
	if tbl.dynamo != nil {
		return s.scanDynamo(ctx, t, tbl, emit)
	}
	if len(tbl.partCols) == 0 {
		return s.readDir(ctx, tbl, tbl.location, nil, emit)
	}
	for _, part := range tbl.partitions {
		vals := make([]any, len(part.values))
		for i, v := range part.values {
			if v == "__HIVE_DEFAULT_PARTITION__" {
				continue
			}
			vals[i] = parseText(tbl.partCols[i].typ, v)
		}
		if err := s.readDir(ctx, tbl, part.location, vals, emit); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) readDir(ctx context.Context, tbl *table, dir string, partVals []any, emit func([]any) error) error {
	files, _, err := s.list(ctx, dir)
	if err != nil {
		return fmt.Errorf("table %s: list %s: %w", tbl.name, dir, err)
	}
	dec := newDecoder(tbl.format, tbl.cols)
	for _, f := range files {
		if !dataFile(f.name) || tbl.format.kind == serdeDDBExport && f.name == "manifest" {
			continue
		}
		if err := s.readFile(ctx, tbl, f.loc, dec, partVals, emit); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) readFile(ctx context.Context, tbl *table, loc string, dec decoder, partVals []any, emit func([]any) error) error {
	r, err := s.open(ctx, loc)
	if err != nil {
		return fmt.Errorf("table %s: %w", tbl.name, err)
	}
	defer r.Close()
	sc := lineScanner(bufio.NewReaderSize(r, 1<<16))
	line := 0
	for sc.Scan() {
		line++
		if line <= tbl.skipHeader {
			continue
		}
		b := sc.Bytes()
		if len(b) == 0 && tbl.format.kind != serdeDelimited && tbl.format.kind != serdeCSV {
			continue
		}
		row, err := dec(b)
		if err != nil {
			return &Error{Code: CodeData, Msg: fmt.Sprintf("table %s: %s line %d", tbl.name, loc, line), Err: err}
		}
		if row == nil {
			continue
		}
		if len(partVals) > 0 {
			row = append(row, partVals...)
		}
		if err := emit(row); err != nil {
			return err
		}
		if line%65536 == 0 && ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("table %s: read %s: %w", tbl.name, loc, err)
	}
	return nil
}

// resultColumns describes a query's result as string columns named like
// its result set (CREATE TABLE AS SELECT).
func (s *Session) resultColumns(ctx context.Context, sqlText string) ([]column, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT * FROM ("+sqlText+") LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]column, len(cts))
	for i, ct := range cts {
		typ := "string"
		switch strings.ToUpper(ct.DatabaseTypeName()) {
		case "INTEGER":
			typ = "bigint"
		case "REAL":
			typ = "double"
		}
		name := strings.ToLower(ct.Name())
		if strings.ContainsAny(name, "() ,*") {
			name = fmt.Sprintf("_c%d", i)
		}
		cols[i] = column{name: name, typ: typ}
	}
	return cols, nil
}

// progressRows: a long INSERT reports its rows written every so many.
const progressRows = 100_000

// insertRows runs the query and writes its rows into tbl. partVals has one
// entry per partition column: the static value or nil for a dynamic one
// (taken from the last result columns). With overwrite, every partition
// (or the table) written replaces its previous files, only after the
// whole result was computed.
func (s *Session) insertRows(ctx context.Context, t token, tbl *table, partVals []*string, q query, overwrite bool) (int64, error) {
	rows, err := s.runQuery(ctx, t, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	dynamic := 0
	for _, v := range partVals {
		if v == nil {
			dynamic++
		}
	}
	if want := len(tbl.cols) + dynamic; len(names) != want {
		return 0, semanticErr(t, "Cannot insert into target table because column number/types are different '%s': table has %d columns (plus %d dynamic partition columns), but the query has %d",
			tbl.name, len(tbl.cols), dynamic, len(names))
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if tbl.dynamo != nil {
		return s.insertDynamo(ctx, t, tbl, rows, vals, ptrs)
	}
	enc, err := newEncoder(tbl.format, tbl.cols)
	if err != nil {
		return 0, semanticErr(t, "%v", err)
	}
	// One staged result per target folder.
	type target struct {
		values []string
		file   *os.File
		w      *bufio.Writer
		rows   int64
	}
	targets := map[string]*target{}
	var order []string
	defer func() {
		for _, tg := range targets {
			tg.file.Close()
			os.Remove(tg.file.Name())
		}
	}()
	typed := make([]any, len(tbl.cols))
	var buf bytes.Buffer
	var total int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, engineErr(t, err)
		}
		pv := make([]string, len(partVals))
		d := len(tbl.cols)
		for i, v := range partVals {
			if v != nil {
				pv[i] = *v
				continue
			}
			if vals[d] == nil || textOf(vals[d]) == "" {
				pv[i] = "__HIVE_DEFAULT_PARTITION__"
			} else {
				pv[i] = textOf(vals[d])
			}
			d++
		}
		key := strings.Join(pv, "\x00")
		tg := targets[key]
		if tg == nil {
			f, err := s.tempFile()
			if err != nil {
				return 0, err
			}
			tg = &target{values: pv, file: f, w: bufio.NewWriterSize(f, 1<<16)}
			targets[key] = tg
			order = append(order, key)
		}
		for i, c := range tbl.cols {
			typed[i] = coerce(c.typ, vals[i])
		}
		buf.Reset()
		if err := enc(&buf, typed); err != nil {
			return 0, &Error{Code: CodeData, Line: t.line, Col: t.col, Msg: fmt.Sprintf("row %d", total+1), Err: err}
		}
		if _, err := tg.w.Write(buf.Bytes()); err != nil {
			return 0, err
		}
		tg.rows++
		total++
		if total%progressRows == 0 && s.writing != nil {
			s.writing(total)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, engineErr(t, err)
	}
	rows.Close()
	if len(partVals) == 0 && len(targets) == 0 {
		// An empty result still replaces the table's data with one empty file.
		f, err := s.tempFile()
		if err != nil {
			return 0, err
		}
		targets[""] = &target{file: f, w: bufio.NewWriter(f)}
		order = append(order, "")
	}
	for _, key := range order {
		tg := targets[key]
		if err := tg.w.Flush(); err != nil {
			return 0, err
		}
		dir := tbl.location
		if len(partVals) > 0 {
			if part := tbl.partition(tg.values); part != nil {
				dir = part.location
			} else {
				dir = joinLoc(tbl.location, tbl.partDir(tg.values))
			}
		}
		if err := s.publish(ctx, tg.file, dir, overwrite); err != nil {
			return 0, fmt.Errorf("write %s: %w", dir, err)
		}
		if len(partVals) > 0 && tbl.partition(tg.values) == nil {
			tbl.partitions = append(tbl.partitions, partition{values: tg.values, location: dir})
		}
	}
	tbl.loaded = false
	s.rows += total
	return total, nil
}

// publish moves a staged result into dir: the new file appears whole (the
// store publishes on Close), then, for OVERWRITE, the older files go.
func (s *Session) publish(ctx context.Context, staged *os.File, dir string, overwrite bool) error {
	files, _, err := s.list(ctx, dir)
	if err != nil {
		return err
	}
	existing := map[string]bool{}
	for _, f := range files {
		existing[f.name] = true
	}
	name := "000000_0"
	if strings.EqualFold(s.conf["hive.exec.compress.output"], "true") {
		name += ".gz"
	}
	if !overwrite {
		for i := 1; existing[name]; i++ {
			name = fmt.Sprintf("000000_0_copy_%d", i)
		}
	}
	if _, err := staged.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w, err := s.create(ctx, joinLoc(dir, name))
	if err != nil {
		return err
	}
	out := w
	if strings.HasSuffix(name, ".gz") {
		out = objstore.NewGzipWriter(w)
	}
	if _, err := io.Copy(out, staged); err != nil {
		abort(out, err)
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if overwrite {
		for _, f := range files {
			if f.name != name {
				if err := s.remove(ctx, f.loc); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Session) insertDynamo(ctx context.Context, t token, tbl *table, rows resultRows, vals, ptrs []any) (int64, error) {
	w, err := s.newDynamoWriter(ctx, t, tbl)
	if err != nil {
		return 0, err
	}
	typed := make([]any, len(tbl.cols))
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return w.rows, engineErr(t, err)
		}
		for i, c := range tbl.cols {
			typed[i] = coerce(c.typ, vals[i])
		}
		if err := w.write(ctx, typed); err != nil {
			return w.rows, &Error{Code: CodeData, Line: t.line, Col: t.col, Msg: "write to DynamoDB", Err: err}
		}
		if n++; n%progressRows == 0 && s.writing != nil {
			s.writing(w.rows)
		}
	}
	if err := rows.Err(); err != nil {
		return w.rows, engineErr(t, err)
	}
	if err := w.flush(ctx); err != nil {
		return w.rows, err
	}
	s.rows += w.rows
	return w.rows, nil
}

// insertDirectory handles INSERT OVERWRITE [LOCAL] DIRECTORY 'path'
// [ROW FORMAT DELIMITED ...] [STORED AS TEXTFILE] SELECT ...
func (s *Session) insertDirectory(ctx context.Context, p *parser) error {
	local := p.accept("local")
	dt := p.next() // DIRECTORY
	path, err := p.str("a directory")
	if err != nil {
		return err
	}
	var dir string
	if local {
		dir, err = localPath(dt, path)
	} else {
		dir, err = s.normLocation(dt, path)
	}
	if err != nil {
		return err
	}
	format := defaultDelimited()
	if p.accept("row", "format") {
		if !p.accept("delimited") {
			return unsupported(p.peek(), "ROW FORMAT SERDE in INSERT OVERWRITE DIRECTORY", "use ROW FORMAT DELIMITED or a table")
		}
		if err := parseDelimited(p, format); err != nil {
			return err
		}
	}
	if p.accept("stored", "as") {
		f, ft, err := p.ident("a file format")
		if err != nil {
			return err
		}
		if !strings.EqualFold(f, "textfile") {
			return unsupported(ft, "STORED AS "+strings.ToUpper(f), "only text files are written")
		}
	}
	qt := p.peek()
	sqlText, refs, err := s.translate(p.toks[p.pos:])
	if err != nil {
		return err
	}
	if err := s.loadRefs(ctx, refs); err != nil {
		return err
	}
	cols, err := s.resultColumns(ctx, sqlText)
	if err != nil {
		return engineErr(qt, err)
	}
	for i := range cols {
		cols[i].typ = "string" // values are written as they come
	}
	tmp := &table{name: "directory " + path, cols: cols, location: dir, format: format}
	_, err = s.insertRows(ctx, qt, tmp, nil, query{sql: sqlText, refs: refs}, true)
	return err
}
