package definition

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fieldStrings(t *testing.T, d *Definition, obj, key string) []string {
	t.Helper()
	o := d.Object(obj)
	if o == nil {
		t.Fatalf("no object %q", obj)
	}
	f := o.Field(key)
	if f == nil {
		return nil
	}
	var out []string
	for _, v := range f.Values {
		out = append(out, v.String())
	}
	return out
}

// TestCloudFormationIntrinsics: a YAML template's intrinsics resolve from
// its parameter defaults, overrides, pseudo parameters, Mappings and
// Conditions; typed scalars become strings; what only a stack knows is a
// placeholder with a CFN_UNRESOLVED warning at the template's own line.
func TestCloudFormationIntrinsics(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]string
		want      map[[2]string]string // {object, field} -> values joined by |
		absent    [][2]string
	}{
		{"defaults", nil, map[[2]string]string{
			{"Default", "role"}:             "arn:aws:iam::123456789012:role/DataPipelineDefaultRole",
			{"Default", "pipelineLogUri"}:   "s3://logs-us-east-1/${NotAVariable}/",
			{"prodBox", "instanceType"}:     "m5.large",
			{"prodBox", "terminateAfter"}:   "2 hours",
			{"prodBox", "availabilityZone"}: "us-east-1b",
			{"Say", "runsOn"}:               `{"ref":"prodBox"}`,
			{"Say", "maximumRetries"}:       "3",
			{"Say", "stage"}:                "true",
			{"Say", "scriptArgument"}:       "2",
			{"Say", "command"}:              "#{'<Fn::ImportValue \"SharedBucketName\">'}",
			{"Say", "stdout"}:               "#{'<Fn::GetAtt Logs.Arn>'}",
		}, [][2]string{{"prodBox", "keyPair"}}},
		{"overrides", map[string]string{"Env": "dev", "Bucket": "b", "AWS::Region": "cn-north-1", "AWS::AccountId": "000000000000"}, map[[2]string]string{
			{"Default", "role"}:            "arn:aws-cn:iam::000000000000:role/DataPipelineDefaultRole",
			{"devBox", "terminateAfter"}:   "1 hour",
			{"devBox", "keyPair"}:          "dev-key",
			{"devBox", "availabilityZone"}: "cn-north-1b",
			{"Say", "runsOn"}:              `{"ref":"devBox"}`,
		}, nil},
	}
	data, err := os.ReadFile("testdata/cfn/intrinsics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ParseSource("intrinsics.yaml", data, ReadOptions{CloudFormation: c.overrides})
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != FormatCloudFormation {
				t.Fatalf("format %s", d.Format)
			}
			for k, want := range c.want {
				if got := strings.Join(fieldStrings(t, d, k[0], k[1]), "|"); got != want {
					t.Errorf("%s.%s = %q, want %q", k[0], k[1], got, want)
				}
			}
			for _, k := range c.absent {
				if got := fieldStrings(t, d, k[0], k[1]); got != nil {
					t.Errorf("%s.%s = %q, want absent (AWS::NoValue)", k[0], k[1], got)
				}
			}
			for _, dg := range d.Diagnostics {
				if strings.Contains(dg.Message, "neither a string") {
					t.Errorf("typed scalar or intrinsic not converted: %s", dg.Error())
				}
				if dg.Severity == SeverityError {
					t.Errorf("unexpected error %s", dg.Error())
				}
			}
		})
	}
	// The notes name the intrinsic and point at its line in the YAML.
	d, err := ParseSource("intrinsics.yaml", data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{}
	for _, dg := range d.Diagnostics {
		if dg.Code == CodeCFNUnresolved {
			notes[dg.ObjectID+"."+dg.Field] = lines[dg.Pos.Line-1]
			if !strings.Contains(dg.Message, "Fn::") && !strings.Contains(dg.Message, "Ref Bucket") {
				t.Errorf("note does not name the intrinsic: %s", dg.Error())
			}
		}
	}
	if !strings.Contains(notes["Say.command"], "!ImportValue") {
		t.Errorf("command note at %q, want the !Join/!ImportValue line", notes["Say.command"])
	}
	if !strings.Contains(notes["Say.stdout"], "!GetAtt Logs.Arn") {
		t.Errorf("stdout note at %q, want the !GetAtt line", notes["Say.stdout"])
	}
}

// TestCloudFormationJSONIntrinsics: the same resolution in a JSON
// template, parameter attributes and typed numbers included.
func TestCloudFormationJSONIntrinsics(t *testing.T) {
	d, _, err := Load("testdata/cfn/intrinsics.json", ReadOptions{CloudFormation: map[string]string{"Tag": "v1", "AWS::StackName": "etl"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldStrings(t, d, "Say", "workerGroup"); len(got) != 1 || got[0] != "prod-workers" {
		t.Errorf("workerGroup = %q", got)
	}
	if got := fieldStrings(t, d, "Say", "maximumRetries"); len(got) != 1 || got[0] != "1" {
		t.Errorf("maximumRetries = %q", got)
	}
	if got := fieldStrings(t, d, "Say", "command"); len(got) != 1 || got[0] != "echo v1 etl" {
		t.Errorf("command = %q", got)
	}
	if v, _ := d.Parameter("myGreeting").Attr("default"); v != "prod" {
		t.Errorf("parameter default = %q", v)
	}
	for _, dg := range d.Diagnostics {
		t.Errorf("unexpected diagnostic %s", dg.Error())
	}
}

// TestCloudFormationYAMLErrorPosition: a field the reader cannot take
// (a mapping that is no intrinsic) is reported at the template's line.
func TestCloudFormationYAMLErrorPosition(t *testing.T) {
	data, err := os.ReadFile("testdata/cfn/intrinsics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "StringValue: 2 hours", "StringValue: {Hours: 2}", 1)
	d, err := ParseSource("bad.yaml", []byte(bad), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(bad, "\n")
	for _, dg := range d.Diagnostics {
		if dg.Severity == SeverityError {
			if line := lines[dg.Pos.Line-1]; !strings.Contains(line, "attemptTimeout") && !strings.Contains(line, "Hours: 2") {
				t.Errorf("error at line %d %q, want the attemptTimeout entry", dg.Pos.Line, line)
			}
			return
		}
	}
	t.Errorf("no error for a mapping value: %v", d.Diagnostics)
}

// TestCorpusCloudFormation reads every CloudFormation template of the
// shared corpus through Load: none may fail to read a typed scalar or an
// intrinsic. Skips when the corpus (or a template in it) is absent.
func TestCorpusCloudFormation(t *testing.T) {
	root := "/work/shared/corpus/files"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("SKIP: no shared corpus at %s", root)
	}
	var n int
	_ = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(data), "AWS::DataPipeline::Pipeline") {
			return nil
		}
		n++
		d, _, err := Load(p, ReadOptions{})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		for _, dg := range d.Diagnostics {
			if strings.Contains(dg.Message, "neither a string") {
				t.Errorf("%s", dg.Error())
			}
		}
		return nil
	})
	if n == 0 {
		t.Skipf("SKIP: the corpus at %s holds no CloudFormation template", root)
	}
}
