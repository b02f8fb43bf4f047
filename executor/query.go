// QueryObjects, DescribeObjects and EvaluateExpression.

package executor

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
	"github.com/dpl-dev/dpl/executor/runstore"
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

func instFields(i *runstore.Instance, name string) func(string) (string, bool) {
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

// maskSecrets hides secrets in what DescribeObjects returns: the values of
// `*` fields, and secret values (of `*` parameters and fields) expanded
// into ordinary fields. Secrets go to runners in tasks, never to viewers.
func (e *engine) maskSecrets(o *task.Object) *task.Object {
	if !e.secretsKnown {
		e.secrets, e.secretsKnown = e.res.Secrets(), true
	}
	for k, f := range o.Fields {
		if f.StringValue == nil {
			continue
		}
		m := definition.Mask
		if !strings.HasPrefix(f.Key, "*") {
			m = definition.MaskText(*f.StringValue, e.secrets)
		}
		o.Fields[k].StringValue = &m
	}
	return o
}

func (e *engine) describe(id string, evaluate bool) (*task.Object, error) {
	o, err := e.describeRaw(id, evaluate)
	if err != nil {
		return nil, err
	}
	return e.maskSecrets(o), nil
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
		fs, _, err := e.objectFields(c.obj, nil, evaluate)
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
	var s expr.Scope
	switch {
	case e.insts[objectID] != nil:
		s = e.instScope(e.insts[objectID])
	case e.atts[objectID] != nil:
		s = e.instScope(e.insts[e.atts[objectID].Instance])
	case e.comps[objectID] != nil:
		s = e.componentScope(e.comps[objectID].obj)
	default:
		return "", fmt.Errorf("%w: no object %q", ErrTaskNotFound, objectID)
	}
	ss, err := e.evalStrings(expression, s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	return strings.Join(ss, ","), nil
}
