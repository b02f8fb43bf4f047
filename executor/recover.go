// Resuming: what a previous process left in flight.

package executor

import (
	"fmt"
	"time"

	"github.com/dpl-dev/dpl/executor/proc"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// resumeInFlight settles what the previous process left in flight and
// marks an interrupted activation running again (a crash from now on is a
// crash). Called with e.mu held.
func (e *engine) resumeInFlight() error {
	interrupted := e.act.State == runstore.ActInterrupted
	e.reattachResources()
	e.recoverInFlight(interrupted)
	if !interrupted {
		return nil
	}
	e.act.State = runstore.ActRunning
	if e.db != nil {
		if err := e.putActivation(); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	return nil
}

// MaxCrashes is how many crashes of dpl in a row may interrupt an
// instance before it fails instead of running again.
const MaxCrashes = 3

// Error ids of attempts ended by a crash of dpl.
const (
	// ErrorIDCrashed: dpl died while the attempt ran; it runs again.
	ErrorIDCrashed = "DplCrashed"
	// ErrorIDCrashLoop: MaxCrashes crashes in a row; the instance failed.
	ErrorIDCrashLoop = "DplCrashLoop"
)

// killLeftovers stops what a killed dpl left running on this state
// folder: the recorded process groups of attempts still RUNNING in the
// store (only when their leader is still the recorded process), and every
// process marked with the folder whose dpl is gone. It runs before
// anything is queued, so an attempt never runs beside its leftover.
// Called with e.mu held.
func (e *engine) killLeftovers() {
	if e.opts.StateDir == "" {
		return
	}
	var groups []proc.Group
	for _, a := range e.atts {
		if Status(a.Status) == Running && a.Pgid > 0 {
			groups = append(groups, proc.Group{Pgid: a.Pgid, Start: a.PgidStart})
		}
	}
	n, err := proc.KillLeftovers(e.opts.StateDir, groups, 10*time.Second)
	switch {
	case err != nil:
		e.emit(Event{Kind: EventRun, Error: "stopping what the killed run left: " + err.Error()})
	case n > 0:
		e.emit(Event{Kind: EventRun, Message: fmt.Sprintf("stopped %d processes the killed run left behind", n)})
	}
}

// recoverInFlight runs once when a resumed activation starts: attempts
// that were running when the process died (crash or interrupt) are given
// back and queued again at once, without using a retry; queued ones are
// queued again.
func (e *engine) recoverInFlight(interrupted bool) {
	now := e.now()
	for _, i := range e.order {
		a := i.att
		if a == nil || Status(i.Status).Terminal() {
			continue
		}
		switch Status(a.Status) {
		case Running:
			if e.keepLease(i, a) {
				continue
			}
			// Neither a crash of dpl nor an interrupt is the task's failure:
			// the attempt is given back — CANCELED, and a new one queued at
			// once, without retryDelay and without using one of
			// maximumRetries (what the killed run left of its processes was
			// stopped by killLeftovers). Only a crash loop fails it: the
			// same instance interrupted by MaxCrashes crashes in a row.
			st, errID, msg := Canceled, ErrorIDReleased, "dpl was interrupted while this attempt was running; a new attempt starts on resume"
			if !interrupted {
				i.Crashes++
				st, errID = Canceled, ErrorIDCrashed
				msg = fmt.Sprintf("dpl was killed while this attempt was running (crash %d in a row); it runs again without using a retry", i.Crashes)
				if i.Crashes >= MaxCrashes {
					st, errID = Failed, ErrorIDCrashLoop
					msg = fmt.Sprintf("dpl was killed %d times in a row while this instance was running; it is not run again (a crash loop: look at what the command does to dpl, then dpl rerun %s)", i.Crashes, i.ID)
				}
			}
			e.moveAttempt(a, attemptCause(st))
			a.ActualEnd, a.ErrorID, a.ErrorMessage = now, errID, msg
			e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: st, Error: msg})
			if st == Failed {
				i.Crashes = 0 // a rerun starts a new count
				e.failInstance(i, msg, errID, now)
				continue
			}
			e.startAttempt(i, now)
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

// keepLease keeps a task a remote runner holds across a restart or a
// failover of dpl serve (issue 18 item 3): the runner is still working on
// it, so its ReportTaskProgress and SetTaskStatus are accepted, and the
// task is handed out again only when its lease — the acknowledgement or
// progress deadline, counted from the last report kept in the store —
// runs out. Called with e.mu held.
func (e *engine) keepLease(i *inst, a *runstore.Attempt) bool {
	if !remoteTask(a) || a.InProcess || a.TaskID == "" || a.ActualStart.IsZero() {
		return false
	}
	e.tasks[a.TaskID] = a
	e.cancels[a.TaskID] = make(chan struct{})
	e.inflight++
	e.addTimer(e.progressDeadline(i, a), i)
	if i.c.attemptTO > 0 {
		e.addTimer(a.ActualStart.Add(i.c.attemptTO), i)
	}
	e.emit(Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Running,
		Message: fmt.Sprintf("runner %s keeps its task across the restart until %s", a.Hostname, fmtTime(e.progressDeadline(i, a)))})
	return true
}
