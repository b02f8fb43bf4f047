package executor

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/expr"
	"github.com/dpl-dev/dpl/definition/period"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/store"
	"github.com/dpl-dev/dpl/executor/task"
)

// comp is a definition object with what the engine needs of it, read once.
type comp struct {
	obj  *definition.Object
	eff  *definition.Effective
	kind schedule.Kind
	typ  string

	maxRetries  int
	retryDelay  time.Duration
	attemptTO   time.Duration
	progressTO  time.Duration // reportProgressTimeout (0: the service default for remote runners)
	lateAfter   time.Duration
	precondTO   time.Duration
	terminateAt time.Duration // resources: terminateAfter
	cascade     bool
	maxActive   int // 0: unlimited
	group       string
	taskTermin  bool // resources: actionOnTaskFailure terminate
	retryNone   bool // resources: actionOnResourceFailure retrynone
	onSuccess   []string
	onFail      []string
	onLate      []string
	precondRefs int // precondition: how many components refer to it

	active  int            // instances holding an attempt (maxActiveInstances)
	blocked map[*inst]bool // instances waiting for capacity
	paused  bool
}

// inst is an instance with its links.
type inst struct {
	store.Instance
	c     *comp
	waits []string // instance ids waited on (inputs, dependsOn, producers)
	// Kept up to date as dependencies change status, so that a fan-in over
	// N upstreams costs O(1) per upstream change, not O(N):
	notOK int // entries of waits not FINISHED/SKIPPED (or not created yet)
	bad   int // entries of waits in a Bad status
	scan  int // waits[:scan] are all FINISHED/SKIPPED
	// waitsOf indexes waits by component (built on first use), so that
	// linking a ref to the waited instance does not scan every wait.
	waitsOf map[string][]string
	pre     []string // precondition object ids
	pres    []*inst  // precondition instances, once created
	node    *inst    // precondition: the instance it is checked for
	att     *store.Attempt
	counted bool               // holds a maxActiveInstances slot
	users   []string           // resources: instance ids running on it
	wakeAt  map[time.Time]bool // timers pending for this instance
}

