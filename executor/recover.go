// Resuming: what a previous process left in flight.

package executor

import (
	"fmt"

	"github.com/dpl-dev/dpl/executor/store"
)

// resumeInFlight settles what the previous process left in flight and
// marks an interrupted activation running again (a crash from now on is a
// crash). Called with e.mu held.
func (e *engine) resumeInFlight() error {
	interrupted := e.act.State == store.ActInterrupted
	e.recoverInFlight(interrupted)
	if !interrupted {
		return nil
	}
	e.act.State = store.ActRunning
	if e.db != nil {
		if err := e.db.PutActivation(e.act); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	return nil
}

// recoverInFlight runs once when a resumed activation starts: attempts
// that were running when the process died failed (retried per policy);
// after an interrupt they are given back and queued again at once; queued
// ones are queued again.
func (e *engine) recoverInFlight(interrupted bool) {
	now := e.now()
	for _, i := range e.order {
		a := i.att
		if a == nil || Status(i.Status).Terminal() {
			continue
		}
		switch Status(a.Status) {
		case Running:
			// After a crash the attempt failed and is retried per its policy.
			// After an interrupt dpl stopped the command on purpose: the
			// attempt is given back like a runner's at shutdown — CANCELED,
			// and a new one queued at once, without retryDelay and without
			// using one of maximumRetries.
			st, errID, msg := Failed, "ProcessStopped", "dpl stopped while this attempt was running; it is retried per its retry policy"
			if interrupted {
				st, errID, msg = Canceled, ErrorIDReleased, "dpl was interrupted while this attempt was running; a new attempt starts on resume"
			}
			e.moveAttempt(a, attemptCause(st))
			a.ActualEnd, a.ErrorID, a.ErrorMessage = now, errID, msg
			e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: st, Error: msg})
			if interrupted {
				e.startAttempt(i, now)
			} else {
				e.attemptFailed(i, a, now)
			}
		case WaitingForRunner:
			e.enqueue(i, a)
			// Pollers (the endpoint's wake-ups) learn of it like of any
			// newly queued attempt.
			e.emit(Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: WaitingForRunner,
				Message: "queued again after resume"})
		}
	}
	for _, i := range e.order {
		if Status(i.Status) == WaitingForRunner || Status(i.Status) == Running {
			if !i.counted && i.Kind != "resource" && i.Kind != "precondition" {
				i.counted = true
				i.c.active++
			}
		}
		e.markDirty(i)
	}
}
