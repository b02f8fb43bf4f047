package executor

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// one builds a definition of one hourly cron interval starting at 23:00
// the day before t0 (so it is runnable at once) with the given extra
// objects and Default fields.
func one(defaults string, objects ...string) string {
	d := `{"id":"Default","name":"Default","scheduleType":"cron","schedule":{"ref":"S"},"workerGroup":"wg"`
	if defaults != "" {
		d += "," + defaults
	}
	d += "}"
	all := append([]string{d, `{"id":"S","type":"Schedule","period":"1 hour","startDateTime":"2025-12-31T23:00:00","occurrences":"1"}`}, objects...)
	return `{"objects":[` + strings.Join(all, ",\n") + `]}`
}

const iA = "@A_2025-12-31T23:00:00"
const iB = "@B_2025-12-31T23:00:00"
const iC = "@C_2025-12-31T23:00:00"

func TestRetriesWithDelay(t *testing.T) {
	r := newRun(t, one(`"maximumRetries":"2","retryDelay":"7 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"false"}`), Options{})
	s := r.drive(always(fail("boom")))
	if s.OK {
		t.Fatal("run OK, want failure")
	}
	r.wantStatus(iA, Failed)
	at := r.at["A"]
	if len(at) != 3 {
		t.Fatalf("%d attempts, want 3 (maximumRetries 2)", len(at))
	}
	for k := 1; k < len(at); k++ {
		if d := at[k].Sub(at[k-1]); d != 7*time.Minute {
			t.Errorf("attempt %d came %s after the previous, want 7m", k+1, d)
		}
	}
	if got := r.inst(iA).ErrorMessage; got != "boom" {
		t.Errorf("errorMessage %q", got)
	}
	if n := len(r.e.Attempts(iA)); n != 3 {
		t.Errorf("%d attempt records", n)
	}
}

func TestRetrySucceedsAndDefaults(t *testing.T) {
	r := newRun(t, one("", `{"id":"A","type":"ShellCommandActivity","command":"x"}`), Options{})
	n := 0
	s := r.drive(func(*task.Task) outcome {
		n++
		if n < 3 {
			return fail("flaky")
		}
		return ok()
	})
	if !s.OK {
		t.Fatalf("not OK: %s", s.Reason)
	}
	at := r.at["A"]
	if len(at) != 3 || at[1].Sub(at[0]) != DefaultRetryDelay {
		t.Fatalf("attempts at %v, want 3 spaced by the default 10m", at)
	}
}

func TestRetryDelayOverride(t *testing.T) {
	r := newRun(t, one(`"retryDelay":"1 hour"`, `{"id":"A","type":"ShellCommandActivity","command":"x"}`), Options{RetryDelay: 2 * time.Second})
	r.drive(always(fail("no")))
	at := r.at["A"]
	if len(at) != 3 || at[1].Sub(at[0]) != 2*time.Second {
		t.Fatalf("attempts at %v, want spaced by 2s", at)
	}
}

func TestAttemptTimeoutCancelsRunner(t *testing.T) {
	r := newRun(t, one(`"maximumRetries":"1","attemptTimeout":"20 minutes","retryDelay":"1 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"sleep 1d"}`), Options{})
	s := r.drive(always(hang()))
	if s.OK {
		t.Fatal("OK, want failed")
	}
	r.wantStatus(iA, Failed)
	if len(r.hung) != 2 {
		t.Fatalf("%d attempts, want 2", len(r.hung))
	}
	for _, tk := range r.hung {
		canceled, err := r.e.ReportTaskProgress(context.Background(), tk.TaskID, nil)
		if err != nil || !canceled {
			t.Errorf("task %s: canceled=%v err=%v, want canceled", tk.TaskID, canceled, err)
		}
		select {
		case <-r.e.TaskCanceled(tk.TaskID):
		default:
			t.Errorf("TaskCanceled(%s) not closed", tk.TaskID)
		}
	}
	at := r.at["A"]
	if d := at[1].Sub(at[0]); d != 21*time.Minute {
		t.Errorf("second attempt %s after the first, want 20m timeout + 1m delay", d)
	}
	if !strings.Contains(r.inst(iA).ErrorMessage, "attemptTimeout") {
		t.Errorf("error %q", r.inst(iA).ErrorMessage)
	}
}

