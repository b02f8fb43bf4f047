package sqlrun

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// SqlNode holds the evaluated fields of a SqlDataNode (or MySqlDataNode, or a
// RedshiftDataNode, whose tableName goes into Table).
type SqlNode struct {
	ID             string
	Table          string
	SchemaName     string
	SelectQuery    string
	InsertQuery    string
	CreateTableSQL string
	PrimaryKeys    []string // RedshiftDataNode primaryKeys
}

// maxParams bounds placeholders per batched INSERT (MySQL allows 65535,
// SQLite 32766); maxBatchRows bounds rows per batch.
const (
	maxParams    = 30000
	maxBatchRows = 1000
)

// CopyToSQL loads records read from src in the given format into the node's
// table, in one transaction. With insertQuery each record's fields are bound
// to its ? placeholders in order (batched into multi-row VALUES when the query
// ends in a single VALUES tuple); otherwise records go to the node's table,
// through COPY FROM STDIN on PostgreSQL and batched multi-row INSERTs
// elsewhere. The format's column names, when given, name the target columns.
// createTableSql runs first when the table does not exist.
func CopyToSQL(ctx context.Context, c *Conn, src io.Reader, format DataFormat, node SqlNode) (int64, error) {
	cd, err := format.codec()
	if err != nil {
		return 0, c.fail(fmt.Errorf("node %s: %w", node.ID, err))
	}
	if node.InsertQuery == "" && node.Table == "" {
		return 0, c.fail(fmt.Errorf("node %s: needs table or insertQuery to be written to", node.ID))
	}
	if err := ensureTable(ctx, c, node, false); err != nil {
		return 0, err
	}
	rr := newRecordReader(src, cd)
	var n int64
	switch {
	case node.InsertQuery != "":
		n, err = insertWithQuery(ctx, c, rr, node)
	case c.Dialect == Postgres:
		target := qualified(c.Dialect, node.SchemaName, node.Table)
		n, err = pgCopyRecords(ctx, c, rr, target, format.ColumnNames())
	default:
		n, err = insertBatched(ctx, c, rr, node, format.ColumnNames())
	}
	if err != nil {
		return n, c.fail(fmt.Errorf("node %s: load into %s: %w", node.ID, nodeTarget(node), err))
	}
	return n, nil
}

func nodeTarget(n SqlNode) string {
	if n.Table != "" {
		if n.SchemaName != "" {
			return n.SchemaName + "." + n.Table
		}
		return n.Table
	}
	return "insertQuery"
}

// EnsureTable runs the node's createTableSql when its table is missing (for
// SqlActivity outputs and before loads). redshift marks a RedshiftDataNode,
// whose DDL is translated for PostgreSQL.
func EnsureTable(ctx context.Context, c *Conn, node SqlNode, redshift bool) error {
	return ensureTable(ctx, c, node, redshift)
}

// ensureTable runs createTableSql when the node's table is missing.
func ensureTable(ctx context.Context, c *Conn, node SqlNode, redshiftDDL bool) error {
	if node.CreateTableSQL == "" {
		return nil
	}
	if node.Table != "" {
		ok, err := tableExists(ctx, c, node.SchemaName, node.Table)
		if err != nil {
			return c.fail(fmt.Errorf("node %s: check table %s: %w", node.ID, nodeTarget(node), err))
		}
		if ok {
			return nil
		}
	}
	ddl := node.CreateTableSQL
	if redshiftDDL && c.Dialect == Postgres {
		ddl = TranslateRedshiftDDL(ddl)
	}
	for i, st := range SplitStatements(ddl, c.Dialect) {
		if _, err := c.DB.ExecContext(ctx, st.Text); err != nil {
			return c.fail(fmt.Errorf("node %s: createTableSql statement %d (%s): %w", node.ID, i+1, firstLine(st.Text), err))
		}
	}
	if keys := RedshiftDDLKeys(node.CreateTableSQL); redshiftDDL && c.Dialect == Postgres && node.Table != "" && len(keys) > 0 {
		// Remember the dist/sort keys for KEEP_EXISTING and OVERWRITE_EXISTING.
		q := "COMMENT ON TABLE " + qualified(Postgres, node.SchemaName, node.Table) + " IS " + pgLit(mergeKeysComment+strings.Join(keys, ","))
		if _, err := c.DB.ExecContext(ctx, q); err != nil {
			return c.fail(fmt.Errorf("node %s: record merge keys: %w", node.ID, err))
		}
	}
	return nil
}

