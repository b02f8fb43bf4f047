// Recording: events and batched store writes of one operation.

package executor

import (
	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// flush queues the batched changes of the current operation for the
// writer. Callers that must know them on disk (SetTaskStatus, the end of
// a run) wait with e.w.sync after releasing e.mu.
func (e *engine) flush() {
	if e.db == nil || (len(e.pending.Instances) == 0 && len(e.pending.Attempts) == 0 && len(e.pending.Events) == 0) {
		e.pending = runstore.Change{}
		return
	}
	e.w.queue(e.db, e.pipelineID, e.act.Seq, e.pending)
	e.pending = runstore.Change{}
}

// emit stamps an event, queues it for the store and hands it to
// subscribers.
func (e *engine) emit(ev Event) {
	if len(e.secrets) > 0 {
		ev.Error, ev.Message, ev.Subject = e.mask(ev.Error), e.mask(ev.Message), e.mask(ev.Subject)
	}
	e.seq++
	ev.Seq = e.seq
	ev.Time = e.now()
	ev.Pipeline = e.pipelineID
	if e.db != nil {
		b := ev.appendJSON(make([]byte, 0, 256))
		e.pending.Events = append(e.pending.Events, runstore.Event{Seq: ev.Seq, Data: b})
	} else {
		e.memLog = append(e.memLog, &ev)
	}
	for s := range e.subs {
		s.push(ev)
	}
}

func (e *engine) saveInst(i *inst, evs ...Event) {
	if len(e.secrets) > 0 {
		i.ErrorMessage, i.ErrorStack, i.Reason = e.mask(i.ErrorMessage), e.mask(i.ErrorStack), e.mask(i.Reason)
	}
	cp := i.Instance
	cp.WaitingOn = append([]string(nil), i.WaitingOn...)
	e.pending.Instances = append(e.pending.Instances, &cp)
	for _, ev := range evs {
		e.emit(ev)
	}
}

func (e *engine) saveAttempt(a *runstore.Attempt, evs ...Event) {
	if len(e.secrets) > 0 {
		a.ErrorMessage, a.ErrorStack = e.mask(a.ErrorMessage), e.mask(a.ErrorStack)
	}
	cp := *a
	e.pending.Attempts = append(e.pending.Attempts, &cp)
	for _, ev := range evs {
		e.emit(ev)
	}
}

// mask hides the run's secret values in a message (a command's stderr
// tail, an expression error, an alarm): the values of `*` parameters and
// fields are never shown, logged or stored in clear.
func (e *engine) mask(s string) string { return definition.MaskText(s, e.secrets) }