type timer struct {
	at time.Time
	id string // instance id
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

type engine struct {
	mu         sync.Mutex
	opts       Options
	d          *definition.Definition
	plan       *schedule.Plan
	clock      task.Clock
	db         *store.DB
	pipelineID string
	name       string
	act        *store.Activation
	resumed    bool
	params     map[string]expr.Value

	comps   map[string]*comp
	it      *schedule.Iterator
	insts   map[string]*inst
	order   []*inst
	atts    map[string]*store.Attempt // by attempt id
	attList map[string][]*store.Attempt
	tasks   map[string]*store.Attempt // by task id
	waiters map[string][]*inst        // instance id → instances waiting on it
	dirty   []*inst
	isDirty map[*inst]bool
	timers  timerHeap

	queues   map[string][]*store.Attempt // worker group → attempts to hand out
	readyCh  chan struct{}               // closed when work is queued
	cancels  map[string]chan struct{}    // task id → closed on cancel
	inflight int
	taskSeq  int
	kick     chan struct{}

	open    int            // instances not in a terminal status
	running bool           // Run is driving the engine
	pubs    sync.WaitGroup // alarms being published
	seq     uint64
	subs    map[*subscriber]bool
	memLog  []*Event // the event log when there is no store (pointers: appending stays cheap)
	done    bool
	pending store.Change // batched writes of the current operation
	w       writer       // writes them in order, outside e.mu
}

// PipelineIDFor returns a stable local pipeline id for a definition file:
// "df-" and 19 upper-case hex digits of the absolute path's hash.
func PipelineIDFor(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	sum := sha256.Sum256([]byte(abs))
	return "df-" + strings.ToUpper(hex.EncodeToString(sum[:])[:19])
}

// DefinitionHash identifies a definition version.
func DefinitionHash(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

func newEngine(opts Options) (*engine, error) {
	if opts.Definition == nil {
		return nil, errors.New("engine: no definition")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.PipelineID == "" {
		opts.PipelineID = PipelineIDFor(opts.Definition.File)
	}
	d := opts.Definition
	d.Resolve()
	e := &engine{
		opts: opts, d: d, clock: opts.Clock, db: opts.Store, pipelineID: opts.PipelineID,
		comps: map[string]*comp{}, insts: map[string]*inst{}, atts: map[string]*store.Attempt{},
		attList: map[string][]*store.Attempt{}, tasks: map[string]*store.Attempt{},
		waiters: map[string][]*inst{}, isDirty: map[*inst]bool{}, queues: map[string][]*store.Attempt{},
		readyCh: make(chan struct{}), cancels: map[string]chan struct{}{}, kick: make(chan struct{}, 1),
		subs: map[*subscriber]bool{},
	}
	now := e.clock.Now().UTC()
	hash := DefinitionHash(opts.Source)

	e.name = opts.PipelineName
	if e.name == "" {
		e.name = filepath.Base(d.File)
	}
	// Find an activation to resume.
	if e.db != nil {
		if p, err := e.db.Pipeline(e.pipelineID); errors.Is(err, store.ErrNotFound) {
			if err := e.db.PutPipeline(&store.Pipeline{ID: e.pipelineID, Name: e.name, File: d.File, Created: now}); err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("engine: read pipeline %s: %w", e.pipelineID, err)
		} else if opts.PipelineName == "" && p.Name != "" {
			e.name = p.Name
		}
		last, err := e.db.Latest(e.pipelineID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("engine: read activations: %w", err)
		}
		if last != nil && (last.Resumable() || opts.Latest) && !opts.Fresh {
			if last.Hash != hash {
				return nil, fmt.Errorf("%w (activation %d of %s, started %s); run with --fresh to start a new run, or restore the definition to continue",
					ErrDefinitionChanged, last.Seq, e.pipelineID, fmtTime(last.Started))
			}
			e.act, e.resumed = last, true
		} else {
			seq := 1
			if last != nil {
				seq = last.Seq + 1
			}
			e.act = &store.Activation{Pipeline: e.pipelineID, Seq: seq, Hash: hash, Started: now,
				StartTimestamp: opts.StartTimestamp, Params: opts.Params, RetryDelay: opts.RetryDelay,
				Until: opts.Until, State: store.ActRunning}
		}
		if err := e.db.PutDefinition(e.pipelineID, hash, opts.Source); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	} else {
		e.act = &store.Activation{Pipeline: e.pipelineID, Seq: 1, Hash: hash, Started: now,
			StartTimestamp: opts.StartTimestamp, Params: opts.Params, RetryDelay: opts.RetryDelay,
			Until: opts.Until, State: store.ActRunning}
	}
	if e.resumed {
		// The stored activation's settings win, so a resumed run behaves as
		// it started (same parameters, same bounds).
		opts.Params, opts.RetryDelay, opts.Until, opts.StartTimestamp = e.act.Params, e.act.RetryDelay, e.act.Until, e.act.StartTimestamp
		e.opts = opts
	}
	e.params = paramValues(d, e.act.Params)

	// Instance ids carry whole seconds; an on-demand activation at a
	// fractional time would name instances that a reloaded plan (parsing
	// those ids) cannot find again, losing their links after a restart.
	started := e.act.Started.Truncate(time.Second)
	plan, err := schedule.Build(d, schedule.Options{Activation: started, Now: started, Expand: e.expandComponent})
	if err != nil {
		return nil, fmt.Errorf("engine: schedule: %w", err)
	}
	e.plan = plan
	if err := e.readComponents(); err != nil {
		return nil, err
	}
	e.it = plan.Iter(schedule.Window{To: e.act.Until})

	if e.db != nil {
		if err := e.db.PutActivation(e.act); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		if e.resumed {
			if err := e.load(); err != nil {
				return nil, err
			}
		}
		_ = e.db.Sync()
	}
	return e, nil
}

// expandComponent evaluates a component's raw field (schedule fields such
// as startDateTime "#{myStart}") with parameters only.
// defaultMaxActive is the service's limit on active instances per object.
const defaultMaxActive = 5

func (e *engine) expandComponent(objectID, key, raw string) (string, error) {
	o := e.d.Object(objectID)
	if o == nil || !strings.Contains(raw, "#{") {
		return raw, nil
	}
	ss, err := evalStrings(raw, e.componentScope(o))
	if err != nil {
		return "", err
	}
	return strings.Join(ss, ","), nil
}

func (e *engine) readComponents() error {
	for _, o := range e.d.Objects {
		if _, dup := e.comps[o.ID]; dup {
			continue
		}
		eff := e.d.Effective(o)
		c := &comp{obj: o, eff: eff, kind: schedule.KindOf(eff.Type), typ: eff.Type, blocked: map[*inst]bool{}}
		e.comps[o.ID] = c
	}
	for id, c := range e.comps {
		if id == definition.DefaultID {
			continue
		}
		var err error
		str := func(key string) string {
			if err != nil {
				return ""
			}
			f := c.eff.Get(key)
			if f == nil || len(f.Values) == 0 || f.Values[0].IsRef {
				return ""
			}
			v := f.Values[0].Str
			if strings.Contains(v, "#{") {
				ss, e2 := evalStrings(v, e.componentScope(c.obj))
				if e2 != nil {
					err = fmt.Errorf("%s: field %s: %w", id, key, e2)
					return ""
				}
				v = strings.Join(ss, ",")
			}
			return strings.TrimSpace(v)
		}
		dur := func(key string) time.Duration {
			s := str(key)
			if s == "" || err != nil {
				return 0
			}
			p, e2 := period.Parse(s)
			if e2 != nil {
				// EmrCluster.terminateAfter may be a bare number of hours.
				if n, e3 := strconv.Atoi(s); e3 == nil && n > 0 {
					return time.Duration(n) * time.Hour
				}
				err = fmt.Errorf("%s: field %s: %w", id, key, e2)
				return 0
			}
			return p.Approx()
		}
		c.maxRetries = DefaultMaximumRetries
		if s := str("maximumRetries"); s != "" {
			n, e2 := strconv.Atoi(s)
			if e2 != nil || n < 0 {
				return fmt.Errorf("%s: maximumRetries %q is not a whole number ≥ 0", id, s)
			}
			c.maxRetries = n
		}
		c.retryDelay = DefaultRetryDelay
		if d := dur("retryDelay"); d > 0 {
			c.retryDelay = d
		}
		if e.opts.RetryDelay > 0 {
			c.retryDelay = e.opts.RetryDelay
		}
		c.attemptTO = dur("attemptTimeout")
		c.progressTO = dur("reportProgressTimeout")
		c.lateAfter = dur("lateAfterTimeout")
		c.precondTO = dur("preconditionTimeout")
		c.terminateAt = dur("terminateAfter")
		c.cascade = strings.EqualFold(str("failureAndRerunMode"), "cascade")
		if s := str("maxActiveInstances"); s != "" {
			if n, e2 := strconv.Atoi(s); e2 == nil && n > 0 {
				c.maxActive = n
			}
		}
		switch {
		case c.maxActive > 0:
		case e.plan.OnDemand:
			c.maxActive = 1 // the documented on-demand default
		default:
			// Unset on a scheduled pipeline: the service's limit of active
			// instances per object (runtime.md §2.4 limits) still applies.
			c.maxActive = defaultMaxActive
		}
		c.group = str("workerGroup")
		c.taskTermin = strings.EqualFold(str("actionOnTaskFailure"), "terminate")
		// retryall unless told otherwise (the service documents no default).
		c.retryNone = strings.EqualFold(str("actionOnResourceFailure"), "retrynone")
		c.onSuccess = c.eff.Refs("onSuccess")
		c.onFail = c.eff.Refs("onFail")
		c.onLate = c.eff.Refs("onLateAction")
		if err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	for _, c := range e.comps {
		for _, p := range c.eff.Refs("precondition") {
			if pc := e.comps[p]; pc != nil {
				pc.precondRefs++
			}
		}
	}
	return nil
}

// componentScope evaluates in a component's own context (no runtime).
func (e *engine) componentScope(o *definition.Object) *objScope {
	return &objScope{e: e, id: o.ID, comp: o, eff: e.d.Effective(o), rt: map[string]expr.Value{
		"@pipelineId": expr.String(e.pipelineID),
	}}
}

// load restores a resumed activation's instances and attempts.
func (e *engine) load() error {
	ins, err := e.db.Instances(e.pipelineID, e.act.Seq)
	if err != nil {
		return fmt.Errorf("engine: load instances: %w", err)
	}
	atts, err := e.db.Attempts(e.pipelineID, e.act.Seq)
	if err != nil {
		return fmt.Errorf("engine: load attempts: %w", err)
	}
	if e.seq, err = e.db.LastEventSeq(e.pipelineID, e.act.Seq); err != nil {
		return fmt.Errorf("engine: load events: %w", err)
	}
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].RunnableAt.Before(ins[j].RunnableAt) })
	for _, si := range ins {
		c := e.comps[si.Component]
		if c == nil {
			return fmt.Errorf("engine: stored instance %s has no component in the definition", si.ID)
		}
		i := &inst{Instance: *si, c: c}
		if pi, ok := e.plan.Lookup(si.ID); ok {
			i.waits, i.pre = pi.WaitsOn, pi.Preconditions
		}
		e.addInst(i)
	}
	for _, i := range e.order {
		if i.Node != "" {
			if n := e.insts[i.Node]; n != nil {
				i.node = n
				n.pres = append(n.pres, i)
			}
		}
		if i.Resource != "" {
			if r := e.insts[i.Resource]; r != nil {
				r.users = append(r.users, i.ID)
			}
		}
	}
	for _, i := range e.order {
		if Status(i.Status) == Paused {
			i.c.paused = true // PAUSE survives a restart until RESUME
		}
	}
	sort.SliceStable(atts, func(i, j int) bool { return atts[i].N < atts[j].N })
	for _, a := range atts {
		e.atts[a.ID] = a
		e.attList[a.Instance] = append(e.attList[a.Instance], a)
		if i := e.insts[a.Instance]; i != nil && (i.att == nil || a.N > i.att.N) {
			i.att = a
		}
	}
	return nil
}

func (e *engine) addInst(i *inst) {
	if !Status(i.Status).Terminal() {
		e.open++
	}
	e.insts[i.ID] = i
	e.order = append(e.order, i)
	i.notOK, i.bad, i.scan = 0, 0, 0
	for _, w := range i.waits {
		e.waiters[w] = append(e.waiters[w], i)
		d := e.insts[w]
		switch {
		case d == nil || !depOK(Status(d.Status)):
			i.notOK++
			if d != nil && Status(d.Status).Bad() {
				i.bad++
			}
		}
	}
	// i's waiters counted it as not created: not OK, not bad.
	e.depChanged(i, "", Status(i.Status))
}

// depOK reports whether a dependency in status s lets its waiters go.
func depOK(s Status) bool { return s == Finished || s == Skipped }

// depChanged updates the dependency counters of d's waiters after d went
// from prev to s.
func (e *engine) depChanged(d *inst, prev, s Status) {
	okP, okS := depOK(prev), depOK(s)
	badP, badS := prev.Bad(), s.Bad()
	if okP == okS && badP == badS {
		return
	}
	for _, w := range e.waiters[d.ID] {
		switch {
		case okP && !okS:
			w.notOK++
			w.scan = 0
		case !okP && okS:
			w.notOK--
		}
		switch {
		case badP && !badS:
			w.bad--
		case !badP && badS:
			w.bad++
		}
	}
}

// resumeInFlight settles what the previous process left in flight and
// marks an interrupted activation running again (a crash from now on is a
// crash). Called with e.mu held.
func (e *engine) resumeInFlight() error {
	interrupted := e.act.State == store.ActInterrupted
	e.recoverInFlight(interrupted)
	if !interrupted {
		return nil
	}
	e.act.State = store.ActRunning
	if e.db != nil {
		if err := e.db.PutActivation(e.act); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	return nil
}

// recoverInFlight runs once when a resumed activation starts: attempts
// that were running when the process died failed (retried per policy);
// after an interrupt they are given back and queued again at once; queued
// ones are queued again.
func (e *engine) recoverInFlight(interrupted bool) {
	now := e.now()
	for _, i := range e.order {
		a := i.att
		if a == nil || Status(i.Status).Terminal() {
			continue
		}
		switch Status(a.Status) {
		case Running:
			// After a crash the attempt failed and is retried per its policy.
			// After an interrupt dpl stopped the command on purpose: the
			// attempt is given back like a runner's at shutdown — CANCELED,
			// and a new one queued at once, without retryDelay and without
			// using one of maximumRetries.
			st, errID, msg := Failed, "ProcessStopped", "dpl stopped while this attempt was running; it is retried per its retry policy"
			if interrupted {
				st, errID, msg = Canceled, ErrorIDReleased, "dpl was interrupted while this attempt was running; a new attempt starts on resume"
			}
			a.Status, a.ActualEnd, a.ErrorID, a.ErrorMessage = string(st), now, errID, msg
			e.saveAttempt(a, Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: st, Error: msg})
			if interrupted {
				e.startAttempt(i, now)
			} else {
				e.attemptFailed(i, a, now)
			}
		case WaitingForRunner:
			e.enqueue(i, a)
			// Pollers (the endpoint's wake-ups) learn of it like of any
			// newly queued attempt.
			e.emit(Event{Kind: EventAttempt, Component: i.Component, Instance: i.ID, Attempt: a.ID, Status: WaitingForRunner,
				Message: "queued again after resume"})
		}
	}
	for _, i := range e.order {
		if Status(i.Status) == WaitingForRunner || Status(i.Status) == Running {
			if !i.counted && i.Kind != "resource" && i.Kind != "precondition" {
				i.counted = true
				i.c.active++
			}
		}
		e.markDirty(i)
	}
}

func (e *engine) now() time.Time { return e.clock.Now().UTC() }

func (e *engine) markDirty(i *inst) {
	if i == nil || e.isDirty[i] {
		return
	}
	e.isDirty[i] = true
	e.dirty = append(e.dirty, i)
}

func (e *engine) addTimer(at time.Time, i *inst) {
	if i.wakeAt[at] {
		return // already due then
	}
	if i.wakeAt == nil {
		i.wakeAt = map[time.Time]bool{}
	}
	i.wakeAt[at] = true
	heap.Push(&e.timers, timer{at: at, id: i.ID})
}

// wake nudges the run loop.
func (e *engine) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// step advances the state machine to now. Called with e.mu held.
func (e *engine) step() {
	now := e.now()
	// Create instances that became runnable.
	for {
		at, ok := e.it.Peek()
		if !ok || at.After(now) {
			break
		}
		pi, _ := e.it.Next()
		if _, known := e.insts[pi.ID]; known {
			continue
		}
		e.materialize(pi, now)
	}
	for len(e.timers) > 0 && !e.timers[0].at.After(now) {
		t := heap.Pop(&e.timers).(timer)
		if i := e.insts[t.id]; i != nil {
			delete(i.wakeAt, t.at)
			e.markDirty(i)
		}
	}
	for len(e.dirty) > 0 {
		i := e.dirty[0]
		e.dirty = e.dirty[1:]
		delete(e.isDirty, i)
		e.eval(i, now)
	}
	e.flush()
}

func (e *engine) materialize(pi schedule.Instance, now time.Time) {
	c := e.comps[pi.Component]
	if c == nil {
		return
	}
	i := &inst{c: c, waits: pi.WaitsOn, pre: pi.Preconditions}
	i.Instance = store.Instance{
		ID: pi.ID, Component: pi.Component, Type: c.typ, Kind: c.kind.String(),
		ScheduledStart: pi.Start, ScheduledEnd: pi.End, RunnableAt: pi.RunnableAt,
		Status: string(WaitingOnDependencies), Resource: pi.RunsOn,
	}
	if !e.act.StartTimestamp.IsZero() && schedule.Skipped(pi, e.act.StartTimestamp) {
		i.Status = string(Skipped)
	}
	e.addInst(i)
	if r := e.insts[pi.RunsOn]; r != nil {
		r.users = append(r.users, i.ID)
	}
	e.saveInst(i, Event{Kind: EventStatus, Component: i.Component, Instance: i.ID, Status: Status(i.Status)})
	if c.paused && Status(i.Status) == WaitingOnDependencies {
		e.setStatus(i, Paused, "")
	}
	if c.lateAfter > 0 && !e.plan.OnDemand {
		e.addTimer(i.ScheduledStart.Add(c.lateAfter), i)
	}
	e.markDirty(i)
}

// flush queues the batched changes of the current operation for the
// writer. Callers that must know them on disk (SetTaskStatus, the end of
// a run) wait with e.w.sync after releasing e.mu.
func (e *engine) flush() {
	if e.db == nil || (len(e.pending.Instances) == 0 && len(e.pending.Attempts) == 0 && len(e.pending.Events) == 0) {
		e.pending = store.Change{}
		return
	}
	e.w.queue(e.db, e.pipelineID, e.act.Seq, e.pending)
	e.pending = store.Change{}
}

// emit stamps an event, queues it for the store and hands it to
// subscribers.
func (e *engine) emit(ev Event) {
	e.seq++
	ev.Seq = e.seq
	ev.Time = e.now()
	ev.Pipeline = e.pipelineID
	if e.db != nil {
		b := ev.appendJSON(make([]byte, 0, 256))
		e.pending.Events = append(e.pending.Events, store.Event{Seq: ev.Seq, Data: b})
	} else {
		e.memLog = append(e.memLog, &ev)
	}
	for s := range e.subs {
		s.push(ev)
	}
}

func (e *engine) saveInst(i *inst, evs ...Event) {
	cp := i.Instance
	cp.WaitingOn = append([]string(nil), i.WaitingOn...)
	e.pending.Instances = append(e.pending.Instances, &cp)
	for _, ev := range evs {
		e.emit(ev)
	}
}

func (e *engine) saveAttempt(a *store.Attempt, evs ...Event) {
	cp := *a
	e.pending.Attempts = append(e.pending.Attempts, &cp)
	for _, ev := range evs {
		e.emit(ev)
	}
}

// setStatus moves an instance to a new status with one event.
func (e *engine) setStatus(i *inst, s Status, errMsg string) {
	prev := Status(i.Status)
	if prev == s {
		return
	}
	i.Status = string(s)
	e.depChanged(i, prev, s)
	switch wasT, isT := prev.Terminal(), s.Terminal(); {
	case wasT && !isT:
		e.open++
	case !wasT && isT:
		e.open--
	}
	now := e.now()
	if s.Terminal() && i.ActualEnd.IsZero() && !i.ActualStart.IsZero() {
		i.ActualEnd = now
	}
	if s != WaitingOnDependencies {
		i.WaitingOn, i.WaitingCount = nil, 0
	}
	e.saveInst(i, Event{Kind: EventStatus, Component: i.Component, Instance: i.ID, Status: s, Prev: prev, Error: errMsg})
	if s.Terminal() || s == Finished {
		if i.counted {
			i.counted = false
			i.c.active--
			for b := range i.c.blocked {
				e.markDirty(b)
				delete(i.c.blocked, b)
			}
		}
		for _, w := range e.waiters[i.ID] {
			e.markDirty(w)
		}
		if i.node != nil {
			e.markDirty(i.node)
		}
		if r := e.insts[i.Resource]; r != nil {
			e.markDirty(r)
		}
	}
}

func (e *engine) run(ctx context.Context) (*Summary, error) {
	e.mu.Lock()
	e.running = true
	what := "started"
	if e.resumed {
		what = "resumed"
	}
	e.emit(Event{Kind: EventRun, Status: Running, Message: fmt.Sprintf("activation %d %s", e.act.Seq, what)})
	if e.resumed {
		if err := e.resumeInFlight(); err != nil {
			e.mu.Unlock()
			return e.summary(""), err
		}
	}
	e.mu.Unlock()
	for {
		e.mu.Lock()
		e.step()
		if err := e.w.err(); err != nil {
			e.closeSubs()
			e.mu.Unlock()
			e.w.sync() // nothing writes after Run returns (the caller closes the store)
			return e.summary(""), err
		}
		finished, reason := e.finishedCheck()
		if finished {
			sum := e.finish(reason)
			e.mu.Unlock()
			e.pubs.Wait()
			e.w.sync() // alarm failures recorded after the end
			return sum, nil
		}
		var tc <-chan time.Time
		if at, ok := e.nextWake(); ok {
			tc = e.clock.After(at.Sub(e.now()))
		}
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			e.mu.Lock()
			e.emit(Event{Kind: EventRun, Message: "interrupted; the run can be resumed"})
			e.act.State = store.ActInterrupted
			e.flush()
			e.w.sync()
			if e.db != nil {
				_ = e.db.PutActivation(e.act)
				_ = e.db.Sync()
			}
			sum := e.summary("interrupted")
			e.closeSubs()
			e.mu.Unlock()
			e.pubs.Wait()
			e.w.sync() // alarm failures recorded after the end
			return sum, ctx.Err()
		case <-e.kick:
		case <-tc:
		}
	}
}

