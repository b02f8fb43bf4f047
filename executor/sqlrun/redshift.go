package sqlrun

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Insert modes of RedshiftCopyActivity.
const (
	KeepExisting      = "KEEP_EXISTING"
	OverwriteExisting = "OVERWRITE_EXISTING"
	Truncate          = "TRUNCATE"
	Append            = "APPEND"
)

// Source is one input object (an S3 file, a local file...), opened lazily so
// that a directory of many objects is read one at a time.
type Source struct {
	Name string // for messages, e.g. s3://bucket/key
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// ReaderSource wraps an already-open reader.
func ReaderSource(name string, r io.Reader) Source {
	return Source{Name: name, Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

// RedshiftCopyOptions are the evaluated fields of a RedshiftCopyActivity and
// of its S3 input node.
type RedshiftCopyOptions struct {
	InsertMode     string   // KEEP_EXISTING | OVERWRITE_EXISTING | TRUNCATE | APPEND
	TransformSQL   string   // SELECT over the table "staging"
	CommandOptions []string // Redshift COPY options, e.g. "GZIP", "CSV", "IGNOREHEADER AS 1"
	// Format is the input S3DataNode's dataFormat, if any. It picks the
	// default dialect (CSV -> CSV, TSV -> tab delimited with escapes,
	// Custom -> its separator); commandOptions override it. Without either
	// the Redshift default applies: '|' delimited text.
	Format *DataFormat
	Gzip   bool // the S3 node's compression is gzip
}

// CopyStats counts what a load did.
type CopyStats struct {
	Loaded   int64 // records read from the sources
	Inserted int64 // rows inserted into the target
	Deleted  int64 // rows removed from the target (TRUNCATE, OVERWRITE_EXISTING)
}

// copyOpts is the parsed form of the command options.
type copyOpts struct {
	csv          bool
	quote        byte
	delim        byte
	escape       bool
	gzip         bool
	ignoreHeader int
	null         *string
}

// ParseCopyOptions parses Redshift COPY options. Unsupported options are an
// error naming the option.
func parseCopyOptions(o RedshiftCopyOptions) (copyOpts, error) {
	co := copyOpts{delim: '|', quote: '"', gzip: o.Gzip}
	if f := o.Format; f != nil {
		switch strings.ToUpper(f.Type) {
		case "CSV", "":
			co.csv = true
			co.delim = ','
		case "TSV":
			co.delim, co.escape = '\t', true
			if f.ColumnSeparator != "" {
				b, err := oneByte(f.ColumnSeparator, "columnSeparator")
				if err != nil {
					return co, err
				}
				co.delim = b
			}
		case "CUSTOM":
			b, err := oneByte(f.ColumnSeparator, "columnSeparator")
			if err != nil {
				return co, err
			}
			co.delim, co.escape = b, f.EscapeChar != ""
		default:
			return co, fmt.Errorf("input data format %q is not supported by RedshiftCopyActivity here (CSV, TSV, Custom)", f.Type)
		}
	}
	toks, err := tokenizeOptions(strings.Join(o.CommandOptions, " "))
	if err != nil {
		return co, err
	}
	// FORMAT [AS] CSV is another spelling of CSV.
	norm := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		if !toks[i].quoted && strings.EqualFold(toks[i].text, "FORMAT") {
			if i+1 < len(toks) && strings.EqualFold(toks[i+1].text, "AS") {
				i++
			}
			continue
		}
		norm = append(norm, toks[i])
	}
	toks = norm
	delimSet := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		kw := strings.ToUpper(t.text)
		if t.quoted {
			return co, fmt.Errorf("commandOptions: unexpected string '%s'", t.text)
		}
		// arg returns the value after an optional AS.
		arg := func(wantQuoted bool) (string, error) {
			if i+1 < len(toks) && !toks[i+1].quoted && strings.EqualFold(toks[i+1].text, "AS") {
				i++
			}
			if i+1 >= len(toks) || (wantQuoted && !toks[i+1].quoted) {
				return "", fmt.Errorf("commandOptions: %s needs a value", kw)
			}
			i++
			return toks[i].text, nil
		}
		switch kw {
		case "CSV":
			co.csv = true
			if !delimSet {
				co.delim = ','
			}
			if i+1 < len(toks) && strings.EqualFold(toks[i+1].text, "QUOTE") {
				i++
				q, err := arg(true)
				if err != nil {
					return co, err
				}
				if co.quote, err = oneByte(q, "QUOTE"); err != nil {
					return co, fmt.Errorf("commandOptions: %w", err)
				}
			}
		case "DELIMITER":
			v, err := arg(true)
			if err != nil {
				return co, err
			}
			if co.delim, err = oneByte(v, "DELIMITER"); err != nil {
				return co, fmt.Errorf("commandOptions: %w", err)
			}
			delimSet = true
		case "GZIP":
			co.gzip = true
		case "IGNOREHEADER":
			v, err := arg(false)
			if err != nil {
				return co, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return co, fmt.Errorf("commandOptions: IGNOREHEADER %q is not a row count", v)
			}
			co.ignoreHeader = n
		case "NULL":
			v, err := arg(true)
			if err != nil {
				return co, err
			}
			co.null = &v
		case "ESCAPE":
			co.escape = true
		case "TIMEFORMAT", "DATEFORMAT":
			v, err := arg(true)
			if err != nil {
				return co, err
			}
			// PostgreSQL's input parser accepts the ISO forms and most
			// others that 'auto' recognises.
			switch strings.ToUpper(v) {
			case "AUTO", "YYYY-MM-DD HH:MI:SS", "YYYY-MM-DD":
			default:
				return co, fmt.Errorf("commandOptions: %s '%s' is not supported (only 'auto' and the ISO default)", kw, v)
			}
		case "COMPUPDATE", "STATUPDATE":
			// Statistics/compression hints: no effect on the loaded data.
			if i+1 < len(toks) && isOnOff(toks[i+1].text) {
				i++
			}
		case "REGION":
			if _, err := arg(true); err != nil {
				return co, err
			}
		case "ENCODING":
			v, err := arg(false)
			if err != nil {
				return co, err
			}
			if u := strings.ToUpper(strings.ReplaceAll(v, "-", "")); u != "UTF8" {
				return co, fmt.Errorf("commandOptions: ENCODING %s is not supported (only UTF8)", v)
			}
		case "EMPTYASNULL":
			if !co.csv {
				return co, errors.New("commandOptions: EMPTYASNULL is supported only with CSV (where unquoted empty fields load as NULL)")
			}
		default:
			return co, fmt.Errorf("commandOptions: COPY option %s is not supported by the local executor", kw)
		}
	}
	if co.csv && co.escape {
		return co, errors.New("commandOptions: ESCAPE cannot be used with CSV")
	}
	if co.delim == '\n' || co.delim == '\r' || (co.delim == '\\' && !co.csv) {
		return co, fmt.Errorf("commandOptions: delimiter %q is not usable", co.delim)
	}
	return co, nil
}

func isOnOff(s string) bool {
	switch strings.ToUpper(s) {
	case "ON", "OFF", "TRUE", "FALSE", "PRESET":
		return true
	}
	return false
}

type optToken struct {
	text   string
	quoted bool
}

// tokenizeOptions splits COPY options into words and '...' strings. Inside a
// string, ” and \' are quotes and \t \n \\ are decoded.
func tokenizeOptions(s string) ([]optToken, error) {
	var out []optToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("commandOptions: unterminated string in %q", s)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				if s[j] == '\\' && j+1 < len(s) {
					switch s[j+1] {
					case 't':
						b.WriteByte('\t')
					case 'n':
						b.WriteByte('\n')
					default:
						b.WriteByte(s[j+1])
					}
					j += 2
					continue
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, optToken{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n,;'", rune(s[j])) {
				j++
			}
			out = append(out, optToken{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

// RedshiftCopy runs a RedshiftCopyActivity load from srcs into the node's
// table on a PostgreSQL-protocol connection, in one transaction:
//
//   - the table is created from createTableSql (Redshift-only clauses such as
//     DISTKEY/SORTKEY/ENCODE removed) when missing;
//   - the data is streamed with COPY FROM STDIN, into the target directly for
//     APPEND and TRUNCATE without transformSql, otherwise into a temporary
//     table "staging" shaped like the target;
//   - transformSql, when set, is a SELECT over staging whose result is loaded;
//   - KEEP_EXISTING inserts only rows whose key is absent, OVERWRITE_EXISTING
//     deletes rows whose key is present and inserts all, using the node's
//     primaryKeys or else the table's primary key.
func RedshiftCopy(ctx context.Context, c *Conn, srcs []Source, node SqlNode, o RedshiftCopyOptions) (CopyStats, error) {
	var st CopyStats
	mode := strings.ToUpper(strings.TrimSpace(o.InsertMode))
	switch mode {
	case KeepExisting, OverwriteExisting, Truncate, Append:
	case "":
		return st, c.fail(fmt.Errorf("node %s: insertMode is required (KEEP_EXISTING, OVERWRITE_EXISTING, TRUNCATE, APPEND)", node.ID))
	default:
		return st, c.fail(fmt.Errorf("node %s: insertMode %q is not one of KEEP_EXISTING, OVERWRITE_EXISTING, TRUNCATE, APPEND", node.ID, o.InsertMode))
	}
	if c.Dialect != Postgres {
		return st, c.fail(fmt.Errorf("node %s: RedshiftCopyActivity needs a PostgreSQL-protocol database, %s is %s", node.ID, c.ID, c.Dialect))
	}
	if node.Table == "" {
		return st, c.fail(fmt.Errorf("node %s: tableName is empty", node.ID))
	}
	co, err := parseCopyOptions(o)
	if err != nil {
		return st, c.fail(fmt.Errorf("node %s: %w", node.ID, err))
	}
	if err := ensureTable(ctx, c, node, true); err != nil {
		return st, err
	}
	target := qualified(Postgres, node.SchemaName, node.Table)
	err = withPgConn(ctx, c, func(pc *pgx.Conn) error {
		ok, err := tableExistsPg(ctx, pc, target)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("table %s does not exist and the node has no createTableSql", target)
		}
		var keys []string
		if mode == KeepExisting || mode == OverwriteExisting {
			if keys, err = mergeKeys(ctx, pc, target, node.PrimaryKeys); err != nil {
				return err
			}
		}
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if mode == Truncate {
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+target).Scan(&st.Deleted); err != nil {
				return fmt.Errorf("count %s: %w", target, err)
			}
			if _, err := tx.Exec(ctx, "TRUNCATE "+target); err != nil {
				return fmt.Errorf("truncate %s: %w", target, err)
			}
		}
		direct := (mode == Append || mode == Truncate) && strings.TrimSpace(o.TransformSQL) == ""
		into := target
		if !direct {
			if _, err := tx.Exec(ctx, "CREATE TEMP TABLE staging (LIKE "+target+" INCLUDING DEFAULTS) ON COMMIT DROP"); err != nil {
				return fmt.Errorf("create staging table: %w", err)
			}
			into = "staging"
		}
		n, err := copyStream(ctx, tx.Conn(), srcs, into, co)
		st.Loaded = n
		if err != nil {
			return err
		}
		if direct {
			st.Inserted = n
			return tx.Commit(ctx)
		}
		from := "staging"
		if t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(o.TransformSQL), ";")); t != "" {
			if _, err := tx.Exec(ctx, "CREATE TEMP TABLE dpl_transformed ON COMMIT DROP AS "+t); err != nil {
				return fmt.Errorf("transformSql: %w", err)
			}
			from = "dpl_transformed"
		}
		match := make([]string, len(keys))
		for i, k := range keys {
			k = quoteIdent(Postgres, k)
			match[i] = "t." + k + " = s." + k
		}
		cond := strings.Join(match, " AND ")
		var insert string
		switch mode {
		case OverwriteExisting:
			tag, err := tx.Exec(ctx, "DELETE FROM "+target+" AS t USING "+from+" AS s WHERE "+cond)
			if err != nil {
				return fmt.Errorf("delete rows being overwritten: %w", err)
			}
			st.Deleted = tag.RowsAffected()
			insert = "INSERT INTO " + target + " SELECT * FROM " + from
		case KeepExisting:
			insert = "INSERT INTO " + target + " SELECT * FROM " + from + " AS s WHERE NOT EXISTS (SELECT 1 FROM " + target + " AS t WHERE " + cond + ")"
		default:
			insert = "INSERT INTO " + target + " SELECT * FROM " + from
		}
		tag, err := tx.Exec(ctx, insert)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", target, err)
		}
		st.Inserted = tag.RowsAffected()
		return tx.Commit(ctx)
	})
	if err != nil {
		return st, c.fail(fmt.Errorf("node %s: %s load into %s: %w", node.ID, mode, target, err))
	}
	return st, nil
}

