// Status changes by the state machine's tables, and their bookkeeping.

package executor

import (
	"fmt"
	"os"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// move changes i's status on cause c as its sphere's table says. A pair
// the table does not allow is an engine defect: the change is refused and
// recorded (see invalidTransition), never applied silently.
func (e *engine) move(i *inst, c Cause, errMsg string) bool {
	tr, err := machineFor(i).Next(Status(i.Status), c)
	if err != nil {
		e.invalidTransition(i.ID, err)
		return false
	}
	e.setStatus(i, tr.To, errMsg)
	return true
}

// initStatus gives a new instance its first status (created or skipped).
func (e *engine) initStatus(i *inst, c Cause) {
	tr, err := machineFor(i).Next(noStatus, c)
	if err != nil {
		e.invalidTransition(i.ID, err)
		tr.To = WaitingOnDependencies
	}
	i.Status = string(tr.To)
}

// moveAttempt changes an attempt's status on cause c by AttemptMachine.
func (e *engine) moveAttempt(a *runstore.Attempt, c Cause) bool {
	tr, err := AttemptMachine.Next(Status(a.Status), c)
	if err != nil {
		e.invalidTransition(a.ID, err)
		return false
	}
	a.Status = string(tr.To)
	return true
}

// invalidTransition records a refused transition: an error event in the
// log, and in e.invalid for tests to assert on.
func (e *engine) invalidTransition(id string, err error) {
	err = fmt.Errorf("engine defect: %s: %w", id, err)
	e.invalid = append(e.invalid, err)
	if p := os.Getenv("DPL_TRANSITION_LOG"); p != "" {
		if f, ferr := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); ferr == nil {
			fmt.Fprintln(f, err)
			f.Close()
		}
	}
	e.emit(Event{Kind: EventRun, Error: err.Error()})
}

// setStatus moves an instance to a new status with one event.
func (e *engine) setStatus(i *inst, s Status, errMsg string) {
	prev := Status(i.Status)
	if prev == s {
		return
	}
	i.Status = string(s)
	e.depChanged(i, prev, s)
	switch wasT, isT := prev.Terminal(), s.Terminal(); {
	case wasT && !isT:
		e.open++
	case !wasT && isT:
		e.open--
	}
	now := e.now()
	if s.Terminal() && i.ActualEnd.IsZero() && !i.ActualStart.IsZero() {
		i.ActualEnd = now
	}
	if s != WaitingOnDependencies {
		i.WaitingOn, i.WaitingCount = nil, 0
	}
	e.saveInst(i, Event{Kind: EventStatus, Component: i.Component, Instance: i.ID, Status: s, Prev: prev, Error: errMsg})
	if s.Terminal() || s == Finished {
		if i.counted {
			i.counted = false
			i.c.active--
			for b := range i.c.blocked {
				e.markDirty(b)
				delete(i.c.blocked, b)
			}
		}
		for _, w := range e.waiters[i.ID] {
			e.markDirty(w)
		}
		if i.node != nil {
			e.markDirty(i.node)
		}
		if r := e.insts[i.Resource]; r != nil {
			e.markDirty(r)
		}
	}
}
