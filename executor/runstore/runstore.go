// Package runstore keeps the engine's state in a badger database under
// `<state-dir>/db`: pipelines, definition versions, activations, instances,
// attempts and the event log. Every state change is one small transaction
// (an instance or attempt record plus its event); nothing rewrites a whole
// run. Records are JSON so that old state stays readable as fields are
// added.
package runstore

import (
	"time"

	"github.com/dpl-dev/dpl/executor/task"
)

// Pipeline is a pipeline known to the state folder. Local pipelines get a
// stable id from their definition file's path.
type Pipeline struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	File    string    `json:"file,omitempty"`
	Created time.Time `json:"created"`
}

// Activation states.
const (
	ActRunning     = "RUNNING"     // in progress or interrupted: resumable
	ActFinished    = "FINISHED"    // everything finished
	ActFailed      = "FAILED"      // ended with failures, or stuck
	ActInterrupted = "INTERRUPTED" // stopped by a signal: resumable
)

// Activation is one ActivatePipeline of a definition version.
type Activation struct {
	Pipeline       string              `json:"pipeline"`
	Seq            int                 `json:"seq"`  // 1, 2, ... per pipeline
	Hash           string              `json:"hash"` // definition version (sha256 of its bytes)
	Started        time.Time           `json:"started"`
	StartTimestamp time.Time           `json:"startTimestamp,omitzero"`
	Params         map[string][]string `json:"params,omitempty"`
	RetryDelay     time.Duration       `json:"retryDelay,omitempty"` // --retry-delay override
	Until          time.Time           `json:"until,omitzero"`
	State          string              `json:"state"`
	Ended          time.Time           `json:"ended,omitzero"`
	Reason         string              `json:"reason,omitempty"`
}

// Resumable reports whether `dpl run` should continue this activation.
func (a *Activation) Resumable() bool { return a.State == ActRunning || a.State == ActInterrupted }

// Instance is the runtime state of one instance (sphere INSTANCE): an
// activity, data node or resource per interval, or a precondition per
// referring instance.
type Instance struct {
	ID             string    `json:"id"`
	Component      string    `json:"component"`
	Type           string    `json:"type"`
	Kind           string    `json:"kind"` // activity, datanode, resource, precondition
	ScheduledStart time.Time `json:"scheduledStart"`
	ScheduledEnd   time.Time `json:"scheduledEnd"`
	RunnableAt     time.Time `json:"runnableAt"`
	Status         string    `json:"status"`
	ActualStart    time.Time `json:"actualStart,omitzero"`
	ActualEnd      time.Time `json:"actualEnd,omitzero"`
	Attempts       int       `json:"attempts,omitempty"` // attempts created so far
	Failures       int       `json:"failures,omitempty"` // failed attempts since the last (re)run
	NextAttempt    time.Time `json:"nextAttempt,omitzero"`
	ErrorID        string    `json:"errorId,omitempty"`
	ErrorMessage   string    `json:"errorMessage,omitempty"`
	ErrorStack     string    `json:"errorStackTrace,omitempty"`
	CascadeFrom    string    `json:"cascadeFailedOn,omitempty"`
	WaitingOn      []string  `json:"waitingOn,omitempty"` // the first MaxWaitingOn of what it waits on
	WaitingCount   int       `json:"waitingCount,omitempty"`
	Resource       string    `json:"resource,omitempty"` // runsOn resource instance
	Node           string    `json:"node,omitempty"`     // precondition: the instance it checks for
	LastCheck      time.Time `json:"lastCheck,omitzero"` // precondition: last check
	LastResult     string    `json:"lastResult,omitempty"`
	NextCheck      time.Time `json:"nextCheck,omitzero"`
	LateFired      bool      `json:"lateFired,omitempty"`
	MarkedFinished bool      `json:"markedFinished,omitempty"`
	Reruns         int       `json:"reruns,omitempty"`
	Reason         string    `json:"reason,omitempty"` // cancellationReason / failure reason
	// Crashes counts the crashes of dpl in a row that interrupted this
	// instance's attempts (reset when an attempt reports a result).
	Crashes int `json:"crashes,omitempty"`
	// Progress is the latest progress its current attempt reported
	// (statements or tasks done, rows written), nil when none did.
	Progress *task.Progress `json:"progress,omitempty"`
}

// MaxWaitingOn bounds Instance.WaitingOn so that a fan-in over hundreds of
// inputs does not rewrite hundreds of ids on every change.
const MaxWaitingOn = 10

// Attempt is one try of an instance (sphere ATTEMPT).
type Attempt struct {
	ID           string    `json:"id"`
	Instance     string    `json:"instance"`
	N            int       `json:"n"`
	Status       string    `json:"status"`
	Created      time.Time `json:"created"`
	ActualStart  time.Time `json:"actualStart,omitzero"`
	ActualEnd    time.Time `json:"actualEnd,omitzero"`
	Hostname     string    `json:"hostname,omitempty"`
	TaskID       string    `json:"taskId,omitempty"`
	Acked        bool      `json:"acked,omitempty"`
	Group        string    `json:"workerGroup,omitempty"`       // the worker group it was queued for
	InProcess    bool      `json:"inProcess,omitempty"`         // run by a worker inside the dpl process (no lease kept across a restart)
	LastProgress time.Time `json:"reportProgressTime,omitzero"` // last ReportTaskProgress
	Result       string    `json:"result,omitempty"`            // FINISHED, FAILED, FALSE as reported
	ErrorID      string    `json:"errorId,omitempty"`
	ErrorMessage string    `json:"errorMessage,omitempty"`
	ErrorStack   string    `json:"errorStackTrace,omitempty"`
	Stdout       string    `json:"stdout,omitempty"` // log file paths
	Stderr       string    `json:"stderr,omitempty"`
	// Where EMR keeps the logs of the attempt's step and Hadoop job, as
	// its runner reported them (ReportTaskProgress fields).
	EmrStepLog   string `json:"emrStepLog,omitempty"`
	HadoopJobLog string `json:"hadoopJobLog,omitempty"`
	// The process group the local runner started for the attempt (its
	// leader's pid and start time), killed on resume if dpl crashed.
	Pgid      int    `json:"pgid,omitempty"`
	PgidStart uint64 `json:"pgidStart,omitempty"`
	// Progress is the latest progress the runner reported, nil when none.
	Progress *task.Progress `json:"progress,omitempty"`
}