func tableExistsPg(ctx context.Context, pc *pgx.Conn, target string) (bool, error) {
	var ok bool
	err := pc.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", target).Scan(&ok)
	return ok, err
}

// mergeKeys returns the node's primaryKeys (entries may hold several names
// separated by commas or spaces) or else the table's primary key columns.
func mergeKeys(ctx context.Context, pc *pgx.Conn, target string, declared []string) ([]string, error) {
	var keys []string
	for _, k := range declared {
		keys = append(keys, strings.FieldsFunc(k, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })...)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	rows, err := pc.Query(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey::int2[], a.attnum)`, target)
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s: %w", target, err)
	}
	keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s: %w", target, err)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	// Redshift matches on sort and dist keys too; ensureTable recorded them
	// in the table comment when it created the table from createTableSql.
	var comment *string
	if err := pc.QueryRow(ctx, "SELECT obj_description($1::regclass, 'pg_class')", target).Scan(&comment); err != nil {
		return nil, fmt.Errorf("read comment of %s: %w", target, err)
	}
	if comment != nil {
		if list, ok := strings.CutPrefix(*comment, mergeKeysComment); ok {
			keys = strings.Split(list, ",")
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("KEEP_EXISTING and OVERWRITE_EXISTING need the node's primaryKeys, a primary key on %s, or DISTKEY/SORTKEY columns in its createTableSql", target)
	}
	return keys, nil
}

const mergeKeysComment = "dpl merge keys: "

var (
	ddlTableKeys  = regexp.MustCompile(`(?i)\b(?:compound\s+|interleaved\s+)?(?:distkey|sortkey)\s*\(([^)]*)\)`)
	ddlColumnKeys = regexp.MustCompile(`(?i)[(,]\s*("?[a-z_][a-z0-9_$]*"?)\s[^,()]*(?:\([^)]*\)[^,()]*)*\b(?:distkey|sortkey)\b`)
)

// RedshiftDDLKeys lists the DISTKEY and SORTKEY columns of a Redshift CREATE
// TABLE, which Data Pipeline uses to match rows when there is no primary key.
func RedshiftDDLKeys(ddl string) []string {
	var keys []string
	add := func(k string) {
		k = strings.ToLower(strings.Trim(strings.TrimSpace(k), `"`))
		if k != "" && !contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, m := range ddlColumnKeys.FindAllStringSubmatch(ddl, -1) {
		add(m[1])
	}
	for _, m := range ddlTableKeys.FindAllStringSubmatch(ddl, -1) {
		for _, k := range strings.Split(m[1], ",") {
			add(k)
		}
	}
	return keys
}