func tableExists(ctx context.Context, c *Conn, schema, table string) (bool, error) {
	var n int
	var err error
	switch c.Dialect {
	case Postgres:
		var ok bool
		err = c.DB.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", qualified(Postgres, schema, table)).Scan(&ok)
		return ok, err
	case MySQL:
		if schema == "" {
			err = c.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", table).Scan(&n)
		} else {
			err = c.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", schema, table).Scan(&n)
		}
	default:
		err = c.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table','view') AND name = ? COLLATE NOCASE", table).Scan(&n)
	}
	return n > 0, err
}

// quoteIdent leaves plain identifiers unquoted so the server folds their case
// as Redshift and PostgreSQL do (schemaName "PUBLIC" means public); anything
// else is quoted.
func quoteIdent(d Dialect, name string) string {
	plain := name != ""
	for i := 0; i < len(name); i++ {
		b := name[i]
		if !(b == '_' || (b|0x20) >= 'a' && (b|0x20) <= 'z' || i > 0 && (b >= '0' && b <= '9' || b == '$')) {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	if d == MySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// qualified builds schema.table; a table already written as a.b is split.
func qualified(d Dialect, schema, table string) string {
	if schema == "" {
		if s, t, ok := strings.Cut(table, "."); ok && !strings.ContainsAny(table, `"`+"`") {
			schema, table = s, t
		}
	}
	if schema == "" || d == SQLite {
		return quoteIdent(d, table)
	}
	return quoteIdent(d, schema) + "." + quoteIdent(d, table)
}

func fieldArgs(dst []any, fs []Field) []any {
	for _, f := range fs {
		if f.Null {
			dst = append(dst, nil)
		} else {
			dst = append(dst, string(f.B))
		}
	}
	return dst
}

// insertWithQuery binds each record to the node's insertQuery.
func insertWithQuery(ctx context.Context, c *Conn, rr *recordReader, node SqlNode) (int64, error) {
	q := strings.TrimSpace(node.InsertQuery)
	q = strings.TrimSpace(strings.TrimSuffix(q, ";"))
	prefix, tuple, ok := splitValuesTuple(q, c.Dialect)
	nph := countPlaceholders(q, c.Dialect)
	if ok && countPlaceholders(tuple, c.Dialect) != nph {
		ok = false
	}
	batch := 1
	if ok && nph > 0 {
		batch = min(maxBatchRows, max(1, maxParams/nph))
	}
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	stmts := map[int]*sql.Stmt{}
	prepare := func(rows int) (*sql.Stmt, error) {
		if s, ok := stmts[rows]; ok {
			return s, nil
		}
		text := q
		if rows > 1 {
			text = prefix + strings.TrimRight(strings.Repeat(tuple+",", rows), ",")
		}
		text = numberPlaceholders(text, c.Dialect)
		s, err := tx.PrepareContext(ctx, text)
		if err != nil {
			return nil, fmt.Errorf("prepare insertQuery %q: %w", firstLine(q), err)
		}
		stmts[rows] = s
		return s, nil
	}
	n, err := loadBatches(rr, func(fs []Field) (int, error) {
		if len(fs) != nph {
			return 0, fmt.Errorf("record %d has %d fields but insertQuery has %d placeholders", rr.line, len(fs), nph)
		}
		return batch, nil
	}, func(rows int, args []any) error {
		s, err := prepare(rows)
		if err != nil {
			return err
		}
		_, err = s.ExecContext(ctx, args...)
		return err
	})
	if err != nil {
		return n, err
	}
	return n, tx.Commit()
}

// loadBatches reads every record, checks it with check (which also gives
// the batch size) and hands full batches of bound arguments to exec, one
// transaction's worth of multi-row statements. Errors name the records.
func loadBatches(rr *recordReader, check func(fs []Field) (batch int, err error), exec func(rows int, args []any) error) (int64, error) {
	var (
		n                     int64
		args                  []any
		rows, firstRec, batch int
	)
	flush := func() error {
		if rows == 0 {
			return nil
		}
		if err := exec(rows, args); err != nil {
			if rows == 1 {
				return fmt.Errorf("record %d: %w", firstRec, err)
			}
			return fmt.Errorf("records %d-%d: %w", firstRec, firstRec+rows-1, err)
		}
		n += int64(rows)
		args, rows = args[:0], 0
		return nil
	}
	for {
		fs, err := rr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		if batch, err = check(fs); err != nil {
			return n, err
		}
		if rows == 0 {
			firstRec = rr.line
		}
		args = fieldArgs(args, fs)
		rows++
		if rows >= batch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// splitValuesTuple finds a query of the form "... VALUES (tuple)" with nothing
// after the tuple, so that more tuples can be appended.
func splitValuesTuple(q string, d Dialect) (prefix, tuple string, ok bool) {
	s := scanner{src: q, d: d}
	valuesAt := -1
	for s.i < len(q) {
		if s.skipToken() {
			continue
		}
		if (s.i == 0 || !isIdentByte(q[s.i-1])) && len(q)-s.i >= 6 && strings.EqualFold(q[s.i:s.i+6], "values") &&
			(s.i+6 == len(q) || !isIdentByte(q[s.i+6])) {
			valuesAt = s.i
		}
		s.i++
	}
	if valuesAt < 0 {
		return "", "", false
	}
	rest := q[valuesAt+6:]
	lead := len(rest) - len(strings.TrimLeft(rest, " \t\r\n"))
	rest = rest[lead:]
	if !strings.HasPrefix(rest, "(") {
		return "", "", false
	}
	depth := 0
	s = scanner{src: rest, d: d}
	for s.i < len(rest) {
		if s.skipToken() {
			continue
		}
		switch rest[s.i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				if strings.TrimSpace(rest[s.i+1:]) != "" {
					return "", "", false
				}
				return q[:valuesAt+6+lead], rest[:s.i+1], true
			}
		}
		s.i++
	}
	return "", "", false
}

func countPlaceholders(q string, d Dialect) int {
	n := 0
	s := scanner{src: q, d: d}
	for s.i < len(q) {
		if s.skipToken() {
			continue
		}
		if q[s.i] == '?' {
			n++
		}
		s.i++
	}
	return n
}

// numberPlaceholders turns ? into $1, $2 ... on PostgreSQL.
func numberPlaceholders(q string, d Dialect) string {
	if d != Postgres {
		return q
	}
	var b strings.Builder
	s := scanner{src: q, d: d}
	last, n := 0, 0
	for s.i < len(q) {
		if s.skipToken() {
			continue
		}
		if q[s.i] == '?' {
			n++
			b.WriteString(q[last:s.i])
			b.WriteString("$" + strconv.Itoa(n))
			last = s.i + 1
		}
		s.i++
	}
	b.WriteString(q[last:])
	return b.String()
}

// insertBatched writes records with multi-row INSERTs into the node's table.
func insertBatched(ctx context.Context, c *Conn, rr *recordReader, node SqlNode, cols []string) (int64, error) {
	target := qualified(c.Dialect, node.SchemaName, node.Table)
	colList := ""
	if len(cols) > 0 {
		q := make([]string, len(cols))
		for i, col := range cols {
			q[i] = quoteIdent(c.Dialect, col)
		}
		colList = " (" + strings.Join(q, ", ") + ")"
	}
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	width := -1
	n, err := loadBatches(rr, func(fs []Field) (int, error) {
		if width < 0 {
			width = len(fs)
			if len(cols) > 0 && width != len(cols) {
				return 0, fmt.Errorf("record %d has %d fields but the data format names %d columns", rr.line, width, len(cols))
			}
		} else if len(fs) != width {
			return 0, fmt.Errorf("record %d has %d fields, expected %d", rr.line, len(fs), width)
		}
		return min(maxBatchRows, max(1, maxParams/width)), nil
	}, func(rows int, args []any) error {
		tuple := "(" + strings.TrimRight(strings.Repeat("?,", width), ",") + ")"
		text := "INSERT INTO " + target + colList + " VALUES " + strings.TrimRight(strings.Repeat(tuple+",", rows), ",")
		_, err := tx.ExecContext(ctx, text, args...)
		return err
	})
	if err != nil {
		return n, err
	}
	return n, tx.Commit()
}

// withPgConn runs fn on one pooled connection's underlying *pgx.Conn.
func withPgConn(ctx context.Context, c *Conn, fn func(*pgx.Conn) error) error {
	if c.Dialect != Postgres {
		return fmt.Errorf("database %s is %s, not PostgreSQL", c.ID, c.Dialect)
	}
	sc, err := c.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	return sc.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		return fn(pc.Conn())
	})
}

// pgCopyRecords streams records into target with COPY FROM STDIN (text format).
func pgCopyRecords(ctx context.Context, c *Conn, rr *recordReader, target string, cols []string) (int64, error) {
	copySQL := "COPY " + target + pgColList(cols) + " FROM STDIN"
	var n int64
	err := withPgConn(ctx, c, func(pc *pgx.Conn) error {
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(encodePgText(rr, pw))
		}()
		tag, err := pc.PgConn().CopyFrom(ctx, pr, copySQL)
		pr.CloseWithError(errors.New("copy finished"))
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

func pgColList(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	q := make([]string, len(cols))
	for i, col := range cols {
		q[i] = quoteIdent(Postgres, col)
	}
	return " (" + strings.Join(q, ", ") + ")"
}

// encodePgText writes records in PostgreSQL's COPY text format.
func encodePgText(rr *recordReader, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for {
		fs, err := rr.Read()
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
		for i, f := range fs {
			if i > 0 {
				bw.WriteByte('\t')
			}
			if f.Null {
				bw.WriteString(`\N`)
				continue
			}
			appendPgText(bw, f.B)
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
}

func appendPgText(bw *bufio.Writer, b []byte) {
	start := 0
	for i, ch := range b {
		var esc byte
		switch ch {
		case '\\':
			esc = '\\'
		case '\t':
			esc = 't'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		default:
			continue
		}
		bw.Write(b[start:i])
		bw.WriteByte('\\')
		bw.WriteByte(esc)
		start = i + 1
	}
	bw.Write(b[start:])
}

// CopyFromSQL runs the node's selectQuery (or SELECT * FROM its table) and
// writes every row to dst in the given format. NULL is written as the
// format's NULL (\N for TSV, an empty unquoted field for CSV); timestamps as
// "YYYY-MM-DD HH:MM:SS[.ffffff]" (with the offset for timestamptz).
func CopyFromSQL(ctx context.Context, c *Conn, node SqlNode, format DataFormat, dst io.Writer) (int64, error) {
	cd, err := format.codec()
	if err != nil {
		return 0, c.fail(fmt.Errorf("node %s: %w", node.ID, err))
	}
	q := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(node.SelectQuery), ";"))
	if q == "" {
		if node.Table == "" {
			return 0, c.fail(fmt.Errorf("node %s: needs selectQuery or table to be read from", node.ID))
		}
		q = "SELECT * FROM " + qualified(c.Dialect, node.SchemaName, node.Table)
	}
	rows, err := c.DB.QueryContext(ctx, q)
	if err != nil {
		return 0, c.fail(fmt.Errorf("node %s: query %q: %w", node.ID, firstLine(q), err))
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, c.fail(fmt.Errorf("node %s: %w", node.ID, err))
	}
	dbTypes := make([]string, len(types))
	for i, t := range types {
		dbTypes[i] = strings.ToUpper(t.DatabaseTypeName())
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	fs := make([]Field, len(types))
	rw := newRecordWriter(dst, cd)
	var n int64
	var scratch [][]byte = make([][]byte, len(types))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, c.fail(fmt.Errorf("node %s: row %d: %w", node.ID, n+1, err))
		}
		for i, v := range vals {
			scratch[i] = scratch[i][:0]
			fs[i] = formatValue(scratch[i], v, dbTypes[i])
			scratch[i] = fs[i].B
		}
		if err := rw.Write(fs); err != nil {
			return n, c.fail(fmt.Errorf("node %s: row %d: %w", node.ID, n+1, err))
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, c.fail(fmt.Errorf("node %s: read rows: %w", node.ID, err))
	}
	if err := rw.Flush(); err != nil {
		return n, c.fail(fmt.Errorf("node %s: write: %w", node.ID, err))
	}
	return n, nil
}

// formatValue renders one scanned value as text.
func formatValue(buf []byte, v any, dbType string) Field {
	switch x := v.(type) {
	case nil:
		return Field{Null: true}
	case []byte:
		switch dbType {
		case "DATETIME", "TIMESTAMP", "TIME":
			// MySQL pads fractional seconds to the column's precision;
			// trim so every server writes the same text.
			if i := bytes.IndexByte(x, '.'); i >= 0 {
				x = bytes.TrimRight(x, "0")
				x = bytes.TrimSuffix(x, []byte("."))
			}
		}
		if dbType == "BYTEA" {
			buf = append(buf, `\x`...)
			return Field{B: hex.AppendEncode(buf, x)}
		}
		return Field{B: append(buf, x...)}
	case string:
		return Field{B: append(buf, x...)}
	case int64:
		return Field{B: strconv.AppendInt(buf, x, 10)}
	case float64:
		bits := 64
		if dbType == "FLOAT4" {
			bits = 32
		}
		return Field{B: strconv.AppendFloat(buf, x, 'g', -1, bits)}
	case float32:
		return Field{B: strconv.AppendFloat(buf, float64(x), 'g', -1, 32)}
	case bool:
		return Field{B: strconv.AppendBool(buf, x)}
	case time.Time:
		switch dbType {
		case "DATE":
			return Field{B: x.AppendFormat(buf, "2006-01-02")}
		case "TIMESTAMPTZ":
			return Field{B: x.AppendFormat(buf, "2006-01-02 15:04:05.999999-07:00")}
		}
		return Field{B: x.AppendFormat(buf, "2006-01-02 15:04:05.999999")}
	default:
		return Field{B: fmt.Append(buf, x)}
	}
}
