// Preconditions: checks on an instance's behalf.

package executor

import (
	"fmt"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
)

func (e *engine) cancelPreconditions(i *inst) {
	for _, p := range i.pres {
		if !Status(p.Status).Terminal() {
			e.cancelInstance(p, "its node "+i.ID+" ended "+i.Status, e.now())
		}
	}
}

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
	p.Instance = runstore.Instance{ID: id, Component: preID, Type: c.typ, Kind: "precondition",
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
func (e *engine) preconditionFalse(p *inst, a *runstore.Attempt, now time.Time) {
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
	e.move(p, CauseRecheck, "")
	e.addTimer(p.NextCheck, p)
	if p.c.precondTO > 0 {
		e.addTimer(p.ActualStart.Add(p.c.precondTO), p)
	}
}
