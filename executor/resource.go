// Resources: launch, readiness, shutdown.

package executor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor/provider"
	localprovider "github.com/dpl-dev/dpl/executor/provider/local"
	"github.com/dpl-dev/dpl/executor/task"
)

// resourceFor returns the resource instance an instance runs on: its own
// runsOn, or for a precondition the node's.
func (e *engine) resourceFor(i *inst) *inst {
	if i.node != nil {
		return e.insts[i.node.Resource]
	}
	return e.insts[i.Resource]
}

// launchResource starts a resource through its provider: CREATING, then
// RUNNING once the provider says it is ready (resourceStarted).
func (e *engine) launchResource(r *inst, now time.Time) {
	// The start time is set before the move, which saves the instance: a
	// dpl killed after that resumes with it (terminateAfter counts from it).
	r.NextAttempt = time.Time{}
	if r.ActualStart.IsZero() || r.Reruns > 0 {
		r.ActualStart = now
		r.ActualEnd = time.Time{}
	}
	e.move(r, CauseStart, "")
	res, readyErr, answered, err := e.provision(r, false, func(r *inst, err error) {
		if Status(r.Status) == Creating {
			e.resourceStarted(r, err, e.now())
		}
	})
	if err != nil {
		e.resourceStarted(r, err, now)
		return
	}
	r.prov = res
	if answered {
		e.resourceStarted(r, readyErr, now)
		return
	}
	if r.c.initTO > 0 {
		e.addTimer(r.ActualStart.Add(r.c.initTO), r)
	}
}

// provision asks r's provider for the resource, called with e.mu held.
// The provider's ready may come during Provision (returned as answered
// and readyErr, for the caller to apply under the lock it holds) or later
// from the provider's goroutine (then later runs under e.mu, unless the
// answer is stale: the resource was terminated or relaunched meanwhile).
func (e *engine) provision(r *inst, resumed bool, later func(r *inst, err error)) (res provider.Resource, readyErr error, answered bool, err error) {
	r.launch++
	gen := r.launch
	var mu sync.Mutex
	inProvision, readyNow, called := true, error(nil), false
	ready := func(err error) {
		mu.Lock()
		if called {
			mu.Unlock()
			return
		}
		called = true
		if inProvision {
			readyNow = err
			mu.Unlock()
			return
		}
		mu.Unlock()
		e.mu.Lock()
		defer e.mu.Unlock()
		if st := Status(r.Status); r.launch != gen || (st != Creating && st != Running) {
			return
		}
		later(r, err)
		e.step()
		e.flush()
		e.wake()
	}
	spec := e.resourceSpec(r)
	spec.Resumed = resumed
	spec.Lost = func(err error) {
		// In its own goroutine: a provider may report the loss from a
		// goroutine its Terminate waits for.
		go func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if r.launch != gen || Status(r.Status) != Running {
				return // terminated or relaunched meanwhile
			}
			msg := "resource lost"
			if err != nil {
				msg += ": " + err.Error()
			}
			r.ErrorID = "ResourceLost"
			e.terminateResource(r, CauseFail, msg, e.now())
			e.step()
			e.flush()
			e.wake()
		}()
	}
	res, err = e.providerFor(r).Provision(context.Background(), spec, ready)
	mu.Lock()
	inProvision = false
	answered, readyErr = called, readyNow
	mu.Unlock()
	return res, readyErr, answered, err
}

// reattachResources runs once when a resumed activation starts: a
// resource that was CREATING or RUNNING when the earlier process stopped
// is provisioned again with Spec.Resumed, so that its provider finds what
// it created (EC2 instances, EMR clusters by their tags) and the work on
// it goes to its worker group again instead of the local worker. A
// resource that cannot be found or started again fails like a failed
// start.
func (e *engine) reattachResources() {
	now := e.now()
	for _, r := range e.order {
		if r.Kind != "resource" || r.prov != nil {
			continue
		}
		st := Status(r.Status)
		if st != Creating && st != Running {
			continue
		}
		if r.ActualStart.IsZero() {
			r.ActualStart = now // stored by an older dpl without it
		}
		apply := func(r *inst, err error) {
			switch {
			case Status(r.Status) == Creating:
				e.resourceStarted(r, err, e.now())
			case err != nil:
				e.terminateResource(r, CauseFail, "cannot reattach the resource after resume: "+err.Error(), e.now())
			}
		}
		res, readyErr, answered, err := e.provision(r, true, apply)
		if err != nil {
			if st == Creating {
				e.resourceStarted(r, err, now)
			} else {
				e.terminateResource(r, CauseFail, "cannot reattach the resource after resume: "+err.Error(), now)
			}
			continue
		}
		r.prov = res
		if answered {
			apply(r, readyErr)
		} else if st == Creating && r.c.initTO > 0 {
			e.addTimer(r.ActualStart.Add(r.c.initTO), r)
		}
	}
}

