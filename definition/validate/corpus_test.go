package validate

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

const corpusDir = "/work/shared/corpus/files"

func corpusFiles(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus %s is absent (%v): corpus checks skipped", corpusDir, err)
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// awslabsDefects are the errors left in the published AWS samples
// (awslabs/data-pipeline-samples): each reviewed and a real defect of the
// sample (see the validate report), as "file: CODE id field". Anything
// else an awslabs sample produces is a validator bug.
var awslabsDefects = map[string][]string{
	// Not JSON: raw line breaks inside strings, trailing commas, a stray ']'.
	"samples__OnDemandWithLamdaFunctions__ondemand.json":                 {"SYNTAX_ERROR  "},
	"samples__ShellCommandWithFTP__pipeline.json":                        {"SYNTAX_ERROR  "},
	"samples__sqoop__RDSToS3__RDSToS3EDPPipelineDefinition@190c49d.json": {"SYNTAX_ERROR  "},
	"samples__sqoop__RDSToS3__RDSToS3EDPPipelineDefinition@5dfa4e1.json": {"SYNTAX_ERROR  "},
	"samples__sqoop__SampleSqoopRDSToS3@51e47fd.json":                    {"SYNTAX_ERROR  "},
	// On-demand Default that still names a schedule, which does not exist.
	"samples__json-to-dynamodb__definition.json": {"INVALID_SCHEDULE Default schedule", "MISSING_REF Default schedule"},
	// period "15 Period" is not a period.
	"samples__kinesis__kinesis-to-s3.json": {"INVALID_FIELD_VALUE DefaultSchedule period"},
	// parameterValues gives myRdsTableCreate, which parameterObjects never declares.
	"samples__RDStoRedshiftSqoop__setup__setup.json":     {"UNKNOWN_PARAMETER myRdsTableCreate values"},
	"samples__SQLActivityWithTimeout__setup__setup.json": {"UNKNOWN_PARAMETER myRdsTableCreate values"},
	// The value OVERWRITE_EXISTING is outside allowedValues "TRUNCATE".
	"samples__sqoop__RDSToS3__redshiftpipelinedef@190c49d.json": {"INVALID_PARAMETER_VALUE myInsertMode values"},
	// Uses #{myRedshiftEndpoint}, #{myRdsEndpoint}, #{myRedshiftTableName} and
	// #{myS3StagingPath} but declares myStagingS3Path and others.
	"samples__sqoop__SampleSqoopRDSToRedshift@51e47fd.json": {
		"UNKNOWN_PARAMETER RedshiftCluster connectionString", "UNKNOWN_PARAMETER ActivityId_TQ7lW step",
		"UNKNOWN_PARAMETER ActivityId_TQ7lW step", "UNKNOWN_PARAMETER DestRedshiftTable tableName",
		"UNKNOWN_PARAMETER S3InputDataNode directoryPath"},
}

// TestCorpus validates every corpus file: none may crash, every file
// that is JSON gets a definition, and the awslabs samples produce exactly
// the reviewed defects above.
func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	var jsonFiles, syntax int
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Bytes(path, data, Options{Now: testNow})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if r.Syntax != nil {
			syntax++
			if !r.Syntax.Pos.IsValid() {
				t.Errorf("%s: syntax error without a position", path)
			}
		} else {
			jsonFiles++
		}
		for _, d := range r.Diagnostics {
			if !d.Pos.IsValid() {
				t.Errorf("%s: diagnostic without a position: %s", path, d.Error())
			}
		}
		if !strings.Contains(path, "/awslabs-data-pipeline-samples/") {
			continue
		}
		var got []string
		for _, d := range r.Diagnostics {
			if d.Severity == definition.SeverityError {
				got = append(got, d.Code+" "+d.ObjectID+" "+d.Field)
			}
		}
		want := awslabsDefects[filepath.Base(path)]
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s:\n got errors  %q\n want errors %q\n%s", filepath.Base(path), got, want, dump(r.Diagnostics))
		}
	}
	t.Logf("%d files: %d JSON definitions validated, %d syntax errors located", len(files), jsonFiles, syntax)
}

// corpusInvalid are the corpus files that the service would refuse as
// written (STATS.md "Notable oddities" and the review above): everything
// else must validate without errors. Outside awslabs: the harrystech files
// are Python string.Template sources (${...} filled in before upload), the
// switch180 sample declares a parameter id without the mandatory "my"
// prefix, and the pushpeshg sample reads parameters it never declares.
var corpusInvalid = map[string]bool{
	"samples__DynamoDBExportAbsoluteCapacity__ddb-export-abs-cap.json": true,
	"samples__S3ToPostgresRDS__s3ToPostgresRDS@a6ab05d.json":           true,
}

// TestCorpusVerdicts: every corpus file gets the expected verdict (valid
// or not), and the real-world shapes dpl once flagged are accepted: no
// INVALID_FIELD_COMBINATION on scriptUri with scriptArgument (the AWS
// samples python-template, kinesis-to-s3 and HadoopTerasort use it), no
// LIMIT_EXCEEDED on a long step or bootstrapAction string.
func TestCorpusVerdicts(t *testing.T) {
	files := corpusFiles(t)
	right, scriptArgs := 0, 0
	for _, path := range files {
		base := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Bytes(path, data, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		wantInvalid := len(awslabsDefects[base]) > 0 || corpusInvalid[base] || strings.Contains(path, "/harrystech-arthur-redshift-etl/")
		if r.Errored() == wantInvalid {
			right++
		} else {
			t.Errorf("%s: errored=%v, want %v:\n%s", base, r.Errored(), wantInvalid, dump(r.Diagnostics))
		}
		for _, d := range r.Diagnostics {
			switch {
			case d.Code == "INVALID_FIELD_COMBINATION" && (d.Field == "scriptArgument" || d.Field == "scriptUri"):
				t.Errorf("%s: %s", base, d.Error())
			case d.Code == codeLimit && containsKey(stepFields, d.Field):
				t.Errorf("%s: false limit: %s", base, d.Error())
			}
		}
		if r.Definition == nil {
			continue
		}
		for _, o := range r.Definition.Objects {
			if o.Field("scriptUri") != nil && o.Field("scriptArgument") != nil {
				scriptArgs++
				for _, d := range r.Diagnostics {
					if d.ObjectID == o.ID && d.Severity == definition.SeverityError {
						t.Errorf("%s: %s uses scriptUri with scriptArgument and gets %s", base, o.ID, d.Error())
					}
				}
			}
		}
	}
	if scriptArgs < 3 {
		t.Errorf("found %d objects with scriptUri and scriptArgument, want the 3 AWS samples at least", scriptArgs)
	}
	t.Logf("%d of %d corpus files get the expected verdict; %d objects use scriptUri with scriptArgument", right, len(files), scriptArgs)
}
