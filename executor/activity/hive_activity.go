package activity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dpl-dev/dpl/executor/activity/hive"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/task"
)

// runHiveActivity runs a HiveActivity on the embedded Hive engine: the
// script (hiveScript or scriptUri) with scriptVariable values as hivevars,
// and, with stage (the default), the ${input1}.../${output1}... tables made
// from the input and output data nodes first.
func runHiveActivity(ctx context.Context, r *Runner, t *task.Task, logs task.Logs) task.Result {
	a := t.Attempt()
	adir, err := r.attemptDir(t)
	if err != nil {
		return failf("Runner_WorkDir", "%v", err)
	}
	script, err := r.hiveScriptOf(ctx, a, adir)
	if err != nil {
		return failf(task.ErrorIDInvalidTask, "%s: %v", a.ID, err)
	}
	vars, err := scriptVariables(a.All("scriptVariable"))
	if err != nil {
		return failf(task.ErrorIDInvalidTask, "%s: %v", a.ID, err)
	}
	staging := ""
	if a.Get("stage") == "" || isTrue(a.Get("stage")) {
		ddl, names, err := hiveStagingDDL(t)
		if err != nil {
			return failf(task.ErrorIDInvalidTask, "%s: %v", a.ID, err)
		}
		staging = ddl
		for k, v := range names {
			vars[k] = v
		}
	}
	// On the host's hive the staged tables are made by the same DDL, run
	// first in the script.
	if res, ok := r.runHiveOnHost(ctx, t, staging+script, vars, nil, adir, logs); ok {
		return res
	}
	s, err := r.newHiveSession(ctx, adir, vars, logs)
	if err != nil {
		return failf("Hive_Engine", "%v", err)
	}
	defer s.Close()
	if staging != "" {
		if err := s.RunStaging(ctx, staging); err != nil {
			return hiveFailure(ctx, a.ID+": staging tables", err, logs)
		}
	}
	fmt.Fprintf(logs.Stderr, "dpl: %s: running the Hive script on the embedded engine\n", a.ID)
	if err := s.Run(ctx, script); err != nil {
		return hiveFailure(ctx, a.ID, err, logs)
	}
	fmt.Fprintf(logs.Stderr, "dpl: %s: Hive script done, %d rows written\n", a.ID, s.RowsWritten())
	return finished()
}

// newHiveSession opens the embedded engine for an attempt; its progress
// (statements done of the script's, rows written) goes to the engine.
func (r *Runner) newHiveSession(ctx context.Context, adir string, vars map[string]string, logs task.Logs) (*hive.Session, error) {
	opts := hive.Options{Store: r.opts.Store, Dir: filepath.Join(adir, "hive"), Vars: vars, Stdout: logs.Stdout, Stderr: logs.Stderr,
		Progress: func(p hive.Progress) {
			task.ReportProgress(ctx, task.Progress{Done: p.Done, Total: p.Total, Unit: p.Unit, Rows: p.Rows, Step: p.Statement})
		}}
	if r.opts.AWS != nil {
		opts.DynamoDB = r.opts.AWS.DynamoDB
	}
	return hive.NewSession(opts)
}

// hiveFailure turns a script error into the attempt's result. Errors no
// retry can fix carry a Hive_ error id and say so.
func hiveFailure(ctx context.Context, what string, err error, logs task.Logs) task.Result {
	if ctx.Err() != nil {
		return failf("Runner_Canceled", "%s stopped: %v", what, context.Cause(ctx))
	}
	fmt.Fprintf(logs.Stderr, "dpl: %s: %v\n", what, err)
	code := hive.ErrorCode(err)
	if !hive.IsPermanent(err) {
		return failf(code, "%s: %v", what, err)
	}
	// The script cannot succeed as written: fail with an id the engine
	// does not retry, keeping the Hive error code in the message.
	id := task.ErrorIDInvalidTask
	if code == hive.CodeUnsupported {
		id = task.ErrorIDUnsupported
	}
	return failf(id, "%s: [%s] %v", what, code, err)
}

// hiveScriptOf reads hiveScript, or fetches scriptUri.
func (r *Runner) hiveScriptOf(ctx context.Context, a *task.Object, adir string) (string, error) {
	inline, uri := a.Get("hiveScript"), a.Get("scriptUri")
	switch {
	case inline != "" && uri != "":
		return "", errors.New("set hiveScript or scriptUri, not both")
	case inline != "":
		return inline, nil
	case uri != "":
		p, err := r.fetchScript(ctx, uri, adir)
		if err != nil {
			return "", fmt.Errorf("fetch scriptUri %s: %w", uri, err)
		}
		b, err := os.ReadFile(p)
		return string(b), err
	}
	return "", errors.New("a HiveActivity needs hiveScript or scriptUri")
}

