package awsprov

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/schedule"
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

// PlannedResource is one resource instance's planned requests.
type PlannedResource struct {
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
	for inst := range p.All(win) {
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
		for _, e := range errs {
			if k := e.Error(); !seen[k] {
				seen[k] = true
				notes = append(notes, "note: kept as written: "+k)
			}
		}
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
		out = append(out, PlannedResource{Instance: inst.ID, Object: c.ID, Type: c.Type, Requests: reqs})
	}
	return out, notes, nil
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
	return provider.Spec{PipelineID: pipelineID, Activation: 1, Object: c.ID, InstanceID: inst.ID, Type: c.Type,
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
}

// WritePlan writes planned requests: JSON (one document) or text (each
// instance, then each request as indented JSON).
func WritePlan(w io.Writer, planned []PlannedResource, asJSON bool) error {
	if asJSON {
		if planned == nil {
			planned = []PlannedResource{}
		}
		enc := json.NewEncoder(w)
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
			b, err := json.MarshalIndent(r.Input, "    ", "  ")
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "    %s\n", b); err != nil {
				return err
			}
		}
	}
	return nil
}
