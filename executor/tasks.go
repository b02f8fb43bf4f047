package executor

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/store"
	"github.com/dpl-dev/dpl/executor/task"
)

// Scopes.

// instScope evaluates in an instance's context: its component's fields
// plus the instance's runtime fields.
func (e *engine) instScope(i *inst, depth int) *objScope {
	rt := map[string]expr.Value{
		"@pipelineId":         expr.String(e.pipelineID),
		"@scheduledStartTime": expr.DateTime(i.ScheduledStart),
		"@scheduledEndTime":   expr.DateTime(i.ScheduledEnd),
		"@status":             expr.String(i.Status),
		"@id":                 expr.String(i.ID),
		"@sphere":             expr.String(string(SphereInstance)),
		"@componentParent":    expr.Obj(e.componentScope(i.c.obj)),
	}
	if !i.ActualStart.IsZero() {
		rt["@actualStartTime"] = expr.DateTime(i.ActualStart)
	}
	if !i.ActualEnd.IsZero() {
		rt["@actualEndTime"] = expr.DateTime(i.ActualEnd)
	}
	if i.node != nil && depth < maxEvalDepth {
		rt["node"] = expr.Obj(e.instScope(i.node, depth+1))
	}
	return &objScope{e: e, id: i.ID, comp: i.c.obj, eff: i.c.eff, rt: rt, inst: i, depth: depth}
}

// actionScope evaluates an action's fields with node bound to i.
func (e *engine) actionScope(c *comp, i *inst) *objScope {
	s := e.componentScope(c.obj)
	s.rt["node"] = expr.Obj(e.instScope(i, 1))
	return s
}

// refScope resolves a reference from an object: to the matching instance
// of a scheduled component when the referrer is an instance, else to the
// component.
func (e *engine) refScope(from *objScope, key, ref string, depth int) expr.Object {
	if depth >= maxEvalDepth {
		return &objScope{e: e, id: ref, comp: &definition.Object{ID: ref}, eff: &definition.Effective{}, rt: map[string]expr.Value{}}
	}
	if from.inst != nil {
		if ri := e.matchInstance(from.inst, key, ref); ri != nil {
			return e.instScope(ri, depth)
		}
	}
	o := e.d.Object(ref)
	if o == nil {
		return &objScope{e: e, id: ref, comp: &definition.Object{ID: ref}, eff: &definition.Effective{}, rt: map[string]expr.Value{}}
	}
	s := e.componentScope(o)
	s.depth = depth
	return s
}

// matchInstance finds the instance of component ref that instance i is
// linked to through key (input, output, runsOn, dependsOn).
func (e *engine) matchInstance(i *inst, key, ref string) *inst {
	c := e.comps[ref]
	if c == nil || !c.kind.Schedulable() {
		return nil
	}
	if key == "runsOn" {
		return e.insts[i.Resource]
	}
	if i.waitsOf == nil {
		i.waitsOf = make(map[string][]string, len(i.waits))
		for _, w := range i.waits {
			comp := ""
			if wi := e.insts[w]; wi != nil {
				comp = wi.Component
			} else if c, _, _, ok := schedule.ParseInstanceID(w); ok {
				comp = c
			}
			i.waitsOf[comp] = append(i.waitsOf[comp], w)
		}
	}
	for _, key := range [2]string{ref, ""} { // "": ids that do not parse
		for _, w := range i.waitsOf[key] {
			if wi := e.insts[w]; wi != nil && wi.Component == ref {
				return wi
			}
		}
	}
	if pi, ok := e.plan.InstanceAt(ref, i.ScheduledStart); ok {
		if wi := e.insts[pi.ID]; wi != nil {
			return wi
		}
		// Not created yet (an output node waiting on this activity): a
		// transient view with its schedule times.
		return &inst{c: c, waits: pi.WaitsOn, Instance: store.Instance{ID: pi.ID, Component: ref, Type: c.typ,
			Kind: c.kind.String(), ScheduledStart: pi.Start, ScheduledEnd: pi.End, RunnableAt: pi.RunnableAt,
			Status: string(WaitingOnDependencies), Resource: pi.RunsOn}}
	}
	return nil
}

