// Package task is the contract between the engine and task runners: what a
// runner receives when it polls for work and what it reports back. It
// mirrors the Data Pipeline API's TaskObject so the same values travel over
// the HTTP endpoint to remote runners unchanged.
package task

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Field is one key/value of a pipeline object, API style: exactly one of
// StringValue or RefValue is set. A multi-valued field repeats its Key.
type Field struct {
	Key         string  `json:"key"`
	StringValue *string `json:"stringValue,omitempty"`
	RefValue    *string `json:"refValue,omitempty"`
}

// Object is an attempt, instance or component with its fields, expressions
// already evaluated in the attempt's context.
type Object struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Fields []Field `json:"fields"`
}

// Get returns the first string value of key ("" when absent).
func (o *Object) Get(key string) string {
	for _, f := range o.Fields {
		if f.Key == key && f.StringValue != nil {
			return *f.StringValue
		}
	}
	return ""
}

// All returns every string value of key, in order.
func (o *Object) All(key string) []string {
	var out []string
	for _, f := range o.Fields {
		if f.Key == key && f.StringValue != nil {
			out = append(out, *f.StringValue)
		}
	}
	return out
}

// Refs returns every ref value of key, in order.
func (o *Object) Refs(key string) []string {
	var out []string
	for _, f := range o.Fields {
		if f.Key == key && f.RefValue != nil {
			out = append(out, *f.RefValue)
		}
	}
	return out
}

// Task is one unit of work handed to a runner (PollForTask's taskObject).
// Objects holds the attempt object (under AttemptID) and every object it
// refers to, directly or through refs (input/output data nodes, database,
// dataFormat, the precondition's node, ...), each evaluated for this attempt.
type Task struct {
	TaskID     string             `json:"taskId"`
	PipelineID string             `json:"pipelineId"`
	AttemptID  string             `json:"attemptId"`
	Objects    map[string]*Object `json:"objects"`
}

// Attempt returns the attempt object itself.
func (t *Task) Attempt() *Object { return t.Objects[t.AttemptID] }

// Ref resolves the first ref of key on o within the task's objects.
func (t *Task) Ref(o *Object, key string) *Object {
	for _, id := range o.Refs(key) {
		if obj := t.Objects[id]; obj != nil {
			return obj
		}
	}
	return nil
}

// Status is a runner's final verdict on a task (SetTaskStatus).
type Status string

const (
	Finished Status = "FINISHED"
	Failed   Status = "FAILED"
	False    Status = "FALSE" // a precondition that is not met
)

// Result is what SetTaskStatus carries back.
type Result struct {
	Status          Status
	ErrorID         string
	ErrorMessage    string
	ErrorStackTrace string
}

// Logs receives an attempt's output streams.
type Logs struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Runner executes tasks of the types it knows. Run must return when ctx is
// canceled (attempt timeout, cancel), killing anything it started.
type Runner interface {
	Run(ctx context.Context, t *Task, logs Logs) Result
}

// Clock is the time source; the engine and runners take one so tests can
// move time by hand instead of sleeping.
type Clock interface {
	Now() time.Time
	// After waits for d on this clock.
	After(d time.Duration) <-chan time.Time
}

// Error ids of failures that another attempt cannot fix: the engine fails
// the instance at once instead of spending its retries (and retryDelay) on
// them. Runners report them as the result's ErrorID.
const (
	// ErrorIDUnsupported: the runner cannot run this type or variant.
	ErrorIDUnsupported = "Runner_Unsupported"
	// ErrorIDUnknownType: no handler for the object's type.
	ErrorIDUnknownType = "Runner_UnknownType"
	// ErrorIDInvalidTask: the task's fields cannot work (missing command,
	// both command and scriptUri, no object store ...).
	ErrorIDInvalidTask = "Runner_InvalidTask"
	// ErrorIDNoAttempt: the task carries no attempt object.
	ErrorIDNoAttempt = "Runner_NoAttempt"
	// ErrorIDCommandNotFound: the command (or a program it calls) is not
	// installed on this machine.
	ErrorIDCommandNotFound = "Runner_CommandNotFound"
	// ErrorIDExpression: a field's expression cannot be evaluated at
	// hand-out. Retried: a runtime field it reads may be set by then.
	ErrorIDExpression = "ExpressionError"
)

var permanent = map[string]bool{
	ErrorIDUnsupported: true, ErrorIDUnknownType: true, ErrorIDInvalidTask: true,
	ErrorIDNoAttempt: true, ErrorIDCommandNotFound: true,
}