func TestCascadeAndNone(t *testing.T) {
	objs := []string{
		`{"id":"A","type":"ShellCommandActivity","command":"x","maximumRetries":"0"}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}`,
		`{"id":"C","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"B"}}`,
	}
	byComp := func(tk *task.Task) outcome {
		if tk.Attempt().Refs("@componentParent")[0] == "A" {
			return fail("A broke")
		}
		return ok()
	}
	t.Run("cascade", func(t *testing.T) {
		r := newRun(t, one(`"failureAndRerunMode":"cascade"`, objs...), Options{})
		s := r.drive(byComp)
		r.wantStatus(iA, Failed)
		r.wantStatus(iB, CascadeFailed)
		r.wantStatus(iC, CascadeFailed)
		if got := r.inst(iC).CascadeFrom; got != iB {
			t.Errorf("C cascadeFailedOn %q", got)
		}
		if s.OK || s.Counts[CascadeFailed] != 2 {
			t.Errorf("summary %+v", s.Counts)
		}
	})
	t.Run("none", func(t *testing.T) {
		r := newRun(t, one("", objs...), Options{})
		s := r.drive(byComp)
		r.wantStatus(iA, Failed)
		r.wantStatus(iB, WaitingOnDependencies)
		r.wantStatus(iC, WaitingOnDependencies)
		if s.OK || !strings.Contains(s.Reason, "nothing can make progress") || !strings.Contains(s.Reason, iA) {
			t.Errorf("reason %q", s.Reason)
		}
	})
}

func TestLateActionAlarmAndTerminate(t *testing.T) {
	def := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"cron","schedule":{"ref":"S"},"workerGroup":"wg"},
 {"id":"S","type":"Schedule","period":"1 hour","startDateTime":"2026-01-01T00:00:00","occurrences":"1"},
 {"id":"A","type":"ShellCommandActivity","command":"x","lateAfterTimeout":"30 minutes","onLateAction":[{"ref":"Late"},{"ref":"Kill"}]},
 {"id":"Late","type":"SnsAlarm","topicArn":"arn:t","subject":"late #{node.@scheduledStartTime}","message":"#{node.name} is late","role":"r"},
 {"id":"Kill","type":"Terminate"}
]}`
	r := newRun(t, def, Options{})
	ev, cancel := r.e.Subscribe()
	defer cancel()
	s := r.drive(always(hang()))
	r.wantStatus("@A_2026-01-01T00:00:00", Canceled)
	if s.OK {
		t.Error("OK after Terminate")
	}
	var alarm *Event
	for e := range ev {
		if e.Kind == EventAlarm {
			e := e
			alarm = &e
		}
	}
	if alarm == nil {
		t.Fatal("no alarm event")
	}
	if alarm.Subject != "late 2026-01-01T00:00:00" || alarm.Message != "A is late" || alarm.TopicArn != "arn:t" {
		t.Errorf("alarm %+v", alarm)
	}
	if !alarm.Time.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("alarm at %s, want 30m after the scheduled start", alarm.Time)
	}
}

func TestPreconditionRecheckAndTimeout(t *testing.T) {
	def := one(`"failureAndRerunMode":"cascade"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x","precondition":{"ref":"P"}}`,
		`{"id":"P","type":"ShellCommandPrecondition","command":"test -f x","retryDelay":"10 minutes","preconditionTimeout":"35 minutes"}`)
	t.Run("timeout", func(t *testing.T) {
		r := newRun(t, def, Options{})
		s := r.drive(always(falsy()))
		if got := len(r.at["P"]); got != 4 {
			t.Errorf("%d checks, want 4 (0, 10, 20, 30 minutes)", got)
		}
		r.wantStatus("@P_2025-12-31T23:00:00", Failed)
		r.wantStatus(iA, Failed)
		if !strings.Contains(r.inst(iA).ErrorMessage, "precondition P failed") || s.OK {
			t.Errorf("A error %q", r.inst(iA).ErrorMessage)
		}
		if len(r.at["A"]) != 0 {
			t.Error("A ran although its precondition never held")
		}
	})
	t.Run("met later", func(t *testing.T) {
		r := newRun(t, def, Options{})
		checks := 0
		var sawNext bool
		s := r.drive(func(tk *task.Task) outcome {
			if tk.Attempt().Get("type") == "ShellCommandPrecondition" {
				if tk.Attempt().Refs("node")[0] != iA {
					t.Errorf("precondition task node %v", tk.Attempt().Refs("node"))
				}
				checks++
				if checks == 2 {
					p := r.inst("@P_2025-12-31T23:00:00")
					sawNext = p.LastResult == "FALSE" && p.NextCheck.Equal(t0.Add(10*time.Minute))
					return ok()
				}
				return falsy()
			}
			return ok()
		})
		if !s.OK || checks != 2 || !sawNext {
			t.Fatalf("OK=%v checks=%d sawNext=%v reason=%s", s.OK, checks, sawNext, s.Reason)
		}
		if at := r.at["A"]; len(at) != 1 || !at[0].Equal(t0.Add(10*time.Minute)) {
			t.Errorf("A ran at %v", at)
		}
	})
}