// nextWake is the earliest time something is due: a timer or the next
// instance.
func (e *engine) nextWake() (time.Time, bool) {
	var at time.Time
	if len(e.timers) > 0 {
		at = e.timers[0].at
	}
	if p, ok := e.it.Peek(); ok && (at.IsZero() || p.Before(at)) {
		at = p
	}
	return at, !at.IsZero()
}

// finishedCheck decides whether the run is over: every instance terminal,
// or nothing can change any more (all that is left waits on failures).
func (e *engine) finishedCheck() (bool, string) {
	if _, more := e.it.Peek(); more {
		return false, ""
	}
	if e.inflight > 0 {
		return false, ""
	}
	for _, q := range e.queues {
		if len(q) > 0 {
			return false, ""
		}
	}
	if e.open == 0 {
		return true, ""
	}
	// Timers that can still move something (retries, checks, timeouts).
	now := e.now()
	for _, t := range e.timers {
		if i := e.insts[t.id]; i != nil && !Status(i.Status).Terminal() && t.at.After(now) {
			if i.lateOnly(t.at) {
				continue
			}
			return false, ""
		}
	}
	var open []*inst
	for _, i := range e.order {
		if !Status(i.Status).Terminal() {
			open = append(open, i)
		}
	}
	var why []string
	for _, i := range open {
		if i.Kind == "resource" || i.Kind == "precondition" {
			continue
		}
		w := strings.Join(i.WaitingOn, ", ")
		if more := i.WaitingCount - len(i.WaitingOn); more > 0 {
			w += fmt.Sprintf(" and %d more", more)
		}
		if w == "" {
			w = "nothing that can still finish"
		}
		why = append(why, fmt.Sprintf("%s is %s on %s", i.ID, i.Status, w))
		if len(why) == 5 {
			why = append(why, fmt.Sprintf("... and %d more", len(open)-5))
			break
		}
	}
	return true, "nothing can make progress: " + strings.Join(why, "; ")
}