// Permanent reports whether a failure with this error id is one no retry
// can fix.
func Permanent(errorID string) bool { return permanent[errorID] }

// Process is a process group a runner started for a task: the leader's
// pid (the group id) and its start time from /proc (0 when unknown). The
// engine records it so that a dpl killed mid-attempt can be cleaned up
// after: the next run kills the group if its leader is still that process.
type Process struct {
	Pgid  int
	Start uint64
}

type processHookKey struct{}

// WithProcessHook returns a context whose runner reports every process
// group it starts to fn (the local worker records them in the engine).
func WithProcessHook(ctx context.Context, fn func(Process)) context.Context {
	return context.WithValue(ctx, processHookKey{}, fn)
}

// ProcessStarted reports a started process group to ctx's hook, if any.
func ProcessStarted(ctx context.Context, p Process) {
	if fn, ok := ctx.Value(processHookKey{}).(func(Process)); ok {
		fn(p)
	}
}

// Progress is how far a running task got, for runners that can tell: the
// embedded Hive (statements done of the script's N, rows written), Hadoop
// streaming (map or reduce tasks done, records written). The engine keeps
// the latest on the attempt and its instance, where the TUI and dpl runs
// show it.
type Progress struct {
	Done  int    `json:"done"`
	Total int    `json:"total,omitempty"` // 0: not known
	Unit  string `json:"unit,omitempty"`  // what Done and Total count: "statements", "map tasks", ...
	Rows  int64  `json:"rows"`            // rows (records) written so far
	Step  string `json:"step,omitempty"`  // the step last done, shortened
}

// String is the one-line form: "2/5 statements, 1200 rows written: INSERT ...".
func (p Progress) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(p.Done))
	if p.Total > 0 {
		b.WriteString("/" + strconv.Itoa(p.Total))
	}
	if p.Unit != "" {
		b.WriteString(" " + p.Unit)
	}
	fmt.Fprintf(&b, ", %d rows written", p.Rows)
	if p.Step != "" {
		b.WriteString(": " + p.Step)
	}
	return b.String()
}

// Progress travels to a remote engine in ReportTaskProgress's fields,
// under these keys.
const (
	FieldProgressDone  = "@progressDone"
	FieldProgressTotal = "@progressTotal"
	FieldProgressUnit  = "@progressUnit"
	FieldProgressRows  = "@progressRows"
	FieldProgressStep  = "@progressStep"
)

// Fields encodes p for ReportTaskProgress.
func (p Progress) Fields() []Field {
	s := func(v string) *string { return &v }
	return []Field{
		{Key: FieldProgressDone, StringValue: s(strconv.Itoa(p.Done))},
		{Key: FieldProgressTotal, StringValue: s(strconv.Itoa(p.Total))},
		{Key: FieldProgressUnit, StringValue: s(p.Unit)},
		{Key: FieldProgressRows, StringValue: s(strconv.FormatInt(p.Rows, 10))},
		{Key: FieldProgressStep, StringValue: s(p.Step)},
	}
}

// ProgressFromFields decodes the progress of a ReportTaskProgress; ok is
// false when the fields carry none (or not numbers where numbers go).
func ProgressFromFields(fields []Field) (Progress, bool) {
	o := Object{Fields: fields}
	done, err := strconv.Atoi(o.Get(FieldProgressDone))
	if err != nil {
		return Progress{}, false
	}
	p := Progress{Done: done, Unit: o.Get(FieldProgressUnit), Step: o.Get(FieldProgressStep)}
	if v := o.Get(FieldProgressTotal); v != "" {
		if p.Total, err = strconv.Atoi(v); err != nil {
			return Progress{}, false
		}
	}
	if v := o.Get(FieldProgressRows); v != "" {
		if p.Rows, err = strconv.ParseInt(v, 10, 64); err != nil {
			return Progress{}, false
		}
	}
	return p, true
}

type progressHookKey struct{}

// WithProgressHook returns a context whose runner reports its progress to
// fn (the worker loop passes it on to the engine).
func WithProgressHook(ctx context.Context, fn func(Progress)) context.Context {
	return context.WithValue(ctx, progressHookKey{}, fn)
}

// ReportProgress hands p to ctx's hook, if any.
func ReportProgress(ctx context.Context, p Progress) {
	if fn, ok := ctx.Value(progressHookKey{}).(func(Progress)); ok {
		fn(p)
	}
}
