// Task hand-out: the task-runner side of the API.

package executor

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

func (e *engine) checkPipeline(id string) error {
	if id != "" && id != e.pipelineID {
		return fmt.Errorf("%w: %s", ErrPipelineNotFound, id)
	}
	return nil
}

// Activate implements API. The engine is activated by New; a second
// activation of a running pipeline is refused.
func (e *engine) Activate(_ context.Context, in ActivateInput) error {
	if err := e.checkPipeline(in.PipelineID); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return fmt.Errorf("%w: pipeline %s finished; start a new run (dpl run --fresh) to activate it again", ErrInvalidRequest, e.pipelineID)
	}
	return nil
}

// PollForTask implements API.
func (e *engine) PollForTask(ctx context.Context, in PollInput) (*task.Task, error) {
	var timeout <-chan time.Time
	for {
		e.mu.Lock()
		if t := e.handout(in); t != nil {
			target := e.w.queued()
			e.mu.Unlock()
			// The task starts only once its attempt — and every result
			// before it, such as its upstream's FINISHED — is in the store:
			// after a crash, a step never reruns when a later one started.
			e.w.waitFor(target)
			if err := e.w.err(); err != nil {
				// Not in the store (a fenced former leader, a lost
				// database): a runner must not start what a resumed
				// engine would hand out again.
				return nil, fmt.Errorf("engine: task %s not handed out: %w", t.TaskID, err)
			}
			return t, nil
		}
		if e.done {
			e.mu.Unlock()
			return nil, nil
		}
		ready := e.readyCh
		e.mu.Unlock()
		if in.NoWait {
			return nil, nil
		}
		if timeout == nil {
			timeout = e.clock.After(PollTimeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout:
			return nil, nil
		case <-ready:
		}
	}
}

// handout gives the next queued attempt of the group to a runner.
func (e *engine) handout(in PollInput) *task.Task {
	g := in.WorkerGroup
	for len(e.queues[g]) > 0 {
		a := e.queues[g][0]
		e.queues[g] = e.queues[g][1:]
		i := e.insts[a.Instance]
		if i == nil || Status(a.Status) != WaitingForRunner {
			continue
		}
		now := e.now()
		if a.Group == "" {
			a.Group = g // queued again by an engine whose store lacked it
		}
		e.taskSeq++
		a.TaskID = a.ID + "#" + strconv.Itoa(e.taskSeq)
		e.moveAttempt(a, CauseStart)
		a.ActualStart = now
		a.Hostname = in.Hostname
		a.InProcess = in.InProcess
		if e.opts.StateDir != "" {
			a.Stdout, a.Stderr = LogPaths(e.opts.StateDir, e.pipelineID, a.ID)
		}
		e.tasks[a.TaskID] = a
		e.cancels[a.TaskID] = make(chan struct{})
		e.inflight++
		t, err := e.buildTask(i, a)
		if err != nil {
			e.moveAttempt(a, CauseFail)
			a.ActualEnd = now
			a.ErrorID, a.ErrorMessage = task.ErrorIDExpression, err.Error()
			e.inflight--
			delete(e.cancels, a.TaskID)
			delete(e.tasks, a.TaskID)
			e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Failed, Error: a.ErrorMessage})
			e.attemptFailed(i, a, now)
			e.step()
			// The retry timer is new: the run loop must re-arm its sleep.
			e.flush()
			e.wake()
			continue
		}
		if i.ActualStart.IsZero() || i.Kind == "precondition" && Status(i.Status) != Running {
			if i.ActualStart.IsZero() {
				i.ActualStart = now
			}
		}
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Running})
		if a.Stdout != "" {
			e.emit(Event{Kind: EventLog, Component: i.Component, Instance: i.ID, Attempt: a.ID, Stdout: a.Stdout, Stderr: a.Stderr})
		}
		i.Progress = nil // a retry starts from nothing
		e.move(i, CauseStart, "")
		if i.c.attemptTO > 0 {
			e.addTimer(now.Add(i.c.attemptTO), i)
		}
		if remoteTask(a) {
			e.addTimer(now.Add(e.ackTimeout()), i)
		}
		e.flush()
		e.wake()
		return t
	}
	return nil
}

