// The instance state machine: status changes and their bookkeeping.

package executor

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
