package definition

import (
	"slices"
	"strings"
	"testing"
)

// TestSecretValuesFoundLexically: the secrets of a source that may not
// parse, in every shape a definition writes them.
func TestSecretValuesFoundLexically(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"json field", `{"objects":[{"id":"Db","*password":"pw1"}]}`, []string{"pw1"}},
		{"json field list", `{"objects":[{"id":"Db","*password":["pw1","pw2"]}]}`, []string{"pw1", "pw2"}},
		{"json parameter", `{"parameters":[{"id":"*myPass","type":"String","default":"pw1","description":"not secret"}]}`, []string{"pw1"}},
		{"json values", `{"values":{"*myPass":"pw1","myOther":"plain"}}`, []string{"pw1"}},
		{"api parameter value", `{"parameterValues":[{"id":"*myPass","stringValue":"pw1"},{"id":"myX","stringValue":"plain"}]}`, []string{"pw1"}},
		{"api field", `{"pipelineObjects":[{"id":"Db","fields":[{"key":"*password","stringValue":"pw1"},{"key":"username","stringValue":"plain"}]}]}`, []string{"pw1"}},
		{"cfn json field", `{"Resources":{"P":{"Properties":{"PipelineObjects":[{"Id":"Db","Fields":[{"Key":"*password","StringValue":"pw1"},{"Key":"type","StringValue":"RdsDatabase"}]}]}}}}`, []string{"pw1"}},
		{"cfn json parameter default", `{"ParameterObjects":[{"Id":"*myPass","Attributes":[{"Key":"type","StringValue":"String"},{"Key":"default","StringValue":"pw1"}]},{"Id":"myX","Attributes":[{"Key":"default","StringValue":"plain"}]}]}`, []string{"pw1"}},
		{"yaml block field", "Resources:\n  P:\n    Properties:\n      PipelineObjects:\n        - Id: Db\n          Fields:\n            - Key: \"*password\"\n              StringValue: pw1 # a comment\n            - Key: type\n              StringValue: RdsDatabase\n", []string{"pw1"}},
		{"yaml list at key indent", "Fields:\n- Key: '*password'\n  StringValue: 'pw1'\n- Key: username\n  StringValue: plain\nOther: plain2\n", []string{"pw1"}},
		{"yaml flow map", "Fields:\n  - {Key: \"*password\", StringValue: pw1}\n  - {Key: username, StringValue: plain}\n", []string{"pw1"}},
		{"yaml flow list of maps", "Fields: [{Key: \"*password\", StringValue: \"pw1\"}, {Key: u, StringValue: plain}]\n", []string{"pw1"}},
		{"yaml parameter default", "ParameterObjects:\n  - Id: \"*myPass\"\n    Attributes:\n      - Key: type\n        StringValue: String\n      - Key: default\n        StringValue: pw1\n  - Id: myX\n    Attributes:\n      - Key: default\n        StringValue: plain\n", []string{"pw1"}},
		{"yaml parameter value", "ParameterValues:\n  - Id: \"*myPass\"\n    StringValue: pw1\n  - Id: myX\n    StringValue: plain\n", []string{"pw1"}},
		{"yaml star key", "values:\n  \"*myPass\": pw1\n  myX: plain\n", []string{"pw1"}},
		{"yaml star key list", "\"*password\":\n  - pw1\n  - pw2\nuser: plain\n", []string{"pw1", "pw2"}},
		{"yaml block scalar", "\"*key\": |\n  line-one\n  line-two\nuser: plain\n", []string{"line-one", "line-two"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := secretValues([]byte(tc.src))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("secretValues = %q, want %q", got, want)
			}
		})
	}
}

// TestSyntaxExcerptMasksEverySecret: a syntax error's excerpt masks each
// secret value wherever it appears on the line — not only on a `*` key's
// own line — in JSON, YAML blocks and YAML flow maps, and the caret stays
// in its column.
func TestSyntaxExcerptMasksEverySecret(t *testing.T) {
	const pw = "Hunter-2-sEcret"
	tests := []struct{ name, file, src string }{
		{"json value reused in a command", "p.json", `{"objects":[
 {"id":"Db","type":"JdbcDatabase","*password":"` + pw + `"},
 {"id":"A","type":"ShellCommandActivity","command":"mysql -p` + pw + `" oops}]}`},
		{"yaml StringValue on the line after its key", "t.yaml", "Resources:\n  P:\n    Type: AWS::DataPipeline::Pipeline\n    Properties:\n      PipelineObjects:\n        - Id: Db\n          Fields:\n            - Key: \"*password\"\n              StringValue: \"" + pw + "\" x: y\n"},
		{"yaml flow map", "t.yaml", "Resources:\n  P:\n    Type: AWS::DataPipeline::Pipeline\n    Properties:\n      PipelineObjects:\n        - Id: Db\n          Fields: [{Key: \"*password\", StringValue: " + pw + "}] x: y\n"},
		{"yaml parameter default", "t.yaml", "Resources:\n  P:\n    Type: AWS::DataPipeline::Pipeline\n    Properties:\n      ParameterObjects:\n        - Id: \"*myPass\"\n          Attributes:\n            - Key: default\n              StringValue: \"" + pw + "\" x: y\n"},
		{"yaml secret reused elsewhere", "t.yaml", "Resources:\n  P:\n    Type: AWS::DataPipeline::Pipeline\n    Properties:\n      ParameterValues:\n        - Id: \"*myPass\"\n          StringValue: " + pw + "\n      PipelineObjects:\n        - Id: A\n          Fields: [{Key: command, StringValue: \"echo " + pw + "\"}] x: y\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSource(tc.file, []byte(tc.src), ReadOptions{})
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("ParseSource: %v (%T), want a *SyntaxError", err, err)
			}
			if se.Line == "" {
				t.Fatalf("no excerpt line in %v", se)
			}
			raw := strings.Split(tc.src, "\n")[se.Pos.Line-1]
			if !strings.Contains(raw, pw) {
				t.Fatalf("the error is on line %d %q, which does not hold the secret: the case proves nothing", se.Pos.Line, raw)
			}
			if strings.Contains(se.Line, pw) || strings.Contains(se.Error(), pw) || strings.Contains(se.Excerpt(), pw) {
				t.Errorf("excerpt shows the secret: %q / %s", se.Line, se.Error())
			}
			if len([]rune(se.Line)) != len([]rune(raw)) {
				t.Errorf("masked line %q has another length than %q: the caret moves", se.Line, raw)
			}
		})
	}
}
