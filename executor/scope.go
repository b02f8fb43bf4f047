package executor

import (
	"strconv"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
)

// The engine evaluates expressions with definition.Resolver, the one scope
// of dpl (parameters, inheritance, refs, the nesting limit); what it adds
// is run time, through the bindings below: which instance an object
// stands for, its @ fields, node, and the instances refs lead to.

// instBinding binds a component's scope to one of its instances.
type instBinding struct {
	e *engine
	i *inst
}

var _ definition.Binding = instBinding{}

func (b instBinding) ID() string { return b.i.ID }

// Runtime returns the instance's @ fields. The runtime fields of
// attempts (errorMessage, ...) are the service's too; they go here.
func (b instBinding) Runtime(name string) (expr.Value, bool) {
	i := b.i
	switch name {
	case "@pipelineId":
		return expr.String(b.e.pipelineID), true
	case "@scheduledStartTime":
		return expr.DateTime(i.ScheduledStart), true
	case "@scheduledEndTime":
		return expr.DateTime(i.ScheduledEnd), true
	case "@status":
		return expr.String(i.Status), true
	case "@id":
		return expr.String(i.ID), true
	case "@sphere":
		return expr.String(string(SphereInstance)), true
	case "@componentParent":
		return expr.Obj(b.e.componentScope(i.c.obj)), true
	case "@actualStartTime":
		if !i.ActualStart.IsZero() {
			return expr.DateTime(i.ActualStart), true
		}
	case "@actualEndTime":
		if !i.ActualEnd.IsZero() {
			return expr.DateTime(i.ActualEnd), true
		}
	}
	if v, ok := b.runtimeField(name); ok {
		return expr.String(v), true
	}
	return expr.Value{}, false
}

// runtimeField is one of the fields the service sets on instances and
// attempts at run time (runtime.md): the latest attempt's when it has one.
// Unset, it is empty — as the service renders it — never an unknown name,
// so `#{node.errorMessage}` in an alarm works whether or not it failed.
func (b instBinding) runtimeField(name string) (string, bool) {
	i, a := b.i, b.i.att
	switch name {
	case "errorMessage":
		if i.ErrorMessage == "" && a != nil {
			return a.ErrorMessage, true
		}
		return i.ErrorMessage, true
	case "errorId":
		if i.ErrorID == "" && a != nil {
			return a.ErrorID, true
		}
		return i.ErrorID, true
	case "errorStackTrace":
		if i.ErrorStack == "" && a != nil {
			return a.ErrorStack, true
		}
		return i.ErrorStack, true
	case "cancellationReason":
		return i.Reason, true
	case "hostname":
		if a != nil {
			return a.Hostname, true
		}
		return "", true
	case "currentRetryCount":
		return strconv.Itoa(max(i.Attempts-1, 0)), true
	case "lastRetryTime":
		switch {
		case i.Kind == "precondition":
			return fmtTime(i.LastCheck), true
		case a != nil && a.N > 1:
			return fmtTime(a.ActualStart), true
		}
		return "", true
	case "reportProgressTime":
		if a != nil {
			return fmtTime(a.LastProgress), true
		}
		return "", true
	case "@attemptCount":
		return strconv.Itoa(i.Attempts), true
	case "emrStepLog":
		if a != nil {
			return a.EmrStepLog, true
		}
		return "", true
	case "hadoopJobLog":
		if a != nil {
			return a.HadoopJobLog, true
		}
		return "", true
	case "@resourceId", "@healthStatus":
		return "", true // set by EC2 on the service; no local equivalent
	}
	return "", false
}

func (b instBinding) Node() (*definition.Object, definition.Binding) {
	if b.i.node == nil {
		return nil, nil
	}
	return b.i.node.c.obj, instBinding{b.e, b.i.node}
}

// Ref leads to the instance of a scheduled component that this instance
// is linked to through key, else to the component itself.
func (b instBinding) Ref(key string, target *definition.Object) definition.Binding {
	if ri := b.e.matchInstance(b.i, key, target.ID); ri != nil {
		return instBinding{b.e, ri}
	}
	return compBinding{e: b.e}
}

// compBinding binds a component's scope to the component itself (no
// instance); node is set for actions, which are evaluated for the
// instance whose onFail/onSuccess/onLateAction fired them.
type compBinding struct {
	e    *engine
	node *inst
}

var _ definition.Binding = compBinding{}

func (b compBinding) ID() string { return "" }

func (b compBinding) Runtime(name string) (expr.Value, bool) {
	if name == "@pipelineId" {
		return expr.String(b.e.pipelineID), true
	}
	return expr.Value{}, false
}

func (b compBinding) Node() (*definition.Object, definition.Binding) {
	if b.node == nil {
		return nil, nil
	}
	return b.node.c.obj, instBinding{b.e, b.node}
}

func (b compBinding) Ref(string, *definition.Object) definition.Binding { return compBinding{e: b.e} }

// componentScope evaluates in a component's own context (no instance).
func (e *engine) componentScope(o *definition.Object) expr.Object {
	return e.res.Scope(o, compBinding{e: e})
}

// instScope evaluates in an instance's context: its component's fields
// plus the instance's runtime fields.
func (e *engine) instScope(i *inst) expr.Object {
	return e.res.Scope(i.c.obj, instBinding{e, i})
}

// actionScope evaluates an action's fields with node bound to i.
func (e *engine) actionScope(c *comp, i *inst) expr.Object {
	return e.res.Scope(c.obj, compBinding{e: e, node: i})
}

// evalStrings evaluates a raw field value to its string form(s).
func (e *engine) evalStrings(src string, s expr.Scope) ([]string, error) {
	v, err := e.res.Eval(src, s)
	if err != nil {
		return nil, err
	}
	if v.IsList() {
		return v.StringList(), nil
	}
	return []string{render(v)}, nil
}

// render writes a value as a field value: DateTimes in the service's
// layout.
func render(v expr.Value) string {
	if v.Kind() == expr.KindDateTime {
		return v.Time().UTC().Format(timeLayout)
	}
	return v.String()
}

const timeLayout = "2006-01-02T15:04:05"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}