func TestResourceSharingAndTerminateAfter(t *testing.T) {
	def := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"cron","failureAndRerunMode":"cascade"},
 {"id":"Hourly","type":"Schedule","period":"1 hour","startDateTime":"2025-12-31T22:00:00","occurrences":"1"},
 {"id":"Quarter","type":"Schedule","period":"15 minutes","startDateTime":"2025-12-31T22:00:00","occurrences":"4"},
 {"id":"R","type":"Ec2Resource","schedule":{"ref":"Hourly"},"role":"r","resourceRole":"r","terminateAfter":"%s"},
 {"id":"A","type":"ShellCommandActivity","command":"x","runsOn":{"ref":"R"},"schedule":{"ref":"Quarter"},"maximumRetries":"0"}
]}`
	t.Run("shared", func(t *testing.T) {
		r := newRun(t, sprintf(def, "2 hours"), Options{})
		res := map[string]bool{}
		s := r.drive(func(tk *task.Task) outcome {
			res[tk.Attempt().Get("@resourceInstance")] = true
			return ok()
		})
		if !s.OK {
			t.Fatalf("not OK: %s", s.Reason)
		}
		if len(res) != 1 || !res["@R_2025-12-31T22:00:00"] || len(r.at["A"]) != 4 {
			t.Errorf("resources used %v by %d tasks, want one shared by 4", res, len(r.at["A"]))
		}
		r.wantStatus("@R_2025-12-31T22:00:00", Finished)
	})
	t.Run("terminateAfter", func(t *testing.T) {
		r := newRun(t, sprintf(def, "30 minutes"), Options{})
		s := r.drive(always(hang()))
		r.wantStatus("@R_2025-12-31T22:00:00", TimedOut)
		for _, i := range s.Instances {
			if i.Component == "A" && Status(i.Status) != Canceled {
				t.Errorf("%s is %s, want CANCELED after its resource timed out", i.ID, i.Status)
			}
		}
		if len(r.hung) == 0 {
			t.Fatal("nothing ran")
		}
		for _, tk := range r.hung {
			if c, _ := r.e.ReportTaskProgress(context.Background(), tk.TaskID, nil); !c {
				t.Errorf("task %s not canceled", tk.TaskID)
			}
		}
	})
}

func TestMaxActiveInstances(t *testing.T) {
	def := `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"cron","workerGroup":"wg"},
 {"id":"S","type":"Schedule","period":"15 minutes","startDateTime":"2025-12-31T22:00:00","occurrences":"8"},
 {"id":"A","type":"ShellCommandActivity","command":"x","schedule":{"ref":"S"},"maxActiveInstances":"%s"}
]}`
	for _, c := range []struct {
		max  string
		peak int
	}{{"1", 1}, {"2", 2}, {"", 5}} { // unset: the service's limit of 5 per object
		r := newRun(t, sprintf(def, c.max), Options{})
		peak, running := 0, 0
		var pending []*task.Task
		// Hold every task until no more can be handed out, then finish one.
		e := r.e.engine
		for {
			e.mu.Lock()
			e.step()
			tk := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
			e.mu.Unlock()
			if tk != nil {
				pending = append(pending, tk)
				running++
				peak = max(peak, running)
				continue
			}
			if len(pending) == 0 {
				break
			}
			if err := r.e.SetTaskStatus(context.Background(), pending[0].TaskID, task.Result{Status: task.Finished}); err != nil {
				t.Fatal(err)
			}
			pending = pending[1:]
			running--
		}
		if peak != c.peak {
			t.Errorf("maxActiveInstances %s: peak %d running, want %d", c.max, peak, c.peak)
		}
		for _, i := range r.e.Instances() {
			if Status(i.Status) != Finished {
				t.Errorf("%s %s", i.ID, i.Status)
			}
		}
	}
}

func TestResumeAfterCrash(t *testing.T) {
	dir := t.TempDir()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	def := one(`"retryDelay":"1 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}`,
		`{"id":"C","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"B"}}`)
	fc := clock.NewFake(t0)
	r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	// Run A to completion, hand out B and "crash" while it runs.
	e := r.e.engine
	e.mu.Lock()
	e.step()
	ta := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
	e.mu.Unlock()
	if err := r.e.SetTaskStatus(context.Background(), ta.TaskID, task.Result{Status: task.Finished}); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	tb := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
	e.mu.Unlock()
	if tb == nil || tb.AttemptID != iB+"_Attempt=1" {
		t.Fatalf("second task %+v", tb)
	}
	// The crash: drop the engine without any shutdown (after the writes
	// PollForTask would have waited for).
	e.w.sync()

	// A changed definition refuses to resume.
	changed := strings.Replace(def, `"command":"x"}`, `"command":"y"}`, 1)
	if _, err := New(Options{Definition: newDef(t, changed), Source: []byte(changed), PipelineID: "df-TEST", Store: db, StateDir: dir, Clock: fc}); err == nil || !strings.Contains(err.Error(), "definition changed") {
		t.Fatalf("changed definition: err %v", err)
	}

	r2 := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	if !r2.e.Resumed() {
		t.Fatal("not resumed")
	}
	s := r2.drive(always(ok()))
	if !s.OK {
		t.Fatalf("resumed run not OK: %s", s.Reason)
	}
	if len(r2.at["A"]) != 0 {
		t.Error("A ran again after resume")
	}
	if len(r2.at["B"]) != 1 || len(r2.at["C"]) != 1 {
		t.Errorf("after resume B ran %d times, C %d", len(r2.at["B"]), len(r2.at["C"]))
	}
	atts := r2.e.Attempts(iB)
	if len(atts) != 2 || atts[0].Status != string(Canceled) || atts[0].ErrorID != ErrorIDCrashed || atts[1].Status != string(Finished) {
		t.Errorf("B attempts %+v", atts)
	}
	// History intact: events of both sessions, numbered without gaps.
	var seqs []uint64
	var runs int
	err = db.Events("df-TEST", 1, 0, func(ev runstore.Event) error {
		seqs = append(seqs, ev.Seq)
		if strings.Contains(string(ev.Data), `"event":"run"`) {
			runs++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, s := range seqs {
		if s != uint64(k+1) {
			t.Fatalf("event %d has seq %d", k, s)
		}
	}
	if runs < 1 { // the harness skips Run, so only the final run event
		t.Errorf("%d run events", runs)
	}
	// A second New after the end starts a new activation.
	r3 := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	if r3.e.Resumed() || r3.e.engine.act.Seq != 2 {
		t.Errorf("after a finished run: resumed=%v seq=%d", r3.e.Resumed(), r3.e.engine.act.Seq)
	}
	db.Close()
}

func TestSetStatusRerunAndMarkFinished(t *testing.T) {
	def := one(`"failureAndRerunMode":"cascade","maximumRetries":"0"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}`)
	r := newRun(t, def, Options{})
	r.drive(always(fail("no")))
	r.wantStatus(iB, CascadeFailed)
	if err := r.e.SetStatus(context.Background(), "df-TEST", []string{iA}, "rerun"); err != nil {
		t.Fatal(err)
	}
	r.wantStatus(iB, WaitingOnDependencies)
	s := r.drive(always(ok()))
	if !s.OK {
		t.Fatalf("after rerun: %s", s.Reason)
	}
	if err := r.e.SetStatus(context.Background(), "df-TEST", []string{"A"}, "RERUN"); err == nil {
		t.Error("RERUN of a component accepted")
	}
}

func TestQueryObjects(t *testing.T) {
	r := newRun(t, sprintf(chainDef, "none"), Options{})
	r.drive(always(ok()))
	ctx := context.Background()
	out, err := r.e.QueryObjects(ctx, QueryInput{PipelineID: "df-TEST", Sphere: SphereInstance, Selectors: []Selector{
		{FieldName: "@componentParent", Operator: OpEQ, Values: []string{"B"}},
		{FieldName: "@scheduledStartTime", Operator: OpGE, Values: []string{"2025-12-31T21:00:00"}},
	}})
	if err != nil || len(out.IDs) != 1 || out.IDs[0] != "@B_2025-12-31T21:00:00" {
		t.Fatalf("query: %v %v", out, err)
	}
	// Paging: page first, filter second; keep paging.
	var all []string
	marker := ""
	for {
		o, err := r.e.QueryObjects(ctx, QueryInput{Sphere: SphereAttempt, Limit: 1, Marker: marker,
			Selectors: []Selector{{FieldName: "@status", Operator: OpEQ, Values: []string{"finished"}}}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, o.IDs...)
		if !o.HasMoreResults {
			break
		}
		marker = o.Marker
	}
	if len(all) != 4 {
		t.Errorf("attempts %v", all)
	}
	d, err := r.e.DescribeObjects(ctx, DescribeInput{ObjectIDs: []string{all[0]}, EvaluateExpressions: true})
	if err != nil || d.Objects[0].Get("@sphere") != "ATTEMPT" || !strings.HasPrefix(d.Objects[0].Get("command"), "echo 2025") {
		t.Errorf("describe %+v %v", d, err)
	}
	v, err := r.e.EvaluateExpression(ctx, "df-TEST", "@A_2025-12-31T20:00:00", "#{@scheduledEndTime}")
	if err != nil || v != "2025-12-31T21:00:00" {
		t.Errorf("evaluate %q %v", v, err)
	}
	if _, err := r.e.QueryObjects(ctx, QueryInput{PipelineID: "df-OTHER", Sphere: SphereInstance}); err == nil {
		t.Error("unknown pipeline accepted")
	}
}

// TestRemoteTaskOwnership: tasks of a remote worker group are reassigned
// when their runner does not acknowledge within 2 minutes or stops
// reporting progress for reportProgressTimeout.
func TestRemoteTaskOwnership(t *testing.T) {
	def := one(`"maximumRetries":"1","retryDelay":"1 minutes","reportProgressTimeout":"5 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`)
	r := newRun(t, def, Options{Remote: []string{"wg"}})
	e := r.e.engine
	ctx := context.Background()
	poll := func() *task.Task {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.step()
		if tk := e.handout(PollInput{WorkerGroup: LocalWorkerGroup}); tk != nil {
			t.Fatalf("remote work handed to the local worker: %s", tk.AttemptID)
		}
		return e.handout(PollInput{WorkerGroup: "wg", Hostname: "remote-1"})
	}
	advance := func(d time.Duration) {
		r.fc.Advance(d)
		e.mu.Lock()
		e.step()
		e.mu.Unlock()
	}
	t1 := poll()
	if t1 == nil {
		t.Fatal("no task for group wg")
	}
	advance(AckTimeout) // never acknowledged
	if c, _ := r.e.ReportTaskProgress(ctx, t1.TaskID, nil); !c {
		t.Fatal("unacknowledged task not taken back")
	}
	if a := r.e.Attempts(iA)[0]; a.ErrorID != ErrorIDNotAcknowledged {
		t.Fatalf("attempt 1 %+v", a)
	}
	t2 := poll() // reassigned at once: no retryDelay

	if t2 == nil || t2.AttemptID != iA+"_Attempt=2" {
		t.Fatalf("retry task %+v", t2)
	}
	r.e.ReportTaskProgress(ctx, t2.TaskID, nil)
	advance(4 * time.Minute)
	if c, _ := r.e.ReportTaskProgress(ctx, t2.TaskID, nil); c {
		t.Fatal("canceled while reporting progress")
	}
	advance(6 * time.Minute) // silent for longer than reportProgressTimeout
	if c, _ := r.e.ReportTaskProgress(ctx, t2.TaskID, nil); !c {
		t.Fatal("silent task not taken back")
	}
	// A late SetTaskStatus from the old owner changes nothing.
	if err := r.e.SetTaskStatus(ctx, t2.TaskID, task.Result{Status: task.Finished}); err != nil {
		t.Fatal(err)
	}
	// Reassigned, not failed (the service's ReportTaskProgress docs): two
	// lost runners use none of maximumRetries 1; attempt 3 is queued.
	r.wantStatus(iA, WaitingForRunner)
	atts := r.e.Attempts(iA)
	if len(atts) != 3 {
		t.Fatalf("%d attempts, want 3 (two reassigned, one queued)", len(atts))
	}
	if a := atts[1]; a.ErrorID != ErrorIDRunnerLost || Status(a.Status) != Canceled || !strings.Contains(a.ErrorMessage, "stopped reporting progress") {
		t.Errorf("attempt 2 %+v, want CANCELED %s", a, ErrorIDRunnerLost)
	}
	if i := r.inst(iA); i.Failures != 0 {
		t.Errorf("failures %d, want 0: a lost runner is not the task's failure", i.Failures)
	}
}

func TestDescribeMasksSecrets(t *testing.T) {
	def := one("", `{"id":"Db","type":"JdbcDatabase","connectionString":"jdbc:x","jdbcDriverClass":"D","username":"u","*password":"hunter2"}`,
		`{"id":"A","type":"ShellCommandActivity","command":"x","myDb":{"ref":"Db"}}`)
	r := newRun(t, def, Options{})
	var taskPassword string
	r.drive(func(tk *task.Task) outcome {
		if db := tk.Objects["Db"]; db != nil {
			taskPassword = db.Get("*password")
		}
		return ok()
	})
	if taskPassword != "hunter2" {
		t.Errorf("runner got password %q, want the real value", taskPassword)
	}
	d, err := r.e.DescribeObjects(context.Background(), DescribeInput{ObjectIDs: []string{"Db"}, EvaluateExpressions: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Objects[0].Get("*password"); got != "********" {
		t.Errorf("DescribeObjects shows %q", got)
	}
}

type failingNotifier struct{ calls chan Alarm }

func (n failingNotifier) Publish(_ context.Context, a Alarm) error {
	n.calls <- a
	return errors.New("topic not found")
}

// TestAlarmPublishFailureIsRecorded: the notifier runs outside the engine
// lock and its failure becomes a stored alarm event with the error.
func TestAlarmPublishFailureIsRecorded(t *testing.T) {
	db, err := runstore.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	def := one("", `{"id":"A","type":"ShellCommandActivity","command":"x","onSuccess":{"ref":"Al"}}`,
		`{"id":"Al","type":"SnsAlarm","topicArn":"arn:x","subject":"s","message":"#{node.@status}","role":"r"}`)
	n := failingNotifier{calls: make(chan Alarm, 1)}
	r := newRun(t, def, Options{Notifier: n, Store: db})
	r.drive(always(ok()))
	a := <-n.calls
	if a.Message != "FINISHED" || a.Node != iA || a.TopicArn != "arn:x" {
		t.Errorf("published %+v", a)
	}
	r.e.engine.pubs.Wait()
	// The failure event is queued to the store writer; wait for it to land.
	if err := r.e.engine.w.sync(); err != nil {
		t.Fatal(err)
	}
	var alarms, failed int
	err = db.Events("df-TEST", 1, 0, func(se runstore.Event) error {
		var ev Event
		if err := json.Unmarshal(se.Data, &ev); err != nil {
			return err
		}
		if ev.Kind == EventAlarm {
			alarms++
			if ev.Error == "publish: topic not found" {
				failed++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if alarms != 2 || failed != 1 {
		t.Errorf("%d alarm events, %d with the publish error; want 2 and 1", alarms, failed)
	}
}

// TestActionOnTaskFailureTerminate: a failed activity terminates its
// resource; the other activities on it are CANCELED and their consumers
// cascade.
func TestActionOnTaskFailureTerminate(t *testing.T) {
	def := one(`"failureAndRerunMode":"cascade","maximumRetries":"0"`,
		`{"id":"R","type":"Ec2Resource","role":"r","resourceRole":"r","actionOnTaskFailure":"terminate"}`,
		`{"id":"A","type":"ShellCommandActivity","command":"x","runsOn":{"ref":"R"}}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","runsOn":{"ref":"R"}}`,
		`{"id":"C","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"B"}}`)
	r := newRun(t, def, Options{})
	var held *task.Task
	r.drive(func(tk *task.Task) outcome {
		switch tk.Attempt().Refs("@componentParent")[0] {
		case "A":
			return fail("A broke")
		case "B":
			held = tk
			return hang()
		}
		return ok()
	})
	r.wantStatus(iA, Failed)
	r.wantStatus("@R_2025-12-31T23:00:00", Failed)
	r.wantStatus(iB, Canceled)
	r.wantStatus(iC, CascadeFailed)
	if held != nil {
		if c, _ := r.e.ReportTaskProgress(context.Background(), held.TaskID, nil); !c {
			t.Error("B's running task was not canceled with its resource")
		}
	}
}

// TestRerunReachesTheWholeCascade: a rerun of the failed root brings back
// every instance that cascade-failed from it, however deep.
func TestRerunReachesTheWholeCascade(t *testing.T) {
	def := one(`"failureAndRerunMode":"cascade","maximumRetries":"0"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`,
		`{"id":"B","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}`,
		`{"id":"C","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"B"}}`)
	r := newRun(t, def, Options{})
	r.drive(always(fail("no")))
	r.wantStatus(iC, CascadeFailed)
	if err := r.e.SetStatus(context.Background(), "df-TEST", []string{iA}, "RERUN"); err != nil {
		t.Fatal(err)
	}
	r.wantStatus(iC, WaitingOnDependencies)
	if s := r.drive(always(ok())); !s.OK {
		t.Fatalf("after rerun: %s %v", s.Reason, s.Counts)
	}
	r.wantStatus(iC, Finished)
}

// TestOnDemandResumeKeepsLinks: an on-demand activation at a fractional
// second must find its instances' links again after a restart, or
// dependents would run before what they wait on.
func TestOnDemandResumeKeepsLinks(t *testing.T) {
	dir := t.TempDir()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	def := `{"objects":[{"id":"Default","scheduleType":"ondemand","workerGroup":"wg"},
		{"id":"A","type":"ShellCommandActivity","command":"x"},
		{"id":"B","type":"ShellCommandActivity","command":"x","dependsOn":{"ref":"A"}}]}`
	fc := clock.NewFake(t0.Add(123456789 * time.Nanosecond))
	r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	e := r.e.engine
	e.mu.Lock()
	e.step()
	ta := e.handout(PollInput{WorkerGroup: LocalWorkerGroup})
	e.mu.Unlock()
	if ta == nil || !strings.HasPrefix(ta.AttemptID, "@A_") {
		t.Fatalf("first task %+v", ta)
	}
	e.w.sync() // crash while A runs

	r2 := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	if s := r2.drive(always(ok())); !s.OK {
		t.Fatalf("resumed run: %s %v", s.Reason, s.Counts)
	}
	if len(r2.tasks) != 2 || !strings.HasPrefix(r2.tasks[0].AttemptID, "@A_") {
		var ids []string
		for _, tk := range r2.tasks {
			ids = append(ids, tk.AttemptID)
		}
		t.Fatalf("after resume tasks ran in order %v: B must wait for A's retry", ids)
	}
}

// TestResumeAfterInterrupt: an attempt running when dpl was interrupted
// (not killed) is given back on resume: CANCELED with TaskReleased, and a
// new attempt is queued at once, without retryDelay and without using a
// retry. The resumed activation is RUNNING again, so a later crash counts
// as a crash.
func TestResumeAfterInterrupt(t *testing.T) {
	dir := t.TempDir()
	db, err := runstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	def := one(`"retryDelay":"10 minutes","maximumRetries":"0"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`)
	fc := clock.NewFake(t0)
	r := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() {
		_, err := r.e.Run(ctx)
		ran <- err
	}()
	tk, err := r.e.PollForTask(context.Background(), PollInput{WorkerGroup: LocalWorkerGroup})
	if err != nil || tk == nil {
		t.Fatalf("poll: %v, %v", tk, err)
	}
	cancel() // the interrupt; the worker stops the command and reports nothing
	if err := <-ran; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if act, err := db.Latest("df-TEST"); err != nil || act.State != runstore.ActInterrupted {
		t.Fatalf("activation after the interrupt: %+v, %v", act, err)
	}

	r2 := newRun(t, def, Options{Store: db, StateDir: dir, Clock: fc})
	e2 := r2.e.engine
	e2.mu.Lock()
	if err := e2.resumeInFlight(); err != nil {
		t.Fatal(err)
	}
	e2.step()
	next := e2.handout(PollInput{WorkerGroup: LocalWorkerGroup}) // no clock move: no retryDelay
	e2.mu.Unlock()
	if next == nil || next.AttemptID != iA+"_Attempt=2" {
		t.Fatalf("after resume: task %+v, want attempt 2 at once", next)
	}
	atts := r2.e.Attempts(iA)
	if len(atts) != 2 || atts[0].Status != string(Canceled) || atts[0].ErrorID != ErrorIDReleased {
		t.Fatalf("attempts %+v", atts)
	}
	// maximumRetries 0: had the interrupt counted as a failure, no second
	// attempt would exist; finishing it finishes the instance.
	if err := r2.e.SetTaskStatus(context.Background(), next.TaskID, task.Result{Status: task.Finished}); err != nil {
		t.Fatal(err)
	}
	for _, i := range r2.e.Instances() {
		if i.ID == iA && (i.Status != string(Finished) || i.Failures != 0) {
			t.Errorf("instance %+v", i)
		}
	}
	if act, err := db.Latest("df-TEST"); err != nil || act.State != runstore.ActRunning {
		t.Fatalf("activation after resuming: %+v, %v", act, err)
	}
}

// TestTaskProgressKeptOnAttemptAndInstance: progress a remote runner sends
// in ReportTaskProgress's fields (and an in-process one through
// RecordProgress) is kept on the attempt and its instance, emitted as an
// EventProgress with secrets masked, ignored once the attempt ended, and
// cleared when a retry starts.
func TestTaskProgressKeptOnAttemptAndInstance(t *testing.T) {
	def := one(`"maximumRetries":"1","retryDelay":"1 minutes"`,
		`{"id":"A","type":"ShellCommandActivity","command":"x"}`,
		`{"id":"Secret","type":"JdbcDatabase","connectionString":"jdbc:x","jdbcDriverClass":"D","username":"u","*password":"hunter2"}`)
	r := newRun(t, def, Options{Remote: []string{"wg"}})
	e := r.e.engine
	ctx := context.Background()
	events, stop := r.e.Subscribe()
	defer stop()
	poll := func() *task.Task {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.step()
		return e.handout(PollInput{WorkerGroup: "wg", Hostname: "remote-1"})
	}
	t1 := poll()
	if t1 == nil {
		t.Fatal("no task")
	}
	p := task.Progress{Done: 2, Total: 5, Unit: "statements", Rows: 1200, Step: "INSERT ... password hunter2"}
	if _, err := r.e.ReportTaskProgress(ctx, t1.TaskID, p.Fields()); err != nil {
		t.Fatal(err)
	}
	want := p
	want.Step = "INSERT ... password ********"
	if got := r.e.Attempts(iA)[0].Progress; got == nil || *got != want {
		t.Fatalf("attempt progress = %+v, want %+v", got, want)
	}
	if got := r.inst(iA).Progress; got == nil || *got != want {
		t.Fatalf("instance progress = %+v, want %+v", got, want)
	}
	var ev Event
	for ev = range events {
		if ev.Kind == EventProgress {
			break
		}
	}
	if ev.Attempt != t1.AttemptID || ev.Progress == nil || *ev.Progress != want || ev.Message != "2/5 statements, 1200 rows written: INSERT ... password ********" {
		t.Fatalf("progress event %+v", ev)
	}
	if b, _ := ev.MarshalJSON(); !strings.Contains(string(b), `"progress":{"done":2,"total":5,"unit":"statements","rows":1200,"step":"INSERT ... password ********"}`) {
		t.Errorf("jsonl: %s", b)
	}
	// In-process report, then the attempt fails: a later report changes nothing.
	e.RecordProgress(t1.TaskID, task.Progress{Done: 3, Total: 5, Unit: "statements", Rows: 1300})
	if err := r.e.SetTaskStatus(ctx, t1.TaskID, task.Result{Status: task.Failed, ErrorMessage: "boom"}); err != nil {
		t.Fatal(err)
	}
	e.RecordProgress(t1.TaskID, task.Progress{Done: 4, Total: 5})
	if got := r.e.Attempts(iA)[0].Progress; got == nil || got.Done != 3 {
		t.Fatalf("progress after the attempt ended = %+v, want done 3", got)
	}
	r.fc.Advance(time.Minute)
	if t2 := poll(); t2 == nil || t2.AttemptID != iA+"_Attempt=2" {
		t.Fatalf("retry task %+v", t2)
	}
	if got := r.inst(iA).Progress; got != nil {
		t.Errorf("instance progress after the retry started = %+v, want none", got)
	}
}
