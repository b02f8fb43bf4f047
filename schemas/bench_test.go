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
