package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/session"
	"github.com/dpl-dev/dpl/executor/task"
)

func asAPI(err error, target **apiError) bool { return errors.As(err, target) }

// pipelineRun is one activation of a pipeline driven by its own engine.
type pipelineRun struct {
	id     string
	eng    *executor.Engine
	groups []string // worker groups served by remote runners
	cancel context.CancelFunc
	done   chan struct{} // closed when the engine's Run returned
	why    string        // why it was stopped ("deactivate", "delete", "shutdown")
	res    *RunResources // the run's resource providers (nil: the default)
	mu     sync.Mutex
	sum    *executor.Summary
	err    error
}

// RunResources are the resource providers of one pipeline run.
type RunResources struct {
	// Registry provisions the run's resources (provider.Default when nil).
	Registry *provider.Registry
	// Attach is called with the run's engine before the run starts (the
	// EMR provider runs its clusters' steps through it); nil: none.
	Attach func(eng *executor.Engine)
	// Release is called each time the run stops, before the stop is
	// reported: why is "" (its work ended), "deactivate", "delete",
	// "restart" (a new definition version) or "shutdown" (the server
	// closes). It terminates what the run still owns (or, at shutdown,
	// may keep it for the resumed run). nil: none.
	Release func(eng *executor.Engine, why string)
}

func (r *pipelineRun) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// stop ends the run (state stays resumable) and waits for it.
func (r *pipelineRun) stop(why string) {
	if r.cancel == nil {
		return // attached: driven by its owner
	}
	r.mu.Lock()
	if r.why == "" {
		r.why = why
	}
	r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
	<-r.done
}

func (r *pipelineRun) reason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.why
}

