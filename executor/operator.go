// Operator actions (SetStatus): RERUN, TRY_CANCEL, MARK_FINISHED, PAUSE, RESUME.

package executor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// SetStatus implements API.
// The change is in the store when it returns.
func (e *engine) SetStatus(ctx context.Context, pipelineID string, ids []string, status string) error {
	if err := e.setStatusCmd(ctx, pipelineID, ids, status); err != nil {
		return err
	}
	return e.w.sync()
}

func (e *engine) setStatusCmd(_ context.Context, pipelineID string, ids []string, status string) error {
	if err := e.checkPipeline(pipelineID); err != nil {
		return err
	}
	cmd := strings.ToUpper(strings.TrimSpace(status))
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	// Validate everything first: all components or all instances.
	for _, id := range ids {
		switch cmd {
		case CmdPause, CmdResume:
			if c := e.comps[id]; c == nil || id == definition.DefaultID {
				return fmt.Errorf("%w: %s needs component ids; %q is not a component", ErrInvalidRequest, cmd, id)
			}
		case CmdTryCancel, CmdRerun, CmdMarkFinished:
			i := e.insts[id]
			if i == nil {
				return fmt.Errorf("%w: %s needs instance ids; %q is not an instance of activation %d", ErrInvalidRequest, cmd, id, e.act.Seq)
			}
			if _, err := machineFor(i).Next(Status(i.Status), Cause(cmd)); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrInvalidRequest, id, err)
			}
		default:
			return fmt.Errorf("%w: status %q: want PAUSE, RESUME, TRY_CANCEL, RERUN or MARK_FINISHED", ErrInvalidRequest, status)
		}
	}
	for _, id := range ids {
		ev := Event{Kind: EventAction, Message: cmd + " by the operator"}
		if i := e.insts[id]; i != nil {
			ev.Component, ev.Instance = i.Component, id
		} else {
			ev.Component = id
		}
		e.emit(ev)
		switch cmd {
		case CmdPause:
			c := e.comps[id]
			c.paused = true
			for _, i := range e.order {
				if i.c != c {
					continue
				}
				// The table's guard: an attempt already running is not paused.
				if tr, err := machineFor(i).Next(Status(i.Status), ActionPause); err == nil && !tr.Ignored && (i.att == nil || Status(i.att.Status) != Running) {
					if i.att != nil && Status(i.att.Status) == WaitingForRunner {
						e.endAttempt(i, i.att, Canceled, "Paused", "component paused", now)
						i.Attempts--
						delete(e.atts, i.att.ID)
						l := e.attList[i.ID]
						e.attList[i.ID] = l[:len(l)-1]
						i.att = nil
					}
					if i.counted {
						i.counted = false
						c.active--
					}
					e.move(i, ActionPause, "")
				}
			}
		case CmdResume:
			c := e.comps[id]
			c.paused = false
			for _, i := range e.order {
				if tr, err := machineFor(i).Next(Status(i.Status), ActionResume); i.c == c && err == nil && !tr.Ignored {
					e.move(i, ActionResume, "")
					e.markDirty(i)
				}
			}
		case CmdTryCancel:
			i := e.insts[id]
			if tr, _ := machineFor(i).Next(Status(i.Status), ActionTryCancel); tr.Ignored {
				continue
			}
			if i.Kind == "resource" {
				e.terminateResource(i, ActionTryCancel, "canceled by the operator", now)
			} else {
				e.cancelInstance(i, "canceled by the operator", now)
			}
		case CmdMarkFinished:
			i := e.insts[id]
			if tr, _ := machineFor(i).Next(Status(i.Status), ActionMarkFinished); tr.Ignored {
				continue
			}
			if a := i.att; a != nil && (Status(a.Status) == Running || Status(a.Status) == WaitingForRunner) {
				e.endAttempt(i, a, Canceled, "MarkedFinished", "marked finished by the operator", now)
			}
			i.MarkedFinished = true
			e.move(i, ActionMarkFinished, "")
		case CmdRerun:
			e.rerun(e.insts[id], now, map[string]bool{})
		}
	}
	if e.act.State != runstore.ActRunning && e.act.State != runstore.ActInterrupted {
		// Reopen a finished activation so that `dpl run` continues it.
		e.act.State = runstore.ActRunning
		e.act.Ended, e.act.Reason = time.Time{}, ""
		e.reopen()
		if e.db != nil {
			if err := e.putActivation(); err != nil {
				return err
			}
		}
	}
	if e.running {
		e.step()
		e.wake()
	} else {
		// A stopped run: record the change only; `dpl run` resumes from it.
		e.flush()
	}
	return e.w.err()
}

// rerun resets an instance to run again; with cascade mode its
// cascade-failed consumers come back too, and a resource brings back the
// instances that ran on it.
func (e *engine) rerun(i *inst, now time.Time, seen map[string]bool) {
	if seen[i.ID] {
		return
	}
	seen[i.ID] = true
	if a := i.att; a != nil && (Status(a.Status) == Running || Status(a.Status) == WaitingForRunner) {
		e.endAttempt(i, a, Canceled, "Rerun", "rerun requested", now)
	}
	if i.counted {
		i.counted = false
		i.c.active--
	}
	i.Reruns++
	i.Failures = 0
	i.NextAttempt, i.NextCheck = time.Time{}, time.Time{}
	i.ErrorID, i.ErrorMessage, i.ErrorStack, i.CascadeFrom, i.Reason = "", "", "", "", ""
	i.ActualStart, i.ActualEnd = time.Time{}, time.Time{}
	i.MarkedFinished = false
	for _, p := range i.pres {
		e.rerun(p, now, seen)
	}
	e.move(i, ActionRerun, "")
	e.markDirty(i)
	for _, w := range e.waiters[i.ID] {
		if Status(w.Status) == CascadeFailed && w.CascadeFrom == i.ID {
			e.rerun(w, now, seen)
		}
	}
	if i.Kind == "resource" {
		for _, id := range i.users {
			if u := e.insts[id]; u != nil && Status(u.Status) != Finished {
				e.rerun(u, now, seen)
			}
		}
	}
}
