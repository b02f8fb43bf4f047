package definition

import (
	"strings"
	"testing"
)

// TestMistypedShapeKeys: a mistyped member of the API or CloudFormation
// shape gets a did-you-mean at its own position instead of vanishing.
func TestMistypedShapeKeys(t *testing.T) {
	tests := []struct {
		name, file, src string
		line            int
		hint            string
	}{
		{"api stringValue", "api.json", `{"pipelineObjects": [{"id": "Default", "name": "Default", "fields": [
  {"key": "scheduleType", "tringValue": "ondemand"}]}]}`, 2, `did you mean "stringValue"?`},
		{"api refValue", "api.json", `{"pipelineObjects": [{"id": "A", "name": "A", "fields": [
  {"key": "type", "stringValue": "ShellCommandActivity"},
  {"key": "runsOn", "RefValu": "W"}]}]}`, 3, `did you mean "refValue"?`},
		{"api parameterObjects", "api.json", `{"pipelineObjects": [{"id": "Default", "name": "Default", "fields": []}],
 "parameterObject": [{"id": "myX", "attributes": [{"key": "type", "stringValue": "String"}]}]}`, 2, `did you mean "parameterObjects"?`},
		{"cloudformation StringValue", "t.yaml", `Resources:
  P:
    Type: AWS::DataPipeline::Pipeline
    Properties:
      Name: p
      PipelineObjects:
        - Id: Default
          Name: Default
          Fields:
            - Key: scheduleType
              TringValue: ondemand
`, 11, `did you mean "StringValue"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseSource(tt.file, []byte(tt.src), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			found := false
			for _, dg := range d.Diagnostics {
				got = append(got, dg.Error()+" ("+dg.Hint+")")
				if dg.Code == "UNKNOWN_KEY" && dg.Hint == tt.hint && int(dg.Pos.Line) == tt.line {
					found = true
				}
				if strings.Contains(dg.Message, "has neither") {
					t.Errorf("the mistyped key is reported twice: %s", dg.Error())
				}
			}
			if !found {
				t.Errorf("want UNKNOWN_KEY at line %d with %s; got:\n%s", tt.line, tt.hint, strings.Join(got, "\n"))
			}
		})
	}
}