// Task objects.

func strField(k, v string) task.Field { return task.Field{Key: k, StringValue: &v} }
func refField(k, v string) task.Field { return task.Field{Key: k, RefValue: &v} }

// noFollow are ref fields whose targets a runner does not need.
var noFollow = map[string]bool{"parent": true, "dependsOn": true, "precondition": true, "onSuccess": true, "onFail": true, "onLateAction": true, "schedule": true, "@componentParent": true, "@instanceParent": true}

// objectFields evaluates a component's effective fields in scope s,
// mapping refs to linked instances; refs are returned for the closure.
func (e *engine) objectFields(s *objScope, evaluate bool) ([]task.Field, []string, error) {
	var fields []task.Field
	var refs []string
	for _, k := range s.eff.Keys {
		f := s.eff.Fields[k]
		for _, v := range f.Values {
			if v.IsRef {
				target := v.Ref
				if s.inst != nil {
					if ri := e.matchInstance(s.inst, k, v.Ref); ri != nil {
						target = ri.ID
					}
				}
				fields = append(fields, refField(k, target))
				if !noFollow[k] {
					refs = append(refs, target)
				}
				continue
			}
			if !evaluate {
				fields = append(fields, strField(k, v.Str))
				continue
			}
			ss, err := evalStrings(v.Str, s)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: field %s: %w", s.comp.ID, k, err)
			}
			for _, x := range ss {
				fields = append(fields, strField(k, x))
			}
		}
	}
	return fields, refs, nil
}

// instanceObject is an instance in the API shape.
func (e *engine) instanceObject(i *inst, evaluate bool) (*task.Object, []string, error) {
	fields, refs, err := e.objectFields(e.instScope(i, 0), evaluate)
	if err != nil {
		return nil, nil, err
	}
	fields = append(fields, e.runtimeFields(i)...)
	if i.node != nil {
		fields = append(fields, refField("node", i.node.ID))
		refs = append(refs, i.node.ID)
	}
	return &task.Object{ID: i.ID, Name: i.ID, Fields: fields}, refs, nil
}

func (e *engine) runtimeFields(i *inst) []task.Field {
	fs := []task.Field{
		strField("@sphere", string(SphereInstance)),
		refField("@componentParent", i.Component),
		strField("@status", i.Status),
		strField("@pipelineId", e.pipelineID),
		strField("@scheduledStartTime", fmtTime(i.ScheduledStart)),
		strField("@scheduledEndTime", fmtTime(i.ScheduledEnd)),
	}
	if !i.ActualStart.IsZero() {
		fs = append(fs, strField("@actualStartTime", fmtTime(i.ActualStart)))
	}
	if !i.ActualEnd.IsZero() {
		fs = append(fs, strField("@actualEndTime", fmtTime(i.ActualEnd)))
	}
	if i.CascadeFrom != "" {
		fs = append(fs, refField("@cascadeFailedOn", i.CascadeFrom))
	}
	for _, w := range i.WaitingOn {
		if e.insts[w] != nil {
			fs = append(fs, refField("@waitingOn", w))
		}
	}
	if i.ErrorID != "" {
		fs = append(fs, strField("errorId", i.ErrorID))
	}
	if i.ErrorMessage != "" {
		fs = append(fs, strField("errorMessage", i.ErrorMessage))
	}
	if i.ErrorStack != "" {
		fs = append(fs, strField("errorStackTrace", i.ErrorStack))
	}
	if i.Reason != "" {
		fs = append(fs, strField("cancellationReason", i.Reason))
	}
	if i.Kind == "precondition" {
		fs = append(fs, strField("currentRetryCount", strconv.Itoa(max(i.Attempts-1, 0))))
		if !i.LastCheck.IsZero() {
			fs = append(fs, strField("lastRetryTime", fmtTime(i.LastCheck)))
		}
	}
	return fs
}

