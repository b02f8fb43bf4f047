// Package awsprov is what the AWS resource providers (provider/ec2 for
// Ec2Resource, provider/emr for EmrCluster) share: the SDK configuration
// (the same chain, --aws-endpoint and --region as --backend aws, with a
// resource's own region field winning), the ownership tags every created
// resource carries, the ownership record in the state folder that lets a
// resumed run or `dpl resources --cleanup` find and terminate leftovers,
// the routing of resource objects to AWS or to the local worker
// (`dpl run --resources aws`, `--resource-provider ID=aws`), and the
// rendering of the requests a provider would make (`dpl plan --resources
// aws`).
//
// A provider package registers itself from init with Register (its
// factory) and RegisterKind (how to list and terminate what it creates).
package awsprov

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/awsx"
	"github.com/dpl-dev/dpl/executor/provider"
	localprovider "github.com/dpl-dev/dpl/executor/provider/local"
)

// Ownership tag keys: every resource dpl creates on AWS carries all four.
const (
	TagPipeline = "dpl:pipelineId" // the pipeline id (df-…)
	TagRun      = "dpl:run"        // the activation number, e.g. "1"
	TagObject   = "dpl:object"     // the resource object's id
	TagInstance = "dpl:instance"   // the resource instance's id
)

// Tags are the ownership tags of the resource a spec describes.
func Tags(spec provider.Spec) map[string]string {
	return map[string]string{
		TagPipeline: spec.PipelineID,
		TagRun:      strconv.Itoa(spec.Activation),
		TagObject:   spec.Object,
		TagInstance: spec.InstanceID,
	}
}

// SortedKeys returns m's keys in order (tags are sent and shown sorted, so
// that requests and plans are stable).
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Env is what AWS providers are built with.
type Env struct {
	// AWS is the loaded SDK configuration; nil when planning offline (no
	// request is sent then).
	AWS *awsx.Env
	// Record keeps what was created in the state folder (nil: none).
	Record *Record
	// Runner is how task runners on resources reach the run's endpoint.
	Runner RunnerAccess
	// DefaultAMI is the image of an Ec2Resource without imageId
	// (--default-ami); "" resolves the latest Amazon Linux 2023 AMI.
	DefaultAMI string
	// RunnerBinary is where an instance without dpl on its PATH downloads
	// it from (https:// or s3://; --runner-binary); "" is the release
	// download of the instance's architecture.
	RunnerBinary string
	// Logf reports provider progress (nil: dropped).
	Logf func(format string, args ...any)

	built []provider.Provider // by Registry, for Attach
}

// RunnerAccess is how a task runner started on a resource reaches the
// run's Data Pipeline endpoint (`dpl run --serve`).
type RunnerAccess struct {
	// Endpoint is the URL runners poll (e.g. http://10.0.0.5:8998).
	Endpoint string
	// Region is the region runners sign their requests for.
	Region string
	// Keys issues per-resource access keys the endpoint accepts; nil when
	// the endpoint takes unsigned requests.
	Keys KeyIssuer
}

// KeyIssuer hands out short-lived access keys for the run's endpoint: one
// per resource, accepted until revoked (when the resource terminates).
type KeyIssuer interface {
	Issue(owner string) (accessKeyID, secret string, err error)
	// Used is closed when the endpoint first accepted a request signed
	// with the key (the runner's first contact).
	Used(accessKeyID string) <-chan struct{}
	Revoke(accessKeyID string)
}

// Log reports through Env.Logf.
func (e *Env) Log(format string, args ...any) {
	if e != nil && e.Logf != nil {
		e.Logf(format, args...)
	}
}

// Region is where a resource is created: its own region field, else the
// configuration's (--region, AWS_REGION, profile, us-east-1).
func (e *Env) Region(spec provider.Spec) string {
	if spec.Field != nil {
		if r, ok := spec.Field("region"); ok && strings.TrimSpace(r) != "" {
			return awsx.NormalizeRegion(r)
		}
	}
	if e.AWS != nil {
		return e.AWS.Region()
	}
	return awsx.DefaultRegion
}