// providerFor is the provider of a resource's type: the registry's, else
// the local worker's.
func (e *engine) providerFor(r *inst) provider.Provider {
	reg := e.opts.Registry
	if reg == nil {
		reg = provider.Default
	}
	if p, ok := reg.Provider(r.Type); ok {
		return p
	}
	return localprovider.Provider{}
}

// resourceSpec tells a provider what to create.
func (e *engine) resourceSpec(r *inst) provider.Spec {
	s := provider.Spec{PipelineID: e.pipelineID, Activation: e.act.Seq, Object: r.Component, InstanceID: r.ID, Type: r.Type,
		InitTimeout: r.c.initTO, TerminateAfter: r.c.terminateAt,
		ActionOnResourceFailure: "retryall", ActionOnTaskFailure: "continue",
		Failures: r.Failures, MaximumRetries: r.c.maxRetries}
	if r.c.retryNone {
		s.ActionOnResourceFailure = "retrynone"
	}
	if r.c.taskTermin {
		s.ActionOnTaskFailure = "terminate"
	}
	if e.opts.StateDir != "" {
		s.WorkDir = ResourceDir(e.opts.StateDir, e.pipelineID, r.ID)
	}
	o := r.c.obj
	s.Field = func(key string) (string, bool) {
		f := r.c.eff.Get(key)
		if f == nil || len(f.Values) == 0 {
			return "", false
		}
		v := f.Values[0].Str
		if strings.Contains(v, "#{") {
			ss, err := e.evalStrings(v, e.componentScope(o))
			if err != nil {
				return "", false
			}
			v = strings.Join(ss, ",")
		}
		return v, true
	}
	// The resource and what it refers to; a field that does not evaluate
	// leaves the map without the object (Field reports it absent too).
	if obj, refs, err := e.instanceObject(r, true); err == nil {
		s.Objects = map[string]*task.Object{r.ID: obj}
		if err := e.addClosure(r, s.Objects, refs); err != nil {
			s.Objects = map[string]*task.Object{r.ID: obj}
		}
	}
	s.Values = func(objectID, key string) []string {
		c := r.c
		if objectID != "" {
			if c = e.comps[objectID]; c == nil {
				return nil
			}
		}
		f := c.eff.Get(key)
		if f == nil {
			return nil
		}
		var out []string
		for _, v := range f.Values {
			switch {
			case v.IsRef:
				out = append(out, v.Ref)
			case strings.Contains(v.Str, "#{"):
				ss, err := e.evalStrings(v.Str, e.componentScope(c.obj))
				if err != nil {
					out = append(out, v.Str)
					continue
				}
				out = append(out, ss...)
			default:
				out = append(out, v.Str)
			}
		}
		return out
	}
	return s
}

// resourceStarted applies a provider's answer: RUNNING, or a failed start,
// retried after the resource's retryDelay up to its maximumRetries with
// actionOnResourceFailure retryall (the default), and not at all with
// retrynone; when it finally fails, the activities on it are CANCELED
// (runtime.md §3.4).
func (e *engine) resourceStarted(r *inst, err error, now time.Time) {
	if err != nil {
		r.prov = nil
		r.Failures++
		r.ErrorID, r.ErrorMessage = "ResourceStartFailed", "cannot start the resource: "+err.Error()
		if !r.c.retryNone && r.Failures <= r.c.maxRetries {
			r.NextAttempt = now.Add(r.c.retryDelay)
			e.move(r, CauseWait, r.ErrorMessage)
			e.saveInst(r, Event{Kind: EventWaiting, Component: r.Component, Instance: r.ID, Status: WaitingOnDependencies,
				Error: r.ErrorMessage, Message: fmt.Sprintf("start %d failed; retry %d of %d at %s (actionOnResourceFailure retryall)",
					r.Failures, r.Failures, r.c.maxRetries, fmtTime(r.NextAttempt))})
			e.addTimer(r.NextAttempt, r)
			return
		}
		msg := r.ErrorMessage
		if r.c.retryNone {
			msg += " (actionOnResourceFailure retrynone)"
		} else if r.c.maxRetries > 0 {
			msg += fmt.Sprintf(" (after %d retries)", r.c.maxRetries)
		}
		e.terminateResource(r, CauseFail, msg, now)
		return
	}
	r.ErrorID, r.ErrorMessage = "", ""
	e.move(r, CauseReady, "")
	if r.c.terminateAt > 0 {
		e.addTimer(r.ActualStart.Add(r.c.terminateAt), r)
	}
	for _, id := range r.users {
		if u := e.insts[id]; u != nil {
			e.markDirty(u)
			for _, p := range u.pres {
				e.markDirty(p)
			}
		}
	}
}

