package awsx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestSplitStep(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"jar,a,b", []string{"jar", "a", "b"}},
		{"jar", []string{"jar"}},
		{"jar,,x", []string{"jar", "", "x"}},
		// JSON "a\\,b" decodes to a\,b: one argument, escape removed.
		{`jar,a\,b,c`, []string{"jar", "a,b", "c"}},
		// The guide's double escape: JSON "a\\\\,b" decodes to a\\,b.
		{`jar,s3://x/echo.sh,a\\,b\\,c`, []string{"jar", "s3://x/echo.sh", "a,b,c"}},
		{`jar,File\\.gz`, []string{"jar", `File\.gz`}},
	}
	for _, tc := range tests {
		if got := SplitStep(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitStep(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseDynamoDBToolStep(t *testing.T) {
	const jar = "s3://dynamodb-emr-eu-west-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar"
	tests := []struct {
		step    string
		ok      bool
		want    ToolStep
		wantErr string
	}{
		{
			step: jar + ",org.apache.hadoop.dynamodb.tools.DynamoDbExport,s3://b/tmp/2024-01-01,Src,0.25",
			ok:   true,
			want: ToolStep{Kind: ToolExport, Jar: jar, Class: "org.apache.hadoop.dynamodb.tools.DynamoDbExport", Dir: "s3://b/tmp/2024-01-01", Table: "Src", Ratio: 0.25, JarRegion: "eu-west-1"},
		},
		{
			step: "/home/hadoop/emr-dynamodb-tools.jar,DynamoDBImport,s3://b/in,Dst",
			ok:   true,
			want: ToolStep{Kind: ToolImport, Jar: "/home/hadoop/emr-dynamodb-tools.jar", Class: "DynamoDBImport", Dir: "s3://b/in", Table: "Dst"},
		},
		{
			step: jar + ",org.apache.hadoop.dynamodb.tools.DynamoDBExport,s3://b/o,T,1.0,16",
			ok:   true,
			want: ToolStep{Kind: ToolExport, Jar: jar, Class: "org.apache.hadoop.dynamodb.tools.DynamoDBExport", Dir: "s3://b/o", Table: "T", Ratio: 1, Segments: 16, JarRegion: "eu-west-1"},
		},
		{step: jar + ",org.apache.hadoop.dynamodb.tools.DynamoDbImport,s3://b/in", ok: true, wantErr: "at least a path and a table"},
		{step: jar + ",org.apache.hadoop.dynamodb.tools.DynamoDbImport,/local/dir,T", ok: true, wantErr: "not an s3:// URI"},
		{step: jar + ",org.apache.hadoop.dynamodb.tools.DynamoDbImport,s3://b/in,T,lots", ok: true, wantErr: "throughput ratio"},
		{step: jar + ",org.apache.hadoop.dynamodb.tools.DynamoDbImport,s3://b/in,T,0.5,4", ok: true, wantErr: "too many"},
		{step: "s3://elasticmapreduce/libs/script-runner/script-runner.jar,s3://x/run.sh,a", ok: false},
		{step: "command-runner.jar,spark-submit,--class,org.x.DynamoDbExport,app.jar", ok: false},
		{step: "x.jar,com.example.DynamoDbExport,s3://b/o,T", ok: false},
	}
	for _, tc := range tests {
		got, ok := ParseDynamoDBToolStep(tc.step)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v", tc.step, ok)
			continue
		}
		if tc.wantErr != "" {
			if got.Err == nil || !strings.Contains(got.Err.Error(), tc.wantErr) {
				t.Errorf("%s: Err = %v, want %q", tc.step, got.Err, tc.wantErr)
			}
			continue
		}
		if got.Err != nil {
			t.Errorf("%s: unexpected Err %v", tc.step, got.Err)
		}
		if ok && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.step, got, tc.want)
		}
	}
}