// WorkerGroups returns the worker groups named by a definition's objects
// (effective fields, so inherited ones count). Work of these groups is
// handed to remote runners; expression-valued groups are evaluated with
// the definition's parameter values only when they are plain #{myParam}.
func WorkerGroups(d *definition.Definition, params map[string][]string) []string {
	d.Resolve()
	seen := map[string]bool{}
	var out []string
	for _, o := range d.Objects {
		g := strings.TrimSpace(d.Effective(o).Str("workerGroup"))
		if strings.HasPrefix(g, "#{") && strings.HasSuffix(g, "}") {
			id := strings.TrimSpace(g[2 : len(g)-1])
			if v := params[id]; len(v) > 0 {
				g = v[0]
			} else if pv := paramValue(d, id); pv != "" {
				g = pv
			}
		}
		if g != "" && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

func paramValue(d *definition.Definition, id string) string {
	for _, v := range d.Values {
		if v.ID == id && len(v.Values) > 0 {
			return v.Values[0].Str
		}
	}
	if p := d.Parameter(id); p != nil {
		if v, ok := p.Attr("default"); ok {
			return v
		}
	}
	return ""
}

// engine returns the pipeline's current engine (running or ended), or nil
// when it was never activated.
func (s *Server) engine(id string) *executor.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.runs[id]; r != nil {
		return r.eng
	}
	return nil
}

// resume restarts the engines of pipelines that were scheduled when the
// server stopped, and reopens ended ones for queries.
func (s *Server) resume() {
	for _, p := range s.reg.list() {
		if p.Active == nil || p.LastActivation.IsZero() {
			continue
		}
		run := p.State == StateScheduled || p.State == StateDeactivating
		if err := s.start(p, p.ActiveParams, p.StartTime, !run); err != nil {
			s.opts.Logf("endpoint: resume %s: %v", p.ID, err)
		}
	}
}

// activate implements ActivatePipeline.
func (s *Server) activate(ctx context.Context, id string, params map[string][]string, start time.Time) error {
	p, err := s.reg.get(id)
	if err != nil {
		return err
	}
	if p.Latest == nil {
		return invalid("Pipeline %s has no pipeline definition; put one first", id)
	}
	if err := checkDeclared(p.Latest, params); err != nil {
		return err
	}
	if p.LatestErrored && params == nil {
		return invalid("Pipeline %s has definition errors; fix them and put the definition again before activating", id)
	}
	if params == nil {
		params = p.ActiveParams
	}
	res, err := runValidator(p.Name+".json", p.Latest, params)
	if err != nil {
		return err
	}
	if res.Errored {
		var msgs []string
		for _, e := range res.ValidationErrors {
			for _, m := range e.Errors {
				msgs = append(msgs, e.ID+": "+m)
			}
		}
		return invalid("Pipeline %s cannot be activated, its definition has errors: %s", id, strings.Join(msgs, "; "))
	}
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r != nil && r.running() {
		if r.reason() == "" && sameDefinition(p.Latest, p.Active) {
			// Running: for on-demand pipelines the engine starts another run.
			return r.eng.Activate(ctx, executor.ActivateInput{PipelineID: id, ParameterValues: params, StartTimestamp: start})
		}
		// A new definition version (or a deactivation in progress): the
		// running activation stops and the new one starts.
		r.stop("restart")
	}
	p.Active = p.Latest
	if err := s.start(p, params, start, false); err != nil {
		return err
	}
	return s.reg.update(id, func(q *Pipeline) error {
		q.Active, q.ActiveParams, q.StartTime = q.Latest, params, start
		q.State, q.LastActivation, q.Health, q.Ended = StateScheduled, s.now(), "", ""
		return nil
	})
}

// checkDeclared refuses activation values for parameters the definition
// does not declare, as the service does.
func checkDeclared(d *Definition, params map[string][]string) error {
	declared := map[string]bool{}
	for _, po := range d.ParameterObjects {
		declared[po.ID] = true
	}
	var undeclared []string
	for id := range params {
		if !declared[id] {
			undeclared = append(undeclared, id)
		}
	}
	if len(undeclared) == 0 {
		return nil
	}
	sort.Strings(undeclared)
	return invalid("parameterValues: %s not declared in the pipeline definition's parameterObjects", strings.Join(quoteAll(undeclared), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func sameDefinition(a, b *Definition) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// start makes the engine of p's active definition. readOnly reopens the
// latest activation for queries without running it.
func (s *Server) start(p Pipeline, params map[string][]string, start time.Time, readOnly bool) error {
	src, err := json.Marshal(p.Active)
	if err != nil {
		return err
	}
	d, err := definition.Parse(p.Name+".json", src)
	if err != nil {
		return invalid("definition of %s: %v", p.ID, err)
	}
	// Every workerGroup goes to remote runners; the engine evaluates the
	// groups (expressions included) and says which there are.
	opts := executor.Options{Definition: d, Source: src, PipelineID: p.ID, PipelineName: p.Name,
		Store: s.db, StateDir: s.opts.StateDir, Clock: s.opts.Clock, Notifier: s.opts.Notifier,
		Params: params, StartTimestamp: start, RetryDelay: s.opts.RetryDelay, RemoteAll: true, Latest: readOnly,
		AckTimeout: s.opts.AckTimeout, ProgressTimeout: s.opts.ProgressTimeout}
	var res *RunResources
	if !readOnly && s.opts.Resources != nil {
		res = s.opts.Resources(p.ID)
		if res != nil {
			opts.Registry = res.Registry
		}
	}
	eng, err := executor.New(opts)
	if errors.Is(err, executor.ErrDefinitionChanged) {
		opts.Fresh = true
		eng, err = executor.New(opts)
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", p.ID, err)
	}
	r := &pipelineRun{id: p.ID, eng: eng, groups: eng.WorkerGroups(), res: res, done: make(chan struct{})}
	if res != nil && res.Attach != nil {
		res.Attach(eng)
	}
	s.mu.Lock()
	if old := s.runs[p.ID]; old != nil && old.running() {
		s.mu.Unlock()
		old.stop("restart")
		s.mu.Lock()
	}
	s.runs[p.ID] = r
	s.mu.Unlock()
	if readOnly {
		close(r.done)
		return nil
	}
	s.launch(r)
	return nil
}

// launch drives the engine through a run session (its in-process worker
// for tasks without a workerGroup) and watches its events to wake the
// pollers of its worker groups.
func (s *Server) launch(r *pipelineRun) {
	sess := session.Attach(r.eng, session.Options{StateDir: s.opts.StateDir, Runner: s.opts.Runner, Parallel: s.opts.Parallel,
		NoControlSocket: true, NoEventLog: true,
		Warnf: func(format string, args ...any) {
			s.opts.Logf("endpoint: %s: "+format, append([]any{r.id}, args...)...)
		}})
	sess.Start(s.ctx)
	r.cancel = sess.Stop
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		for ev := range sess.Events {
			if ev.Kind == executor.EventAttempt && ev.Status == executor.WaitingForRunner {
				s.wakeGroups(r.groups)
				s.wakeGroups(r.eng.ResourceGroups())
			}
		}
	}()
	go func() {
		defer s.wg.Done()
		sum, err := sess.Wait()
		r.mu.Lock()
		r.sum, r.err = sum, err
		if r.why == "" && s.ctx.Err() != nil {
			// Serve ends the server's context (its long polls) before
			// Close stops each run: a run that ended that way stopped
			// for the shutdown, not on its own.
			r.why = "shutdown"
		}
		why := r.why
		r.mu.Unlock()
		// What the run created is released (terminated) and its end
		// recorded before stop() returns to its caller, so that a
		// re-activation starts after both.
		if r.res != nil && r.res.Release != nil {
			r.res.Release(r.eng, why)
		}
		s.ended(r, why, sum, err)
		close(r.done)
	}()
}

// ended records how a run stopped in the registry.
func (s *Server) ended(r *pipelineRun, why string, sum *executor.Summary, err error) {
	if why == "delete" || why == "shutdown" || why == "restart" {
		return
	}
	_ = s.reg.update(r.id, func(p *Pipeline) error {
		switch {
		case why == "deactivate":
			p.State = StateInactive
		case err != nil && !errors.Is(err, context.Canceled):
			p.State, p.Health, p.Ended = StateFinished, "ERROR", err.Error()
		case sum != nil:
			p.State, p.Health, p.Ended = StateFinished, "HEALTHY", sum.Reason
			if !sum.OK {
				p.Health = "ERROR"
			}
		}
		return nil
	})
}

// deactivate implements DeactivatePipeline.
func (s *Server) deactivate(id string, cancelActive bool) error {
	if _, err := s.reg.get(id); err != nil {
		return err
	}
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r == nil || !r.running() {
		return s.reg.update(id, func(p *Pipeline) error {
			if p.State == StateScheduled || p.State == StateDeactivating {
				p.State = StateInactive
			}
			return nil
		})
	}
	if err := s.reg.update(id, func(p *Pipeline) error { p.State = StateDeactivating; return nil }); err != nil {
		return err
	}
	ctx := context.Background()
	active := s.activeInstances(ctx, r)
	if cancelActive {
		if len(active) > 0 {
			if err := r.eng.SetStatus(ctx, id, active, executor.CmdTryCancel); err != nil {
				s.opts.Logf("endpoint: deactivate %s: cancel: %v", id, err)
			}
		}
		r.stop("deactivate")
		return nil
	}
	// Let what is running finish, then stop.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for r.running() && len(s.runningOf(ctx, r, active)) > 0 {
			select {
			case <-r.done:
			case <-s.ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		r.stop("deactivate")
	}()
	return nil
}

// activeInstances are the instances waiting for a runner or running.
func (s *Server) activeInstances(ctx context.Context, r *pipelineRun) []string {
	var ids []string
	for _, i := range r.eng.Instances() {
		switch executor.Status(i.Status) {
		case executor.Running, executor.WaitingForRunner:
			ids = append(ids, i.ID)
		}
	}
	return ids
}

func (s *Server) runningOf(ctx context.Context, r *pipelineRun, ids []string) []string {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []string
	for _, i := range r.eng.Instances() {
		if want[i.ID] && !executor.Status(i.Status).Terminal() {
			out = append(out, i.ID)
		}
	}
	return out
}

// dropRun stops a deleted pipeline's run and cancels its leases.
func (s *Server) dropRun(id string) {
	s.mu.Lock()
	r := s.runs[id]
	delete(s.runs, id)
	for _, l := range s.leases {
		if l.pipeline == id {
			l.expired = true
		}
	}
	s.mu.Unlock()
	if r != nil && r.running() {
		ctx := context.Background()
		if active := s.activeInstances(ctx, r); len(active) > 0 {
			_ = r.eng.SetStatus(ctx, id, active, executor.CmdTryCancel)
		}
		r.stop("delete")
	}
}

// setObjectStatus implements SetStatus; a run that had ended and was
// reopened by the command (RERUN, MARK_FINISHED) is started again.
func (s *Server) setObjectStatus(ctx context.Context, id string, ids []string, status string) error {
	if _, err := s.reg.get(id); err != nil {
		return err
	}
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r == nil {
		return invalid("Pipeline %s has not been activated; SetStatus acts on its running objects", id)
	}
	wasDone := !r.running()
	if err := r.eng.SetStatus(ctx, id, ids, status); err != nil {
		return err
	}
	if wasDone && r.reason() != "deactivate" {
		switch strings.ToUpper(status) {
		case executor.CmdRerun, executor.CmdMarkFinished:
			// The engine reopened its activation: drive it again.
			nr := &pipelineRun{id: id, eng: r.eng, groups: r.groups, res: r.res, done: make(chan struct{})}
			s.mu.Lock()
			s.runs[id] = nr
			s.mu.Unlock()
			s.launch(nr)
			s.wakeGroups(nr.groups)
			return s.reg.update(id, func(q *Pipeline) error { q.State, q.Health = StateScheduled, ""; return nil })
		}
	}
	return nil
}

// Task hand-out.

// lease maps a task handed to a remote runner to its engine. Ownership
// (acknowledgement and progress timeouts) is the engine's.
type lease struct {
	pipeline string
	taskID   string // the engine's task id
	run      *pipelineRun
	last     time.Time // handed out or last reported
	expired  bool      // ended by the server: reports get canceled=true
	finished bool
}

// RunnerInfo is what the server knows of a task runner from heartbeats.
type RunnerInfo struct {
	ID          string    `json:"taskrunnerId"`
	WorkerGroup string    `json:"workerGroup"`
	Hostname    string    `json:"hostname"`
	LastSeen    time.Time `json:"lastSeen"`
}

// Runners returns the runners seen through heartbeats, by id.
func (s *Server) Runners() []RunnerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RunnerInfo, 0, len(s.runners))
	for _, r := range s.runners {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// wakeGroups wakes the pollers of groups.
func (s *Server) wakeGroups(groups []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range groups {
		if ch := s.wake[g]; ch != nil {
			close(ch)
			delete(s.wake, g)
		}
	}
}

func (s *Server) wakeCh(g string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.wake[g]
	if ch == nil {
		ch = make(chan struct{})
		s.wake[g] = ch
	}
	return ch
}

// candidates are the running pipelines whose remote groups include g, in
// a rotating order so that no pipeline starves.
func (s *Server) candidates(g string, turn int) []*pipelineRun {
	s.mu.Lock()
	runs := make([]*pipelineRun, 0, len(s.runs))
	for _, r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	var out []*pipelineRun
	for _, r := range runs {
		// Its static groups, or the group of one of its resources (a task
		// runner on an EC2 instance polls its resource instance's id);
		// asked without s.mu, as the engine takes its own lock.
		if slices.Contains(r.groups, g) || slices.Contains(r.eng.ResourceGroups(), g) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	if n := len(out); n > 1 {
		k := turn % n
		out = append(out[k:], out[:k]...)
	}
	return out
}

// Poll implements PollForTask across every pipeline: the first task of
// the group, or (nil, nil) after the poll timeout.
func (s *Server) Poll(ctx context.Context, group, host string) (*task.Task, error) {
	timer := time.NewTimer(s.opts.PollTimeout)
	defer timer.Stop()
	// Wake-ups come from the engines' events: every attempt queued for a
	// runner (new, retried, given back or re-queued on resume) has one.
	turn := 0
	for {
		ch := s.wakeCh(group)
		if s.isEnding() {
			// The served run ended: answer soon (not at once, which would
			// make runners spin) so the runner heartbeats and learns it
			// should terminate.
			if turn == 0 {
				select {
				case <-ctx.Done():
				case <-s.ctx.Done():
				case <-time.After(endingPoll):
				}
			}
			return nil, nil
		}
		for _, r := range s.candidates(group, turn) {
			if !r.running() {
				continue
			}
			t, _ := r.eng.PollForTask(ctx, executor.PollInput{WorkerGroup: group, Hostname: host, NoWait: true})
			if t != nil {
				return s.lease(r, t), nil
			}
		}
		turn++
		select {
		case <-ctx.Done():
			return nil, nil
		case <-s.ctx.Done():
			return nil, nil
		case <-timer.C:
			return nil, nil
		case <-ch:
		}
	}
}

// lease records a handed-out task and gives it the server's task id:
// pipeline, activation and the engine's id (unique within an activation,
// and kept in the store with its attempt), so that the id still names the
// task after a restart or a failover to another serve.
func (s *Server) lease(r *pipelineRun, t *task.Task) *task.Task {
	l := &lease{pipeline: r.id, taskID: t.TaskID, run: r, last: time.Now()}
	ext := r.id + ":a" + strconv.Itoa(r.eng.Activation()) + ":" + t.TaskID
	s.mu.Lock()
	s.leases[ext] = l
	s.mu.Unlock()
	out := *t
	out.TaskID = ext
	return &out
}

// leaseOf finds a task's lease; a task handed out before a restart or by
// another serve (a failover) is found through its pipeline's engine, which
// kept the task's lease from the store.
func (s *Server) leaseOf(ctx context.Context, taskID string) (*lease, error) {
	s.mu.Lock()
	l := s.leases[taskID]
	s.mu.Unlock()
	if l != nil {
		return l, nil
	}
	parts := strings.SplitN(taskID, ":", 3)
	if len(parts) != 3 || !strings.HasPrefix(parts[1], "a") {
		return nil, taskNotFound(taskID)
	}
	s.mu.Lock()
	r := s.runs[parts[0]]
	s.mu.Unlock()
	if r == nil || "a"+strconv.Itoa(r.eng.Activation()) != parts[1] {
		return nil, taskNotFound(taskID)
	}
	if r.running() {
		// A resumed engine knows the kept leases once it has settled.
		select {
		case <-r.eng.Settled():
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if !r.eng.HoldsTask(parts[2]) {
		return nil, taskNotFound(taskID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.leases[taskID]; l != nil {
		return l, nil
	}
	l = &lease{pipeline: r.id, taskID: parts[2], run: r, last: time.Now()}
	s.leases[taskID] = l
	return l, nil
}

// Progress implements ReportTaskProgress: the first call acknowledges.
func (s *Server) Progress(ctx context.Context, taskID string, fields []task.Field) (bool, error) {
	l, err := s.leaseOf(ctx, taskID)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	if l.expired || l.finished {
		s.mu.Unlock()
		return true, nil
	}
	l.last = time.Now()
	s.mu.Unlock()
	return l.run.eng.ReportTaskProgress(ctx, l.taskID, fields)
}

// Complete implements SetTaskStatus.
func (s *Server) Complete(ctx context.Context, taskID string, res task.Result) error {
	l, err := s.leaseOf(ctx, taskID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if l.expired || l.finished {
		s.mu.Unlock()
		return nil // the server already ended it; the result is dropped
	}
	l.finished, l.last = true, time.Now()
	s.mu.Unlock()
	return l.run.eng.SetTaskStatus(ctx, l.taskID, res)
}

// Heartbeat implements ReportTaskRunnerHeartbeat. terminate is true once
// the server is shutting down.
func (s *Server) Heartbeat(in executor.HeartbeatInput) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runners[in.TaskRunnerID] = &RunnerInfo{ID: in.TaskRunnerID, WorkerGroup: in.WorkerGroup, Hostname: in.Hostname, LastSeen: time.Now()}
	if s.closed {
		return true
	}
	if s.ending {
		return true
	}
	if s.attached {
		for _, r := range s.runs {
			if r.running() {
				return false
			}
		}
		return true
	}
	return false
}

// pruneLeases forgets leases that ended an hour ago (late reports of
// their old owners then get TaskNotFoundException). The engine, not the
// server, fails tasks whose runner does not acknowledge or stops
// reporting (executor.Options.AckTimeout and ProgressTimeout).
func (s *Server) pruneLeases() {
	defer s.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		s.limiter.prune(now.Add(-clientIdle))
		s.mu.Lock()
		for id, l := range s.leases {
			if (l.finished || l.expired) && now.Sub(l.last) > time.Hour {
				delete(s.leases, id)
			}
		}
		s.mu.Unlock()
	}
}

// endingPoll is how long a poll waits before answering empty once the
// served run ended.
const endingPoll = 200 * time.Millisecond

func (s *Server) isEnding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ending
}
