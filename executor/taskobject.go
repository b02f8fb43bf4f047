// Task objects: instances and attempts in the API shape, with scopes.

package executor

import (
	"fmt"
	"strconv"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/task"
)

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
		return &inst{c: c, waits: pi.WaitsOn, Instance: runstore.Instance{ID: pi.ID, Component: ref, Type: c.typ,
			Kind: c.kind.String(), ScheduledStart: pi.Start, ScheduledEnd: pi.End, RunnableAt: pi.RunnableAt,
			Status: string(WaitingOnDependencies), Resource: pi.RunsOn}}
	}
	return nil
}

func strField(k, v string) task.Field { return task.Field{Key: k, StringValue: &v} }

func refField(k, v string) task.Field { return task.Field{Key: k, RefValue: &v} }

// noFollow are ref fields whose targets a runner does not need.
var noFollow = map[string]bool{"parent": true, "dependsOn": true, "precondition": true, "onSuccess": true, "onFail": true, "onLateAction": true, "schedule": true, "@componentParent": true, "@instanceParent": true}

// objectFields evaluates a component's effective fields, in the scope of
// instance i (nil: the component itself), mapping refs to linked
// instances; refs are returned for the closure.
func (e *engine) objectFields(o *definition.Object, i *inst, evaluate bool) ([]task.Field, []string, error) {
	var fields []task.Field
	var refs []string
	eff := e.res.Effective(o)
	var s expr.Scope
	if i != nil {
		s = e.instScope(i)
	} else {
		s = e.componentScope(o)
	}
	for _, k := range eff.Keys {
		f := eff.Get(k)
		for _, v := range f.Values {
			if v.IsRef {
				target := v.Ref
				if i != nil {
					if ri := e.matchInstance(i, k, v.Ref); ri != nil {
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
			ss, err := e.evalStrings(v.Str, s)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: field %s: %w", o.ID, k, err)
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
	fields, refs, err := e.objectFields(i.c.obj, i, evaluate)
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
func (e *engine) attemptObject(i *inst, a *runstore.Attempt, evaluate bool) (*task.Object, []string, error) {
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
	if a.ErrorStack != "" {
		fs = append(fs, strField("errorStackTrace", a.ErrorStack))
	}
	if a.EmrStepLog != "" {
		fs = append(fs, strField("emrStepLog", a.EmrStepLog))
	}
	if a.HadoopJobLog != "" {
		fs = append(fs, strField("hadoopJobLog", a.HadoopJobLog))
	}
	return &task.Object{ID: a.ID, Name: a.ID, Fields: fs}, refs, nil
}

// buildTask assembles a task: the attempt object and everything it refers
// to, evaluated.
func (e *engine) buildTask(i *inst, a *runstore.Attempt) (*task.Task, error) {
	obj, refs, err := e.attemptObject(i, a, true)
	if err != nil {
		return nil, err
	}
	t := &task.Task{TaskID: a.TaskID, PipelineID: e.pipelineID, AttemptID: a.ID, Objects: map[string]*task.Object{a.ID: obj}}
	if err := e.addClosure(i, t.Objects, refs); err != nil {
		return nil, err
	}
	return t, nil
}

// addClosure adds to objs every object refs lead to (four levels deep),
// evaluated in the scope of instance i.
func (e *engine) addClosure(i *inst, objs map[string]*task.Object, refs []string) error {
	var err error
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
		if objs[it.id] != nil || it.depth > 4 {
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
			fs, more, err = e.objectFields(c.obj, nil, true)
			o = &task.Object{ID: it.id, Name: c.obj.Name, Fields: fs}
		} else {
			continue
		}
		if err != nil {
			return err
		}
		objs[it.id] = o
		for _, m := range more {
			queue = append(queue, item{m, it.depth + 1})
		}
	}
	return nil
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
