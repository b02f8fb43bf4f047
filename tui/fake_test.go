package tui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// clock is the fixed "now" of every golden frame.
var clock = time.Date(2024, 1, 1, 12, 1, 4, 0, time.UTC)

func fixedNow() time.Time { return clock }

// fakeSource is a small pipeline frozen at 12:01:04: a copy that failed
// and retries, one waiting on a precondition, a resource running.
type fakeSource struct {
	mu       sync.Mutex
	readOnly bool
	comps    []Component
	insts    []runstore.Instance
	atts     map[string][]runstore.Attempt
	calls    []string // SetStatus calls, "CMD id,id"
	failWith error
}

func hour(h int) time.Time { return time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC) }

func newFake() *fakeSource {
	f := &fakeSource{atts: map[string][]runstore.Attempt{}}
	f.comps = []Component{
		{ID: "Worker", Type: "Ec2Resource", Kind: "resource"},
		{ID: "ReadyFlag", Type: "S3KeyExists", Kind: "precondition"},
		{ID: "Input", Type: "S3DataNode", Kind: "datanode", Preconditions: []string{"ReadyFlag"}},
		{ID: "CopyData", Type: "CopyActivity", Kind: "activity", Inputs: []string{"Input"}, Outputs: []string{"Output"}, RunsOn: "Worker"},
		{ID: "Output", Type: "S3DataNode", Kind: "datanode"},
		{ID: "Report", Type: "ShellCommandActivity", Kind: "activity", DependsOn: []string{"CopyData"}, RunsOn: "Worker"},
	}
	add := func(comp, typ, kind string, h int, st executor.Status, mod func(*runstore.Instance)) {
		in := runstore.Instance{ID: fmt.Sprintf("@%s_2024-01-01T%02d:00:00", comp, h), Component: comp, Type: typ, Kind: kind,
			ScheduledStart: hour(h), ScheduledEnd: hour(h + 1), RunnableAt: hour(h), Status: string(st)}
		if mod != nil {
			mod(&in)
		}
		f.insts = append(f.insts, in)
	}
	for h := 9; h <= 11; h++ {
		add("Worker", "Ec2Resource", "resource", h, map[int]executor.Status{9: executor.Finished, 10: executor.Finished, 11: executor.Running}[h], nil)
	}
	add("Input", "S3DataNode", "datanode", 9, executor.Finished, nil)
	add("Input", "S3DataNode", "datanode", 10, executor.Finished, nil)
	add("Input", "S3DataNode", "datanode", 11, executor.WaitingOnDependencies, func(in *runstore.Instance) {
		in.WaitingOn = []string{"@ReadyFlag_2024-01-01T11:00:00"}
	})
	add("ReadyFlag", "S3KeyExists", "precondition", 11, executor.WaitingOnDependencies, func(in *runstore.Instance) {
		in.ID = "@ReadyFlag_2024-01-01T11:00:00"
		in.Node = "@Input_2024-01-01T11:00:00"
		in.LastCheck = time.Date(2024, 1, 1, 12, 1, 3, 0, time.UTC)
		in.LastResult = "FALSE"
		in.NextCheck = time.Date(2024, 1, 1, 12, 1, 5, 0, time.UTC)
		in.ActualStart = hour(11)
	})
	add("CopyData", "CopyActivity", "activity", 9, executor.Finished, func(in *runstore.Instance) {
		in.ActualStart, in.ActualEnd, in.Attempts = hour(9).Add(time.Minute), hour(9).Add(3*time.Minute), 1
		in.Resource = "@Worker_2024-01-01T09:00:00"
	})
	add("CopyData", "CopyActivity", "activity", 10, executor.Failed, func(in *runstore.Instance) {
		in.ActualStart, in.ActualEnd, in.Attempts, in.Failures = hour(10).Add(time.Minute), hour(10).Add(9*time.Minute), 2, 2
		in.ErrorID, in.ErrorMessage = "IOException", "connection reset by peer"
		in.Resource = "@Worker_2024-01-01T10:00:00"
	})
	add("CopyData", "CopyActivity", "activity", 11, executor.WaitingOnDependencies, func(in *runstore.Instance) {
		in.WaitingOn = []string{"@Input_2024-01-01T11:00:00"}
		in.Resource = "@Worker_2024-01-01T11:00:00"
	})
	add("Output", "S3DataNode", "datanode", 9, executor.Finished, nil)
	add("Output", "S3DataNode", "datanode", 10, executor.CascadeFailed, func(in *runstore.Instance) {
		in.CascadeFrom = "@CopyData_2024-01-01T10:00:00"
	})
	add("Report", "ShellCommandActivity", "activity", 9, executor.Running, func(in *runstore.Instance) {
		in.ActualStart, in.Attempts = hour(12), 1
	})
	add("Report", "ShellCommandActivity", "activity", 10, executor.CascadeFailed, func(in *runstore.Instance) {
		in.CascadeFrom = "@CopyData_2024-01-01T10:00:00"
	})
	copy10 := "@CopyData_2024-01-01T10:00:00"
	f.atts[copy10] = []runstore.Attempt{
		{ID: copy10 + "_Attempt=1", Instance: copy10, N: 1, Status: string(executor.Failed), Created: hour(10),
			ActualStart: hour(10).Add(time.Minute), ActualEnd: hour(10).Add(4 * time.Minute), Hostname: "worker-1",
			ErrorID: "IOException", ErrorMessage: "connection reset by peer\n\tat CopyRunner.copy", Stdout: "testdata/logs/copy-1.stdout", Stderr: "testdata/logs/copy-1.stderr"},
		{ID: copy10 + "_Attempt=2", Instance: copy10, N: 2, Status: string(executor.Failed), Created: hour(10).Add(5 * time.Minute),
			ActualStart: hour(10).Add(5 * time.Minute), ActualEnd: hour(10).Add(9 * time.Minute), Hostname: "worker-1",
			ErrorID: "IOException", ErrorMessage: "connection reset by peer", Stdout: "testdata/logs/copy-2.stdout", Stderr: "testdata/logs/missing.stderr"},
	}
	return f
}

