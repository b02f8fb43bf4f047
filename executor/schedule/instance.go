package schedule

import (
	"iter"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Instance is one component's run for one interval (or one activation).
type Instance struct {
	ID         string // @<componentId>_<scheduledStartTime>
	Component  string
	Start, End time.Time // @scheduledStartTime, @scheduledEndTime (UTC)
	RunnableAt time.Time // cron and resources: Start; timeseries: End
	Index      int       // interval number from the schedule's start (0 for on-demand)
	// WaitsOn lists the instance ids this one waits for: instances of its
	// inputs, of its dependsOn targets and, for a data node, of the
	// activities producing it. Preconditions are listed separately.
	WaitsOn       []string
	Preconditions []string // precondition object ids, evaluated per instance
	RunsOn        string   // resource instance id, "" when none
	Backfill      bool     // RunnableAt is before the plan's Now: runnable at once
}

// InstanceID returns the service's id for a component's instance.
func InstanceID(componentID string, start time.Time) string {
	b := make([]byte, 0, len(componentID)+21)
	return string(appendInstanceID(b, componentID, start))
}

func appendInstanceID(b []byte, componentID string, start time.Time) []byte {
	b = append(b, '@')
	b = append(b, componentID...)
	b = append(b, '_')
	return appendTime(b, start)
}

// appendTime formats t as yyyy-MM-dd'T'HH:mm:ss in UTC without the
// general layout interpreter (this runs for every planned instance).
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	h, mi, s := t.Clock()
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10))
}

// AttemptID returns the id of attempt n (1-based) of an instance.
func AttemptID(instanceID string, n int) string {
	return instanceID + "_Attempt=" + strconv.Itoa(n)
}

// ParseInstanceID splits an instance id (or an attempt id, whose attempt
// number is returned too; 0 for an instance id).
func ParseInstanceID(id string) (componentID string, start time.Time, attempt int, ok bool) {
	if i := strings.LastIndex(id, "_Attempt="); i >= 0 {
		n, err := strconv.Atoi(id[i+len("_Attempt="):])
		if err != nil || n < 1 {
			return "", time.Time{}, 0, false
		}
		attempt, id = n, id[:i]
	}
	if len(id) < 2+len(TimeLayout) || id[0] != '@' || id[len(id)-len(TimeLayout)-1] != '_' {
		return "", time.Time{}, 0, false
	}
	t, err := time.Parse(TimeLayout, id[len(id)-len(TimeLayout):])
	if err != nil {
		return "", time.Time{}, 0, false
	}
	return id[1 : len(id)-len(TimeLayout)-1], t, attempt, true
}

// Skipped reports whether an activation with startTimestamp skips the
// instance: its interval started before that time (status SKIPPED).
func Skipped(inst Instance, startTimestamp time.Time) bool {
	return inst.Start.Before(startTimestamp)
}

// runnableAt applies the scheduleType rule.
func (c *Component) runnableAt(start, end time.Time) time.Time {
	if c.Kind == KindResource || c.ScheduleType == Cron || c.ScheduleType == OnDemand {
		return start
	}
	return end
}

// Instance returns interval k of the component, linked; ok is false when
// the component has no such interval.
func (p *Plan) Instance(componentID string, k int) (Instance, bool) {
	c := p.byID[componentID]
	if c == nil || c.Schedule == nil || !c.Schedule.Has(k) {
		return Instance{}, false
	}
	return p.instance(c, k, nil), true
}

// InstanceAt returns the component's instance whose interval contains t.
func (p *Plan) InstanceAt(componentID string, t time.Time) (Instance, bool) {
	c := p.byID[componentID]
	if c == nil || c.Schedule == nil {
		return Instance{}, false
	}
	return p.Instance(componentID, c.Schedule.IndexAt(t))
}

// Lookup returns the instance with the given id, if the plan creates it.
func (p *Plan) Lookup(instanceID string) (Instance, bool) {
	comp, start, attempt, ok := ParseInstanceID(instanceID)
	if !ok || attempt != 0 {
		return Instance{}, false
	}
	c := p.byID[comp]
	if c == nil || c.Schedule == nil {
		return Instance{}, false
	}
	k := c.Schedule.IndexAt(start)
	if s, _ := c.Schedule.Interval(k); !s.Equal(start) || !c.Schedule.Has(k) {
		return Instance{}, false
	}
	return p.instance(c, k, nil), true
}

