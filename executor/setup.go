// Building an engine: reading components, starting or resuming an activation.

package executor

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/period"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/secret"
)

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
		opts: opts, d: d, clock: opts.Clock, db: runstore.NilIfNone(opts.Store), pipelineID: opts.PipelineID,
		comps: map[string]*comp{}, insts: map[string]*inst{}, atts: map[string]*runstore.Attempt{},
		attList: map[string][]*runstore.Attempt{}, tasks: map[string]*runstore.Attempt{},
		waiters: map[string][]*inst{}, isDirty: map[*inst]bool{}, queues: map[string][]*runstore.Attempt{},
		readyCh: make(chan struct{}), activeCh: closedChan(), settled: make(chan struct{}), cancels: map[string]chan struct{}{}, kick: make(chan struct{}, 1),
		subs: map[*subscriber]bool{},
	}
	now := e.clock.Now().UTC()
	hash := DefinitionHash(opts.Source)

	e.name = opts.PipelineName
	if e.name == "" {
		e.name = filepath.Base(d.File)
	}
	// A read-only store (dpl tui on a stored run) is only looked at: the
	// activation is found, nothing is written.
	readOnly := e.db != nil && e.db.ReadOnly()
	// Find an activation to resume.
	if e.db != nil {
		if p, err := e.db.Pipeline(e.pipelineID); errors.Is(err, runstore.ErrNotFound) && !readOnly {
			if err := e.db.PutPipeline(&runstore.Pipeline{ID: e.pipelineID, Name: e.name, File: d.File, Created: now}); err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("engine: read pipeline %s: %w", e.pipelineID, err)
		} else if opts.PipelineName == "" && p.Name != "" {
			e.name = p.Name
		}
		if opts.StateDir != "" {
			// `*` values are sealed before they reach the store.
			sealer, err := secret.ForStateDir(opts.StateDir, !readOnly)
			if err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
			e.sealer = sealer
		}
		last, err := e.db.Latest(e.pipelineID)
		if err != nil && !errors.Is(err, runstore.ErrNotFound) {
			return nil, fmt.Errorf("engine: read activations: %w", err)
		}
		if opts.Activation > 0 && readOnly {
			if last, err = activation(e.db, e.pipelineID, opts.Activation); err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
		}
		if last != nil {
			if last.Params, err = e.sealer.OpenParams(last.Params); err != nil {
				return nil, fmt.Errorf("engine: activation %d: %w", last.Seq, err)
			}
		}
		if last != nil && !last.Resumable() && opts.KeepEnded && !opts.Fresh && !opts.Latest && !readOnly {
			why := changedRequest(last, hash, opts)
			if why == "" {
				return nil, e.endedError(last)
			}
			e.follows = fmt.Sprintf("activation %d ended at %s (%s); %s, so this is a new activation", last.Seq, fmtTime(last.Ended), last.State, why)
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
			e.act = &runstore.Activation{Pipeline: e.pipelineID, Seq: seq, Hash: hash, Started: now,
				StartTimestamp: opts.StartTimestamp, Params: opts.Params, RetryDelay: opts.RetryDelay,
				Until: opts.Until, State: runstore.ActRunning}
		}
		if readOnly && !e.resumed {
			return nil, fmt.Errorf("engine: no run of %s to show in the read-only store", e.pipelineID)
		}
		if !readOnly {
			if err := e.db.PutDefinition(e.pipelineID, hash, e.sealer.Seal(opts.Source)); err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
		}
	} else {
		e.act = &runstore.Activation{Pipeline: e.pipelineID, Seq: 1, Hash: hash, Started: now,
			StartTimestamp: opts.StartTimestamp, Params: opts.Params, RetryDelay: opts.RetryDelay,
			Until: opts.Until, State: runstore.ActRunning}
	}
	if e.resumed {
		// The stored activation's settings win, so a resumed run behaves as
		// it started (same parameters, same bounds).
		opts.Params, opts.RetryDelay, opts.Until, opts.StartTimestamp = e.act.Params, e.act.RetryDelay, e.act.Until, e.act.StartTimestamp
		e.opts = opts
	}
	e.res = definition.NewResolver(d, e.act.Params)
	// Known from the start: events and errors are masked from the first one.
	e.secrets, e.secretsKnown = e.res.Secrets(), true

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
		if !readOnly {
			if err := e.putActivation(); err != nil {
				return nil, fmt.Errorf("engine: %w", err)
			}
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

// changedRequest says what differs between an ended activation and the
// run asked for now ("" when it is the same run).
func changedRequest(last *runstore.Activation, hash string, opts Options) string {
	switch {
	case last.Hash != hash:
		return "the definition changed since"
	case !sameParams(last.Params, opts.Params):
		return "other parameter values are given"
	case !last.Until.Equal(opts.Until):
		return "another --until is given"
	case !last.StartTimestamp.Equal(opts.StartTimestamp):
		return "another start time is given"
	}
	return ""
}

func sameParams(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || !slices.Equal(va, vb) {
			return false
		}
	}
	return true
}

// endedError reports the ended activation last with its stored outcome.
func (e *engine) endedError(last *runstore.Activation) error {
	recs, err := e.db.Instances(e.pipelineID, last.Seq)
	if err != nil {
		return fmt.Errorf("engine: read activation %d: %w", last.Seq, err)
	}
	sum := &Summary{PipelineID: e.pipelineID, Activation: last.Seq, OK: last.State == runstore.ActFinished,
		Reason: last.Reason, Counts: map[Status]int{}}
	for _, r := range recs {
		sum.Counts[Status(r.Status)]++
		sum.Instances = append(sum.Instances, *r)
	}
	return &ActivationEndedError{Summary: sum, Ended: last.Ended, State: last.State}
}

// defaultMaxActive is the service's limit on active instances per object.
const defaultMaxActive = 5

// expandComponent evaluates a component's raw field (schedule fields such
// as startDateTime "#{myStart}") with parameters only.
func (e *engine) expandComponent(objectID, key, raw string) (string, error) {
	o := e.d.Object(objectID)
	if o == nil || !strings.Contains(raw, "#{") {
		return raw, nil
	}
	ss, err := e.evalStrings(raw, e.componentScope(o))
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
		eff := e.res.Effective(o)
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
				ss, e2 := e.evalStrings(v, e.componentScope(c.obj))
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
				if n, e3 := strconv.Atoi(s); e3 == nil && n > 0 && !errors.Is(e2, period.ErrTooLarge) {
					if n > period.Max(period.Hour) {
						err = fmt.Errorf("%s: field %s: %q hours is too large: at most %d", id, key, s, period.Max(period.Hour))
						return 0
					}
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
		c.initTO = dur("initTimeout")
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

// putActivation writes the activation with its `*` parameter values sealed.
func (e *engine) putActivation() error {
	a := *e.act
	a.Params = e.sealer.SealParams(a.Params)
	return e.db.PutActivation(&a)
}

// activation is the pipeline's activation seq.
func activation(db runstore.Backend, pipeline string, seq int) (*runstore.Activation, error) {
	as, err := db.Activations(pipeline)
	if err != nil {
		return nil, fmt.Errorf("read activations: %w", err)
	}
	for _, a := range as {
		if a.Seq == seq {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s has no run %d", pipeline, seq)
}
