package executor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/store"
	"github.com/dpl-dev/dpl/executor/task"
)

// queryable is one object as QueryObjects sees it: top-level string fields.
type queryable struct {
	id     string
	fields func(key string) (string, bool)
}

func (e *engine) sphereObjects(sp Sphere) ([]queryable, error) {
	var out []queryable
	switch Sphere(strings.ToUpper(string(sp))) {
	case SphereComponent:
		for _, o := range e.d.Objects {
			c := e.comps[o.ID]
			if c == nil || c.obj != o {
				continue
			}
			out = append(out, queryable{id: o.ID, fields: func(k string) (string, bool) {
				switch k {
				case "name":
					return o.Name, true
				case "@sphere":
					return string(SphereComponent), true
				case "parent":
					if r := c.eff.Refs("parent"); len(r) > 0 {
						return r[0], true
					}
				}
				return "", false
			}})
		}
	case SphereInstance:
		for _, i := range e.order {
			out = append(out, queryable{id: i.ID, fields: instFields(&i.Instance, "")})
		}
	case SphereAttempt:
		for _, i := range e.order {
			for _, a := range e.attList[i.ID] {
				a := a
				base := instFields(&i.Instance, a.ID)
				out = append(out, queryable{id: a.ID, fields: func(k string) (string, bool) {
					switch k {
					case "@sphere":
						return string(SphereAttempt), true
					case "@instanceParent":
						return i.ID, true
					case "@status":
						return a.Status, true
					case "@actualStartTime":
						return fmtTime(a.ActualStart), !a.ActualStart.IsZero()
					case "@actualEndTime":
						return fmtTime(a.ActualEnd), !a.ActualEnd.IsZero()
					}
					return base(k)
				}})
			}
		}
	default:
		return nil, fmt.Errorf("%w: sphere %q: want COMPONENT, INSTANCE or ATTEMPT", ErrInvalidRequest, sp)
	}
	return out, nil
}

func instFields(i *store.Instance, name string) func(string) (string, bool) {
	if name == "" {
		name = i.ID
	}
	return func(k string) (string, bool) {
		switch k {
		case "name":
			return name, true
		case "@sphere":
			return string(SphereInstance), true
		case "parent", "@componentParent":
			return i.Component, true
		case "@status":
			return i.Status, true
		case "@scheduledStartTime":
			return fmtTime(i.ScheduledStart), true
		case "@scheduledEndTime":
			return fmtTime(i.ScheduledEnd), true
		case "@actualStartTime":
			return fmtTime(i.ActualStart), !i.ActualStart.IsZero()
		case "@actualEndTime":
			return fmtTime(i.ActualEnd), !i.ActualEnd.IsZero()
		}
		return "", false
	}
}

// Match reports whether a field value satisfies a selector (runtime.md
// §7.3). Exported for the store-backed `dpl runs` and the HTTP endpoint.
func (s Selector) Match(val string, ok bool) bool {
	if !ok {
		return false
	}
	switch strings.ToUpper(s.Operator) {
	case OpEQ, OpRefEQ:
		for _, v := range s.Values {
			if v == val {
				return true
			}
			if strings.EqualFold(s.FieldName, "@status") {
				if a, ok1 := ParseStatus(v); ok1 {
					if b, ok2 := ParseStatus(val); ok2 && a == b {
						return true
					}
				}
			}
		}
		return false
	case OpLE:
		return len(s.Values) > 0 && val <= s.Values[0]
	case OpGE:
		return len(s.Values) > 0 && val >= s.Values[0]
	case OpBetween:
		return len(s.Values) >= 2 && val >= s.Values[0] && val <= s.Values[1]
	}
	return false
}

// QueryObjects implements API. Like the service it pages first and
// filters second.
func (e *engine) QueryObjects(_ context.Context, in QueryInput) (QueryOutput, error) {
	if err := e.checkPipeline(in.PipelineID); err != nil {
		return QueryOutput{}, err
	}
	if len(in.Selectors) > 10 {
		return QueryOutput{}, fmt.Errorf("%w: at most 10 selectors", ErrInvalidRequest)
	}
	for _, s := range in.Selectors {
		switch strings.ToUpper(s.Operator) {
		case OpEQ, OpRefEQ, OpLE, OpGE, OpBetween:
		default:
			return QueryOutput{}, fmt.Errorf("%w: operator %q", ErrInvalidRequest, s.Operator)
		}
	}
	e.mu.Lock()
	objs, err := e.sphereObjects(in.Sphere)
	e.mu.Unlock()
	if err != nil {
		return QueryOutput{}, err
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 100
	}
	start := 0
	if in.Marker != "" {
		if start, err = strconv.Atoi(in.Marker); err != nil || start < 0 {
			return QueryOutput{}, fmt.Errorf("%w: bad marker %q", ErrInvalidRequest, in.Marker)
		}
	}
	out := QueryOutput{IDs: []string{}}
	end := min(start+limit, len(objs))
	for _, o := range objs[min(start, len(objs)):end] {
		ok := true
		for _, s := range in.Selectors {
			if !s.Match(o.fields(s.FieldName)) {
				ok = false
				break
			}
		}
		if ok {
			out.IDs = append(out.IDs, o.id)
		}
	}
	if end < len(objs) {
		out.Marker, out.HasMoreResults = strconv.Itoa(end), true
	}
	return out, nil
}