func (f *fakeSource) Info() Info {
	return Info{PipelineID: "df-TEST", Name: "nightly-copy", Activation: 3, ReadOnly: f.readOnly}
}

func (f *fakeSource) Components() []Component { return f.comps }

func (f *fakeSource) Instances() []runstore.Instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]runstore.Instance(nil), f.insts...)
}

func (f *fakeSource) Attempts(id string) []runstore.Attempt { return f.atts[id] }

func (f *fakeSource) Describe(_ context.Context, id string) ([]task.Field, error) {
	s := func(k, v string) task.Field { return task.Field{Key: k, StringValue: &v} }
	r := func(k, v string) task.Field { return task.Field{Key: k, RefValue: &v} }
	return []task.Field{
		s("type", "CopyActivity"),
		r("input", "@Input_2024-01-01T10:00:00"),
		r("output", "@Output_2024-01-01T10:00:00"),
		s("maximumRetries", "1"),
		s("*password", "hunter2-secret"),
		s("myTarget", "s3://out/2024-01-01-10"),
		s("@status", f.status(id)),
	}, nil
}

func (f *fakeSource) status(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.insts {
		if in.ID == id {
			return in.Status
		}
	}
	return ""
}

// SetStatus records the call and applies the obvious effect.
func (f *fakeSource) SetStatus(_ context.Context, ids []string, cmd string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %v", cmd, ids))
	if f.failWith != nil {
		return f.failWith
	}
	for i := range f.insts {
		for _, id := range ids {
			in := &f.insts[i]
			switch {
			case in.ID == id && cmd == executor.CmdRerun:
				in.Status, in.ErrorID, in.ErrorMessage = string(executor.WaitingOnDependencies), "", ""
			case in.ID == id && cmd == executor.CmdTryCancel:
				in.Status = string(executor.Canceled)
			case in.ID == id && cmd == executor.CmdMarkFinished:
				in.Status, in.MarkedFinished = string(executor.Finished), true
			case in.Component == id && cmd == executor.CmdPause && in.Status == string(executor.WaitingOnDependencies):
				in.Status = string(executor.Paused)
			case in.Component == id && cmd == executor.CmdResume && in.Status == string(executor.Paused):
				in.Status = string(executor.WaitingOnDependencies)
			}
		}
	}
	return nil
}

func (f *fakeSource) setStatus(id string, st executor.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.insts {
		if f.insts[i].ID == id {
			f.insts[i].Status = string(st)
		}
	}
}

func (f *fakeSource) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}
