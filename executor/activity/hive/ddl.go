package hive

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Known SerDe, input/output format and storage handler classes.
const (
	lazySimpleSerDe  = "org.apache.hadoop.hive.serde2.lazy.lazysimpleserde"
	openCSVSerDe     = "org.apache.hadoop.hive.serde2.opencsvserde"
	ddbExportSerDe   = "org.apache.hadoop.hive.dynamodb.dynamodbexportserde"
	textInputFormat  = "org.apache.hadoop.mapred.textinputformat"
	textOutputFormat = "org.apache.hadoop.hive.ql.io.hiveignorekeytextoutputformat"
)

var regexSerDes = map[string]bool{
	"org.apache.hadoop.hive.serde2.regexserde":         true,
	"org.apache.hadoop.hive.contrib.serde2.regexserde": true,
}

var jsonSerDes = map[string]bool{
	"org.apache.hive.hcatalog.data.jsonserde":         true,
	"org.openx.data.jsonserde.jsonserde":              true,
	"org.apache.hadoop.hive.serde2.jsonserde":         true,
	"com.amazon.elasticmapreduce.jsonserde.jsonserde": true,
}

func (s *Session) execCreate(ctx context.Context, p *parser) error {
	create := p.next()
	p.accept("temporary")
	external := p.accept("external")
	if p.accept("database") || p.accept("schema") {
		return nil // one database; names are qualified as db__table
	}
	if p.peek().is("view", "function", "index", "macro", "role") {
		return unsupported(p.peek(), "CREATE "+strings.ToUpper(p.peek().text), "")
	}
	if err := p.expect("table"); err != nil {
		return err
	}
	ifNotExists := p.accept("if", "not", "exists")
	name, nt, err := p.tableName()
	if err != nil {
		return err
	}
	if strings.HasPrefix(name, "sqlite_") {
		return semanticErr(nt, "table name %q is reserved", name)
	}
	if old, ok := s.tables[name]; ok {
		if ifNotExists {
			return nil
		}
		_ = old
		return semanticErr(nt, "Table %s already exists", name)
	}
	tbl := &table{name: name, external: external, format: defaultDelimited(), props: map[string]string{}}
	var like *table
	if p.accept("like") {
		lname, lt, err := p.tableName()
		if err != nil {
			return err
		}
		if like, err = s.table(lt, lname); err != nil {
			return err
		}
		copyFmt := *like.format
		tbl.cols, tbl.partCols, tbl.format = like.cols, like.partCols, &copyFmt
	} else if p.peek().isOp("(") {
		if tbl.cols, err = p.columns(); err != nil {
			return err
		}
	}
	var serdeClass string
	var serdeProps map[string]string
	var storedBy string
	var ctas []token
	for p.peek().kind != tEOF {
		t := p.peek()
		switch {
		case p.accept("comment"):
			if _, err := p.str("a comment"); err != nil {
				return err
			}
		case p.accept("partitioned", "by"):
			if tbl.partCols, err = p.columns(); err != nil {
				return err
			}
			for _, pc := range tbl.partCols {
				for _, c := range tbl.cols {
					if c.name == pc.name {
						return semanticErr(t, "column %q is both a table column and a partition column", c.name)
					}
				}
			}
		case p.accept("clustered", "by"):
			return unsupported(t, "CLUSTERED BY ... INTO n BUCKETS", "bucketed tables are not implemented")
		case p.accept("skewed", "by"):
			return unsupported(t, "SKEWED BY", "")
		case p.accept("row", "format"):
			switch {
			case p.accept("delimited"):
				if err := parseDelimited(p, tbl.format); err != nil {
					return err
				}
			case p.accept("serde"):
				st := p.peek()
				if serdeClass, err = p.str("a SerDe class name"); err != nil {
					return err
				}
				if p.accept("with", "serdeproperties") {
					if serdeProps, err = p.properties(); err != nil {
						return err
					}
				}
				// Refuse an unknown class here, where it is named.
				if err := applySerDe(st, tbl, serdeClass, serdeProps); err != nil {
					return err
				}
			default:
				return syntaxErr(p.peek(), "expected DELIMITED or SERDE after ROW FORMAT, found %s", p.peek())
			}
		case p.accept("stored", "as"):
			if p.accept("inputformat") {
				in, err := p.str("an input format class")
				if err != nil {
					return err
				}
				if err := p.expect("outputformat"); err != nil {
					return err
				}
				out, err := p.str("an output format class")
				if err != nil {
					return err
				}
				if !strings.EqualFold(in, textInputFormat) {
					return unsupported(t, "INPUTFORMAT '"+in+"'", "only text files (org.apache.hadoop.mapred.TextInputFormat) are read")
				}
				if !strings.EqualFold(out, textOutputFormat) && !strings.EqualFold(out, "org.apache.hadoop.hive.ql.io.IgnoreKeyTextOutputFormat") {
					return unsupported(t, "OUTPUTFORMAT '"+out+"'", "only text files are written")
				}
				continue
			}
			f, ft, err := p.ident("a file format")
			if err != nil {
				return err
			}
			if !strings.EqualFold(f, "textfile") {
				return unsupported(ft, "STORED AS "+strings.ToUpper(f), "the embedded engine reads and writes text files only (STORED AS TEXTFILE)")
			}
		case p.accept("stored", "by"):
			if storedBy, err = p.str("a storage handler class"); err != nil {
				return err
			}
			if !strings.EqualFold(storedBy, dynamoHandler) {
				return unsupported(t, "STORED BY '"+storedBy+"'", "the only storage handler implemented is "+dynamoHandler)
			}
			if p.accept("with", "serdeproperties") {
				if serdeProps, err = p.properties(); err != nil {
					return err
				}
			}
		case p.accept("location"):
			loc, err := p.str("a location")
			if err != nil {
				return err
			}
			if tbl.location, err = s.normLocation(t, loc); err != nil {
				return err
			}
		case p.accept("tblproperties"):
			props, err := p.properties()
			if err != nil {
				return err
			}
			for k, v := range props {
				tbl.props[k] = v
			}
		case p.peek().is("as"):
			p.next()
			ctas = p.toks[p.pos:]
			p.pos = len(p.toks) - 1
		default:
			return syntaxErr(t, "unexpected %s in CREATE TABLE", t)
		}
	}
	if len(tbl.cols) == 0 && ctas == nil && storedBy == "" {
		return semanticErr(create, "CREATE TABLE %s needs columns", name)
	}
	if serdeClass == "" && serdeProps != nil && tbl.format.kind == serdeDelimited {
		applyDelimitedProps(tbl.format, serdeProps)
	}
	if v, ok := tbl.props["serialization.null.format"]; ok && tbl.format.kind == serdeDelimited {
		tbl.format.null = v
	}
	if v, ok := tbl.props["skip.header.line.count"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return semanticErr(create, "skip.header.line.count = %q is not a count", v)
		}
		tbl.skipHeader = n
	}
	if tbl.format.kind == serdeDDBExport {
		m, err := parseColumnMapping(create, tbl.cols, tbl.props["dynamodb.column.mapping"])
		if err != nil {
			return err
		}
		tbl.format.mapping = m
	}
	if storedBy != "" {
		if tbl.location != "" {
			return semanticErr(create, "a DynamoDB table has no LOCATION")
		}
		if tbl.dynamo, err = parseDynamoProps(create, tbl.cols, tbl.props); err != nil {
			return err
		}
		if len(tbl.partCols) > 0 {
			return semanticErr(create, "a DynamoDB table cannot be partitioned")
		}
	} else if tbl.location == "" {
		tbl.location = filepath.Join(s.hdfsRoot, "user", "hive", "warehouse", name)
	}
	if tbl.format.kind == serdeRegex || tbl.format.kind == serdeCSV {
		for _, c := range tbl.cols {
			if isComplex(c.typ) {
				return semanticErr(create, "column %s: %s cannot hold %s values", c.name, serdeClass, c.typ)
			}
		}
	}
	if ctas != nil {
		if external {
			return semanticErr(create, "CREATE TABLE AS SELECT cannot create an EXTERNAL table")
		}
		sqlText, refs, err := s.translate(ctas)
		if err != nil {
			return err
		}
		if err := s.loadRefs(ctx, refs); err != nil {
			return err
		}
		cols, err := s.resultColumns(ctx, sqlText)
		if err != nil {
			return &Error{Code: CodeSemantic, Line: ctas[0].line, Col: ctas[0].col, Msg: "query", Err: err}
		}
		tbl.cols = cols
		s.tables[name] = tbl
		_, err = s.insertRows(ctx, ctas[0], tbl, nil, query{sql: sqlText, refs: refs}, true)
		if err != nil {
			delete(s.tables, name)
		}
		return err
	}
	s.tables[name] = tbl
	return nil
}