// attemptObject is an attempt in the API shape: the instance's fields with
// the attempt's runtime fields.
func (e *engine) attemptObject(i *inst, a *store.Attempt, evaluate bool) (*task.Object, []string, error) {
	obj, refs, err := e.instanceObject(i, evaluate)
	if err != nil {
		return nil, nil, err
	}
	fs := obj.Fields[:0:0]
	for _, f := range obj.Fields {
		switch f.Key {
		case "@sphere", "@status", "@actualStartTime", "@actualEndTime", "errorId", "errorMessage", "errorStackTrace":
			continue
		}
		fs = append(fs, f)
	}
	fs = append(fs,
		strField("@sphere", string(SphereAttempt)),
		refField("@instanceParent", i.ID),
		strField("@status", a.Status),
		strField("@attempt", strconv.Itoa(a.N)),
	)
	if !a.ActualStart.IsZero() {
		fs = append(fs, strField("@actualStartTime", fmtTime(a.ActualStart)))
	}
	if !a.ActualEnd.IsZero() {
		fs = append(fs, strField("@actualEndTime", fmtTime(a.ActualEnd)))
	}
	if a.Hostname != "" {
		fs = append(fs, strField("hostname", a.Hostname))
	}
	if r := e.resourceFor(i); r != nil {
		fs = append(fs, strField("@resourceInstance", r.ID))
	}
	if a.ErrorID != "" {
		fs = append(fs, strField("errorId", a.ErrorID))
	}
	if a.ErrorMessage != "" {
		fs = append(fs, strField("errorMessage", a.ErrorMessage))
	}
	return &task.Object{ID: a.ID, Name: a.ID, Fields: fs}, refs, nil
}

// buildTask assembles a task: the attempt object and everything it refers
// to, evaluated.
func (e *engine) buildTask(i *inst, a *store.Attempt) (*task.Task, error) {
	obj, refs, err := e.attemptObject(i, a, true)
	if err != nil {
		return nil, err
	}
	t := &task.Task{TaskID: a.TaskID, PipelineID: e.pipelineID, AttemptID: a.ID, Objects: map[string]*task.Object{a.ID: obj}}
	type item struct {
		id    string
		depth int
	}
	queue := make([]item, 0, len(refs))
	for _, r := range refs {
		queue = append(queue, item{r, 1})
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if t.Objects[it.id] != nil || it.depth > 4 {
			continue
		}
		var o *task.Object
		var more []string
		if ri := e.insts[it.id]; ri != nil {
			o, more, err = e.instanceObject(ri, true)
		} else if ri := e.transientInstance(i, it.id); ri != nil {
			o, more, err = e.instanceObject(ri, true)
		} else if c := e.comps[it.id]; c != nil {
			var fs []task.Field
			fs, more, err = e.objectFields(e.componentScope(c.obj), true)
			o = &task.Object{ID: it.id, Name: c.obj.Name, Fields: fs}
		} else {
			continue
		}
		if err != nil {
			return nil, err
		}
		t.Objects[it.id] = o
		for _, m := range more {
			queue = append(queue, item{m, it.depth + 1})
		}
	}
	return t, nil
}

// transientInstance returns a not-yet-created instance (by id) linked from
// i, e.g. its output node.
func (e *engine) transientInstance(i *inst, id string) *inst {
	pi, ok := e.plan.Lookup(id)
	if !ok {
		return nil
	}
	return e.matchInstance(i, "output", pi.Component)
}

// API: task runner protocol.

func (e *engine) checkPipeline(id string) error {
	if id != "" && id != e.pipelineID {
		return fmt.Errorf("%w: %s", ErrPipelineNotFound, id)
	}
	return nil
}

// Activate implements API. The engine is activated by New; a second
// activation of a running pipeline is refused.
func (e *engine) Activate(_ context.Context, in ActivateInput) error {
	if err := e.checkPipeline(in.PipelineID); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return fmt.Errorf("%w: pipeline %s finished; start a new run (dpl run --fresh) to activate it again", ErrInvalidRequest, e.pipelineID)
	}
	return nil
}

