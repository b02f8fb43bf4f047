package sqlrun

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The corpus of real definitions is optional: tests skip without it.
func corpusDir(t *testing.T) string {
	for _, d := range []string{os.Getenv("DPL_CORPUS_DIR"), "../../../shared/corpus/files", "/work/shared/corpus/files"} {
		if d == "" {
			continue
		}
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	t.Skip("SKIPPING corpus test: corpus folder not found (set DPL_CORPUS_DIR)")
	return ""
}

type corpusDef struct {
	file    string
	objects map[string]map[string]any
	params  map[string]string // id (without *) -> value, default or watermark
}

var paramRef = regexp.MustCompile(`#\{\*?(my[A-Za-z0-9_]+)\}`)

func loadCorpusDef(t *testing.T, path string) *corpusDef {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Objects    []map[string]any  `json:"objects"`
		Parameters []map[string]any  `json:"parameters"`
		Values     map[string]string `json:"values"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil
	}
	d := &corpusDef{file: filepath.Base(path), objects: map[string]map[string]any{}, params: map[string]string{}}
	for _, o := range raw.Objects {
		if id, ok := o["id"].(string); ok {
			d.objects[id] = o
		}
	}
	for _, p := range raw.Parameters {
		id := strings.TrimPrefix(fmt.Sprint(p["id"]), "*")
		for _, k := range []string{"watermark", "default"} {
			if v, ok := p[k].(string); ok && v != "" {
				d.params[id] = v
			}
		}
	}
	for k, v := range raw.Values {
		if v != "" {
			d.params[strings.TrimPrefix(k, "*")] = v
		}
	}
	return d
}

// str resolves a field to a string with parameter references substituted.
func (d *corpusDef) str(o map[string]any, field string) string {
	v, ok := o[field]
	if !ok {
		return ""
	}
	if l, ok := v.([]any); ok && len(l) > 0 {
		v = l[0]
	}
	s, _ := v.(string)
	return paramRef.ReplaceAllStringFunc(s, func(m string) string {
		return d.params[paramRef.FindStringSubmatch(m)[1]]
	})
}

func (d *corpusDef) list(o map[string]any, field string) []string {
	switch v := o[field].(type) {
	case string:
		return []string{d.str(o, field)}
	case []any:
		var out []string
		for i := range v {
			out = append(out, d.str(map[string]any{"x": v[i]}, "x"))
		}
		return out
	}
	return nil
}

func (d *corpusDef) ref(o map[string]any, field string) map[string]any {
	if r, ok := o[field].(map[string]any); ok {
		return d.objects[fmt.Sprint(r["ref"])]
	}
	return nil
}

func corpusFiles(t *testing.T) []*corpusDef {
	dir := corpusDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	var out []*corpusDef
	for _, f := range files {
		if d := loadCorpusDef(t, f); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// Every commandOptions, insertMode and connection string in the corpus is
// understood (or, for engines dpl does not speak, refused with a clear message).
func TestCorpusFieldValues(t *testing.T) {
	seen := 0
	for _, d := range corpusFiles(t) {
		for id, o := range d.objects {
			switch o["type"] {
			case "RedshiftCopyActivity":
				seen++
				if _, err := parseCopyOptions(RedshiftCopyOptions{CommandOptions: d.list(o, "commandOptions")}); err != nil {
					t.Errorf("%s %s: commandOptions %q: %v", d.file, id, d.list(o, "commandOptions"), err)
				}
				switch m := d.str(o, "insertMode"); m {
				case KeepExisting, OverwriteExisting, Truncate, Append:
				default:
					t.Errorf("%s %s: insertMode %q", d.file, id, m)
				}
			case "RedshiftDatabase", "JdbcDatabase", "RdsDatabase", "MySqlDataNode":
				cs := d.str(o, "connectionString")
				if cs == "" || strings.Contains(cs, "endpoint:port") || strings.Contains(cs, "#{") {
					continue // a placeholder the user must fill in
				}
				seen++
				_, _, _, err := driverDSN(cs, Database{Username: "u", Password: "p", JdbcDriverClass: d.str(o, "jdbcDriverClass")})
				if strings.HasPrefix(cs, "jdbc:oracle") {
					if err == nil || !strings.Contains(err.Error(), "not supported") {
						t.Errorf("%s %s: oracle URL: %v", d.file, id, err)
					}
				} else if err != nil {
					t.Errorf("%s %s: connectionString %q: %v", d.file, id, cs, err)
				}
			}
		}
	}
	if seen == 0 {
		t.Skip("SKIPPING: no SQL objects in the corpus")
	}
}

// The S3 -> Redshift samples run against local PostgreSQL with only their
// parameters and connection changed: each RedshiftCopyActivity whose input
// is an S3DataNode loads generated rows, twice (so the insert mode meets
// existing rows).
func TestCorpusRedshiftCopySamples(t *testing.T) {
	defs := corpusFiles(t)
	_, c := newPG(t)
	var ran, skipped []string
	for _, d := range defs {
		for id, o := range d.objects {
			if o["type"] != "RedshiftCopyActivity" {
				continue
			}
			name := d.file + "/" + id
			in, out := d.ref(o, "input"), d.ref(o, "output")
			if in != nil && out != nil && in["type"] == "RedshiftDataNode" && out["type"] == "S3DataNode" {
				// Redshift -> S3 (UNLOAD): the engine calls CopyFromSQL on the table.
				t.Run(name, func(t *testing.T) {
					table := strings.ToLower(d.str(in, "tableName"))
					if table == "" || strings.ContainsAny(table, "%#") {
						table = "corpus_unload"
					}
					mustExec(t, c, "DROP TABLE IF EXISTS "+table)
					mustExec(t, c, "CREATE TABLE "+table+" (col1 varchar(255), col2 integer)")
					mustExec(t, c, "INSERT INTO "+table+" VALUES ('a|b', 1), (NULL, 2)")
					var buf bytes.Buffer
					n, err := CopyFromSQL(ctx, c, SqlNode{ID: fmt.Sprint(in["id"]), Table: table, SchemaName: d.str(in, "schemaName")}, DataFormat{}, &buf)
					if err != nil || n != 2 || buf.String() != "a|b,1\n,2\n" {
						t.Fatalf("unload: %d rows %q, %v", n, buf.String(), err)
					}
				})
				ran = append(ran, name+" (Redshift -> S3 via CopyFromSQL)")
				continue
			}
			if in == nil || out == nil || in["type"] != "S3DataNode" || out["type"] != "RedshiftDataNode" {
				skipped = append(skipped, fmt.Sprintf("%s (input %v -> output %v)", name, typeOf(in), typeOf(out)))
				continue
			}
			t.Run(name, func(t *testing.T) {
				table := d.str(out, "tableName")
				if table == "" || strings.ContainsAny(table, "%#") {
					table = "corpus_table"
				}
				table = strings.ToLower(table)
				schema := d.str(out, "schemaName")
				if schema != "" && !strings.EqualFold(schema, "public") {
					mustExec(t, c, "CREATE SCHEMA IF NOT EXISTS "+schema)
				}
				target := qualified(Postgres, schema, table)
				mustExec(t, c, "DROP TABLE IF EXISTS "+target)
				ddl := strings.ReplaceAll(d.str(out, "createTableSql"), "#{tableName}", table)
				if ddl == "" {
					// No createTableSql: the table is the user's; make the watermark's shape.
					mustExec(t, c, "CREATE TABLE "+target+" (id varchar(255), name varchar(255), address varchar(255), primary key(id))")
				}
				node := SqlNode{ID: fmt.Sprint(out["id"]), Table: table, SchemaName: schema, CreateTableSQL: ddl, PrimaryKeys: d.list(out, "primaryKeys")}
				var format *DataFormat
				if f := d.ref(in, "dataFormat"); f != nil {
					format = &DataFormat{Type: fmt.Sprint(f["type"])}
				}
				opts := RedshiftCopyOptions{InsertMode: d.str(o, "insertMode"), CommandOptions: d.list(o, "commandOptions"),
					Format: format, Gzip: d.str(in, "compression") == "gzip", TransformSQL: d.str(o, "transformSql")}
				if err := ensureTable(ctx, c, node, true); err != nil {
					t.Fatalf("createTableSql: %v", err)
				}
				co, err := parseCopyOptions(opts)
				if err != nil {
					t.Fatal(err)
				}
				data := sampleInput(t, c, target, co, 3)
				for run := 1; run <= 2; run++ {
					st, err := RedshiftCopy(ctx, c, []Source{ReaderSource("s3://sample/part-0", bytes.NewReader(data))}, node, opts)
					if err != nil {
						t.Fatalf("run %d: %v\ninput:\n%s", run, err, data)
					}
					if st.Loaded != 3 {
						t.Errorf("run %d: stats %+v", run, st)
					}
				}
				want := "3"
				if strings.EqualFold(opts.InsertMode, Append) {
					want = "6"
				}
				if got := dump(t, c, "SELECT count(*) FROM "+target); got != want {
					t.Errorf("%s mode left %s rows, want %s", opts.InsertMode, got, want)
				}
			})
			ran = append(ran, fmt.Sprintf("%s (%s, options %q)", name, d.str(o, "insertMode"), d.list(o, "commandOptions")))
		}
	}
	t.Logf("ran %d RedshiftCopyActivity samples:\n  %s", len(ran), strings.Join(ran, "\n  "))
	t.Logf("not S3->Redshift, left to other activities: \n  %s", strings.Join(skipped, "\n  "))
}

func typeOf(o map[string]any) any {
	if o == nil {
		return "none"
	}
	return o["type"]
}

// sampleInput renders rows rows of typed values for target's columns in the
// dialect co describes, with header lines and gzip as co asks.
func sampleInput(t *testing.T, c *Conn, target string, co copyOpts, rows int) []byte {
	t.Helper()
	r, err := c.DB.Query("SELECT data_type FROM information_schema.columns WHERE table_schema||'.'||table_name = (SELECT n.nspname||'.'||cl.relname FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE cl.oid = $1::regclass) ORDER BY ordinal_position", target)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for r.Next() {
		var s string
		r.Scan(&s)
		types = append(types, s)
	}
	r.Close()
	var b bytes.Buffer
	for h := 0; h < co.ignoreHeader; h++ {
		b.WriteString("header line\n")
	}
	for i := 1; i <= rows; i++ {
		for j, ty := range types {
			if j > 0 {
				b.WriteByte(co.delim)
			}
			var v string
			switch {
			case strings.Contains(ty, "int"):
				v = fmt.Sprint(i*10 + j)
			case strings.Contains(ty, "double"), strings.Contains(ty, "real"), strings.Contains(ty, "numeric"):
				v = fmt.Sprintf("%d.5", i)
			case strings.Contains(ty, "timestamp"):
				v = fmt.Sprintf("2024-01-0%d 10:00:00", i)
			case strings.Contains(ty, "date"):
				v = fmt.Sprintf("2024-01-0%d", i)
			default:
				v = fmt.Sprintf("v%d-%d", i, j)
			}
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	if !co.gzip {
		return b.Bytes()
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b.Bytes())
	w.Close()
	return z.Bytes()
}

// SQL <-> S3 CopyActivity samples (RDStoS3, RedshiftToRDS, S3ToPostgresRDS)
// run with their selectQuery / insertQuery / createTable script as written.
func TestCorpusSqlCopySamples(t *testing.T) {
	defs := corpusFiles(t)
	var ran []string
	for _, d := range defs {
		for id, o := range d.objects {
			if o["type"] != "CopyActivity" {
				continue
			}
			in, out := d.ref(o, "input"), d.ref(o, "output")
			isSQL := func(n map[string]any) bool {
				return n != nil && (n["type"] == "SqlDataNode" || n["type"] == "MySqlDataNode")
			}
			if !isSQL(in) && !isSQL(out) {
				continue
			}
			name := d.file + "/" + id
			t.Run(name, func(t *testing.T) {
				sqlNode, s3Node := in, out
				if isSQL(out) {
					sqlNode, s3Node = out, in
				}
				if db := d.ref(sqlNode, "database"); db != nil && strings.HasPrefix(d.str(db, "connectionString"), "jdbc:oracle") {
					_, err := Open(ctx, Database{Type: TypeJdbc, ID: fmt.Sprint(db["id"]), ConnectionString: d.str(db, "connectionString"), JdbcDriverClass: d.str(db, "jdbcDriverClass")}, Options{})
					if err == nil || !strings.Contains(err.Error(), "jdbc:oracle (jdbcDriverClass oracle.jdbc.OracleDriver) is not supported") {
						t.Errorf("Oracle database: %v", err)
					}
					return
				}
				var c *Conn
				if sqlNode["type"] == "MySqlDataNode" {
					_, c = newMySQL(t)
				} else {
					_, c = newPG(t)
				}
				table := d.str(sqlNode, "table")
				if table == "" || strings.ContainsAny(table, "<#%") {
					table = "corpus_table"
				}
				var format DataFormat
				if f := d.ref(s3Node, "dataFormat"); f != nil {
					format = DataFormat{Type: fmt.Sprint(f["type"]), Columns: d.list(f, "column")}
				}
				node := SqlNode{ID: fmt.Sprint(sqlNode["id"]), Table: table,
					SelectQuery: strings.ReplaceAll(d.str(sqlNode, "selectQuery"), "#{table}", table),
					InsertQuery: d.str(sqlNode, "insertQuery")}
				if isSQL(in) {
					mustExec(t, c, "CREATE TABLE "+table+" (id integer, name varchar(50))")
					mustExec(t, c, "INSERT INTO "+table+" VALUES (1, 'a,b'), (2, NULL)")
					var buf bytes.Buffer
					n, err := CopyFromSQL(ctx, c, node, format, &buf)
					if err != nil || n != 2 {
						t.Fatalf("export: %d rows, %v", n, err)
					}
					if want := "1,\"a,b\"\n2,\n"; buf.String() != want {
						t.Errorf("exported %q, want %q", buf.String(), want)
					}
					return
				}
				// Into SQL: the table comes from the dependsOn SqlActivity's
				// script when there is one, else from the insertQuery's shape.
				created := false
				if dep := d.ref(o, "dependsOn"); dep != nil && dep["type"] == "SqlActivity" {
					if script := d.str(dep, "script"); script != "" {
						if err := RunScript(ctx, c, script, nil); err != nil {
							t.Fatalf("SqlActivity %s: %v", dep["id"], err)
						}
						created = true
					}
				}
				q := node.InsertQuery
				k := countPlaceholders(q, c.Dialect)
				if !created {
					m := regexp.MustCompile(`(?i)insert\s+into\s+([\w.]+)\s*(?:\(([^)]*)\))?`).FindStringSubmatch(q)
					if m == nil {
						t.Fatalf("cannot find the table of insertQuery %q", q)
					}
					names := strings.Split(m[2], ",")
					cols := make([]string, k)
					for i := range cols {
						col := fmt.Sprintf("c%d", i+1)
						if m[2] != "" && i < len(names) {
							col = strings.TrimSpace(names[i])
						}
						cols[i] = col + " varchar(50)"
					}
					mustExec(t, c, "CREATE TABLE "+m[1]+" ("+strings.Join(cols, ", ")+")")
				}
				var data strings.Builder
				for i := 1; i <= 3; i++ {
					for j := 0; j < k; j++ {
						if j > 0 {
							data.WriteByte(',')
						}
						fmt.Fprint(&data, i*10+j)
					}
					data.WriteByte('\n')
				}
				n, err := CopyToSQL(ctx, c, strings.NewReader(data.String()), format, node)
				if err != nil || n != 3 {
					t.Fatalf("load: %d rows, %v", n, err)
				}
			})
			ran = append(ran, name)
		}
	}
	t.Logf("ran %d SQL CopyActivity samples: %s", len(ran), strings.Join(ran, ", "))
}