// scriptVariables parses NAME=VALUE entries.
func scriptVariables(entries []string) (map[string]string, error) {
	vars := map[string]string{}
	for _, e := range entries {
		k, v, ok := strings.Cut(e, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("scriptVariable %q: want NAME=VALUE", e)
		}
		vars[strings.TrimSpace(k)] = v
	}
	return vars, nil
}

var hiveColumnRE = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z][A-Za-z0-9_<>(),: ]*?)\s*$`)

// hiveStagingDDL builds the tables the service creates for a staged
// HiveActivity: input1..n and output1..n over the data nodes, with the
// columns of their dataFormat. CSV uses OpenCSVSerde (every column a
// STRING, as the service's CSV SerDe reads them), TSV and Custom
// ROW FORMAT DELIMITED, RegEx RegexSerDe, DynamoDBDataFormat and
// DynamoDB nodes the DynamoDB storage handler, DynamoDBExportDataFormat
// on S3 the DynamoDBExportSerDe.
func hiveStagingDDL(t *task.Task) (string, map[string]string, error) {
	a := t.Attempt()
	var b strings.Builder
	names := map[string]string{}
	for _, role := range []string{"input", "output"} {
		for i, id := range a.Refs(role) {
			node := t.Objects[id]
			if node == nil {
				return "", nil, fmt.Errorf("%s %s is not part of the task", role, id)
			}
			name := fmt.Sprintf("%s%d", role, i+1)
			ddl, err := stagingTable(t, node, name)
			if err != nil {
				return "", nil, fmt.Errorf("${%s} (%s %s): %w", name, node.Get("type"), id, err)
			}
			if ddl == "" {
				continue
			}
			names[name] = name
			b.WriteString(ddl)
		}
	}
	return b.String(), names, nil
}

func stagingTable(t *task.Task, node *task.Object, name string) (string, error) {
	df := t.Ref(node, "dataFormat")
	dfType := ""
	var columns []string
	if df != nil {
		dfType = df.Get("type")
		columns = df.All("column")
	}
	typ := node.Get("type")
	if typ != "S3DataNode" && typ != "DynamoDBDataNode" {
		return "", nil // SQL nodes and others stay dependencies only
	}
	if len(columns) == 0 {
		return "", fmt.Errorf("staging needs the columns of the data node's dataFormat (column: [\"name TYPE\", ...])")
	}
	var cols, mapping []string
	for _, c := range columns {
		m := hiveColumnRE.FindStringSubmatch(c)
		if m == nil {
			return "", fmt.Errorf("column %q: want \"name TYPE\"", c)
		}
		ct := m[2]
		if dfType == "CSV" || dfType == "RegEx" {
			ct = "STRING"
		}
		cols = append(cols, "`"+m[1]+"` "+ct)
		mapping = append(mapping, m[1]+":"+m[1])
	}
	head := fmt.Sprintf("CREATE EXTERNAL TABLE %s (%s)\n", name, strings.Join(cols, ", "))
	q := func(s string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	if typ == "DynamoDBDataNode" {
		table := node.Get("tableName")
		if table == "" {
			return "", fmt.Errorf("the DynamoDB data node has no tableName")
		}
		props := fmt.Sprintf("%q = %q, %q = %q", "dynamodb.table.name", table, "dynamodb.column.mapping", strings.Join(mapping, ","))
		if rp := node.Get("readThroughputPercent"); rp != "" {
			props += fmt.Sprintf(", %q = %q", "dynamodb.throughput.read.percent", rp)
		}
		if wp := node.Get("writeThroughputPercent"); wp != "" {
			props += fmt.Sprintf(", %q = %q", "dynamodb.throughput.write.percent", wp)
		}
		if rg := node.Get("region"); rg != "" {
			props += fmt.Sprintf(", %q = %q", "dynamodb.region", rg)
		}
		return head + "STORED BY 'org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler' TBLPROPERTIES (" + props + ");\n", nil
	}
	loc := node.Get("directoryPath")
	if loc == "" {
		if fp := node.Get("filePath"); fp != "" {
			loc = path.Dir(fp)
		}
	}
	if loc == "" {
		return "", fmt.Errorf("the S3 data node has neither directoryPath nor filePath")
	}
	var format string
	switch dfType {
	case "", "CSV":
		format = "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'"
	case "TSV":
		sep := unescapeSeparator(df.Get("columnSeparator"))
		if sep == "" {
			sep = "\t"
		}
		format = "ROW FORMAT DELIMITED FIELDS TERMINATED BY " + q(sep)
		if e := unescapeSeparator(df.Get("escapeChar")); e != "" {
			format += " ESCAPED BY " + q(e)
		}
	case "Custom":
		sep := unescapeSeparator(df.Get("columnSeparator"))
		if sep == "" {
			return "", fmt.Errorf("data format %s needs columnSeparator", df.ID)
		}
		format = "ROW FORMAT DELIMITED FIELDS TERMINATED BY " + q(sep)
	case "RegEx":
		re := df.Get("inputRegEx")
		if re == "" {
			return "", fmt.Errorf("data format %s needs inputRegEx", df.ID)
		}
		format = "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES ('input.regex' = " + q(re) + ")"
	case "DynamoDBExportDataFormat":
		format = "ROW FORMAT SERDE 'org.apache.hadoop.hive.dynamodb.DynamoDBExportSerDe'"
		loc = strings.TrimRight(loc, "/")
		return head + format + " LOCATION " + q(loc) + " TBLPROPERTIES ('dynamodb.column.mapping' = " + q(strings.Join(mapping, ",")) + ");\n", nil
	case "DynamoDBDataFormat":
		return "", fmt.Errorf("DynamoDBDataFormat belongs on a DynamoDBDataNode")
	default:
		return "", fmt.Errorf("data format type %s cannot be staged for Hive", dfType)
	}
	return head + format + " LOCATION " + q(strings.TrimRight(loc, "/")) + ";\n", nil
}

// hiveStep recognises EmrActivity steps that run a Hive script:
//
//	script-runner.jar,s3://.../hive-script,--run-hive-script,[--hive-versions,V,]--args,-f,URI[,-d,K=V]...
//	command-runner.jar,hive-script,--run-hive-script,--args,-f,URI[,-d,K=V]...
//	command-runner.jar,hive,-f,URI[,-d|--define|--hivevar,K=V][,-hiveconf,K=V]...
type hiveStep struct {
	script string
	vars   map[string]string
	conf   map[string]string
}

func parseHiveStep(args []string) (hiveStep, bool, error) {
	if len(args) < 2 {
		return hiveStep{}, false, nil
	}
	jar := path.Base(args[0])
	tool := path.Base(args[1])
	rest := args[2:]
	switch {
	case (jar == "script-runner.jar" || jar == "command-runner.jar") && tool == "hive-script":
		i := 0
		for ; i < len(rest) && rest[i] != "--args"; i++ {
		}
		if i == len(rest) {
			return hiveStep{}, true, fmt.Errorf("hive-script step has no --args")
		}
		rest = rest[i+1:]
	case jar == "command-runner.jar" && tool == "hive":
	default:
		return hiveStep{}, false, nil
	}
	hs := hiveStep{vars: map[string]string{}, conf: map[string]string{}}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		val := func() (string, error) {
			if i+1 >= len(rest) {
				return "", fmt.Errorf("hive step: %s needs a value", a)
			}
			i++
			return rest[i], nil
		}
		switch a {
		case "-f":
			v, err := val()
			if err != nil {
				return hs, true, err
			}
			hs.script = v
		case "-d", "--define", "--hivevar", "-hivevar":
			v, err := val()
			if err != nil {
				return hs, true, err
			}
			k, x, ok := strings.Cut(v, "=")
			if !ok {
				return hs, true, fmt.Errorf("hive step: %s %q: want NAME=VALUE", a, v)
			}
			hs.vars[k] = x
		case "-hiveconf", "--hiveconf":
			v, err := val()
			if err != nil {
				return hs, true, err
			}
			k, x, _ := strings.Cut(v, "=")
			hs.conf[k] = x
		case "-e":
			return hs, true, fmt.Errorf("hive step: -e is not supported; put the statements in a script and pass -f")
		case "-S", "--silent", "-v", "--verbose":
		default:
			return hs, true, fmt.Errorf("hive step: unknown argument %q", a)
		}
	}
	if hs.script == "" {
		return hs, true, fmt.Errorf("hive step needs -f <script>")
	}
	return hs, true, nil
}

// knownEMRHiveScripts are the scripts EMR shipped for DynamoDB copies; the
// native DynamoDB tools do the same work.
const (
	emrExportScript = "s3://elasticmapreduce/libs/hive/dynamodb/exportDynamoDBTableToS3"
	emrImportScript = "s3://elasticmapreduce/libs/hive/dynamodb/importDynamoDBTableFromS3"
)

// runHiveStep runs a Hive step; handled is false for other steps.
func (r *Runner) runHiveStep(ctx context.Context, t *task.Task, args []string, logs task.Logs) (bool, error) {
	hs, ok, err := parseHiveStep(args)
	if !ok || err != nil {
		return ok, err
	}
	switch strings.TrimRight(hs.script, "/") {
	case emrExportScript, emrImportScript:
		return true, r.runEMRDynamoScript(ctx, t, hs, logs)
	}
	adir, err := r.attemptDir(t)
	if err != nil {
		return true, err
	}
	p, err := r.fetchScript(ctx, hs.script, adir)
	if err != nil {
		return true, fmt.Errorf("fetch Hive script %s: %w", hs.script, err)
	}
	body, err := os.ReadFile(p)
	if err != nil {
		return true, err
	}
	if res, ok := r.runHiveOnHost(ctx, t, string(body), hs.vars, hs.conf, adir, logs); ok {
		if res.Status != task.Finished {
			return true, errors.New(res.ErrorMessage)
		}
		return true, nil
	}
	s, err := r.newHiveSession(ctx, adir, hs.vars, logs)
	if err != nil {
		return true, err
	}
	defer s.Close()
	for k, v := range hs.conf {
		_ = s.Run(ctx, "SET "+k+"="+v)
	}
	return true, s.Run(ctx, string(body))
}

// runEMRDynamoScript stands in for EMR's exportDynamoDBTableToS3 and
// importDynamoDBTableFromS3 Hive scripts with the native DynamoDB tools.
func (r *Runner) runEMRDynamoScript(ctx context.Context, t *task.Task, hs hiveStep, logs task.Logs) error {
	if r.opts.AWS == nil {
		return fmt.Errorf("%s copies DynamoDB data: run with --backend aws (and --aws-endpoint for a local DynamoDB)", path.Base(hs.script))
	}
	logf := func(format string, args ...any) { fmt.Fprintf(logs.Stderr, "dpl: "+format+"\n", args...) }
	ts := awsx.ToolStep{Kind: awsx.ToolExport, Table: hs.vars["DYNAMODB_INPUT_TABLE"], Dir: hs.vars["S3_OUTPUT_BUCKET"]}
	ratio := hs.vars["DYNAMODB_READ_PERCENT"]
	if strings.HasSuffix(hs.script, "importDynamoDBTableFromS3") {
		ts = awsx.ToolStep{Kind: awsx.ToolImport, Table: hs.vars["DYNAMODB_OUTPUT_TABLE"], Dir: hs.vars["S3_INPUT_BUCKET"]}
		ratio = hs.vars["DYNAMODB_WRITE_PERCENT"]
	}
	if ts.Table == "" || ts.Dir == "" {
		return fmt.Errorf("%s needs -d for the table and the S3 folder (DYNAMODB_INPUT_TABLE/S3_OUTPUT_BUCKET or DYNAMODB_OUTPUT_TABLE/S3_INPUT_BUCKET)", path.Base(hs.script))
	}
	if ratio != "" {
		f, err := awsx.ParseThroughputRatio(ratio)
		if err != nil {
			return err
		}
		ts.Ratio = f
	}
	region := ""
	if ep := hs.vars["DYNAMODB_ENDPOINT"]; ep != "" {
		if parts := strings.Split(ep, "."); len(parts) >= 3 && parts[0] == "dynamodb" {
			region = parts[1]
		}
	}
	if region == "" {
		region = stepRegion(t, ts)
	}
	logf("%s: %s %s <-> %s natively", path.Base(hs.script), ts.Kind, ts.Table, ts.Dir)
	db := r.opts.AWS.DynamoDB(region)
	if ts.Kind == awsx.ToolExport {
		_, err := awsx.Export(ctx, db, r.opts.Store, ts.Table, ts.Dir, awsx.ExportOptions{ReadRatio: ts.Ratio, Overwrite: true, Logf: logf})
		return err
	}
	_, err := awsx.Import(ctx, db, r.opts.Store, ts.Dir, ts.Table, awsx.ImportOptions{WriteRatio: ts.Ratio, Logf: logf})
	return err
}

// HiveStagingDDL is the staging DDL a staged HiveActivity or
// HiveCopyActivity runs first (the tables ${input1}..., ${output1}...),
// and the table names it creates by variable; the EMR provider puts it in
// the script it submits to a real cluster.
func HiveStagingDDL(t *task.Task) (string, map[string]string, error) { return hiveStagingDDL(t) }

// ScriptVariables parses scriptVariable NAME=VALUE entries.
func ScriptVariables(entries []string) (map[string]string, error) { return scriptVariables(entries) }