// PollForTask implements API.
func (e *engine) PollForTask(ctx context.Context, in PollInput) (*task.Task, error) {
	var timeout <-chan time.Time
	for {
		e.mu.Lock()
		if t := e.handout(in); t != nil {
			e.mu.Unlock()
			// Not waiting for the write: should the process die before it
			// lands, the attempt is queued again on resume — the one in
			// flight runs twice, as after any crash.
			return t, nil
		}
		if e.done {
			e.mu.Unlock()
			return nil, nil
		}
		ready := e.readyCh
		e.mu.Unlock()
		if in.NoWait {
			return nil, nil
		}
		if timeout == nil {
			timeout = e.clock.After(PollTimeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout:
			return nil, nil
		case <-ready:
		}
	}
}

// handout gives the next queued attempt of the group to a runner.
func (e *engine) handout(in PollInput) *task.Task {
	g := in.WorkerGroup
	for len(e.queues[g]) > 0 {
		a := e.queues[g][0]
		e.queues[g] = e.queues[g][1:]
		i := e.insts[a.Instance]
		if i == nil || Status(a.Status) != WaitingForRunner {
			continue
		}
		now := e.now()
		e.taskSeq++
		a.TaskID = a.ID + "#" + strconv.Itoa(e.taskSeq)
		a.Status = string(Running)
		a.ActualStart = now
		a.Hostname = in.Hostname
		if e.opts.StateDir != "" {
			a.Stdout, a.Stderr = LogPaths(e.opts.StateDir, e.pipelineID, a.ID)
		}
		e.tasks[a.TaskID] = a
		e.cancels[a.TaskID] = make(chan struct{})
		e.inflight++
		t, err := e.buildTask(i, a)
		if err != nil {
			a.Status = string(Failed)
			a.ActualEnd = now
			a.ErrorID, a.ErrorMessage = "ExpressionError", err.Error()
			e.inflight--
			delete(e.cancels, a.TaskID)
			delete(e.tasks, a.TaskID)
			e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Failed, Error: a.ErrorMessage})
			e.attemptFailed(i, a, now)
			e.step()
			// The retry timer is new: the run loop must re-arm its sleep.
			e.flush()
			e.wake()
			continue
		}
		if i.ActualStart.IsZero() || i.Kind == "precondition" && Status(i.Status) != Running {
			if i.ActualStart.IsZero() {
				i.ActualStart = now
			}
		}
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Running})
		if a.Stdout != "" {
			e.emit(Event{Kind: EventLog, Component: i.Component, Instance: i.ID, Attempt: a.ID, Stdout: a.Stdout, Stderr: a.Stderr})
		}
		e.setStatus(i, Running, "")
		if i.c.attemptTO > 0 {
			e.addTimer(now.Add(i.c.attemptTO), i)
		}
		if remoteTask(a) {
			e.addTimer(now.Add(e.ackTimeout()), i)
		}
		e.flush()
		e.wake()
		return t
	}
	return nil
}

// TaskCanceled returns a channel closed when the engine ends the task
// itself (attempt timeout, cancel, Terminate, resource timeout): an
// in-process runner's shortcut for ReportTaskProgress's canceled flag.
// Unknown or already ended tasks give a closed channel.
func (e *engine) TaskCanceled(taskID string) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ch := e.cancels[taskID]; ch != nil {
		return ch
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

// ReportTaskProgress implements API.
func (e *engine) ReportTaskProgress(_ context.Context, taskID string, _ []task.Field) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	if a == nil {
		return false, fmt.Errorf("%w: %s", ErrTaskNotFound, taskID)
	}
	if Status(a.Status) == Running {
		now := e.now()
		a.Acked = true
		a.LastProgress = now
		if remoteTask(a) {
			// Remote progress is kept so a resumed engine knows when the
			// runner was last heard of. A local task's acknowledgement
			// needs no write of its own (it is saved with the result; a
			// local attempt running at a crash fails on resume anyway).
			e.saveAttempt(a)
			e.flush()
		}
		if i := e.insts[a.Instance]; i != nil && remoteTask(a) {
			e.addTimer(e.progressDeadline(i, a), i)
		}
	}
	return Status(a.Status) != Running, nil
}

