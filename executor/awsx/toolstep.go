package awsx

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// SplitStep splits an EmrActivity step ("jar,arg1,arg2,...") into the jar
// and its arguments, following the Data Pipeline rule (runtime.md §6.4):
// split on commas not preceded by a backslash, then remove one level of
// backslash escaping from each part (`\,` becomes `,`, `\\` becomes `\`);
// a `\,` left after that becomes a plain comma, because the guide's
// `a\\,b` (JSON) reaches the script as the single argument `a,b` while its
// `File\\.gz` reaches the jar as `File\.gz`.
func SplitStep(step string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(step); i++ {
		c := step[i]
		if c == ',' && (i == 0 || step[i-1] != '\\') {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	parts = append(parts, cur.String())
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(unescapeOnce(p), `\,`, ",")
	}
	return parts
}

func unescapeOnce(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Tool kinds recognised by ParseDynamoDBToolStep.
const (
	ToolExport = "export"
	ToolImport = "import"
)

// ToolStep is an EmrActivity step that calls the EMR DynamoDB tools:
//
//	<jar>,org.apache.hadoop.dynamodb.tools.DynamoDbExport,<s3 dir>,<table>[,<read ratio>[,<segments>]]
//	<jar>,org.apache.hadoop.dynamodb.tools.DynamoDbImport,<s3 dir>,<table>[,<write ratio>]
//
// (argument order from DynamoDBExport.java/DynamoDBImport.java in
// awslabs/emr-dynamodb-connector; the AWS samples use the
// s3://dynamodb-emr-<region>/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar).
type ToolStep struct {
	Kind     string // ToolExport or ToolImport
	Jar      string
	Class    string
	Dir      string  // S3 directory: export destination or import source
	Table    string  // DynamoDB table
	Ratio    float64 // read (export) or write (import) ratio; 0 = tool default
	Segments int     // export only; 0 = automatic
	// JarRegion is the region in the jar's bucket name
	// (s3://dynamodb-emr-<region>/...), "" when absent. The samples pick
	// the jar of the table's region, so it is a usable fallback region.
	JarRegion string
	// Err reports malformed arguments of a recognised step (missing table,
	// bad ratio); the step must then fail with this message.
	Err error
}

var jarRegionRE = regexp.MustCompile(`^s3[an]?://dynamodb-emr-([a-z]{2}(?:-gov)?-[a-z]+-\d+)/`)

// ParseDynamoDBToolStep recognises a DynamoDbExport/DynamoDbImport step
// (class name matched case-insensitively, package optional). ok is false
// for any other step.
func ParseDynamoDBToolStep(step string) (ts ToolStep, ok bool) {
	parts := SplitStep(strings.TrimSpace(step))
	if len(parts) < 2 {
		return ToolStep{}, false
	}
	class := strings.TrimSpace(parts[1])
	pkg, short := "", class
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		pkg, short = class[:i], class[i+1:]
	}
	if pkg != "" && !strings.EqualFold(pkg, "org.apache.hadoop.dynamodb.tools") {
		return ToolStep{}, false
	}
	switch strings.ToLower(short) {
	case "dynamodbexport":
		ts.Kind = ToolExport
	case "dynamodbimport":
		ts.Kind = ToolImport
	default:
		return ToolStep{}, false
	}
	ts.Jar, ts.Class = strings.TrimSpace(parts[0]), class
	if m := jarRegionRE.FindStringSubmatch(ts.Jar); m != nil {
		ts.JarRegion = m[1]
	}
	args := parts[2:]
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	usage := "Export <path> <table-name> [<read-ratio>] [<total-segment-count>]"
	maxArgs := 4
	if ts.Kind == ToolImport {
		usage, maxArgs = "Import <path> <table-name> [<write-ratio>]", 3
	}
	fail := func(format string, a ...any) (ToolStep, bool) {
		ts.Err = fmt.Errorf("%s step: %s (usage: %s)", class, fmt.Sprintf(format, a...), usage)
		return ts, true
	}
	if len(args) < 2 {
		return fail("needs at least a path and a table name, got %d argument(s)", len(args))
	}
	if len(args) > maxArgs {
		return fail("too many arguments (%d)", len(args))
	}
	ts.Dir, ts.Table = args[0], args[1]
	if !objstore.IsURI(ts.Dir) {
		return fail("path %q is not an s3:// URI", ts.Dir)
	}
	if ts.Table == "" {
		return fail("empty table name")
	}
	if len(args) >= 3 {
		r, err := ParseThroughputRatio(args[2])
		if err != nil {
			return fail("%v", err)
		}
		ts.Ratio = r
	}
	if len(args) == 4 {
		n, err := strconv.Atoi(args[3])
		if err != nil || n < 1 || n > 1000000 {
			return fail("segment count %q is not an integer between 1 and 1000000", args[3])
		}
		ts.Segments = n
	}
	return ts, true
}

// RunToolStep executes a parsed DynamoDB tool step natively against the
// table in region ("" = default) and the given store.
func (e *Env) RunToolStep(ctx context.Context, ts ToolStep, region string, store objstore.Store, logf func(string, ...any)) error {
	if ts.Err != nil {
		return ts.Err
	}
	db := e.DynamoDB(region)
	switch ts.Kind {
	case ToolExport:
		_, err := Export(ctx, db, store, ts.Table, ts.Dir, ExportOptions{ReadRatio: ts.Ratio, Segments: ts.Segments, Logf: logf})
		return err
	case ToolImport:
		_, err := Import(ctx, db, store, ts.Dir, ts.Table, ImportOptions{WriteRatio: ts.Ratio, Logf: logf})
		return err
	}
	return fmt.Errorf("unknown DynamoDB tool kind %q", ts.Kind)
}

// UnsupportedStepReason explains, for EmrActivity steps this executor
// cannot run locally, what they need; "" when nothing specific is known.
func UnsupportedStepReason(step string) string {
	parts := SplitStep(step)
	joined := strings.ToLower(strings.Join(parts, " "))
	switch {
	case strings.Contains(joined, "hive-script") || strings.Contains(joined, "--run-hive-script"):
		return "this step runs a Hive script on EMR (hive-script --run-hive-script); dpl runs no Hive locally. " +
			"For DynamoDB<->S3 copies use the EMR DynamoDB tools step form " +
			"(org.apache.hadoop.dynamodb.tools.DynamoDbExport/DynamoDbImport), which dpl runs natively"
	case strings.Contains(joined, "spark-submit"):
		return "this step submits a Spark job; dpl runs no Spark locally"
	case strings.Contains(joined, "sqoop"):
		return "this step runs Sqoop on EMR; dpl runs no Sqoop locally"
	}
	return ""
}
