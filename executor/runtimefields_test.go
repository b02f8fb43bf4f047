package executor

import (
	"github.com/dpl-dev/dpl/executor/task"
	"testing"
)

// TestRuntimeFieldsInAlarms: an onFail SnsAlarm reads the failed
// attempt's runtime fields through node; on success the same fields are
// empty, as the service renders unset runtime fields — never an error.
func TestRuntimeFieldsInAlarms(t *testing.T) {
	def := one(`"maximumRetries":"1","retryDelay":"1 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x","onFail":{"ref":"Failed"}}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","onSuccess":{"ref":"Done"}}`,
		`{"id":"Failed","type":"SnsAlarm","topicArn":"arn:aws:sns:us-east-1:1:t","subject":"#{node.name} #{node.@pipelineId}",
		  "message":"#{node.errorMessage} id=#{node.errorId} host=#{node.hostname} retries=#{node.currentRetryCount} emr=[#{node.emrStepLog}]"}`,
		`{"id":"Done","type":"SnsAlarm","topicArn":"arn:aws:sns:us-east-1:1:t","subject":"ok",
		  "message":"error=[#{node.errorMessage}] reason=[#{node.cancellationReason}] trace=[#{node.errorStackTrace}]"}`)
	r := newRun(t, def, Options{})
	r.drive(func(tk *task.Task) outcome {
		if tk.Attempt().Refs("@componentParent")[0] == "A" {
			return fail("disk full on /data")
		}
		return ok()
	})
	evs, err := r.e.History(0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Event{}
	for _, ev := range evs {
		if ev.Kind == EventAlarm {
			got[ev.Object] = ev
		}
	}
	if m := got["Failed"].Message; m != "disk full on /data id=Test host=test retries=1 emr=[]" {
		t.Errorf("onFail alarm message %q", m)
	}
	if s := got["Failed"].Subject; s != "A df-TEST" {
		t.Errorf("onFail alarm subject %q", s)
	}
	if m := got["Done"].Message; m != "error=[] reason=[] trace=[]" {
		t.Errorf("onSuccess alarm message %q, want the unset fields empty", m)
	}
}