// TaskCanceled returns a channel closed when the engine ends the task
// itself (attempt timeout, cancel, Terminate, resource timeout): an
// in-process runner's shortcut for ReportTaskProgress's canceled flag.
// Unknown or already ended tasks give a closed channel.
func (e *engine) TaskCanceled(taskID string) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ch := e.cancels[taskID]; ch != nil {
		return ch
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

// ReportTaskProgress implements API. Fields may carry the task's progress
// (task.Progress.Fields), kept as RecordProgress keeps it, and the log
// locations a runner on EMR reports (emrStepLog, hadoopJobLog).
func (e *engine) ReportTaskProgress(_ context.Context, taskID string, fields []task.Field) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	if a == nil {
		return false, fmt.Errorf("%w: %s", ErrTaskNotFound, taskID)
	}
	if p, ok := task.ProgressFromFields(fields); ok {
		e.recordProgress(a, p)
	}
	if Status(a.Status) == Running {
		now := e.now()
		a.Acked = true
		a.LastProgress = now
		// The log locations a runner on EMR reports (saved with the
		// attempt: with its result, or below for a remote one).
		for _, f := range fields {
			if f.StringValue == nil {
				continue
			}
			switch f.Key {
			case "emrStepLog":
				a.EmrStepLog = *f.StringValue
			case "hadoopJobLog":
				a.HadoopJobLog = *f.StringValue
			}
		}
		if remoteTask(a) {
			// Remote progress is kept so a resumed engine knows when the
			// runner was last heard of. A local task's acknowledgement
			// needs no write of its own (it is saved with the result; a
			// local attempt running at a crash fails on resume anyway).
			e.saveAttempt(a)
			e.flush()
		}
		if i := e.insts[a.Instance]; i != nil && remoteTask(a) {
			e.addTimer(e.progressDeadline(i, a), i)
		}
	}
	return Status(a.Status) != Running, nil
}

// RecordProcess records a process group the local runner started for a
// task, so that should dpl die mid-attempt the next run stops what is left
// of it before running the attempt again. Queued, not waited for: the
// command is already running, and the environment marker (executor/proc)
// covers a crash before the write lands.
func (e *engine) RecordProcess(taskID string, p task.Process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	if a == nil || Status(a.Status) != Running {
		return
	}
	a.Pgid, a.PgidStart = p.Pgid, p.Start
	e.saveAttempt(a)
	e.flush()
}

// RecordProgress keeps a running task's progress on its attempt and
// instance (the TUI's detail and dpl runs show it) and emits an
// EventProgress. In-process runners report through task.ReportProgress,
// remote ones in ReportTaskProgress's fields.
func (e *engine) RecordProgress(taskID string, p task.Progress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.tasks[taskID]; a != nil {
		e.recordProgress(a, p)
	}
}

func (e *engine) recordProgress(a *runstore.Attempt, p task.Progress) {
	if Status(a.Status) != Running {
		return
	}
	if len(e.secrets) > 0 {
		p.Step = e.mask(p.Step)
	}
	a.Progress = &p
	e.saveAttempt(a)
	if i := e.insts[a.Instance]; i != nil {
		i.Progress = &p
		e.saveInst(i)
		e.emit(Event{Kind: EventProgress, Component: i.Component, Instance: i.ID, Attempt: a.ID, Progress: &p, Message: p.String()})
	}
	e.flush()
}

// ReportTaskRunnerHeartbeat implements API: terminate once the run ended.
func (e *engine) ReportTaskRunnerHeartbeat(_ context.Context, _ HeartbeatInput) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done, nil
}

// SetTaskStatus implements API.
// The result is in the store when it returns.
func (e *engine) SetTaskStatus(ctx context.Context, taskID string, r task.Result) error {
	if err := e.setTaskStatus(ctx, taskID, r); err != nil {
		return err
	}
	return e.w.sync()
}

// SetTaskStatusQueued is SetTaskStatus for a runner in the engine's own
// process: it returns once the state changed, with the write queued. The
// runner and the engine share the process, so a crash before the write
// lands loses both; on resume the attempt counts as in flight and is
// retried, like any task running at a crash. Write errors end the run.
func (e *engine) SetTaskStatusQueued(ctx context.Context, taskID string, r task.Result) error {
	return e.setTaskStatus(ctx, taskID, r)
}

