package awsprov

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/period"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/task"
)

// Request is one AWS API call a provider would make for a resource.
type Request struct {
	API    string `json:"api"`    // RunInstances, RunJobFlow, AddJobFlowSteps, …
	Region string `json:"region"` // where it is sent
	// Input is the request as the SDK would send it (an SDK input struct
	// or a map), rendered as JSON; secrets are masked.
	Input any `json:"input"`
	// Note says what is decided only at run time (the AMI looked up, the
	// endpoint's address, the runner's key).
	Note string `json:"note,omitempty"`
}

// Planner is implemented by providers that can say, offline, which
// requests they would send for a resource instance. The spec's secret
// fields hold definition.Mask.
type Planner interface {
	Plan(env *Env, spec provider.Spec) ([]Request, error)
}

// ActivityPlanner is implemented by providers whose resource turns each
// activity attempt on it into requests of its own (EMR: AddJobFlowSteps).
// t is the activity instance's first attempt as the run would hand it out
// (built offline, secrets masked); spec is the resource's, as given to
// Plan.
type ActivityPlanner interface {
	PlanActivity(env *Env, spec provider.Spec, t *task.Task) ([]Request, error)
}

// PlannedResource is one resource instance's planned requests, and those
// of the activity instances that run on it.
type PlannedResource struct {
	Instance   string            `json:"instance"`
	Object     string            `json:"object"`
	Type       string            `json:"type"`
	Requests   []Request         `json:"requests"`
	Activities []PlannedActivity `json:"activities,omitempty"`
}

// PlannedActivity is one activity instance's requests on its resource.
type PlannedActivity struct {
	Instance string    `json:"instance"`
	Object   string    `json:"object"`
	Type     string    `json:"type"`
	Requests []Request `json:"requests"`
}

// PlanOptions say what to plan.
type PlanOptions struct {
	PipelineID string
	Routing    Routing
	Schedule   schedule.Request // window, params, now (JSON is ignored)
	Env        *Env             // DefaultAMI, Runner.Endpoint; AWS unused
}

// Plan lists the requests the AWS providers would send for every resource
// instance of d in the window that goes to AWS under opts.Routing. Fields
// are evaluated offline as `dpl plan` does (secrets masked); notes are the
// fields kept as written.
func Plan(d *definition.Definition, opts PlanOptions) (out []PlannedResource, notes []string, err error) {
	req := opts.Schedule
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	act := req.Activation
	if act.IsZero() {
		act = req.From
	}
	ev := &schedule.Evaluator{Def: d, Params: req.Params}
	p, err := schedule.Build(d, schedule.Options{Activation: act, Now: req.Now, Params: req.Params, Expand: ev.Expand})
	if err != nil {
		return nil, nil, err
	}
	ev.Plan = p
	env := opts.Env
	if env == nil {
		env = &Env{}
	}
	win := schedule.Window{From: req.From, To: req.To, Limit: req.Count}
	if req.To.IsZero() && req.Count == 0 {
		win.UnboundedLimit = schedule.DefaultCap
	}
	seen := map[string]bool{}
	keep := func(errs []error) {
		for _, e := range errs {
			if k := e.Error(); !seen[k] {
				seen[k] = true
				notes = append(notes, "note: kept as written: "+k)
			}
		}
	}
	var insts []schedule.Instance
	onResource := map[string][]schedule.Instance{}
	for inst := range p.All(win) {
		insts = append(insts, inst)
		if c := p.Component(inst.Component); c != nil && c.Kind == schedule.KindActivity && inst.RunsOn != "" {
			onResource[inst.RunsOn] = append(onResource[inst.RunsOn], inst)
		}
	}
	for _, inst := range insts {
		c := p.Component(inst.Component)
		if c == nil || c.Kind != schedule.KindResource || !opts.Routing.OnAWS(c.ID) {
			continue
		}
		prov, ok := env.Provider(c.Type)
		if !ok {
			continue
		}
		planner, ok := prov.(Planner)
		if !ok {
			continue
		}
		fields, errs := ev.Fields(inst)
		keep(errs)
		spec := specFromFields(opts.PipelineID, c, inst, fields)
		spec.Values = func(objectID, key string) []string {
			if objectID == "" {
				f, ok := byKey(fields, key)
				if !ok {
					return nil
				}
				return f.Values
			}
			return otherValues(d, ev, objectID, key)
		}
		reqs, err := planner.Plan(env, spec)
		if err != nil {
			return out, notes, fmt.Errorf("%s: %w", inst.ID, err)
		}
		pr := PlannedResource{Instance: inst.ID, Object: c.ID, Type: c.Type, Requests: reqs}
		if ap, ok := prov.(ActivityPlanner); ok {
			for _, ai := range onResource[inst.ID] {
				t, errs := offlineTask(opts.PipelineID, d, ev, p, ai)
				keep(errs)
				areqs, err := ap.PlanActivity(env, spec, t)
				if err != nil {
					return out, notes, fmt.Errorf("%s: %w", ai.ID, err)
				}
				pr.Activities = append(pr.Activities, PlannedActivity{Instance: ai.ID, Object: ai.Component, Type: p.Component(ai.Component).Type, Requests: areqs})
			}
		}
		out = append(out, pr)
	}
	return out, notes, nil
}

