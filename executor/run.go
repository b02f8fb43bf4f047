// Driving a run to its end and summarizing it.

package executor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
)

func (e *engine) run(ctx context.Context) (*Summary, error) {
	e.mu.Lock()
	e.running = true
	what := "started"
	if e.resumed {
		what = "resumed"
	}
	e.emit(Event{Kind: EventRun, Status: Running, Message: fmt.Sprintf("activation %d %s", e.act.Seq, what)})
	e.killLeftovers()
	if e.resumed {
		if err := e.resumeInFlight(); err != nil {
			e.mu.Unlock()
			e.settleOnce.Do(func() { close(e.settled) })
			return e.summary(""), err
		}
	}
	e.mu.Unlock()
	e.settleOnce.Do(func() { close(e.settled) })
	for {
		e.mu.Lock()
		e.step()
		if err := e.w.err(); err != nil {
			e.closeSubs()
			e.mu.Unlock()
			e.w.sync() // nothing writes after Run returns (the caller closes the store)
			return e.summary(""), err
		}
		finished, reason := e.finishedCheck()
		if finished {
			sum := e.finish(reason)
			e.mu.Unlock()
			e.pubs.Wait()
			e.w.sync() // alarm failures recorded after the end
			return sum, nil
		}
		e.announceNext()
		var tc <-chan time.Time
		if at, ok := e.nextWake(); ok {
			tc = e.clock.After(at.Sub(e.now()))
		}
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			e.mu.Lock()
			e.emit(Event{Kind: EventRun, Message: "interrupted; the run can be resumed"})
			e.act.State = runstore.ActInterrupted
			e.flush()
			e.w.sync()
			if e.db != nil {
				_ = e.putActivation()
				_ = e.db.Sync()
			}
			sum := e.summary("interrupted")
			e.closeSubs()
			e.mu.Unlock()
			e.pubs.Wait()
			e.w.sync() // alarm failures recorded after the end
			return sum, ctx.Err()
		case <-e.kick:
		case <-tc:
		}
	}
}

// finishedCheck decides whether the run is over: every instance terminal,
// or nothing can change any more (all that is left waits on failures).
func (e *engine) finishedCheck() (bool, string) {
	if _, more := e.it.Peek(); more {
		return false, ""
	}
	if e.inflight > 0 {
		return false, ""
	}
	for _, q := range e.queues {
		if len(q) > 0 {
			return false, ""
		}
	}
	if e.open == 0 {
		return true, ""
	}
	// Timers that can still move something (retries, checks, timeouts).
	now := e.now()
	for _, t := range e.timers {
		if i := e.insts[t.id]; i != nil && !Status(i.Status).Terminal() && t.at.After(now) {
			if i.lateOnly(t.at) {
				continue
			}
			return false, ""
		}
	}
	var open []*inst
	for _, i := range e.order {
		if !Status(i.Status).Terminal() {
			if Status(i.Status) == Creating && i.prov != nil {
				return false, "" // its provider has yet to say it is ready
			}
			open = append(open, i)
		}
	}
	var why []string
	for _, i := range open {
		if i.Kind == "resource" || i.Kind == "precondition" {
			continue
		}
		w := strings.Join(i.WaitingOn, ", ")
		if more := i.WaitingCount - len(i.WaitingOn); more > 0 {
			w += fmt.Sprintf(" and %d more", more)
		}
		if w == "" {
			w = "nothing that can still finish"
		}
		why = append(why, fmt.Sprintf("%s is %s on %s", i.ID, i.Status, w))
		if len(why) == 5 {
			why = append(why, fmt.Sprintf("... and %d more", len(open)-5))
			break
		}
	}
	return true, "nothing can make progress: " + strings.Join(why, "; ")
}

// lateOnly reports whether a timer at t is only the late-action check of
// an instance whose late action already fired.
func (i *inst) lateOnly(t time.Time) bool {
	return i.c.lateAfter > 0 && t.Equal(i.ScheduledStart.Add(i.c.lateAfter)) && i.LateFired
}