// DescribeObjects implements API.
func (e *engine) DescribeObjects(_ context.Context, in DescribeInput) (DescribeOutput, error) {
	if err := e.checkPipeline(in.PipelineID); err != nil {
		return DescribeOutput{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out DescribeOutput
	for _, id := range in.ObjectIDs {
		o, err := e.describe(id, in.EvaluateExpressions)
		if err != nil {
			return DescribeOutput{}, err
		}
		out.Objects = append(out.Objects, o)
	}
	return out, nil
}

// secretMask replaces the values of `*` fields in what DescribeObjects
// returns: secrets go to runners in tasks, never to viewers.
const secretMask = "********"

func maskSecrets(o *task.Object) *task.Object {
	for k, f := range o.Fields {
		if strings.HasPrefix(f.Key, "*") && f.StringValue != nil {
			m := secretMask
			o.Fields[k].StringValue = &m
		}
	}
	return o
}

func (e *engine) describe(id string, evaluate bool) (*task.Object, error) {
	o, err := e.describeRaw(id, evaluate)
	if err != nil {
		return nil, err
	}
	return maskSecrets(o), nil
}

func (e *engine) describeRaw(id string, evaluate bool) (*task.Object, error) {
	if i := e.insts[id]; i != nil {
		o, _, err := e.instanceObject(i, evaluate)
		return o, err
	}
	if a := e.atts[id]; a != nil {
		o, _, err := e.attemptObject(e.insts[a.Instance], a, evaluate)
		return o, err
	}
	if c := e.comps[id]; c != nil {
		fs, _, err := e.objectFields(e.componentScope(c.obj), evaluate)
		if err != nil {
			return nil, err
		}
		fs = append(fs, strField("@sphere", string(SphereComponent)), strField("@pipelineId", e.pipelineID))
		name := c.obj.Name
		if !c.obj.HasName {
			name = c.obj.ID
		}
		return &task.Object{ID: id, Name: name, Fields: fs}, nil
	}
	return nil, fmt.Errorf("%w: no object %q in pipeline %s", ErrInvalidRequest, id, e.pipelineID)
}

// EvaluateExpression implements API.
func (e *engine) EvaluateExpression(_ context.Context, pipelineID, objectID, expression string) (string, error) {
	if err := e.checkPipeline(pipelineID); err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var s *objScope
	switch {
	case e.insts[objectID] != nil:
		s = e.instScope(e.insts[objectID], 0)
	case e.atts[objectID] != nil:
		s = e.instScope(e.insts[e.atts[objectID].Instance], 0)
	case e.comps[objectID] != nil:
		s = e.componentScope(e.comps[objectID].obj)
	default:
		return "", fmt.Errorf("%w: no object %q", ErrTaskNotFound, objectID)
	}
	ss, err := evalStrings(expression, s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	return strings.Join(ss, ","), nil
}

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
			if e.insts[id] == nil {
				return fmt.Errorf("%w: %s needs instance ids; %q is not an instance of activation %d", ErrInvalidRequest, cmd, id, e.act.Seq)
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
				if i.c == c && (Status(i.Status) == WaitingOnDependencies || Status(i.Status) == WaitingForRunner && (i.att == nil || Status(i.att.Status) != Running)) {
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
					e.setStatus(i, Paused, "")
				}
			}
		case CmdResume:
			c := e.comps[id]
			c.paused = false
			for _, i := range e.order {
				if i.c == c && Status(i.Status) == Paused {
					e.setStatus(i, WaitingOnDependencies, "")
					e.markDirty(i)
				}
			}
		case CmdTryCancel:
			i := e.insts[id]
			if i.Kind == "resource" {
				e.terminateResource(i, Canceled, "canceled by the operator", now)
			} else {
				e.cancelInstance(i, "canceled by the operator", now)
			}
		case CmdMarkFinished:
			i := e.insts[id]
			if Status(i.Status) == Finished {
				continue
			}
			if a := i.att; a != nil && (Status(a.Status) == Running || Status(a.Status) == WaitingForRunner) {
				e.endAttempt(i, a, Canceled, "MarkedFinished", "marked finished by the operator", now)
			}
			i.MarkedFinished = true
			e.setStatus(i, Finished, "")
		case CmdRerun:
			e.rerun(e.insts[id], now, map[string]bool{})
		}
	}
	if e.act.State != store.ActRunning && e.act.State != store.ActInterrupted {
		// Reopen a finished activation so that `dpl run` continues it.
		e.act.State = store.ActRunning
		e.act.Ended, e.act.Reason = time.Time{}, ""
		e.done = false
		if e.db != nil {
			if err := e.db.PutActivation(e.act); err != nil {
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
	e.setStatus(i, WaitingOnDependencies, "")
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
