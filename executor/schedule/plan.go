package schedule

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
)

// MaxRollup is the service's limit of instances rolled up into one object.
const MaxRollup = 32

// ExpandFunc evaluates the #{...} expressions in a raw field value of a
// component (used for Schedule fields such as startDateTime:
// "#{myStartDate}"). A nil ExpandFunc leaves values as written.
type ExpandFunc func(objectID, key, raw string) (string, error)

// Options tune Build.
type Options struct {
	// Activation is when the pipeline is (first) activated: the start of
	// startAt FIRST_ACTIVATION_DATE_TIME schedules and of on-demand runs.
	// Zero means Now.
	Activation time.Time
	// Now decides which instances are backfill. Zero means time.Now().
	Now time.Time
	// Params override the definition's parameter values (--param).
	Params Params
	// Expand evaluates expressions in schedule fields (startDateTime:
	// "#{myStart}"); nil uses an Evaluator over the definition's
	// parameters (values, then defaults) with Params on top.
	Expand ExpandFunc
}

// Warning is a non-blocking finding about the plan.
type Warning struct {
	Code     string // "no-schedule", "backfill-1-day", "backfill-cascade", "rollup", "cycle", "ondemand-implied"
	ObjectID string
	Message  string
}

func (w Warning) String() string {
	if w.ObjectID == "" {
		return w.Message
	}
	return w.ObjectID + ": " + w.Message
}

// Plan is the compiled schedule of a definition: its components, linked.
type Plan struct {
	Components []*Component // in topological order (Order == index)
	OnDemand   bool         // the pipeline runs once per activation
	Activation time.Time
	Now        time.Time
	Warnings   []Warning

	byID map[string]*Component
}

// Component returns the schedulable component with the given id, or nil.
func (p *Plan) Component(id string) *Component { return p.byID[id] }

// Build compiles a resolved definition. It fails only when a schedule that
// a component uses cannot be read (bad period or DateTime); components
// without a schedule are reported in Warnings and get no instances.
func Build(d *definition.Definition, opts Options) (*Plan, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	act := opts.Activation
	if act.IsZero() {
		act = now
	}
	p := &Plan{Activation: act.UTC(), Now: now.UTC(), byID: map[string]*Component{}}
	if opts.Expand == nil {
		opts.Expand = (&Evaluator{Def: d, Params: opts.Params}).Expand
	}

	defType := Timeseries
	var hasSchedule bool
	for _, o := range d.Objects {
		if d.Effective(o).Type == "Schedule" {
			hasSchedule = true
		}
	}
	if def := d.Object(definition.DefaultID); def != nil {
		t, err := ParseType(expand(opts.Expand, def.ID, "scheduleType", d.Effective(def).Str("scheduleType")))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", def.ID, err)
		}
		defType = t
	}
	p.OnDemand = defType == OnDemand

	schedules := map[string]*Schedule{}
	scheduleOf := func(id string) (*Schedule, error) {
		if s, ok := schedules[id]; ok {
			return s, nil
		}
		o := d.Object(id)
		if o == nil {
			return nil, nil
		}
		xo, err := expandObject(d, o, opts.Expand)
		if err != nil {
			return nil, err
		}
		s, err := FromObject(d, xo, p.Activation)
		if err != nil {
			return nil, err
		}
		schedules[id] = s
		return s, nil
	}

	var comps []*Component
	for _, o := range d.Objects {
		if o.ID == definition.DefaultID {
			continue
		}
		if _, dup := p.byID[o.ID]; dup {
			continue
		}
		e := d.Effective(o)
		k := KindOf(e.Type)
		if !k.Schedulable() {
			continue
		}
		c := &Component{ID: o.ID, Type: e.Type, Kind: k}
		st, err := ParseType(expand(opts.Expand, o.ID, "scheduleType", e.Str("scheduleType")))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.ID, err)
		}
		c.ScheduleType = st
		if st == OnDemand {
			p.OnDemand = true
		}
		if refs := e.Refs("schedule"); len(refs) > 0 {
			if c.Schedule, err = scheduleOf(refs[0]); err != nil {
				return nil, fmt.Errorf("schedule of %s: %w", o.ID, err)
			}
		}
		c.Inputs = e.Refs("input")
		c.Outputs = e.Refs("output")
		c.DependsOn = e.Refs("dependsOn")
		c.Preconditions = e.Refs("precondition")
		if r := e.Refs("runsOn"); len(r) > 0 {
			c.RunsOn = r[0]
		}
		p.byID[o.ID] = c
		comps = append(comps, c)
	}
	if !p.OnDemand && !hasSchedule && len(comps) > 0 {
		p.OnDemand = true
		p.Warnings = append(p.Warnings, Warning{Code: "ondemand-implied",
			Message: "no Schedule object and no scheduleType ondemand: planned as an on-demand pipeline (one run per activation)"})
	}
	for _, c := range comps {
		if c.Schedule != nil && c.Schedule.OnDemand {
			p.OnDemand = true
		}
	}
	onDemand := &Schedule{ID: OnDemandPeriod, OnDemand: true, Start: p.Activation, End: p.Activation, Occurrences: 1}
	for _, c := range comps {
		switch {
		case p.OnDemand:
			c.Schedule, c.ScheduleType = onDemand, OnDemand
		case c.Schedule == nil:
			p.Warnings = append(p.Warnings, Warning{Code: "no-schedule", ObjectID: c.ID,
				Message: "no schedule (own, inherited or on Default): no instances planned"})
		}
	}
	p.link(comps)
	p.order(comps)
	p.checkRollups()
	p.checkBackfill(d)
	return p, nil
}