// instance builds interval k of c; buf, when non-nil, is reused for ids.
func (p *Plan) instance(c *Component, k int, ids *idArena) Instance {
	start, end := c.Schedule.Interval(k)
	inst := Instance{
		ID:            ids.id(c.ID, start),
		Component:     c.ID,
		Start:         start,
		End:           end,
		RunnableAt:    c.runnableAt(start, end),
		Index:         k,
		Preconditions: c.Preconditions,
	}
	// A schedule that starts at the activation (startAt
	// FIRST_ACTIVATION_DATE_TIME, on-demand) runs its first instance then,
	// as the service does: that is the activation, not a backfill.
	inst.Backfill = inst.RunnableAt.Before(p.Now) && (c.Schedule == nil || !c.Schedule.FromActivation && !c.Schedule.OnDemand)
	if len(c.waits) > 0 {
		var waits []string
		if ids != nil {
			waits = ids.scratch[:0]
		}
		for _, b := range c.waits {
			waits = appendLinks(waits, c, b, start, end, ids)
		}
		inst.WaitsOn = ids.list(waits)
	}
	if r := c.runs; r != nil {
		if j := r.Schedule.IndexAt(start); r.Schedule.Has(j) {
			rs, _ := r.Schedule.Interval(j)
			inst.RunsOn = ids.id(r.ID, rs)
		}
	}
	return inst
}

// appendLinks adds the ids of b's instances that an instance of c over
// [start, end) waits on (see the package rules).
func appendLinks(ids []string, c, b *Component, start, end time.Time, arena *idArena) []string {
	bs := b.Schedule
	if bs.OnDemand || c.Schedule.OnDemand || bs.Length() >= c.Schedule.Length() {
		if j := bs.IndexAt(start); bs.Has(j) {
			s, _ := bs.Interval(j)
			ids = append(ids, arena.id(b.ID, s))
		}
		return ids
	}
	// b is finer: roll up every b instance starting inside [start, end).
	j := max(bs.IndexAt(start), 0)
	for s, _ := bs.Interval(j); s.Before(start); s, _ = bs.Interval(j) {
		j++
	}
	for ; bs.Has(j); j++ {
		s, _ := bs.Interval(j)
		if !s.Before(end) {
			break
		}
		ids = append(ids, arena.id(b.ID, s))
	}
	return ids
}

// Dependents returns the ids of the instances that wait on inst or run on
// it (the inverse of WaitsOn and RunsOn), in runnable order per component.
func (p *Plan) Dependents(inst Instance) []string {
	b := p.byID[inst.Component]
	if b == nil || b.Schedule == nil {
		return nil
	}
	var ids []string
	for _, c := range p.Components {
		if c.Schedule == nil {
			continue
		}
		uses := c.runs == b
		for _, w := range c.waits {
			uses = uses || w == b
		}
		if !uses {
			continue
		}
		cs := c.Schedule
		if cs.OnDemand || b.Schedule.OnDemand {
			s, _ := cs.Interval(0)
			ids = append(ids, InstanceID(c.ID, s))
			continue
		}
		if c.runs == b || b.Schedule.Length() >= cs.Length() {
			// c links to b by containment: c's instances starting in b's interval.
			j := max(cs.IndexAt(inst.Start), 0)
			for s, _ := cs.Interval(j); s.Before(inst.Start); s, _ = cs.Interval(j) {
				j++
			}
			for ; cs.Has(j); j++ {
				s, _ := cs.Interval(j)
				if !s.Before(inst.End) {
					break
				}
				ids = append(ids, InstanceID(c.ID, s))
			}
			continue
		}
		// b is finer than c: the c instance containing b's start rolls it up.
		if j := cs.IndexAt(inst.Start); cs.Has(j) {
			s, _ := cs.Interval(j)
			ids = append(ids, InstanceID(c.ID, s))
		}
	}
	return ids
}

// Window limits iteration.
type Window struct {
	From  time.Time // first scheduled start (inclusive); zero: each schedule's start
	To    time.Time // scheduled starts before this; zero: no limit
	Limit int       // at most this many instances per component; 0: no limit
	// UnboundedLimit caps components whose schedule is unbounded (and only
	// those) when To and Limit leave them endless; 0: no cap.
	UnboundedLimit int
	Only           []string // restrict to these component ids; nil: all
}

// Iterator yields instances in runnable order: RunnableAt, then the
// component's topological order. It holds one pending interval per
// component, so memory does not grow with the number of instances.
type Iterator struct {
	p    *Plan
	w    Window
	heap []*cursor
	ids  idArena
	// capped records that UnboundedLimit cut a component short.
	capped bool
}

// Capped reports whether Window.UnboundedLimit stopped some component.
func (it *Iterator) Capped() bool { return it.capped }

type cursor struct {
	c        *Component
	k, n     int // next interval and instances yielded so far
	runnable time.Time
}