func (e *engine) finish(reason string) *Summary {
	// Stuck instances are left as they are (waiting on a failure), as the
	// service would; resources still up are shut down.
	for _, i := range e.order {
		if i.Kind == "resource" && (Status(i.Status) == Running || Status(i.Status) == Creating) {
			e.move(i, CauseShutdown, "")
			e.releaseResource(i, "the run ended")
			e.move(i, CauseSucceed, "")
		}
	}
	sum := e.summary(reason)
	if sum.OK {
		e.act.State = runstore.ActFinished
	} else {
		e.act.State = runstore.ActFailed
		if sum.Reason == "" {
			sum.Reason = failedReason(sum)
		}
	}
	e.act.Ended = e.now()
	e.act.Reason = sum.Reason
	st := Finished
	if !sum.OK {
		st = Failed
	}
	msg := sum.Reason
	if sum.OK {
		msg = fmt.Sprintf("activation %d finished: %d instances", e.act.Seq, len(sum.Instances))
	}
	e.emit(Event{Kind: EventRun, Status: st, Message: msg})
	e.flush()
	e.w.sync()
	if e.db != nil {
		_ = e.putActivation()
		_ = e.db.Sync()
	}
	e.closeSubs()
	return sum
}

// closeSubs ends the run for subscribers and pollers: their streams close
// after the queued events, and PollForTask returns empty.
func (e *engine) closeSubs() {
	if !e.done {
		e.activeCh = make(chan struct{})
	}
	e.done = true
	for s := range e.subs {
		s.close()
		delete(e.subs, s)
	}
	close(e.readyCh)
	e.readyCh = make(chan struct{})
}

func failedReason(s *Summary) string {
	var parts []string
	for _, st := range []Status{Failed, CascadeFailed, Canceled, TimedOut} {
		if n := s.Counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ")
}

func (e *engine) summary(reason string) *Summary {
	s := &Summary{PipelineID: e.pipelineID, Activation: e.act.Seq, Resumed: e.resumed, Reason: reason, Counts: map[Status]int{}}
	ok := reason == ""
	for _, i := range e.order {
		s.Counts[Status(i.Status)]++
		s.Instances = append(s.Instances, i.Instance)
		st := Status(i.Status)
		if st != Finished && st != Skipped {
			ok = false
		}
	}
	s.OK = ok
	return s
}

// reopen makes an ended activation open again (an operator command on a
// finished run): pollers waiting on Active wake up.
func (e *engine) reopen() {
	if !e.done {
		return
	}
	e.done = false
	close(e.activeCh)
}

// active is Engine.Active.
func (e *engine) active() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.activeCh
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// announceNext emits EventNext once per next instance when nothing runs
// or waits for a runner and the next instance is due later: a scheduled
// run that sleeps until then says what it waits for. Called with e.mu held.
func (e *engine) announceNext() {
	at, ok := e.it.Peek()
	now := e.now()
	if !ok || !at.After(now) || e.inflight > 0 {
		return
	}
	for _, q := range e.queues {
		if len(q) > 0 {
			return
		}
	}
	pi, _ := e.it.PeekInstance()
	if pi.ID == e.announced {
		return
	}
	e.announced = pi.ID
	due := at
	e.emit(Event{Kind: EventNext, Component: pi.Component, Instance: pi.ID, NextCheck: &due,
		Message: fmt.Sprintf("next: %s at %s, in %s", pi.ID, fmtTime(at), humanDuration(at.Sub(now)))})
	e.flush()
}

// humanDuration writes d the way a person says it: "28 days", "3 hours",
// "12 minutes", "40 seconds".
func humanDuration(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d >= 48*time.Hour:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	case d >= 2*time.Minute:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d.Round(time.Second)/time.Second), "second")
}