func (e *engine) setTaskStatus(_ context.Context, taskID string, r task.Result) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	if a == nil {
		return fmt.Errorf("%w: %s", ErrTaskNotFound, taskID)
	}
	if Status(a.Status) != Running {
		return nil // the engine already ended it (timeout, cancel)
	}
	if r.Status == task.Failed && r.ErrorID == ErrorIDRunnerShutdown {
		return e.releaseLocked(a, ErrorIDRunnerShutdown, r.ErrorMessage)
	}
	i := e.insts[a.Instance]
	now := e.now()
	delete(e.cancels, taskID)
	e.inflight--
	a.ActualEnd = now
	a.Result = string(r.Status)
	a.ErrorID, a.ErrorMessage, a.ErrorStack = r.ErrorID, e.mask(r.ErrorMessage), e.mask(r.ErrorStackTrace)
	i.Crashes = 0 // an attempt ran to its end: the crash loop is broken
	switch {
	case r.Status == task.Finished:
		e.moveAttempt(a, CauseSucceed)
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Finished})
		if i.Kind == "precondition" {
			i.LastCheck, i.LastResult = now, "TRUE"
		}
		i.ErrorID, i.ErrorMessage, i.ErrorStack = "", "", ""
		e.move(i, CauseSucceed, "")
		e.fireActions(i, i.c.onSuccess, "success")
	case r.Status == task.False && i.Kind == "precondition":
		e.moveAttempt(a, CauseSucceed)
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Finished, Message: "precondition not met (FALSE)"})
		e.preconditionFalse(i, a, now)
	default:
		if r.Status != task.Failed && a.ErrorMessage == "" {
			a.ErrorMessage = fmt.Sprintf("runner reported status %q", r.Status)
		}
		if a.ErrorMessage == "" {
			a.ErrorMessage = "failed"
		}
		e.moveAttempt(a, CauseFail)
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Failed, Error: a.ErrorMessage})
		if i.Kind == "precondition" {
			i.LastCheck, i.LastResult = now, "ERROR"
		}
		e.attemptFailed(i, a, now)
	}
	e.step()
	e.wake()
	return nil
}

func (e *engine) releaseTask(taskID, why string) error {
	if err := e.releaseTaskLocked(taskID, why); err != nil {
		return err
	}
	return e.w.sync()
}

func (e *engine) releaseTaskLocked(taskID, why string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	if a == nil {
		return fmt.Errorf("%w: %s", ErrTaskNotFound, taskID)
	}
	if Status(a.Status) != Running {
		return nil // already ended by the engine
	}
	return e.releaseLocked(a, ErrorIDReleased, why)
}

// releaseLocked ends a running attempt given back by its runner and
// queues the next one at once; the instance's failure count is untouched.
func (e *engine) releaseLocked(a *runstore.Attempt, errID, why string) error {
	i := e.insts[a.Instance]
	now := e.now()
	msg := "given back by runner " + a.Hostname
	if why != "" {
		msg += ": " + why
	}
	e.endAttempt(i, a, Canceled, errID, msg, now)
	if Status(i.Status).Terminal() {
		e.flush()
		return e.w.err()
	}
	e.startAttempt(i, now)
	e.step()
	e.wake()
	return e.w.err()
}

// groupFor is the worker group that serves an instance's attempts.
func (e *engine) groupFor(i *inst) string {
	if r := e.resourceFor(i); r != nil {
		// The provider says where its work is polled from.
		if r.prov != nil {
			if g := r.prov.WorkerGroup(); g != "" {
				return g
			}
		}
		return LocalWorkerGroup
	}
	g := i.c.group
	if i.node != nil && g == "" {
		g = i.node.c.group
	}
	if g == "" {
		return LocalWorkerGroup
	}
	if e.opts.RemoteAll {
		return g
	}
	for _, rg := range e.opts.Remote {
		if rg == g {
			return g
		}
	}
	return LocalWorkerGroup
}

func (e *engine) remoteGroups() []string {
	seen := map[string]bool{}
	for _, g := range e.opts.Remote {
		if g != "" {
			seen[g] = true
		}
	}
	if e.opts.RemoteAll {
		for _, c := range e.comps {
			if c.group != "" {
				seen[c.group] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}
