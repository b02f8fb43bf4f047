// Resources: launch, readiness, shutdown.

package executor

import (
	"fmt"
	"time"
)

// resourceFor returns the resource instance an instance runs on: its own
// runsOn, or for a precondition the node's.
func (e *engine) resourceFor(i *inst) *inst {
	if i.node != nil {
		return e.insts[i.node.Resource]
	}
	return e.insts[i.Resource]
}

// launchResource starts a resource: CREATING, then RUNNING once its
// working folder exists. A failed start is retried after the resource's
// retryDelay up to its maximumRetries with actionOnResourceFailure
// retryall (the default), and not at all with retrynone; when it finally
// fails, the activities on it are CANCELED (runtime.md §3.4).
func (e *engine) launchResource(r *inst, now time.Time) {
	e.move(r, CauseStart, "")
	r.NextAttempt = time.Time{}
	if r.ActualStart.IsZero() || r.Reruns > 0 {
		r.ActualStart = now
		r.ActualEnd = time.Time{}
	}
	if err := e.startResource(r); err != nil {
		r.Failures++
		r.ErrorID, r.ErrorMessage = "ResourceStartFailed", "cannot start the resource: "+err.Error()
		if !r.c.retryNone && r.Failures <= r.c.maxRetries {
			r.NextAttempt = now.Add(r.c.retryDelay)
			e.move(r, CauseWait, r.ErrorMessage)
			e.saveInst(r, Event{Kind: EventWaiting, Component: r.Component, Instance: r.ID, Status: WaitingOnDependencies,
				Error: r.ErrorMessage, Message: fmt.Sprintf("start %d failed; retry %d of %d at %s (actionOnResourceFailure retryall)",
					r.Failures, r.Failures, r.c.maxRetries, fmtTime(r.NextAttempt))})
			e.addTimer(r.NextAttempt, r)
			return
		}
		msg := r.ErrorMessage
		if r.c.retryNone {
			msg += " (actionOnResourceFailure retrynone)"
		} else if r.c.maxRetries > 0 {
			msg += fmt.Sprintf(" (after %d retries)", r.c.maxRetries)
		}
		e.terminateResource(r, CauseFail, msg, now)
		return
	}
	r.ErrorID, r.ErrorMessage = "", ""
	e.move(r, CauseReady, "")
	if r.c.terminateAt > 0 {
		e.addTimer(r.ActualStart.Add(r.c.terminateAt), r)
	}
	for _, id := range r.users {
		if u := e.insts[id]; u != nil {
			e.markDirty(u)
			for _, p := range u.pres {
				e.markDirty(p)
			}
		}
	}
}

// startResource makes a local resource ready: its working folder.
func (e *engine) startResource(r *inst) error {
	if e.opts.StateDir == "" {
		return nil
	}
	if err := mkdir(ResourceDir(e.opts.StateDir, e.pipelineID, r.ID)); err != nil {
		return fmt.Errorf("working folder: %w", err)
	}
	return nil
}

func (e *engine) evalResource(r *inst, now time.Time) {
	st := Status(r.Status)
	if st == WaitingOnDependencies && !r.NextAttempt.IsZero() {
		// A failed start waits for its retry.
		if now.Before(r.NextAttempt) {
			e.addTimer(r.NextAttempt, r)
			return
		}
		if e.resourceNeeded(r) {
			e.launchResource(r, now)
			return
		}
	}
	if st == Running && r.c.terminateAt > 0 && !now.Before(r.ActualStart.Add(r.c.terminateAt)) {
		e.terminateResource(r, CauseTimeout, fmt.Sprintf("terminateAfter (%s) reached", r.c.terminateAt), now)
		return
	}
	// Done when no user can still need it.
	for _, id := range e.resourceUsers(r) {
		u := e.insts[id]
		if u == nil {
			if pi, ok := e.plan.Lookup(id); ok && (e.act.Until.IsZero() || pi.Start.Before(e.act.Until)) {
				return // not created yet
			}
			continue
		}
		if !Status(u.Status).Terminal() {
			return
		}
		for _, p := range u.pres {
			if !Status(p.Status).Terminal() {
				return
			}
		}
	}
	if st == Running || st == Creating {
		e.move(r, CauseShutdown, "")
	}
	e.move(r, CauseSucceed, "")
}

// resourceUsers lists every instance that runs on r (created or not).
func (e *engine) resourceUsers(r *inst) []string {
	ids := append([]string(nil), r.users...)
	if pi, ok := e.plan.Lookup(r.ID); ok {
		for _, id := range e.plan.Dependents(pi) {
			if !contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// terminateResource stops a resource (TIMEDOUT, FAILED, CANCELED): its
// running attempts are stopped and every user not finished is CANCELED
// (their consumers then cascade per their failureAndRerunMode).
func (e *engine) terminateResource(r *inst, on Cause, why string, now time.Time) {
	r.ErrorMessage = why
	e.move(r, on, why)
	for _, id := range r.users {
		u := e.insts[id]
		if u == nil || Status(u.Status).Terminal() {
			continue
		}
		e.cancelInstance(u, "resource "+r.ID+" "+r.Status+": "+why, now)
	}
}

// resourceNeeded reports whether a created instance on r is still open.
func (e *engine) resourceNeeded(r *inst) bool {
	for _, id := range r.users {
		if u := e.insts[id]; u != nil && !Status(u.Status).Terminal() {
			return true
		}
	}
	return false
}
