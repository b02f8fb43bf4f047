// Package provider is the engine's port to compute: the interface a
// resource type (Ec2Resource, EmrCluster, …) is provisioned through, and
// the one registry by object type of resource providers and activity
// runners. A provider is one package that registers itself; the engine
// knows resources only through this port (provider/local is today's local
// worker slots; EC2, EMR, Kubernetes or Nomad providers are its siblings).
//
// The lifecycle is the service's (runtime.md §3.4): the engine calls
// Provision when the first activity needs the resource (CREATING); the
// provider calls ready once the resource can run work (RUNNING) or could
// not start (the engine retries per actionOnResourceFailure, and fails it
// after InitTimeout); the engine hands the resource's work out to
// Resource.WorkerGroup; the provider reports a resource that ends by
// itself after that through Spec.Lost (FAILED, its work CANCELED); and the
// engine calls Terminate when the work is done, at terminateAfter, on
// actionOnTaskFailure terminate, on a loss, or when canceled.
package provider

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor/task"
)

// Spec is what a provider is told about the resource instance to create.
type Spec struct {
	PipelineID string
	// Activation is the run's activation number (1, 2, … per pipeline):
	// with PipelineID and InstanceID it names what a provider created, so
	// that a resumed run finds it again.
	Activation int
	Object     string // the resource object's id, e.g. MyEc2
	InstanceID string // the resource instance, e.g. @MyEc2_2024-01-01T00:00:00
	Type       string // Ec2Resource, EmrCluster, …
	// Resumed is set when the engine provisions a resource that was
	// CREATING or RUNNING when an earlier dpl process stopped: the provider
	// should find what it created then (by its tags) and reuse it.
	Resumed bool
	// Field returns an effective field of the resource (parameters
	// expanded, secrets as they are: never log them).
	Field func(key string) (string, bool)
	// Objects is the resource instance (under InstanceID) and every object
	// it refers to (EmrConfiguration and Property, EbsConfiguration,
	// HttpProxy, ...), evaluated like a task's objects: for providers that
	// need multi-valued fields or referenced objects. Secrets as they are.
	Objects map[string]*task.Object
	// Values returns every value of an effective field of the object
	// objectID ("" = the resource itself; else an object it refers to,
	// such as an HttpProxy or EmrConfiguration): expressions evaluated,
	// references as the referenced ids, secrets as they are. nil when
	// the field is absent.
	Values func(objectID, key string) []string
	// WorkDir is the instance's working folder under the state folder
	// ("" when the run keeps no state folder).
	WorkDir string

	InitTimeout             time.Duration // 0: none
	TerminateAfter          time.Duration // 0: none; enforced by the engine
	ActionOnResourceFailure string        // retryall (default) or retrynone; applied by the engine
	ActionOnTaskFailure     string        // continue (default) or terminate; applied by the engine
	// Failures is how many starts of this instance failed before this one;
	// MaximumRetries how many the engine allows (useOnDemandOnLastAttempt:
	// the last start is Failures == MaximumRetries).
	Failures       int
	MaximumRetries int
	// Lost is for a resource that ends by itself after it was ready (an
	// EC2 instance terminated by hand or by a spot interruption, an EMR
	// cluster that shut down): the provider calls it at most once, from
	// any goroutine, and not for an end that Terminate asked for. The
	// engine then fails the resource (FAILED), CANCELs the work on it and
	// calls Terminate to clean up. nil: nobody listens (use ReportLost).
	Lost func(err error)
}

// ReportLost calls s.Lost when it is set.
func (s Spec) ReportLost(err error) {
	if s.Lost != nil {
		s.Lost(err)
	}
}

// Provider creates resources of one or more types.
type Provider interface {
	// Provision starts creating the resource and returns without waiting
	// for it. It calls ready exactly once: with nil when the resource can
	// run work, or with the reason it could not start. ready may be called
	// before Provision returns (a resource that is ready at once) or later
	// from any goroutine. An error means nothing was started.
	Provision(ctx context.Context, spec Spec, ready func(error)) (Resource, error)
}

// Resource is one provisioned resource.
type Resource interface {
	// WorkerGroup is the worker group its work is polled from; "" means
	// the engine's own local worker.
	WorkerGroup() string
	// Terminate shuts the resource down; why says what ended it.
	Terminate(ctx context.Context, why string) error
}

// ActivityFunc runs one task of an activity or precondition type.
type ActivityFunc func(ctx context.Context, t *task.Task, logs task.Logs) task.Result

// Registry maps object types to their resource provider or activity
// runner. It is safe for concurrent use.
type Registry struct {
	mu         sync.RWMutex
	providers  map[string]Provider
	activities map[string]ActivityFunc
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{providers: map[string]Provider{}, activities: map[string]ActivityFunc{}}
}

// Default is the registry packages register their types in from init;
// engines and activity runners use it unless given another.
var Default = NewRegistry()

// RegisterProvider makes p provision resources of type typ, replacing an
// earlier registration.
func (r *Registry) RegisterProvider(typ string, p Provider) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.providers[typ] = p
}

// Provider returns the provider of typ.
func (r *Registry) Provider(typ string) (Provider, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.providers[typ]
	return p, ok
}

// RegisterActivity makes run execute tasks of type typ, replacing an
// earlier registration.
func (r *Registry) RegisterActivity(typ string, run ActivityFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.activities[typ] = run
}

// Activity returns the runner of typ.
func (r *Registry) Activity(typ string) (ActivityFunc, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.activities[typ]
	return f, ok
}

// Clone returns a registry with the same registrations, to add to without
// changing r.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := NewRegistry()
	for k, v := range r.providers {
		c.providers[k] = v
	}
	for k, v := range r.activities {
		c.activities[k] = v
	}
	return c
}

// Types lists the registered types of each kind, sorted.
func (r *Registry) Types() (providers, activities []string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for k := range r.providers {
		providers = append(providers, k)
	}
	for k := range r.activities {
		activities = append(activities, k)
	}
	sort.Strings(providers)
	sort.Strings(activities)
	return providers, activities
}
