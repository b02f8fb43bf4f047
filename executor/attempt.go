// Attempts: creating, queueing, retrying, timing out.

package executor

import (
	"fmt"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/task"
)

// startAttempt creates the next attempt of an instance and queues it for a
// runner (launching its resource first).
func (e *engine) startAttempt(i *inst, now time.Time) {
	res := e.resourceFor(i)
	if res != nil {
		switch Status(res.Status) {
		case WaitingOnDependencies:
			if res.NextAttempt.IsZero() || !now.Before(res.NextAttempt) {
				e.launchResource(res, now)
			}
		case Finished, ShuttingDown:
			// A rerun after the resource shut down: launch it again.
			res.Reruns++
			e.move(res, CauseWait, "")
			e.launchResource(res, now)
		}
		if Status(res.Status).Terminal() {
			e.cancelInstance(i, "resource "+res.ID+" is "+res.Status, now)
			return
		}
		if Status(res.Status) != Running {
			// Its launch failed and is retried later (actionOnResourceFailure
			// retryall): wait for it; launchResource wakes the users.
			e.setWaiting(i, []string{res.ID})
			return
		}
	}
	i.Attempts++
	i.NextAttempt = time.Time{}
	a := &runstore.Attempt{ID: schedule.AttemptID(i.ID, i.Attempts), Instance: i.ID, N: i.Attempts, Created: now}
	e.moveAttempt(a, CauseCreate)
	i.att = a
	e.atts[a.ID] = a
	e.attList[i.ID] = append(e.attList[i.ID], a)
	// Stored with the attempt: a resumed engine knows a runner's task
	// (a remote group) from one of its own process.
	a.Group = e.groupFor(i)
	e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: WaitingForRunner})
	if Status(i.Status) != WaitingForRunner {
		e.move(i, CauseQueue, "")
	} else {
		e.saveInst(i)
	}
	e.enqueue(i, a)
}

func (e *engine) enqueue(i *inst, a *runstore.Attempt) {
	g := e.groupFor(i)
	e.queues[g] = append(e.queues[g], a)
	close(e.readyCh)
	e.readyCh = make(chan struct{})
}

// attemptFailed applies the retry policy after attempt a of i failed.
func (e *engine) attemptFailed(i *inst, a *runstore.Attempt, now time.Time) {
	i.Failures++
	if i.Kind == "precondition" {
		if e.precondTimedOut(i, now) {
			e.failInstance(i, "preconditionTimeout reached: "+a.ErrorMessage, a.ErrorID, now)
			return
		}
	}
	if task.Permanent(a.ErrorID) {
		// Another attempt would fail the same way (unsupported type,
		// missing program, impossible configuration): keep the retries.
		e.failInstance(i, a.ErrorMessage+" (not retried: another attempt cannot fix this)", a.ErrorID, now)
		return
	}
	if i.Failures <= i.c.maxRetries {
		i.NextAttempt = now.Add(i.c.retryDelay)
		i.ErrorID, i.ErrorMessage, i.ErrorStack = a.ErrorID, a.ErrorMessage, a.ErrorStack
		if i.Kind != "precondition" && Status(i.Status) != WaitingForRunner {
			e.move(i, CauseQueue, "")
		}
		e.saveInst(i, Event{Kind: EventWaiting, Component: i.Component, Instance: i.ID, Status: Status(i.Status),
			Error: a.ErrorMessage, Message: fmt.Sprintf("attempt %d failed; retry %d of %d at %s", a.N, i.Failures, i.c.maxRetries, fmtTime(i.NextAttempt))})
		e.addTimer(i.NextAttempt, i)
		return
	}
	e.failInstance(i, a.ErrorMessage, a.ErrorID, now)
	if i.att != nil {
		i.ErrorStack = i.att.ErrorStack
	}
}

// endAttempt closes an attempt the engine ends itself (timeout, cancel),
// telling its runner to stop.
func (e *engine) endAttempt(i *inst, a *runstore.Attempt, st Status, errID, msg string, now time.Time) {
	wasRunning := Status(a.Status) == Running
	e.moveAttempt(a, attemptCause(st))
	a.ActualEnd = now
	a.ErrorID, a.ErrorMessage = errID, msg
	if wasRunning {
		e.inflight--
		if ch := e.cancels[a.TaskID]; ch != nil {
			close(ch)
			delete(e.cancels, a.TaskID)
		}
	} else {
		e.dequeue(a)
	}
	e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: st, Error: msg})
}

func (e *engine) dequeue(a *runstore.Attempt) {
	for g, q := range e.queues {
		for k, x := range q {
			if x == a {
				e.queues[g] = append(q[:k:k], q[k+1:]...)
				return
			}
		}
	}
}

// timeoutAttempt fails a running attempt that exceeded attemptTimeout.
func (e *engine) timeoutAttempt(i *inst, now time.Time) {
	a := i.att
	msg := fmt.Sprintf("attempt %d did not finish within attemptTimeout (%s); the runner was told to stop", a.N, i.c.attemptTO)
	e.endAttempt(i, a, Failed, "AttemptTimeout", msg, now)
	e.attemptFailed(i, a, now)
}

// remoteTask reports whether an attempt went to a runner outside the
// process (ownership timeouts apply).
func remoteTask(a *runstore.Attempt) bool { return a.Group != "" && a.Group != LocalWorkerGroup }

// progressDeadline is when a running remote attempt is considered stalled.
func (e *engine) progressDeadline(i *inst, a *runstore.Attempt) time.Time {
	if !a.Acked {
		return a.ActualStart.Add(e.ackTimeout())
	}
	to := i.c.progressTO
	if to <= 0 {
		to = e.opts.ProgressTimeout
	}
	if to <= 0 {
		to = ProgressTimeout
	}
	return a.LastProgress.Add(to)
}

func (e *engine) ackTimeout() time.Duration {
	if e.opts.AckTimeout > 0 {
		return e.opts.AckTimeout
	}
	return AckTimeout
}

// checkStalled fails a remote attempt whose runner stopped reporting.
func (e *engine) checkStalled(i *inst, now time.Time) {
	a := i.att
	if a == nil || Status(a.Status) != Running || !remoteTask(a) {
		return
	}
	dl := e.progressDeadline(i, a)
	if now.Before(dl) {
		e.addTimer(dl, i)
		return
	}
	id, msg := ErrorIDNotAcknowledged, fmt.Sprintf("runner %s did not acknowledge the task within %s; the task is reassigned", a.Hostname, e.ackTimeout())
	if a.Acked {
		id, msg = ErrorIDRunnerLost, fmt.Sprintf("runner %s stopped reporting progress (last report %s); the task is reassigned", a.Hostname, fmtTime(a.LastProgress))
	}
	// The service reassigns the task (ReportTaskProgress docs): the lost
	// runner's attempt is CANCELED and a new one is queued at once,
	// without retryDelay and without using one of maximumRetries — the
	// task did not fail, its runner went away.
	e.endAttempt(i, a, Canceled, id, msg, now)
	if Status(i.Status).Terminal() {
		return
	}
	e.startAttempt(i, now)
}
