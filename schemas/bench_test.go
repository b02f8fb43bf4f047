package schemas

import "testing"

// typicalShellCommand is a ShellCommandActivity's effective fields as the
// validator builds them: own fields plus what Default lends.
func typicalShellCommand() map[string]any {
	return map[string]any{
		"id":                  "ProcessLogs",
		"name":                "ProcessLogs",
		"type":                "ShellCommandActivity",
		"command":             "aws s3 cp #{input.directoryPath} /tmp/in && ./process.sh",
		"scriptArgument":      []any{"--date", "#{format(@scheduledStartTime,'YYYY-MM-dd')}"},
		"runsOn":              map[string]any{"ref": "Ec2Instance"},
		"input":               map[string]any{"ref": "InputData"},
		"output":              map[string]any{"ref": "OutputData"},
		"dependsOn":           []any{map[string]any{"ref": "Prepare"}},
		"stage":               "true",
		"maximumRetries":      "2",
		"retryDelay":          "10 minutes",
		"onFail":              map[string]any{"ref": "FailureAlarm"},
		"schedule":            map[string]any{"ref": "DailySchedule"},
		"scheduleType":        "cron",
		"failureAndRerunMode": "CASCADE",
		"pipelineLogUri":      "s3://my-bucket/logs/",
		"myComment":           "Processes one day of logs",
	}
}

func BenchmarkValidateShellCommandActivity(b *testing.B) {
	inst := typicalShellCommand()
	if vs, err := Validate("ShellCommandActivity", inst); err != nil || len(vs) != 0 {
		b.Fatalf("typical instance must be valid: %v %v", vs, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate("ShellCommandActivity", inst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateShellCommandActivitySchema forces the JSON Schema path
// (what every object would cost without the pre-check).
func BenchmarkValidateShellCommandActivitySchema(b *testing.B) {
	inst := typicalShellCommand()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ValidateWithSchema("ShellCommandActivity", inst, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateInvalid measures an object with three errors, which
// goes through the schema and the explanation.
func BenchmarkValidateInvalid(b *testing.B) {
	inst := typicalShellCommand()
	inst["retryDelay"] = "5 mins"
	inst["runsOn"] = "Ec2Instance"
	inst["comand"] = "x"
	b.ReportAllocs()
	for b.Loop() {
		if vs, _ := Validate("ShellCommandActivity", inst); len(vs) != 3 {
			b.Fatalf("got %v", vs)
		}
	}
}

// BenchmarkValidateInherited is the usual case in real files: Default lends
// role and resourceRole, which activities do not know and which are dropped.
func BenchmarkValidateInherited(b *testing.B) {
	inst := typicalShellCommand()
	inst["role"] = "DataPipelineDefaultRole"
	inst["resourceRole"] = "DataPipelineDefaultResourceRole"
	fromDefault := map[string]bool{"role": true, "resourceRole": true, "schedule": true, "scheduleType": true,
		"failureAndRerunMode": true, "pipelineLogUri": true}
	opts := Options{Inherited: func(f string) bool { return fromDefault[f] }}
	b.ReportAllocs()
	for b.Loop() {
		if vs, _ := ValidateWith("ShellCommandActivity", inst, opts); len(vs) != 0 {
			b.Fatalf("got %v", vs)
		}
	}
}