// TestCorpusToolSteps checks every DynamoDbExport/Import step of the real
// definitions parses once its #{...} expressions are replaced by plausible
// values (expression evaluation itself is the engine's job).
func TestCorpusToolSteps(t *testing.T) {
	dir := "../../../shared/corpus/files"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not present at %s", dir)
	}
	expr := regexp.MustCompile(`#\{[^}]*\}`)
	subst := func(e string) string {
		switch {
		case strings.Contains(e, "Region"):
			return "us-west-2"
		case strings.Contains(e, "directoryPath"), strings.Contains(e, "S3Loc"), strings.Contains(e, "format("):
			return "s3://bucket/path"
		case strings.Contains(e, "Ratio"), strings.Contains(e, "Percent"):
			return "0.25"
		}
		return "Table"
	}
	found := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		data, _ := os.ReadFile(p)
		var def struct {
			Objects []map[string]any `json:"objects"`
		}
		if json.Unmarshal(data, &def) != nil {
			return nil
		}
		for _, o := range def.Objects {
			var steps []string
			switch s := o["step"].(type) {
			case string:
				steps = []string{s}
			case []any:
				for _, x := range s {
					if str, ok := x.(string); ok {
						steps = append(steps, str)
					}
				}
			}
			for _, s := range steps {
				if !strings.Contains(s, "dynamodb.tools") {
					continue
				}
				found++
				// The path expression may be followed by /#{format(...)}.
				ev := expr.ReplaceAllStringFunc(s, subst)
				ev = strings.ReplaceAll(ev, "s3://bucket/path/s3://bucket/path", "s3://bucket/path/x")
				ts, ok := ParseDynamoDBToolStep(ev)
				if !ok || ts.Err != nil {
					t.Errorf("%s: step %q -> ok=%v err=%v", filepath.Base(p), ev, ok, ts.Err)
				}
				if ts.JarRegion != "us-west-2" && ts.JarRegion != "us-east-1" {
					t.Errorf("%s: jar region %q not recognised in %q", filepath.Base(p), ts.JarRegion, ev)
				}
			}
		}
		return nil
	})
	if found == 0 {
		t.Fatal("no DynamoDB tool steps found in the corpus")
	}
	t.Logf("%d DynamoDB tool step(s) parsed", found)
}

func TestUnsupportedStepReason(t *testing.T) {
	hive := "s3://elasticmapreduce/libs/script-runner/script-runner.jar,s3://elasticmapreduce/libs/hive/hive-script,--run-hive-script,--args,-f,s3://x/q.q"
	if r := UnsupportedStepReason(hive); !strings.Contains(r, "Hive") {
		t.Errorf("hive step reason = %q", r)
	}
	if r := UnsupportedStepReason("x.jar,org.apache.hadoop.dynamodb.tools.DynamoDbExport,s3://b/o,T"); r != "" {
		t.Errorf("tool step reason = %q, want none", r)
	}
}

func TestParseThroughputRatio(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "0.25": 0.25, " 1.0 ": 1, "1.5": 1.5} {
		if got, err := ParseThroughputRatio(in); err != nil || got != want {
			t.Errorf("ParseThroughputRatio(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-1", "2", "abc", "NaN"} {
		if _, err := ParseThroughputRatio(in); err == nil {
			t.Errorf("ParseThroughputRatio(%q) accepted", in)
		}
	}
}

func TestARNRegion(t *testing.T) {
	if r := ARNRegion("arn:aws:sns:eu-central-1:123456789012:alerts"); r != "eu-central-1" {
		t.Errorf("got %q", r)
	}
	if r := ARNRegion("not-an-arn"); r != "" {
		t.Errorf("got %q", r)
	}
}

func TestManifestParsing(t *testing.T) {
	m := "{\"name\":\"DynamoDB-export\",\"version\":3,\n\"entries\": [\n{\"url\":\"s3n://b/p/1\",\"mandatory\":true},\n{\"url\":\"s3://b/p/2\",\"mandatory\":true}\n]}"
	files, err := parseManifest(strings.NewReader(m), "s3://b/p")
	if err != nil || !reflect.DeepEqual(files, []string{"s3://b/p/1", "s3://b/p/2"}) {
		t.Fatalf("parseManifest = %v, %v", files, err)
	}
	if _, err := parseManifest(strings.NewReader(`{"name":"DynamoDB-export","version":2,"entries":[]}`), "s3://b/p"); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("version 2 accepted: %v", err)
	}
}