// parseDelimited reads the clauses of ROW FORMAT DELIMITED.
func parseDelimited(p *parser, f *rowFormat) error {
	for {
		t := p.peek()
		switch {
		case p.acceptThen("fields", "terminated", "by"):
			v, err := p.separator("field delimiter")
			if err != nil {
				return err
			}
			f.field = firstChar(v)
			if p.accept("escaped", "by") {
				e, err := p.separator("escape character")
				if err != nil {
					return err
				}
				f.escape = firstChar(e)
			}
		case p.acceptThen("collection", "items", "terminated", "by"):
			v, err := p.separator("collection delimiter")
			if err != nil {
				return err
			}
			f.collection = firstChar(v)
		case p.acceptThen("map", "keys", "terminated", "by"):
			v, err := p.separator("map key delimiter")
			if err != nil {
				return err
			}
			f.mapKey = firstChar(v)
		case p.acceptThen("lines", "terminated", "by"):
			v, err := p.separator("line delimiter")
			if err != nil {
				return err
			}
			if v != "\n" {
				return unsupported(t, fmt.Sprintf("LINES TERMINATED BY %q", v), "Hive only supports '\\n'")
			}
		case p.acceptThen("null", "defined", "as"):
			v, err := p.str("a NULL marker")
			if err != nil {
				return err
			}
			f.null = v
		default:
			return nil
		}
	}
}

