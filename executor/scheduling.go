// Scheduling: materializing instances, dependency counters, timers, the step loop.

package executor

import (
	"container/heap"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/schedule"
)

type timer struct {
	at time.Time
	id string // instance id
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }

func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *timerHeap) Push(x any) { *h = append(*h, x.(timer)) }

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (e *engine) addInst(i *inst) {
	if !Status(i.Status).Terminal() {
		e.open++
	}
	e.insts[i.ID] = i
	e.order = append(e.order, i)
	i.notOK, i.bad, i.scan = 0, 0, 0
	for _, w := range i.waits {
		e.waiters[w] = append(e.waiters[w], i)
		d := e.insts[w]
		switch {
		case d == nil || !depOK(Status(d.Status)):
			i.notOK++
			if d != nil && Status(d.Status).Bad() {
				i.bad++
			}
		}
	}
	// i's waiters counted it as not created: not OK, not bad.
	e.depChanged(i, "", Status(i.Status))
}

// depOK reports whether a dependency in status s lets its waiters go.
func depOK(s Status) bool { return s == Finished || s == Skipped }

// depChanged updates the dependency counters of d's waiters after d went
// from prev to s.
func (e *engine) depChanged(d *inst, prev, s Status) {
	okP, okS := depOK(prev), depOK(s)
	badP, badS := prev.Bad(), s.Bad()
	if okP == okS && badP == badS {
		return
	}
	for _, w := range e.waiters[d.ID] {
		switch {
		case okP && !okS:
			w.notOK++
			w.scan = 0
		case !okP && okS:
			w.notOK--
		}
		switch {
		case badP && !badS:
			w.bad--
		case !badP && badS:
			w.bad++
		}
	}
}

func (e *engine) now() time.Time { return e.clock.Now().UTC() }

func (e *engine) markDirty(i *inst) {
	if i == nil || e.isDirty[i] {
		return
	}
	e.isDirty[i] = true
	e.dirty = append(e.dirty, i)
}

func (e *engine) addTimer(at time.Time, i *inst) {
	if i.wakeAt[at] {
		return // already due then
	}
	if i.wakeAt == nil {
		i.wakeAt = map[time.Time]bool{}
	}
	i.wakeAt[at] = true
	heap.Push(&e.timers, timer{at: at, id: i.ID})
}

// wake nudges the run loop.
func (e *engine) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// step advances the state machine to now. Called with e.mu held.
func (e *engine) step() {
	now := e.now()
	// Create instances that became runnable.
	for {
		at, ok := e.it.Peek()
		if !ok || at.After(now) {
			break
		}
		pi, _ := e.it.Next()
		if _, known := e.insts[pi.ID]; known {
			continue
		}
		e.materialize(pi, now)
	}
	for len(e.timers) > 0 && !e.timers[0].at.After(now) {
		t := heap.Pop(&e.timers).(timer)
		if i := e.insts[t.id]; i != nil {
			delete(i.wakeAt, t.at)
			e.markDirty(i)
		}
	}
	for len(e.dirty) > 0 {
		i := e.dirty[0]
		e.dirty = e.dirty[1:]
		delete(e.isDirty, i)
		e.eval(i, now)
	}
	e.flush()
}

func (e *engine) materialize(pi schedule.Instance, now time.Time) {
	c := e.comps[pi.Component]
	if c == nil {
		return
	}
	i := &inst{c: c, waits: pi.WaitsOn, pre: pi.Preconditions}
	i.Instance = runstore.Instance{
		ID: pi.ID, Component: pi.Component, Type: c.typ, Kind: c.kind.String(),
		ScheduledStart: pi.Start, ScheduledEnd: pi.End, RunnableAt: pi.RunnableAt,
		Resource: pi.RunsOn,
	}
	created := CauseCreate
	if !e.act.StartTimestamp.IsZero() && schedule.Skipped(pi, e.act.StartTimestamp) {
		created = CauseSkip
	}
	e.initStatus(i, created)
	e.addInst(i)
	if r := e.insts[pi.RunsOn]; r != nil {
		r.users = append(r.users, i.ID)
	}
	e.saveInst(i, Event{Kind: EventStatus, Component: i.Component, Instance: i.ID, Status: Status(i.Status)})
	if c.paused && Status(i.Status) == WaitingOnDependencies {
		e.move(i, ActionPause, "")
	}
	if c.lateAfter > 0 && !e.plan.OnDemand {
		e.addTimer(i.ScheduledStart.Add(c.lateAfter), i)
	}
	e.markDirty(i)
}

// nextWake is the earliest time something is due: a timer or the next
// instance.
func (e *engine) nextWake() (time.Time, bool) {
	var at time.Time
	if len(e.timers) > 0 {
		at = e.timers[0].at
	}
	if p, ok := e.it.Peek(); ok && (at.IsZero() || p.Before(at)) {
		at = p
	}
	return at, !at.IsZero()
}