// lateOnly reports whether a timer at t is only the late-action check of
// an instance whose late action already fired.
func (i *inst) lateOnly(t time.Time) bool {
	return i.c.lateAfter > 0 && t.Equal(i.ScheduledStart.Add(i.c.lateAfter)) && i.LateFired
}

func (e *engine) finish(reason string) *Summary {
	// Stuck instances are left as they are (waiting on a failure), as the
	// service would; resources still up are shut down.
	for _, i := range e.order {
		if i.Kind == "resource" && (Status(i.Status) == Running || Status(i.Status) == Creating) {
			e.setStatus(i, ShuttingDown, "")
			e.setStatus(i, Finished, "")
		}
	}
	sum := e.summary(reason)
	if sum.OK {
		e.act.State = store.ActFinished
	} else {
		e.act.State = store.ActFailed
		if sum.Reason == "" {
			sum.Reason = failedReason(sum)
		}
	}
	e.act.Ended = e.now()
	e.act.Reason = sum.Reason
	st := Finished
	if !sum.OK {
		st = Failed
	}
	msg := sum.Reason
	if sum.OK {
		msg = fmt.Sprintf("activation %d finished: %d instances", e.act.Seq, len(sum.Instances))
	}
	e.emit(Event{Kind: EventRun, Status: st, Message: msg})
	e.flush()
	e.w.sync()
	if e.db != nil {
		_ = e.db.PutActivation(e.act)
		_ = e.db.Sync()
	}
	e.closeSubs()
	return sum
}