func firstChar(s string) string {
	for _, r := range s {
		return string(r)
	}
	return s
}

func applyDelimitedProps(f *rowFormat, props map[string]string) {
	for k, v := range props {
		switch k {
		case "field.delim", "serialization.format":
			f.field = delimValue(v)
		case "colelction.delim", "collection.delim":
			f.collection = delimValue(v)
		case "mapkey.delim":
			f.mapKey = delimValue(v)
		case "escape.delim":
			f.escape = delimValue(v)
		case "serialization.null.format":
			f.null = v
		}
	}
}

// delimValue reads a SERDEPROPERTIES delimiter: a character, or its
// decimal code ("9" is a tab), as LazySimpleSerDe does.
func delimValue(v string) string {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 128 && len(v) > 0 {
		return string(rune(n))
	}
	return firstChar(v)
}

// applySerDe sets the table's row format from ROW FORMAT SERDE.
func applySerDe(t token, tbl *table, class string, props map[string]string) error {
	low := strings.ToLower(class)
	switch {
	case low == lazySimpleSerDe:
		applyDelimitedProps(tbl.format, props)
	case low == openCSVSerDe:
		f := &rowFormat{kind: serdeCSV, sep: ',', quote: '"', esc: '"'}
		for k, v := range props {
			r := []rune(v)
			if len(r) == 0 {
				continue
			}
			switch k {
			case "separatorChar":
				f.sep = r[0]
			case "quoteChar":
				f.quote = r[0]
			case "escapeChar":
				f.esc = r[0]
			}
		}
		tbl.format = f
	case regexSerDes[low]:
		re, ok := props["input.regex"]
		if !ok {
			return semanticErr(t, "RegexSerDe needs SERDEPROPERTIES (\"input.regex\" = \"...\")")
		}
		if strings.EqualFold(props["input.regex.case.insensitive"], "true") {
			re = "(?i)" + re
		}
		compiled, err := regexp.Compile("^(?:" + re + ")$")
		if err != nil {
			return semanticErr(t, "input.regex %q: %v (Java-only features such as look-around are not supported)", props["input.regex"], err)
		}
		if compiled.NumSubexp() < len(tbl.cols) {
			return semanticErr(t, "input.regex has %d groups but the table has %d columns", compiled.NumSubexp(), len(tbl.cols))
		}
		for _, c := range tbl.cols {
			if baseType(c.typ) != "string" && sqliteType(c.typ) == "TEXT" {
				return semanticErr(t, "RegexSerDe column %s: type %s is not a primitive type", c.name, c.typ)
			}
		}
		tbl.format = &rowFormat{kind: serdeRegex, regex: compiled}
	case jsonSerDes[low]:
		tbl.format = &rowFormat{kind: serdeJSON, ignoreMalformed: strings.EqualFold(props["ignore.malformed.json"], "true")}
	case low == ddbExportSerDe:
		tbl.format = &rowFormat{kind: serdeDDBExport}
		if m, ok := props["dynamodb.column.mapping"]; ok {
			tbl.props["dynamodb.column.mapping"] = m
		}
	default:
		return unsupported(t, "ROW FORMAT SERDE '"+class+"'", "the embedded engine implements LazySimpleSerDe, OpenCSVSerde, RegexSerDe, JsonSerDe and DynamoDBExportSerDe; "+
			"a SerDe from a jar needs Hive: run with --emr host")
	}
	return nil
}