// copyStream feeds every source, decompressed and without header lines, to
// one COPY FROM STDIN into table.
func copyStream(ctx context.Context, pc *pgx.Conn, srcs []Source, table string, co copyOpts) (int64, error) {
	var with []string
	nullStr := `\N`
	if co.null != nil {
		nullStr = *co.null
	}
	if co.csv {
		with = append(with, "FORMAT csv", "DELIMITER "+pgLit(string(co.delim)), "QUOTE "+pgLit(string(co.quote)))
		if co.null != nil {
			with = append(with, "NULL "+pgLit(nullStr))
		}
	} else {
		if !co.escape {
			// Redshift keeps backslashes literally without ESCAPE; PostgreSQL's
			// text format always decodes them, so they are doubled in the
			// stream, and PostgreSQL matches NULL against the raw (doubled) text.
			nullStr = strings.ReplaceAll(nullStr, `\`, `\\`)
		}
		with = append(with, "FORMAT text", "DELIMITER "+pgLit(string(co.delim)), "NULL "+pgLit(nullStr))
	}
	copySQL := "COPY " + table + " FROM STDIN WITH (" + strings.Join(with, ", ") + ")"
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(feedSources(ctx, pw, srcs, co))
	}()
	tag, err := pc.PgConn().CopyFrom(ctx, pr, copySQL)
	pr.CloseWithError(errors.New("copy finished"))
	if err != nil {
		return 0, fmt.Errorf("COPY: %w", err)
	}
	return tag.RowsAffected(), nil
}

func pgLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func feedSources(ctx context.Context, w io.Writer, srcs []Source, co copyOpts) error {
	bw := bufio.NewWriterSize(w, 1<<18)
	for _, src := range srcs {
		if err := feedOne(ctx, bw, src, co); err != nil {
			return fmt.Errorf("%s: %w", src.Name, err)
		}
	}
	return bw.Flush()
}

func feedOne(ctx context.Context, bw *bufio.Writer, src Source, co copyOpts) error {
	rc, err := src.Open(ctx)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if co.gzip {
		zr, err := gzip.NewReader(rc)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReaderSize(r, 1<<18)
	for i := 0; i < co.ignoreHeader; i++ {
		if _, err := br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
			if err == io.EOF {
				return nil
			}
			return err
		} else if err == bufio.ErrBufferFull {
			i-- // a very long header line: keep skipping it
		}
	}
	var last byte = '\n'
	buf := make([]byte, 1<<18)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			last = chunk[n-1]
			if !co.csv && !co.escape {
				if werr := writeDoubled(bw, chunk); werr != nil {
					return werr
				}
			} else if _, werr := bw.Write(chunk); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if last != '\n' {
		return bw.WriteByte('\n')
	}
	return nil
}

func writeDoubled(bw *bufio.Writer, b []byte) error {
	for {
		i := bytes.IndexByte(b, '\\')
		if i < 0 {
			_, err := bw.Write(b)
			return err
		}
		bw.Write(b[:i+1])
		bw.WriteByte('\\')
		b = b[i+1:]
	}
}

var redshiftDDL = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\b(compound\s+|interleaved\s+)?sortkey\s*\([^)]*\)`), ""},
	{regexp.MustCompile(`(?i)\bdistkey\s*\([^)]*\)`), ""},
	{regexp.MustCompile(`(?i)\bdiststyle\s+(even|key|all|auto)\b`), ""},
	{regexp.MustCompile(`(?i)\bencode\s+[a-z0-9_]+`), ""},
	{regexp.MustCompile(`(?i)\bbackup\s+(yes|no)\b`), ""},
	{regexp.MustCompile(`(?i)\b(distkey|sortkey)\b`), ""},
	{regexp.MustCompile(`(?i)\bidentity\s*\(\s*\d+\s*,\s*\d+\s*\)`), "GENERATED BY DEFAULT AS IDENTITY"},
	{regexp.MustCompile(`(?i)\b(n?varchar|character varying)\s*\(\s*max\s*\)`), "varchar"},
}

// TranslateRedshiftDDL removes Redshift-only clauses (DISTKEY, SORTKEY,
// DISTSTYLE, ENCODE, BACKUP) from a CREATE TABLE so PostgreSQL accepts it, and
// maps IDENTITY(s,i) and VARCHAR(MAX). Best effort: string literals are not
// parsed.
func TranslateRedshiftDDL(ddl string) string {
	for _, r := range redshiftDDL {
		ddl = r.re.ReplaceAllString(ddl, r.repl)
	}
	return ddl
}