// releaseResource tells the provider the resource is done with.
func (e *engine) releaseResource(r *inst, why string) {
	res := r.prov
	if res == nil {
		return
	}
	r.prov = nil
	r.launch++ // a ready still on its way is stale
	if err := res.Terminate(context.Background(), why); err != nil {
		e.emit(Event{Kind: EventRun, Component: r.Component, Instance: r.ID, Error: "terminate resource: " + err.Error()})
	}
}

func (e *engine) evalResource(r *inst, now time.Time) {
	st := Status(r.Status)
	if st == WaitingOnDependencies && !r.NextAttempt.IsZero() {
		// A failed start waits for its retry.
		if now.Before(r.NextAttempt) {
			e.addTimer(r.NextAttempt, r)
			return
		}
		if e.resourceNeeded(r) {
			e.launchResource(r, now)
			return
		}
	}
	if st == Creating && r.c.initTO > 0 && !now.Before(r.ActualStart.Add(r.c.initTO)) {
		e.terminateResource(r, CauseFail, fmt.Sprintf("initTimeout (%s) reached before the resource was ready", r.c.initTO), now)
		return
	}
	if st == Running && r.c.terminateAt > 0 && !now.Before(r.ActualStart.Add(r.c.terminateAt)) {
		e.terminateResource(r, CauseTimeout, fmt.Sprintf("terminateAfter (%s) reached", r.c.terminateAt), now)
		return
	}
	// Done when no user can still need it.
	for _, id := range e.resourceUsers(r) {
		u := e.insts[id]
		if u == nil {
			if pi, ok := e.plan.Lookup(id); ok && (e.act.Until.IsZero() || pi.Start.Before(e.act.Until)) {
				return // not created yet
			}
			continue
		}
		if !Status(u.Status).Terminal() {
			return
		}
		for _, p := range u.pres {
			if !Status(p.Status).Terminal() {
				return
			}
		}
	}
	if st == Running || st == Creating {
		e.move(r, CauseShutdown, "")
	}
	e.releaseResource(r, "no work left")
	e.move(r, CauseSucceed, "")
}

// resourceUsers lists every instance that runs on r (created or not).
func (e *engine) resourceUsers(r *inst) []string {
	ids := append([]string(nil), r.users...)
	if pi, ok := e.plan.Lookup(r.ID); ok {
		for _, id := range e.plan.Dependents(pi) {
			if !contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// terminateResource stops a resource (TIMEDOUT, FAILED, CANCELED): its
// running attempts are stopped and every user not finished is CANCELED
// (their consumers then cascade per their failureAndRerunMode).
func (e *engine) terminateResource(r *inst, on Cause, why string, now time.Time) {
	r.ErrorMessage = why
	e.releaseResource(r, why)
	e.move(r, on, why)
	for _, id := range r.users {
		u := e.insts[id]
		if u == nil || Status(u.Status).Terminal() {
			continue
		}
		e.cancelInstance(u, "resource "+r.ID+" "+r.Status+": "+why, now)
	}
}

// resourceNeeded reports whether a created instance on r is still open.
func (e *engine) resourceNeeded(r *inst) bool {
	for _, id := range r.users {
		if u := e.insts[id]; u != nil && !Status(u.Status).Terminal() {
			return true
		}
	}
	return false
}

// ResourceGroups lists the worker groups of the resources provisioned now
// whose work goes to remote runners (an EC2 instance's task runner polls
// the group named after its resource instance), for the endpoint to serve
// beside WorkerGroups.
func (e *Engine) ResourceGroups() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, r := range e.order {
		if r.prov != nil {
			if g := r.prov.WorkerGroup(); g != "" {
				out = append(out, g)
			}
		}
	}
	return out
}