// link fills the component graph, ignoring refs to non-schedulable or
// unscheduled objects.
func (p *Plan) link(comps []*Component) {
	for _, c := range comps {
		for _, out := range c.Outputs {
			if n := p.byID[out]; n != nil && n.Kind == KindDataNode && !slices.Contains(n.Producers, c.ID) {
				n.Producers = append(n.Producers, c.ID)
			}
		}
	}
	for _, c := range comps {
		seen := map[string]bool{c.ID: true}
		for _, ids := range [][]string{c.Inputs, c.DependsOn, c.Producers} {
			for _, id := range ids {
				if b := p.byID[id]; b != nil && !seen[id] && b.Schedule != nil {
					seen[id] = true
					c.waits = append(c.waits, b)
				}
			}
		}
		if r := p.byID[c.RunsOn]; r != nil && r.Kind == KindResource && r.Schedule != nil {
			c.runs = r
		}
	}
}

// order sorts the components topologically (dependencies first, ties by
// id); members of a cycle are appended by id with a warning.
func (p *Plan) order(comps []*Component) {
	indeg := map[*Component]int{}
	users := map[*Component][]*Component{}
	for _, c := range comps {
		deps := c.waits
		if c.runs != nil {
			deps = append(slices.Clip(deps), c.runs)
		}
		for _, b := range deps {
			indeg[c]++
			users[b] = append(users[b], c)
		}
	}
	byID := func(a, b *Component) int { return strings.Compare(a.ID, b.ID) }
	// Kahn's algorithm taking the smallest id among the ready components
	// (a heap: re-sorting the ready list each time is quadratic on wide
	// pipelines such as a fan-in over thousands of activities).
	ready := &byIDHeap{}
	var out []*Component
	for _, c := range comps {
		if indeg[c] == 0 {
			heap.Push(ready, c)
		}
	}
	for ready.Len() > 0 {
		c := heap.Pop(ready).(*Component)
		out = append(out, c)
		for _, u := range users[c] {
			if indeg[u]--; indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(out) < len(comps) {
		var rest []*Component
		for _, c := range comps {
			if indeg[c] > 0 {
				rest = append(rest, c)
			}
		}
		slices.SortFunc(rest, byID)
		ids := make([]string, len(rest))
		for i, c := range rest {
			ids[i] = c.ID
		}
		p.Warnings = append(p.Warnings, Warning{Code: "cycle", ObjectID: ids[0],
			Message: "dependency cycle among " + strings.Join(ids, ", ") + ": their instances can never run"})
		out = append(out, rest...)
	}
	for i, c := range out {
		c.Order = i
	}
	p.Components = out
}

// byIDHeap is a min-heap of components by id (container/heap).
type byIDHeap []*Component

func (h byIDHeap) Len() int           { return len(h) }
func (h byIDHeap) Less(i, j int) bool { return h[i].ID < h[j].ID }
func (h byIDHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *byIDHeap) Push(x any)        { *h = append(*h, x.(*Component)) }
func (h *byIDHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// checkRollups warns when more than MaxRollup instances share one resource
// interval (estimated from the nominal period lengths).
func (p *Plan) checkRollups() {
	for _, r := range p.Components {
		if r.Kind != KindResource || r.Schedule == nil || r.Schedule.OnDemand {
			continue
		}
		n := 0
		for _, c := range p.Components {
			if c.runs == r && c.Schedule != nil && !c.Schedule.OnDemand {
				per := c.Schedule.Length()
				n += int((r.Schedule.Length() + per - 1) / per)
			}
		}
		if n > MaxRollup {
			p.Warnings = append(p.Warnings, Warning{Code: "rollup", ObjectID: r.ID,
				Message: fmt.Sprintf("about %d instances share each %s interval; the service rolls up at most %d", n, r.Schedule.Period, MaxRollup)})
		}
	}
}

// checkBackfill records the 1-day rule and the cascade warning.
func (p *Plan) checkBackfill(d *definition.Definition) {
	if p.OnDemand {
		return
	}
	dayAgo := p.Now.Add(-24 * time.Hour)
	warned := map[string]bool{}
	for _, c := range p.Components {
		s := c.Schedule
		if s == nil || !s.Start.Before(p.Now) || s.FromActivation {
			continue
		}
		if s.Start.Before(dayAgo) && !warned[s.ID] {
			warned[s.ID] = true
			p.Warnings = append(p.Warnings, Warning{Code: "backfill-1-day", ObjectID: s.ID,
				Message: fmt.Sprintf("starts %s, more than 1 day before now (%s): all past periods are backfilled at once; the service may refuse this activation (1-day rule)",
					s.Start.Format(TimeLayout), p.Now.Format(TimeLayout))})
		}
		if o := d.Object(c.ID); o != nil && !warned["cascade "+s.ID] && strings.EqualFold(d.Effective(o).Str("failureAndRerunMode"), "cascade") {
			warned["cascade "+s.ID] = true
			p.Warnings = append(p.Warnings, Warning{Code: "backfill-cascade", ObjectID: c.ID,
				Message: fmt.Sprintf("has 'failureAndRerunMode' field set to 'cascade' and you are about to create a backfill with scheduleStartTime %s", s.Start.Format(TimeLayout))})
		}
	}
}

func expand(f ExpandFunc, id, key, raw string) string {
	if f == nil || !strings.Contains(raw, "#{") {
		return raw
	}
	if v, err := f(id, key, raw); err == nil {
		return v
	}
	return raw
}

// expandObject returns a copy of a Schedule object whose schedule fields
// have their expressions evaluated (the original stays untouched).
func expandObject(d *definition.Definition, o *definition.Object, f ExpandFunc) (*definition.Object, error) {
	e := d.Effective(o)
	cp := &definition.Object{ID: o.ID, Name: o.Name, HasName: o.HasName, Pos: o.Pos}
	for _, k := range []string{"type", "period", "startDateTime", "startAt", "endDateTime", "occurrences"} {
		fld := e.Get(k)
		if fld == nil || len(fld.Values) == 0 || fld.Values[0].IsRef {
			continue
		}
		v := fld.Values[0]
		if strings.Contains(v.Str, "#{") {
			x, err := f(o.ID, k, v.Str)
			if err != nil {
				return nil, &Error{ObjectID: o.ID, Field: k, Pos: fld.Pos, Err: err}
			}
			v.Str = x
		}
		cp.Fields = append(cp.Fields, &definition.Field{Key: k, Values: []definition.Value{v}, Pos: fld.Pos})
	}
	cp.Fields = append(cp.Fields, &definition.Field{Key: "parent", Values: nil})
	return cp, nil
}
