package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/store"
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
			waiting := make([]string, 0, min(i.notOK, store.MaxWaitingOn))
			for _, w := range i.waits[i.scan:] {
				if d := e.insts[w]; d == nil || !depOK(Status(d.Status)) {
					waiting = append(waiting, w)
					if len(waiting) == store.MaxWaitingOn {
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
			e.setStatus(i, Finished, "")
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
	if len(on) > store.MaxWaitingOn {
		on = on[:store.MaxWaitingOn]
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
			e.setStatus(res, WaitingOnDependencies, "")
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
	a := &store.Attempt{ID: schedule.AttemptID(i.ID, i.Attempts), Instance: i.ID, N: i.Attempts,
		Status: string(WaitingForRunner), Created: now}
	i.att = a
	e.atts[a.ID] = a
	e.attList[i.ID] = append(e.attList[i.ID], a)
	e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: WaitingForRunner})
	if Status(i.Status) != WaitingForRunner {
		e.setStatus(i, WaitingForRunner, "")
	} else {
		e.saveInst(i)
	}
	a.Group = e.groupFor(i)
	e.enqueue(i, a)
}

// resourceFor returns the resource instance an instance runs on: its own
// runsOn, or for a precondition the node's.
func (e *engine) resourceFor(i *inst) *inst {
	if i.node != nil {
		return e.insts[i.node.Resource]
	}
	return e.insts[i.Resource]
}

// groupFor is the worker group that serves an instance's attempts.
func (e *engine) groupFor(i *inst) string {
	if r := e.resourceFor(i); r != nil {
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

func (e *engine) enqueue(i *inst, a *store.Attempt) {
	g := e.groupFor(i)
	e.queues[g] = append(e.queues[g], a)
	close(e.readyCh)
	e.readyCh = make(chan struct{})
}

// attemptFailed applies the retry policy after attempt a of i failed.
func (e *engine) attemptFailed(i *inst, a *store.Attempt, now time.Time) {
	i.Failures++
	if i.Kind == "precondition" {
		if e.precondTimedOut(i, now) {
			e.failInstance(i, "preconditionTimeout reached: "+a.ErrorMessage, a.ErrorID, now)
			return
		}
	}
	if i.Failures <= i.c.maxRetries {
		i.NextAttempt = now.Add(i.c.retryDelay)
		i.ErrorID, i.ErrorMessage, i.ErrorStack = a.ErrorID, a.ErrorMessage, a.ErrorStack
		if i.Kind != "precondition" {
			e.setStatus(i, WaitingForRunner, "")
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

// failInstance ends an instance FAILED and applies onFail, cascade and the
// resource's actionOnTaskFailure.
func (e *engine) failInstance(i *inst, msg, id string, now time.Time) {
	if msg == "" {
		msg = "failed"
	}
	i.ErrorMessage, i.ErrorID = msg, id
	e.setStatus(i, Failed, msg)
	e.fireActions(i, i.c.onFail, "fail")
	e.cancelPreconditions(i)
	if r := e.resourceFor(i); r != nil && i.Kind == "activity" && r.c.taskTermin && !Status(r.Status).Terminal() {
		e.terminateResource(r, Failed, "actionOnTaskFailure terminate: "+i.ID+" failed", now)
	}
}

// cascadeFail marks i CASCADE_FAILED because of failed instance from.
func (e *engine) cascadeFail(i *inst, from string) {
	i.CascadeFrom = from
	i.ErrorMessage = "upstream " + from + " did not finish"
	e.setStatus(i, CascadeFailed, i.ErrorMessage)
	e.fireActions(i, i.c.onFail, "fail")
	e.cancelPreconditions(i)
}

func (e *engine) cancelPreconditions(i *inst) {
	for _, p := range i.pres {
		if !Status(p.Status).Terminal() {
			e.cancelInstance(p, "its node "+i.ID+" ended "+i.Status, e.now())
		}
	}
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
	e.setStatus(i, Canceled, why)
	e.cancelPreconditions(i)
}

// endAttempt closes an attempt the engine ends itself (timeout, cancel),
// telling its runner to stop.
func (e *engine) endAttempt(i *inst, a *store.Attempt, st Status, errID, msg string, now time.Time) {
	wasRunning := Status(a.Status) == Running
	a.Status = string(st)
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

func (e *engine) dequeue(a *store.Attempt) {
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
func remoteTask(a *store.Attempt) bool { return a.Group != "" && a.Group != LocalWorkerGroup }

// progressDeadline is when a running remote attempt is considered stalled.
func (e *engine) progressDeadline(i *inst, a *store.Attempt) time.Time {
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
	e.endAttempt(i, a, Failed, id, msg, now)
	e.attemptFailed(i, a, now)
}

// Preconditions.

func (e *engine) newPrecondition(node *inst, preID string, now time.Time) {
	c := e.comps[preID]
	if c == nil {
		return
	}
	id := "@" + preID + "_" + fmtTime(node.ScheduledStart)
	if c.precondRefs > 1 || e.insts[id] != nil {
		id = "@" + preID + "_" + node.Component + "_" + fmtTime(node.ScheduledStart)
	}
	if old := e.insts[id]; old != nil {
		node.pres = append(node.pres, old)
		return
	}
	p := &inst{c: c, node: node}
	p.Instance = store.Instance{ID: id, Component: preID, Type: c.typ, Kind: "precondition",
		ScheduledStart: node.ScheduledStart, ScheduledEnd: node.ScheduledEnd, RunnableAt: now,
		Status: string(WaitingOnDependencies), Node: node.ID}
	e.addInst(p)
	node.pres = append(node.pres, p)
	e.saveInst(p, Event{Kind: EventStatus, Component: preID, Instance: id, Status: WaitingOnDependencies})
	e.markDirty(p)
}

func (e *engine) precondTimedOut(p *inst, now time.Time) bool {
	return p.c.precondTO > 0 && !p.ActualStart.IsZero() && !now.Before(p.ActualStart.Add(p.c.precondTO))
}

func (e *engine) evalPrecondition(p *inst, now time.Time) {
	if p.att != nil && Status(p.att.Status) == Running {
		if p.c.attemptTO > 0 && !now.Before(p.att.ActualStart.Add(p.c.attemptTO)) {
			e.timeoutAttempt(p, now)
			return
		}
		e.checkStalled(p, now)
		return
	}
	if p.att != nil && Status(p.att.Status) == WaitingForRunner {
		return
	}
	if e.precondTimedOut(p, now) {
		e.failInstance(p, fmt.Sprintf("not met within preconditionTimeout (%s); last check %s", p.c.precondTO, p.LastResult), "PreconditionTimeout", now)
		return
	}
	due := p.NextCheck
	if !p.NextAttempt.IsZero() && p.NextAttempt.After(due) {
		due = p.NextAttempt
	}
	if !due.IsZero() && now.Before(due) {
		e.addTimer(due, p)
		if p.c.precondTO > 0 && !p.ActualStart.IsZero() {
			e.addTimer(p.ActualStart.Add(p.c.precondTO), p)
		}
		return
	}
	if p.ActualStart.IsZero() {
		p.ActualStart = now
	}
	e.startAttempt(p, now)
}

// preconditionResult records a check: met, not met (FALSE) or error.
func (e *engine) preconditionFalse(p *inst, a *store.Attempt, now time.Time) {
	p.LastCheck, p.LastResult = now, "FALSE"
	if e.precondTimedOut(p, now) {
		e.failInstance(p, fmt.Sprintf("not met within preconditionTimeout (%s)", p.c.precondTO), "PreconditionTimeout", now)
		return
	}
	p.NextCheck = now.Add(p.c.retryDelay)
	// A FALSE is not a failed try: the check is repeated, not retried.
	lc, nc := p.LastCheck, p.NextCheck
	e.saveInst(p, Event{Kind: EventWaiting, Component: p.Component, Instance: p.ID, Status: Status(p.Status),
		LastCheck: &lc, LastResult: "FALSE", NextCheck: &nc, Message: "precondition not met; checked again at " + fmtTime(nc)})
	e.setStatus(p, WaitingOnDependencies, "")
	e.addTimer(p.NextCheck, p)
	if p.c.precondTO > 0 {
		e.addTimer(p.ActualStart.Add(p.c.precondTO), p)
	}
}

// Resources.

// launchResource starts a resource: CREATING, then RUNNING once its
// working folder exists. A failed start is retried after the resource's
// retryDelay up to its maximumRetries with actionOnResourceFailure
// retryall (the default), and not at all with retrynone; when it finally
// fails, the activities on it are CANCELED (runtime.md §3.4).
func (e *engine) launchResource(r *inst, now time.Time) {
	e.setStatus(r, Creating, "")
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
			e.setStatus(r, WaitingOnDependencies, r.ErrorMessage)
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
		e.terminateResource(r, Failed, msg, now)
		return
	}
	r.ErrorID, r.ErrorMessage = "", ""
	e.setStatus(r, Running, "")
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
		e.terminateResource(r, TimedOut, fmt.Sprintf("terminateAfter (%s) reached", r.c.terminateAt), now)
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
		e.setStatus(r, ShuttingDown, "")
	}
	e.setStatus(r, Finished, "")
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
func (e *engine) terminateResource(r *inst, st Status, why string, now time.Time) {
	r.ErrorMessage = why
	e.setStatus(r, st, why)
	for _, id := range r.users {
		u := e.insts[id]
		if u == nil || Status(u.Status).Terminal() {
			continue
		}
		e.cancelInstance(u, "resource "+r.ID+" "+string(st)+": "+why, now)
	}
}

// Actions.

// fireActions runs onSuccess/onFail/onLateAction actions for i.
func (e *engine) fireActions(i *inst, ids []string, why string) {
	now := e.now()
	for _, id := range ids {
		c := e.comps[id]
		if c == nil {
			continue
		}
		switch c.typ {
		case "SnsAlarm":
			e.publishAlarm(i, c)
		case "Terminate":
			e.emit(Event{Kind: EventAction, Object: id, Node: i.ID, Component: i.Component, Instance: i.ID,
				Message: "Terminate (" + why + ")"})
			switch {
			case i.Kind == "resource":
				e.terminateResource(i, Canceled, "terminated by "+id, now)
			default:
				e.cancelInstance(i, "terminated by "+id+" ("+why+")", now)
			}
		default:
			e.emit(Event{Kind: EventAction, Object: id, Node: i.ID, Instance: i.ID,
				Error: fmt.Sprintf("action %s has type %q, which dpl does not run", id, c.typ)})
		}
	}
}

func (e *engine) publishAlarm(i *inst, c *comp) {
	sc := e.actionScope(c, i)
	get := func(key string) string {
		f := c.eff.Get(key)
		if f == nil || len(f.Values) == 0 || f.Values[0].IsRef {
			return ""
		}
		ss, err := evalStrings(f.Values[0].Str, sc)
		if err != nil {
			return fmt.Sprintf("<%s: %v>", key, err)
		}
		return strings.Join(ss, ",")
	}
	a := Alarm{Time: e.now(), Object: c.obj.ID, Node: i.ID, TopicArn: get("topicArn"), Subject: get("subject"),
		Message: get("message"), Role: get("role")}
	ev := Event{Kind: EventAlarm, Component: i.Component, Instance: i.ID, Object: a.Object, Node: a.Node,
		TopicArn: a.TopicArn, Subject: a.Subject, Message: a.Message}
	e.emit(ev)
	if n := e.opts.Notifier; n != nil {
		// Published outside the engine's lock (SNS may be slow); a failure
		// is recorded as a second alarm event with the error. Run waits
		// for pending publishes before it returns.
		e.pubs.Add(1)
		go func() {
			defer e.pubs.Done()
			if err := n.Publish(context.Background(), a); err != nil {
				ev.Error = "publish: " + err.Error()
				e.mu.Lock()
				e.emit(ev)
				e.flush()
				e.mu.Unlock()
			}
		}()
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
