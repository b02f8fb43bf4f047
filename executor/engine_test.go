package executor

import (
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/task"
)

const chainDef = `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"cron","schedule":{"ref":"Sched"},"workerGroup":"wg","failureAndRerunMode":"%s","retryDelay":"5 minutes"},
 {"id":"Sched","type":"Schedule","period":"1 hour","startDateTime":"2025-12-31T20:00:00","occurrences":"2"},
 {"id":"A","type":"ShellCommandActivity","command":"echo #{@scheduledStartTime}"},
 {"id":"B","type":"ShellCommandActivity","command":"echo b","dependsOn":{"ref":"A"}}
]}`

func TestChainFinishes(t *testing.T) {
	r := newRun(t, sprintf(chainDef, "none"), Options{})
	s := r.drive(always(ok()))
	if !s.OK {
		t.Fatalf("not OK: %s %v", s.Reason, s.Counts)
	}
	if len(r.tasks) != 4 {
		t.Fatalf("%d tasks, want 4", len(r.tasks))
	}
	// A runs before B within each interval, and commands are evaluated.
	got := r.tasks[0].Attempt().Get("command")
	if got != "echo 2025-12-31T20:00:00" {
		t.Errorf("command = %q", got)
	}
	r.wantStatus("@B_2025-12-31T21:00:00", Finished)
	_ = task.Finished
	_ = time.Second
}