func (s *Session) execDrop(ctx context.Context, p *parser) error {
	p.next()
	if p.accept("database") || p.accept("schema") || p.accept("function") || p.accept("temporary", "function") {
		return nil
	}
	if p.peek().is("view", "index") {
		return unsupported(p.peek(), "DROP "+strings.ToUpper(p.peek().text), "")
	}
	if err := p.expect("table"); err != nil {
		return err
	}
	ifExists := p.accept("if", "exists")
	name, nt, err := p.tableName()
	if err != nil {
		return err
	}
	p.accept("purge")
	if err := p.expectEnd(); err != nil {
		return err
	}
	tbl, ok := s.tables[name]
	if !ok {
		if ifExists {
			return nil
		}
		return semanticErr(nt, "Table not found '%s'", name)
	}
	if !tbl.external && tbl.dynamo == nil {
		// Managed tables own their data.
		if err := s.removeTree(ctx, tbl.location); err != nil {
			return fmt.Errorf("drop table %s: delete data in %s: %w", name, tbl.location, err)
		}
	}
	delete(s.tables, name)
	_, err = s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(name))
	return err
}

// partitionSpec reads PARTITION (k='v', k2) — values may be absent for
// dynamic partitions.
func (s *Session) partitionSpec(p *parser, tbl *table, t token) ([]string, []bool, error) {
	if err := p.expectOp("("); err != nil {
		return nil, nil, err
	}
	if len(tbl.partCols) == 0 {
		return nil, nil, semanticErr(t, "table %s is not partitioned", tbl.name)
	}
	values := make([]string, len(tbl.partCols))
	set := make([]bool, len(tbl.partCols))
	for {
		name, nt, err := p.ident("a partition column")
		if err != nil {
			return nil, nil, err
		}
		idx := -1
		for i, c := range tbl.partCols {
			if strings.EqualFold(c.name, name) {
				idx = i
			}
		}
		if idx < 0 {
			return nil, nil, semanticErr(nt, "%s is not a partition column of table %s", name, tbl.name)
		}
		if p.acceptOp("=") {
			vt := p.next()
			if vt.kind != tString && vt.kind != tNumber && vt.kind != tIdent {
				return nil, nil, syntaxErr(vt, "expected a partition value, found %s", vt)
			}
			values[idx], set[idx] = vt.text, true
		}
		if !p.acceptOp(",") {
			break
		}
	}
	return values, set, p.expectOp(")")
}