// Config is the SDK configuration for region.
func (e *Env) Config(region string) (aws.Config, error) {
	if e.AWS == nil {
		return aws.Config{}, fmt.Errorf("no AWS configuration (planning only)")
	}
	return e.AWS.ConfigFor(region), nil
}

// Factory builds a type's provider for an Env.
type Factory func(env *Env) provider.Provider

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
	kinds     = map[string]Kind{}
)

// Register makes f build the AWS provider of resource type typ
// (Ec2Resource, EmrCluster).
func Register(typ string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	factories[typ] = f
}

// Types lists the resource types with an AWS provider, sorted.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for t := range factories {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func factory(typ string) (Factory, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := factories[typ]
	return f, ok
}

// Routing says which resource objects run on AWS.
type Routing struct {
	// All sends every resource of a type with an AWS provider to AWS
	// (--resources aws).
	All bool
	// Objects overrides All per object id: "aws" or "local"
	// (--resource-provider ID=aws).
	Objects map[string]string
}

// OnAWS reports whether the resource object goes to AWS.
func (r Routing) OnAWS(objectID string) bool {
	switch r.Objects[objectID] {
	case "aws":
		return true
	case "local":
		return false
	}
	return r.All
}

// Any reports whether anything may go to AWS.
func (r Routing) Any() bool {
	if r.All {
		return true
	}
	for _, v := range r.Objects {
		if v == "aws" {
			return true
		}
	}
	return false
}

// ParseRouting reads --resources and --resource-provider values.
func ParseRouting(resources string, perObject []string) (Routing, error) {
	var r Routing
	switch resources {
	case "", "local":
	case "aws":
		r.All = true
	default:
		return r, fmt.Errorf("--resources %q: want local or aws", resources)
	}
	for _, s := range perObject {
		id, p, ok := strings.Cut(s, "=")
		if !ok || id == "" || (p != "aws" && p != "local") {
			return r, fmt.Errorf("--resource-provider %q: want ID=aws or ID=local", s)
		}
		if r.Objects == nil {
			r.Objects = map[string]string{}
		}
		r.Objects[id] = p
	}
	return r, nil
}

// Registry returns a clone of base (provider.Default when nil) in which
// every type with an AWS provider is routed per object: objects on AWS go
// to the AWS provider, the others to base's provider of the type (else the
// local worker).
func (e *Env) Registry(base *provider.Registry, routing Routing) *provider.Registry {
	if base == nil {
		base = provider.Default
	}
	reg := base.Clone()
	for _, typ := range Types() {
		f, _ := factory(typ)
		var fallback provider.Provider = localprovider.Provider{}
		if p, ok := base.Provider(typ); ok {
			fallback = p
		}
		p := f(e)
		e.built = append(e.built, p)
		reg.RegisterProvider(typ, router{aws: p, local: fallback, routing: routing})
	}
	return reg
}

// EngineAttacher is implemented by providers that need the engine itself
// (the EMR provider runs the steps of its clusters through the engine's
// task API).
type EngineAttacher interface {
	Attach(api executor.API)
}

// Attach hands the engine to every provider Registry built that wants it;
// call it once the engine exists, before the run starts.
func (e *Env) Attach(api executor.API) {
	for _, p := range e.built {
		if a, ok := p.(EngineAttacher); ok {
			a.Attach(api)
		}
	}
}

// Provider builds typ's AWS provider for e (tests, plan).
func (e *Env) Provider(typ string) (provider.Provider, bool) {
	f, ok := factory(typ)
	if !ok {
		return nil, false
	}
	return f(e), true
}

type router struct {
	aws, local provider.Provider
	routing    Routing
}

func (r router) Provision(ctx context.Context, spec provider.Spec, ready func(error)) (provider.Resource, error) {
	if r.routing.OnAWS(spec.Object) {
		return r.aws.Provision(ctx, spec, ready)
	}
	return r.local.Provision(ctx, spec, ready)
}