// ReportTaskRunnerHeartbeat implements API: terminate once the run ended.
func (e *engine) ReportTaskRunnerHeartbeat(_ context.Context, _ HeartbeatInput) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done, nil
}

// SetTaskStatus implements API.
// The result is in the store when it returns.
func (e *engine) SetTaskStatus(ctx context.Context, taskID string, r task.Result) error {
	if err := e.setTaskStatus(ctx, taskID, r); err != nil {
		return err
	}
	return e.w.sync()
}

// SetTaskStatusQueued is SetTaskStatus for a runner in the engine's own
// process: it returns once the state changed, with the write queued. The
// runner and the engine share the process, so a crash before the write
// lands loses both; on resume the attempt counts as in flight and is
// retried, like any task running at a crash. Write errors end the run.
func (e *engine) SetTaskStatusQueued(ctx context.Context, taskID string, r task.Result) error {
	return e.setTaskStatus(ctx, taskID, r)
}

func (e *engine) setTaskStatus(_ context.Context, taskID string, r task.Result) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	if a == nil {
		return fmt.Errorf("%w: %s", ErrTaskNotFound, taskID)
	}
	if Status(a.Status) != Running {
		return nil // the engine already ended it (timeout, cancel)
	}
	if r.Status == task.Failed && r.ErrorID == ErrorIDRunnerShutdown {
		return e.releaseLocked(a, ErrorIDRunnerShutdown, r.ErrorMessage)
	}
	i := e.insts[a.Instance]
	now := e.now()
	delete(e.cancels, taskID)
	e.inflight--
	a.ActualEnd = now
	a.Result = string(r.Status)
	a.ErrorID, a.ErrorMessage, a.ErrorStack = r.ErrorID, r.ErrorMessage, r.ErrorStackTrace
	switch {
	case r.Status == task.Finished:
		a.Status = string(Finished)
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Finished})
		if i.Kind == "precondition" {
			i.LastCheck, i.LastResult = now, "TRUE"
		}
		i.ErrorID, i.ErrorMessage, i.ErrorStack = "", "", ""
		e.setStatus(i, Finished, "")
		e.fireActions(i, i.c.onSuccess, "success")
	case r.Status == task.False && i.Kind == "precondition":
		a.Status = string(Finished)
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Finished, Message: "precondition not met (FALSE)"})
		e.preconditionFalse(i, a, now)
	default:
		if r.Status != task.Failed && a.ErrorMessage == "" {
			a.ErrorMessage = fmt.Sprintf("runner reported status %q", r.Status)
		}
		if a.ErrorMessage == "" {
			a.ErrorMessage = "failed"
		}
		a.Status = string(Failed)
		e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: Failed, Error: a.ErrorMessage})
		if i.Kind == "precondition" {
			i.LastCheck, i.LastResult = now, "ERROR"
		}
		e.attemptFailed(i, a, now)
	}
	e.step()
	e.wake()
	return nil
}

func (e *engine) releaseTask(taskID, why string) error {
	if err := e.releaseTaskLocked(taskID, why); err != nil {
		return err
	}
	return e.w.sync()
}

func (e *engine) releaseTaskLocked(taskID, why string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.tasks[taskID]
	if a == nil {
		return fmt.Errorf("%w: %s", ErrTaskNotFound, taskID)
	}
	if Status(a.Status) != Running {
		return nil // already ended by the engine
	}
	return e.releaseLocked(a, ErrorIDReleased, why)
}

// releaseLocked ends a running attempt given back by its runner and
// queues the next one at once; the instance's failure count is untouched.
func (e *engine) releaseLocked(a *store.Attempt, errID, why string) error {
	i := e.insts[a.Instance]
	now := e.now()
	msg := "given back by runner " + a.Hostname
	if why != "" {
		msg += ": " + why
	}
	e.endAttempt(i, a, Canceled, errID, msg, now)
	if Status(i.Status).Terminal() {
		e.flush()
		return e.w.err()
	}
	e.startAttempt(i, now)
	e.step()
	e.wake()
	return e.w.err()
}