func (s *Session) execMSCK(ctx context.Context, p *parser) error {
	p.next()
	if err := p.expect("repair", "table"); err != nil {
		return err
	}
	name, nt, err := p.tableName()
	if err != nil {
		return err
	}
	tbl, err := s.table(nt, name)
	if err != nil {
		return err
	}
	return s.recoverPartitions(ctx, nt, tbl)
}

// recoverPartitions registers every k=v/... folder under the table's
// location (MSCK REPAIR TABLE, ALTER TABLE RECOVER PARTITIONS).
func (s *Session) recoverPartitions(ctx context.Context, t token, tbl *table) error {
	if len(tbl.partCols) == 0 {
		return semanticErr(t, "table %s is not partitioned", tbl.name)
	}
	var walk func(dir string, depth int, vals []string) error
	added := 0
	walk = func(dir string, depth int, vals []string) error {
		if depth == len(tbl.partCols) {
			if tbl.partition(vals) == nil {
				tbl.partitions = append(tbl.partitions, partition{values: append([]string(nil), vals...), location: dir})
				added++
			}
			return nil
		}
		_, dirs, err := s.list(ctx, dir)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			k, v, ok := strings.Cut(d, "=")
			if !ok || !strings.EqualFold(k, tbl.partCols[depth].name) {
				continue
			}
			if err := walk(joinLoc(dir, d), depth+1, append(vals, unescapePathValue(v))); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(tbl.location, 0, nil); err != nil {
		return err
	}
	tbl.loaded = false
	fmt.Fprintf(s.opts.Stderr, "dpl hive: table %s: %d partition(s) added\n", tbl.name, added)
	return nil
}

func (s *Session) execAlter(ctx context.Context, p *parser) error {
	p.next()
	if err := p.expect("table"); err != nil {
		return err
	}
	name, nt, err := p.tableName()
	if err != nil {
		return err
	}
	tbl, err := s.table(nt, name)
	if err != nil {
		return err
	}
	t := p.peek()
	switch {
	case p.accept("recover", "partitions"):
		return s.recoverPartitions(ctx, t, tbl)
	case p.accept("add"):
		ifNotExists := p.accept("if", "not", "exists")
		for p.peek().is("partition") {
			pt := p.next()
			vals, set, err := s.partitionSpec(p, tbl, pt)
			if err != nil {
				return err
			}
			for i, ok := range set {
				if !ok {
					return semanticErr(pt, "ADD PARTITION needs a value for %s", tbl.partCols[i].name)
				}
			}
			loc := joinLoc(tbl.location, tbl.partDir(vals))
			if p.accept("location") {
				l, err := p.str("a location")
				if err != nil {
					return err
				}
				if loc, err = s.normLocation(pt, l); err != nil {
					return err
				}
			}
			if tbl.partition(vals) != nil {
				if ifNotExists {
					continue
				}
				return semanticErr(pt, "partition %s of table %s already exists", tbl.partDir(vals), tbl.name)
			}
			tbl.partitions = append(tbl.partitions, partition{values: vals, location: loc})
			tbl.loaded = false
		}
		return p.expectEnd()
	case p.accept("drop"):
		p.accept("if", "exists")
		for p.accept("partition") {
			vals, _, err := s.partitionSpec(p, tbl, t)
			if err != nil {
				return err
			}
			kept := tbl.partitions[:0]
			for _, part := range tbl.partitions {
				if !equalStrings(part.values, vals) {
					kept = append(kept, part)
				} else if !tbl.external {
					if err := s.removeTree(ctx, part.location); err != nil {
						return err
					}
				}
			}
			tbl.partitions = kept
			tbl.loaded = false
			if !p.acceptOp(",") {
				break
			}
		}
		return p.expectEnd()
	case p.accept("set", "location"):
		l, err := p.str("a location")
		if err != nil {
			return err
		}
		if tbl.location, err = s.normLocation(t, l); err != nil {
			return err
		}
		tbl.loaded = false
		return p.expectEnd()
	case p.accept("set", "tblproperties"):
		props, err := p.properties()
		if err != nil {
			return err
		}
		for k, v := range props {
			tbl.props[k] = v
		}
		return nil
	}
	return unsupported(t, "ALTER TABLE ... "+strings.ToUpper(t.text), "supported: ADD/DROP PARTITION, RECOVER PARTITIONS, SET LOCATION, SET TBLPROPERTIES")
}

// execLoad copies files into a table (LOAD DATA [LOCAL] INPATH).
func (s *Session) execLoad(ctx context.Context, p *parser) error {
	p.next()
	if err := p.expect("data"); err != nil {
		return err
	}
	local := p.accept("local")
	if err := p.expect("inpath"); err != nil {
		return err
	}
	pt := p.peek()
	src, err := p.str("a path")
	if err != nil {
		return err
	}
	overwrite := p.accept("overwrite")
	if err := p.expect("into", "table"); err != nil {
		return err
	}
	name, nt, err := p.tableName()
	if err != nil {
		return err
	}
	tbl, err := s.table(nt, name)
	if err != nil {
		return err
	}
	if tbl.dynamo != nil {
		return semanticErr(nt, "LOAD DATA cannot load into DynamoDB table %s", name)
	}
	dir := tbl.location
	var vals []string
	if p.peek().is("partition") {
		t := p.next()
		v, set, err := s.partitionSpec(p, tbl, t)
		if err != nil {
			return err
		}
		for i, ok := range set {
			if !ok {
				return semanticErr(t, "LOAD DATA needs a value for partition column %s", tbl.partCols[i].name)
			}
		}
		vals = v
		dir = joinLoc(tbl.location, tbl.partDir(vals))
		if part := tbl.partition(vals); part != nil {
			dir = part.location
		}
	} else if len(tbl.partCols) > 0 {
		return semanticErr(nt, "table %s is partitioned: LOAD DATA needs PARTITION (...)", name)
	}
	if err := p.expectEnd(); err != nil {
		return err
	}
	var srcLoc string
	if local {
		if srcLoc, err = localPath(pt, src); err != nil {
			return err
		}
	} else if srcLoc, err = s.normLocation(pt, src); err != nil {
		return err
	}
	var files []entry
	if fs, _, err := s.list(ctx, srcLoc); err == nil && len(fs) > 0 {
		files = fs
	} else {
		files = []entry{{name: filepath.Base(srcLoc), loc: srcLoc}}
	}
	if overwrite {
		if err := s.removeTree(ctx, dir); err != nil {
			return err
		}
	}
	for _, f := range files {
		if !dataFile(f.name) {
			continue
		}
		if err := s.copyFile(ctx, f.loc, joinLoc(dir, f.name)); err != nil {
			return fmt.Errorf("LOAD DATA %s: %w", f.loc, err)
		}
	}
	if vals != nil && tbl.partition(vals) == nil {
		tbl.partitions = append(tbl.partitions, partition{values: vals, location: dir})
	}
	tbl.loaded = false
	return nil
}

func (s *Session) copyFile(ctx context.Context, src, dst string) error {
	var r io.ReadCloser
	var err error
	if isS3(src) {
		r, err = s.opts.Store.Open(ctx, src)
	} else {
		r, err = openLocal(src)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := s.create(ctx, dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		abort(w, err)
		return err
	}
	return w.Close()
}

func (s *Session) execShow(p *parser) error {
	t := p.next()
	if t.is("show") && p.accept("tables") {
		for _, n := range sortedKeys(s.tables) {
			fmt.Fprintln(s.opts.Stdout, n)
		}
		return nil
	}
	if t.is("describe", "desc") {
		p.accept("formatted")
		p.accept("extended")
		name, nt, err := p.tableName()
		if err != nil {
			return err
		}
		tbl, err := s.table(nt, name)
		if err != nil {
			return err
		}
		for _, c := range tbl.allCols() {
			fmt.Fprintf(s.opts.Stdout, "%s\t%s\n", c.name, c.typ)
		}
		return nil
	}
	return unsupported(t, strings.ToUpper(t.text)+" "+strings.ToUpper(p.peek().text), "")
}
