package activity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/dpl-dev/dpl/executor/objstore"
	"github.com/dpl-dev/dpl/executor/sqlrun"
	"github.com/dpl-dev/dpl/executor/task"
)

// sqlBackend runs the SQL activities and the SQL side of CopyActivity
// through executor/sqlrun, against the databases the definition names.
type sqlBackend struct {
	r    *Runner
	opts sqlrun.Options
}

// database builds the connection details of a database object (or of a
// deprecated MySqlDataNode that carries its own connection fields).
func database(o *task.Object) sqlrun.Database {
	typ := o.Get("type")
	if typ == "MySqlDataNode" || typ == "SqlDataNode" {
		typ = "JdbcDatabase"
	}
	pw := o.Get("*password")
	if pw == "" {
		pw = o.Get("password")
	}
	return sqlrun.Database{
		Type: typ, ID: o.ID,
		ConnectionString: o.Get("connectionString"), JdbcDriverClass: o.Get("jdbcDriverClass"),
		Username: o.Get("username"), Password: pw, DatabaseName: o.Get("databaseName"),
		RdsInstanceID: o.Get("rdsInstanceId"), ClusterID: o.Get("clusterId"), Region: o.Get("region"),
		JdbcProperties: o.All("jdbcProperties"),
	}
}

// open connects to the database a node or activity refers to.
func (b *sqlBackend) open(ctx context.Context, t *task.Task, o *task.Object) (*sqlrun.Conn, error) {
	db := t.Ref(o, "database")
	if db == nil {
		if o.Get("connectionString") != "" { // MySqlDataNode's inline connection
			db = o
		} else if ids := o.Refs("database"); len(ids) > 0 {
			return nil, fmt.Errorf("database %s is not part of the task", ids[0])
		} else {
			return nil, fmt.Errorf("%s has no database", o.ID)
		}
	}
	return sqlrun.Open(ctx, database(db), b.opts)
}

// sqlNode reads the table fields of a SqlDataNode, MySqlDataNode or RedshiftDataNode.
func sqlNode(o *task.Object) sqlrun.SqlNode {
	table := o.Get("table")
	if table == "" {
		table = o.Get("tableName")
	}
	return sqlrun.SqlNode{ID: o.ID, Table: table, SchemaName: o.Get("schemaName"),
		SelectQuery: o.Get("selectQuery"), InsertQuery: o.Get("insertQuery"),
		CreateTableSQL: o.Get("createTableSql"), PrimaryKeys: o.All("primaryKeys")}
}

func sqlFormat(f *Format) sqlrun.DataFormat {
	if f == nil {
		return sqlrun.DataFormat{}
	}
	d := sqlrun.DataFormat{Type: f.Type, Columns: f.Columns, RecordSeparator: string(f.RecordSeparator)}
	if f.ColumnSeparator != 0 {
		d.ColumnSeparator = string(f.ColumnSeparator)
	}
	if f.Escape != 0 {
		d.EscapeChar = string(f.Escape)
	}
	return d
}

func (b *sqlBackend) CopyToSQL(ctx context.Context, t *task.Task, node *task.Object, src io.Reader, f *Format) (int64, error) {
	conn, err := b.open(ctx, t, node)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return sqlrun.CopyToSQL(ctx, conn, src, sqlFormat(f), sqlNode(node))
}

func (b *sqlBackend) CopyFromSQL(ctx context.Context, t *task.Task, node *task.Object, f *Format, dst io.Writer) (int64, error) {
	conn, err := b.open(ctx, t, node)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return sqlrun.CopyFromSQL(ctx, conn, sqlNode(node), sqlFormat(f), dst)
}

// runSqlActivity runs `script` (already evaluated) or the content of
// `scriptUri` (never evaluated) in one transaction, with scriptArgument
// bound to its placeholders. Output SQL nodes get their createTableSql first.
func (b *sqlBackend) runSqlActivity(ctx context.Context, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	script := a.Get("script")
	if uri := a.Get("scriptUri"); uri != "" {
		rc, err := b.r.open(ctx, uri)
		if err != nil {
			return failf("Runner_ScriptUri", "read scriptUri %s: %v", uri, err)
		}
		body, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return failf("Runner_ScriptUri", "read scriptUri %s: %v", uri, err)
		}
		script = string(body)
	}
	if strings.TrimSpace(script) == "" {
		return failf(task.ErrorIDInvalidTask, "SqlActivity has neither script nor scriptUri")
	}
	conn, err := b.open(ctx, t, a)
	if err != nil {
		return sqlFailure(ctx, err)
	}
	defer conn.Close()
	for _, id := range a.Refs("output") {
		if out := t.Objects[id]; out != nil && (isSQLNode(out.Get("type")) || out.Get("type") == "RedshiftDataNode") && out.Get("createTableSql") != "" {
			if err := sqlrun.EnsureTable(ctx, conn, sqlNode(out), out.Get("type") == "RedshiftDataNode"); err != nil {
				return sqlFailure(ctx, fmt.Errorf("output %s createTableSql: %w", id, err))
			}
		}
	}
	if q := a.Get("queue"); q != "" {
		fmt.Fprintf(logs.Stderr, "dpl: queue %q ignored: query groups exist only on Redshift\n", q)
	}
	if err := sqlrun.RunScript(ctx, conn, script, a.All("scriptArgument")); err != nil {
		return sqlFailure(ctx, err)
	}
	return finished()
}

