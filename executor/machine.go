// Evaluating instances: readiness, waiting, failure and cancel.

package executor

import (
	"fmt"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// eval re-examines one instance at now and moves it as far as it can go.
// It is idempotent: timers and changes of related instances simply call it
// again.
func (e *engine) eval(i *inst, now time.Time) {
	st := Status(i.Status)
	if st.Terminal() || st == Paused {
		return
	}
	if i.c.lateAfter > 0 && !i.LateFired && !e.plan.OnDemand && !now.Before(i.ScheduledStart.Add(i.c.lateAfter)) {
		i.LateFired = true
		e.saveInst(i)
		e.fireActions(i, i.c.onLate, "late")
		if Status(i.Status).Terminal() {
			return
		}
	}
	switch i.Kind {
	case "resource":
		e.evalResource(i, now)
	case "precondition":
		e.evalPrecondition(i, now)
	default:
		e.evalRunnable(i, now)
	}
}

// evalRunnable handles activities and data nodes.
func (e *engine) evalRunnable(i *inst, now time.Time) {
	switch Status(i.Status) {
	case WaitingOnDependencies:
		if now.Before(i.RunnableAt) {
			e.setWaiting(i, []string{"schedule until " + fmtTime(i.RunnableAt)})
			e.addTimer(i.RunnableAt, i)
			return
		}
		// Dependencies: counters kept by depChanged, so this costs
		// O(1) per upstream change plus the few ids shown.
		if i.bad > 0 && i.c.cascade {
			for _, w := range i.waits {
				if d := e.insts[w]; d != nil && Status(d.Status).Bad() {
					e.cascadeFail(i, d.ID)
					return
				}
			}
		}
		if i.notOK > 0 {
			for i.scan < len(i.waits) {
				if d := e.insts[i.waits[i.scan]]; d == nil || !depOK(Status(d.Status)) {
					break
				}
				i.scan++
			}
			waiting := make([]string, 0, min(i.notOK, runstore.MaxWaitingOn))
			for _, w := range i.waits[i.scan:] {
				if d := e.insts[w]; d == nil || !depOK(Status(d.Status)) {
					waiting = append(waiting, w)
					if len(waiting) == runstore.MaxWaitingOn {
						break
					}
				}
			}
			e.setWaitingN(i, waiting, i.notOK)
			return
		}
		// Preconditions, checked once everything else is ready.
		if len(i.pre) > 0 {
			if len(i.pres) == 0 {
				for _, p := range i.pre {
					e.newPrecondition(i, p, now)
				}
			}
			var pending []string
			for _, p := range i.pres {
				switch Status(p.Status) {
				case Finished:
				case Failed, TimedOut, Canceled, CascadeFailed:
					e.failInstance(i, fmt.Sprintf("precondition %s failed: %s", p.Component, p.ErrorMessage), "PreconditionFailed", now)
					return
				default:
					pending = append(pending, p.ID)
				}
			}
			if len(pending) > 0 {
				e.setWaiting(i, pending)
				return
			}
		}
		if i.Kind == "datanode" {
			if i.ActualStart.IsZero() {
				i.ActualStart = now
			}
			e.move(i, CauseSucceed, "")
			e.fireActions(i, i.c.onSuccess, "success")
			return
		}
		if !i.counted {
			if i.c.maxActive > 0 && i.c.active >= i.c.maxActive && i.Reruns == 0 {
				i.c.blocked[i] = true
				e.setWaiting(i, []string{fmt.Sprintf("maxActiveInstances (%d active)", i.c.active)})
				return
			}
			i.counted = true
			i.c.active++
		}
		e.startAttempt(i, now)
	case WaitingForRunner, Running:
		if i.att != nil && (Status(i.att.Status) == WaitingForRunner || Status(i.att.Status) == Running) {
			if Status(i.att.Status) == Running && i.c.attemptTO > 0 && !now.Before(i.att.ActualStart.Add(i.c.attemptTO)) {
				e.timeoutAttempt(i, now)
				return
			}
			e.checkStalled(i, now)
			return
		}
		if !i.NextAttempt.IsZero() && now.Before(i.NextAttempt) {
			e.addTimer(i.NextAttempt, i)
			return
		}
		e.startAttempt(i, now)
	}
}

func (e *engine) setWaiting(i *inst, on []string) { e.setWaitingN(i, on, len(on)) }

// setWaitingN records that i waits on n objects, on being the first ones.
func (e *engine) setWaitingN(i *inst, on []string, n int) {
	if len(on) > runstore.MaxWaitingOn {
		on = on[:runstore.MaxWaitingOn]
	}
	if equalStrings(i.WaitingOn, on) && i.WaitingCount == n {
		return
	}
	i.WaitingOn, i.WaitingCount = on, n
	ev := Event{Kind: EventWaiting, Component: i.Component, Instance: i.ID, Status: Status(i.Status), WaitingOn: on}
	if n > len(on) {
		ev.Message = fmt.Sprintf("waiting on %d objects", n)
	}
	e.saveInst(i, ev)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// failInstance ends an instance FAILED and applies onFail, cascade and the
// resource's actionOnTaskFailure.
func (e *engine) failInstance(i *inst, msg, id string, now time.Time) {
	if msg == "" {
		msg = "failed"
	}
	i.ErrorMessage, i.ErrorID = msg, id
	e.move(i, CauseFail, msg)
	e.fireActions(i, i.c.onFail, "fail")
	e.cancelPreconditions(i)
	if r := e.resourceFor(i); r != nil && i.Kind == "activity" && r.c.taskTermin && !Status(r.Status).Terminal() {
		e.terminateResource(r, CauseFail, "actionOnTaskFailure terminate: "+i.ID+" failed", now)
	}
}

// cascadeFail marks i CASCADE_FAILED because of failed instance from.
func (e *engine) cascadeFail(i *inst, from string) {
	i.CascadeFrom = from
	i.ErrorMessage = "upstream " + from + " did not finish"
	e.move(i, CauseCascade, i.ErrorMessage)
	e.fireActions(i, i.c.onFail, "fail")
	e.cancelPreconditions(i)
}

// cancelInstance ends i CANCELED, stopping a running attempt.
func (e *engine) cancelInstance(i *inst, why string, now time.Time) {
	if Status(i.Status).Terminal() {
		return
	}
	if a := i.att; a != nil && (Status(a.Status) == Running || Status(a.Status) == WaitingForRunner) {
		e.endAttempt(i, a, Canceled, "Canceled", why, now)
	}
	i.Reason = why
	e.move(i, CauseCancel, why)
	e.cancelPreconditions(i)
}