// closeSubs ends the run for subscribers and pollers: their streams close
// after the queued events, and PollForTask returns empty.
func (e *engine) closeSubs() {
	e.done = true
	for s := range e.subs {
		s.close()
		delete(e.subs, s)
	}
	close(e.readyCh)
	e.readyCh = make(chan struct{})
}

func failedReason(s *Summary) string {
	var parts []string
	for _, st := range []Status{Failed, CascadeFailed, Canceled, TimedOut} {
		if n := s.Counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ")
}

func (e *engine) summary(reason string) *Summary {
	s := &Summary{PipelineID: e.pipelineID, Activation: e.act.Seq, Resumed: e.resumed, Reason: reason, Counts: map[Status]int{}}
	ok := reason == ""
	for _, i := range e.order {
		s.Counts[Status(i.Status)]++
		s.Instances = append(s.Instances, i.Instance)
		st := Status(i.Status)
		if st != Finished && st != Skipped {
			ok = false
		}
	}
	s.OK = ok
	return s
}

func (e *engine) history(after uint64) ([]Event, error) {
	e.mu.Lock()
	e.flush() // normally empty: every operation flushes before unlocking
	target := e.w.queued()
	last := e.seq
	if e.db == nil {
		var out []Event
		for _, ev := range e.memLog {
			if ev.Seq > after {
				out = append(out, *ev)
			}
		}
		e.mu.Unlock()
		return out, nil
	}
	e.mu.Unlock()
	// Once the writer has written what was queued, everything up to last
	// is in the store; read it without holding the engine (a long history
	// must not stall the run).
	e.w.waitFor(target)
	var out []Event
	err := e.db.Events(e.pipelineID, e.act.Seq, after, func(se store.Event) error {
		if se.Seq > last {
			return errStopScan
		}
		var ev Event
		if err := json.Unmarshal(se.Data, &ev); err != nil {
			return fmt.Errorf("event %d: %w", se.Seq, err)
		}
		ev.Seq = se.Seq
		out = append(out, ev)
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	if err != nil {
		return out, fmt.Errorf("engine: read history of activation %d: %w", e.act.Seq, err)
	}
	return out, nil
}

var errStopScan = errors.New("stop")

func (e *engine) instances() []store.Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]store.Instance, 0, len(e.order))
	for _, i := range e.order {
		out = append(out, i.Instance)
	}
	return out
}

func (e *engine) attempts(id string) []store.Attempt {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []store.Attempt
	for _, a := range e.attList[id] {
		out = append(out, *a)
	}
	return out
}

// LogPaths returns where the local worker writes an attempt's streams.
func LogPaths(stateDir, pipelineID, attemptID string) (stdout, stderr string) {
	dir := filepath.Join(stateDir, "logs", pipelineID, attemptID)
	return filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
}

// ResourceDir is the working folder of a resource instance.
func ResourceDir(stateDir, pipelineID, resourceInstanceID string) string {
	return filepath.Join(stateDir, "resources", pipelineID, resourceInstanceID)
}

func mkdir(p string) error { return os.MkdirAll(p, 0o755) }