// offlineTask is the first attempt of activity instance inst as the run
// hands it to a runner: the attempt object with the instance's effective
// fields evaluated, and every object it refers to (four levels deep, as
// the engine's closure), evaluated in the scope of their instance at
// inst's start when they are scheduled. Secret fields hold Mask.
func offlineTask(pipelineID string, d *definition.Definition, ev *schedule.Evaluator, p *schedule.Plan, inst schedule.Instance) (*task.Task, []error) {
	attemptID := schedule.AttemptID(inst.ID, 1)
	fields, errs := ev.Fields(inst)
	a := objectOf(attemptID, fields)
	str := func(k, v string) task.Field { return task.Field{Key: k, StringValue: &v} }
	ref := func(k, v string) task.Field { return task.Field{Key: k, RefValue: &v} }
	a.Fields = append(a.Fields, ref("@componentParent", inst.Component), ref("@instanceParent", inst.ID),
		str("@attempt", "1"), str("@scheduledStartTime", inst.Start.UTC().Format(schedule.TimeLayout)),
		str("@scheduledEndTime", inst.End.UTC().Format(schedule.TimeLayout)))
	if inst.RunsOn != "" {
		a.Fields = append(a.Fields, str("@resourceInstance", inst.RunsOn))
	}
	t := &task.Task{TaskID: "plan-" + attemptID, PipelineID: pipelineID, AttemptID: attemptID, Objects: map[string]*task.Object{attemptID: a}}
	type item struct {
		id    string
		depth int
	}
	var queue []item
	for _, f := range fields {
		if f.Ref {
			for _, v := range f.Values {
				queue = append(queue, item{v, 1})
			}
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if t.Objects[it.id] != nil || it.depth > 4 {
			continue
		}
		var fs []schedule.FieldValue
		if ri, ok := p.InstanceAt(it.id, inst.Start); ok && p.Component(it.id) != nil && p.Component(it.id).Schedule != nil {
			var e []error
			fs, e = ev.Fields(ri)
			errs = append(errs, e...)
		} else if o := d.Object(it.id); o != nil {
			eff := d.Effective(o)
			for _, k := range eff.Keys {
				fv := schedule.FieldValue{Key: k}
				f := eff.Get(k)
				fv.Secret, fv.Ref = f.IsSecret(), len(f.Values) > 0 && f.Values[0].IsRef
				fv.Values = otherValues(d, ev, it.id, k)
				fs = append(fs, fv)
			}
		} else {
			continue
		}
		t.Objects[it.id] = objectOf(it.id, fs)
		for _, f := range fs {
			if f.Ref {
				for _, v := range f.Values {
					queue = append(queue, item{v, it.depth + 1})
				}
			}
		}
	}
	return t, errs
}

// objectOf is an object in the API shape from evaluated fields.
func objectOf(id string, fields []schedule.FieldValue) *task.Object {
	o := &task.Object{ID: id, Name: id}
	for _, f := range fields {
		for _, v := range f.Values {
			if f.Ref {
				o.Fields = append(o.Fields, task.Field{Key: f.Key, RefValue: &v})
			} else {
				o.Fields = append(o.Fields, task.Field{Key: f.Key, StringValue: &v})
			}
		}
	}
	return o
}

func byKey(fields []schedule.FieldValue, key string) (schedule.FieldValue, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return schedule.FieldValue{}, false
}

// otherValues evaluates a field of an object a resource refers to, offline
// (secret fields masked).
func otherValues(d *definition.Definition, ev *schedule.Evaluator, objectID, key string) []string {
	o := d.Object(objectID)
	if o == nil {
		return nil
	}
	f := d.Effective(o).Get(key)
	if f == nil {
		return nil
	}
	var out []string
	for _, v := range f.Values {
		switch {
		case f.IsSecret():
			out = append(out, definition.Mask)
		case v.IsRef:
			out = append(out, v.Ref)
		default:
			s, err := ev.Expand(objectID, key, v.Str)
			if err != nil {
				s = v.Str
			}
			out = append(out, s)
		}
	}
	return out
}

// specFromFields is the provider.Spec of a planned instance (activation 1,
// as a first run; secrets masked).
func specFromFields(pipelineID string, c *schedule.Component, inst schedule.Instance, fields []schedule.FieldValue) provider.Spec {
	byKey := map[string]schedule.FieldValue{}
	for _, f := range fields {
		byKey[f.Key] = f
	}
	spec := provider.Spec{PipelineID: pipelineID, Activation: 1, Object: c.ID, InstanceID: inst.ID, Type: c.Type,
		Field: func(key string) (string, bool) {
			f, ok := byKey[key]
			if !ok || len(f.Values) == 0 {
				return "", false
			}
			if f.Secret {
				return definition.Mask, true
			}
			return strings.Join(f.Values, ","), true
		}}
	// The engine's durations, as the providers get them at run time.
	for key, dst := range map[string]*time.Duration{"terminateAfter": &spec.TerminateAfter, "initTimeout": &spec.InitTimeout} {
		if v, ok := spec.Field(key); ok {
			if p, err := period.Parse(v); err == nil {
				*dst = p.Approx()
			} else if n, err := strconv.Atoi(v); err == nil && n > 0 {
				*dst = time.Duration(n) * time.Hour // EmrCluster: bare hours
			}
		}
	}
	return spec
}

// WritePlan writes planned requests: JSON (one document) or text (each
// instance, then each request as indented JSON).
func WritePlan(w io.Writer, planned []PlannedResource, asJSON bool) error {
	for i := range planned {
		for j := range planned[i].Requests {
			planned[i].Requests[j].Input = prune(planned[i].Requests[j].Input)
		}
	}
	if asJSON {
		if planned == nil {
			planned = []PlannedResource{}
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(planned)
	}
	if len(planned) == 0 {
		_, err := fmt.Fprintf(w, "no resource instance goes to AWS: none of the definition's resources of a type with an AWS provider (%s) is routed there\n", strings.Join(Types(), ", "))
		return err
	}
	for _, pr := range planned {
		fmt.Fprintf(w, "%s (%s):\n", pr.Instance, pr.Type)
		for _, r := range pr.Requests {
			fmt.Fprintf(w, "  %s in %s", r.API, r.Region)
			if r.Note != "" {
				fmt.Fprintf(w, " — %s", r.Note)
			}
			fmt.Fprintln(w)
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.SetIndent("    ", "  ")
			if err := enc.Encode(r.Input); err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "    %s", b.String()); err != nil {
				return err
			}
		}
		for _, pa := range pr.Activities {
			fmt.Fprintf(w, "  on it, %s (%s):\n", pa.Instance, pa.Type)
			for _, r := range pa.Requests {
				fmt.Fprintf(w, "    %s in %s", r.API, r.Region)
				if r.Note != "" {
					fmt.Fprintf(w, " — %s", r.Note)
				}
				fmt.Fprintln(w)
				if r.Input == nil {
					continue
				}
				b, err := json.MarshalIndent(r.Input, "      ", "  ")
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(w, "      %s\n", b); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// prune drops the unset (null, empty) members of a request as rendered in
// JSON: SDK input structs carry every optional field of the API.
func prune(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var generic any
	if json.Unmarshal(b, &generic) != nil {
		return v
	}
	out, _ := pruneValue(generic)
	return out
}

func pruneValue(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case map[string]any:
		for k, x := range t {
			if px, ok := pruneValue(x); ok {
				t[k] = px
			} else {
				delete(t, k)
			}
		}
		return t, len(t) > 0
	case []any:
		var out []any
		for _, x := range t {
			if px, ok := pruneValue(x); ok {
				out = append(out, px)
			}
		}
		return out, len(out) > 0
	case string:
		return t, t != ""
	}
	return v, true
}