// Iter returns a lazy iterator over the window.
func (p *Plan) Iter(w Window) *Iterator {
	it := &Iterator{p: p, w: w}
	for _, c := range p.Components {
		if c.Schedule == nil || (w.Only != nil && !contains(w.Only, c.ID)) {
			continue
		}
		k := 0
		if !w.From.IsZero() && !c.Schedule.OnDemand {
			k = max(c.Schedule.IndexAt(w.From), 0)
			if s, _ := c.Schedule.Interval(k); s.Before(w.From) {
				k++
			}
		}
		cur := &cursor{c: c, k: k}
		if it.load(cur) {
			it.heap = append(it.heap, cur)
		}
	}
	for i := len(it.heap)/2 - 1; i >= 0; i-- {
		it.down(i)
	}
	return it
}

// load prepares cur's next interval; false when the component is done.
func (it *Iterator) load(cur *cursor) bool {
	s := cur.c.Schedule
	if !s.Has(cur.k) || (it.w.Limit > 0 && cur.n >= it.w.Limit) {
		return false
	}
	if it.w.UnboundedLimit > 0 && !s.Bounded() && cur.n >= it.w.UnboundedLimit {
		it.capped = true
		return false
	}
	start, end := s.Interval(cur.k)
	if !it.w.To.IsZero() && !start.Before(it.w.To) {
		return false
	}
	cur.runnable = cur.c.runnableAt(start, end)
	return true
}

// Peek returns the runnable time of the next instance without building it.
func (it *Iterator) Peek() (time.Time, bool) {
	if len(it.heap) == 0 {
		return time.Time{}, false
	}
	return it.heap[0].runnable, true
}

// PeekInstance returns the next instance without consuming it (it is
// built, so use Peek on hot paths).
func (it *Iterator) PeekInstance() (Instance, bool) {
	if len(it.heap) == 0 {
		return Instance{}, false
	}
	cur := it.heap[0]
	return it.p.instance(cur.c, cur.k, nil), true
}

// Next returns the next instance in runnable order.
func (it *Iterator) Next() (Instance, bool) {
	if len(it.heap) == 0 {
		return Instance{}, false
	}
	cur := it.heap[0]
	inst := it.p.instance(cur.c, cur.k, &it.ids)
	cur.k++
	cur.n++
	if it.load(cur) {
		it.down(0)
	} else {
		last := len(it.heap) - 1
		it.heap[0] = it.heap[last]
		it.heap = it.heap[:last]
		if last > 0 {
			it.down(0)
		}
	}
	return inst, true
}

func (it *Iterator) less(i, j int) bool {
	a, b := it.heap[i], it.heap[j]
	if !a.runnable.Equal(b.runnable) {
		return a.runnable.Before(b.runnable)
	}
	return a.c.Order < b.c.Order
}

func (it *Iterator) down(i int) {
	h := it.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && it.less(r, l) {
			m = r
		}
		if !it.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// All returns the window's instances as a Go iterator (runnable order).
func (p *Plan) All(w Window) iter.Seq[Instance] {
	return func(yield func(Instance) bool) {
		it := p.Iter(w)
		for inst, ok := it.Next(); ok; inst, ok = it.Next() {
			if !yield(inst) {
				return
			}
		}
	}
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// idArena hands out instance ids and WaitsOn lists carved from shared
// blocks: planning a year of 15-minute instances would otherwise allocate
// every id and list on its own (three allocations per instance). Bytes
// handed out are never written again, so the strings stay immutable. A nil
// arena allocates each string, for one-off lookups.
type idArena struct {
	bytes    []byte
	strs     []string
	scratch  []string
	lastTime time.Time
	lastText []byte
}

func (a *idArena) id(componentID string, start time.Time) string {
	if a == nil {
		return string(appendInstanceID(nil, componentID, start))
	}
	if need := len(componentID) + 32; cap(a.bytes)-len(a.bytes) < need {
		a.bytes = make([]byte, 0, max(64<<10, need))
	}
	at := len(a.bytes)
	if !start.Equal(a.lastTime) || a.lastText == nil {
		// Ids of one instance and of what it waits on mostly share a time:
		// format each time once.
		a.lastTime, a.lastText = start, appendTime(a.lastText[:0], start)
	}
	a.bytes = append(a.bytes, '@')
	a.bytes = append(a.bytes, componentID...)
	a.bytes = append(a.bytes, '_')
	a.bytes = append(a.bytes, a.lastText...)
	b := a.bytes[at:]
	return unsafe.String(&b[0], len(b))
}

// list copies ids into an exact-size window (capacity capped: appending to
// it copies instead of overwriting the next list).
func (a *idArena) list(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	if a == nil {
		return append([]string(nil), ids...)
	}
	a.scratch = ids[:0]
	if len(a.strs)+len(ids) > cap(a.strs) {
		a.strs = make([]string, 0, max(4096, len(ids)))
	}
	at := len(a.strs)
	a.strs = append(a.strs, ids...)
	return a.strs[at : at+len(ids) : at+len(ids)]
}