// runRedshiftCopy loads S3 data into a Redshift (or PostgreSQL) table per
// insertMode, or unloads a Redshift table to S3.
func (b *sqlBackend) runRedshiftCopy(ctx context.Context, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	in, out := t.Ref(a, "input"), t.Ref(a, "output")
	if in == nil || out == nil {
		return failf(task.ErrorIDInvalidTask, "RedshiftCopyActivity needs an input and an output data node")
	}
	inFmt, err := formatOf(t, in)
	if err != nil {
		return failf("Runner_DataFormat", "input %s: %v", in.ID, err)
	}
	switch it, ot := in.Get("type"), out.Get("type"); {
	case it == "S3DataNode" && (ot == "RedshiftDataNode" || isSQLNode(ot)):
		srcs, err := b.r.redshiftSources(ctx, in)
		if err != nil {
			return failf("Runner_CopyFailed", "input %s: %v", in.ID, err)
		}
		var sources []sqlrun.Source
		for _, s := range srcs {
			uri := s[0]
			sources = append(sources, sqlrun.Source{Name: uri, Open: func(ctx context.Context) (io.ReadCloser, error) {
				return b.r.opts.Store.Open(ctx, uri)
			}})
		}
		conn, err := b.open(ctx, t, out)
		if err != nil {
			return sqlFailure(ctx, err)
		}
		defer conn.Close()
		opts := sqlrun.RedshiftCopyOptions{InsertMode: a.Get("insertMode"), TransformSQL: a.Get("transformSql"),
			CommandOptions: a.All("commandOptions"), Gzip: strings.EqualFold(in.Get("compression"), "gzip")}
		if inFmt != nil {
			f := sqlFormat(inFmt)
			opts.Format = &f
		}
		st, err := sqlrun.RedshiftCopy(ctx, conn, sources, sqlNode(out), opts)
		if err != nil {
			return sqlFailure(ctx, err)
		}
		fmt.Fprintf(logs.Stderr, "dpl: %s: loaded %d records, inserted %d rows, deleted %d rows\n", out.ID, st.Loaded, st.Inserted, st.Deleted)
		return finished()
	case (it == "RedshiftDataNode" || isSQLNode(it)) && ot == "S3DataNode":
		outFmt, err := formatOf(t, out)
		if err != nil {
			return failf("Runner_DataFormat", "output %s: %v", out.ID, err)
		}
		if _, err := b.r.copySQLToS3(ctx, t, in, out, outFmt); err != nil {
			return sqlFailure(ctx, err)
		}
		return finished()
	case it == "DynamoDBDataNode":
		return failf(task.ErrorIDUnsupported, "not supported by the local runner yet: RedshiftCopyActivity from a DynamoDBDataNode (%s) needs the DynamoDB backend", in.ID)
	default:
		return failf(task.ErrorIDUnsupported, "RedshiftCopyActivity cannot copy %s to %s", it, ot)
	}
}

func sqlFailure(ctx context.Context, err error) task.Result {
	if ctx.Err() != nil {
		return failf("Runner_Canceled", "stopped: %v", context.Cause(ctx))
	}
	var se *sqlrun.Error
	if errors.As(err, &se) {
		return failf("Runner_SQL", "%v", se)
	}
	return failf("Runner_SQL", "%v", err)
}

var _ SQLCopier = (*sqlBackend)(nil)

// redshiftSources lists what a Redshift COPY reads from an S3 node: like
// COPY FROM 's3://bucket/prefix', a filePath that is not an object loads
// every object under it as a folder.
func (r *Runner) redshiftSources(ctx context.Context, node *task.Object) ([][2]string, error) {
	fp := node.Get("filePath")
	if fp == "" {
		return r.sources(ctx, node)
	}
	if ok, err := objstore.Exists(ctx, r.opts.Store, fp); err != nil || ok {
		return [][2]string{{fp, path.Base(fp)}}, err
	}
	folder := &task.Object{ID: node.ID, Fields: []task.Field{{Key: "directoryPath", StringValue: &fp}}}
	srcs, err := r.sources(ctx, folder)
	if err == nil && len(srcs) == 0 {
		err = fmt.Errorf("nothing at %s (neither an object nor a folder)", fp)
	}
	return srcs, err
}
