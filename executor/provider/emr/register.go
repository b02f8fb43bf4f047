package emr

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsemr "github.com/aws/aws-sdk-go-v2/service/emr"

	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
	"github.com/dpl-dev/dpl/executor/task"
)

// KindCluster names EMR clusters in ownership records and listings.
const KindCluster = "emr-cluster"

func init() {
	awsprov.Register("EmrCluster", func(env *awsprov.Env) provider.Provider { return FromEnv(env) })
	awsprov.RegisterKind(clusterKind{})
}

// FromEnv is the provider `dpl run --resources aws` uses: clients from the
// run's SDK configuration (a cluster's region field wins), generated
// scripts staged through the run's S3 store, every cluster recorded in the
// state folder's ownership record.
func FromEnv(env *awsprov.Env) *Provider {
	opts := Options{Logf: env.Log, Record: env.Record}
	if env.AWS != nil {
		opts.Store = env.AWS.Store()
		opts.DefaultRegion = env.AWS.Region()
		var mu sync.Mutex
		clients := map[string]Client{}
		opts.Clients = func(region string) Client {
			if region == "" {
				region = env.AWS.Region()
			}
			mu.Lock()
			defer mu.Unlock()
			if c, ok := clients[region]; ok {
				return c
			}
			c := awsemr.NewFromConfig(env.AWS.ConfigFor(region))
			clients[region] = c
			return c
		}
	}
	return New(opts)
}

// Plan is the RunJobFlow request of the cluster (offline: `dpl plan
// --resources aws`); PlanActivity gives the steps of each activity on it.
func (p *Provider) Plan(env *awsprov.Env, spec provider.Spec) ([]awsprov.Request, error) {
	in, err := RunJobFlowRequest(spec)
	if err != nil {
		return nil, err
	}
	return []awsprov.Request{{API: "RunJobFlow", Region: env.Region(spec), Input: compact(in),
		Note: "then, as each activity on the cluster starts, its AddJobFlowSteps (below), DescribeStep until they end, and TerminateJobFlows when the cluster's work is done"}}, nil
}

// planClusterID stands for the cluster id EMR assigns at run time, in
// planned staging URIs and step requests.
const planClusterID = "j-CLUSTERID"

// PlanActivity is what the first attempt of an activity on the cluster
// sends (offline: `dpl plan --resources aws`): the uploads of its
// generated scripts, then AddJobFlowSteps — rendered by Steps, as the run
// does. A step that can only be rendered at run time (a scriptUri read
// from S3 to put the staging tables in front) is a note instead.
func (p *Provider) PlanActivity(env *awsprov.Env, spec provider.Spec, t *task.Task) ([]awsprov.Request, error) {
	c, err := newCluster(spec)
	if err != nil {
		return nil, err
	}
	region := env.Region(spec)
	steps, uploads, err := Steps(context.Background(), t, c.releaseBased(), c.region(), Staging{Prefix: stagingPrefix(c.logURI(), planClusterID, t.AttemptID)})
	if err != nil {
		return []awsprov.Request{{API: "AddJobFlowSteps", Region: region, Note: "the steps are rendered only at run time: " + err.Error()}}, nil
	}
	var out []awsprov.Request
	for _, uri := range sortedKeys(uploads) {
		out = append(out, awsprov.Request{API: "PutObject", Region: region, Input: map[string]string{"Uri": uri, "Body": uploads[uri]},
			Note: "the generated script, uploaded before the steps"})
	}
	in := &awsemr.AddJobFlowStepsInput{JobFlowId: aws.String(planClusterID), Steps: steps}
	return append(out, awsprov.Request{API: "AddJobFlowSteps", Region: region, Input: compact(in),
		Note: planClusterID + " is the cluster's id, known once RunJobFlow returns"}), nil
}

// clusterKind lists and terminates dpl's clusters for `dpl resources` and
// the cleanup after a run.
type clusterKind struct{}

func (clusterKind) Name() string { return KindCluster }

func (clusterKind) List(ctx context.Context, cfg aws.Config, match map[string]string) ([]awsprov.Owned, error) {
	owned, err := ListOwned(ctx, awsemr.NewFromConfig(cfg), match)
	if err != nil {
		return nil, err
	}
	out := make([]awsprov.Owned, 0, len(owned))
	for _, o := range owned {
		out = append(out, awsprov.Owned{Kind: KindCluster, Region: cfg.Region, ID: o.ID, Tags: o.Tags, State: string(o.State), Time: o.Created})
	}
	return out, nil
}

func (clusterKind) Terminate(ctx context.Context, cfg aws.Config, ids []string) error {
	return TerminateClusters(ctx, awsemr.NewFromConfig(cfg), ids)
}

// record notes a created or terminated cluster in the ownership record.
func (c *Cluster) record(created bool) {
	rec := c.p.opts.Record
	if rec == nil {
		return
	}
	tags := map[string]string{}
	for _, t := range c.request.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	o := awsprov.Owned{Kind: KindCluster, Region: c.region, ID: c.ID(), Tags: tags, Time: time.Now().UTC()}
	var err error
	if created {
		err = rec.Created(o)
	} else {
		err = rec.Terminated(o)
	}
	if err != nil {
		c.p.logf("%s: %v", c.spec.InstanceID, fmt.Errorf("cluster %s: %w", o.ID, err))
	}
}

// compact is v as JSON without the fields the request leaves unset.
func compact(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		return v
	}
	return prune(m)
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = prune(e)
			if e == nil || e == "" {
				delete(x, k)
				continue
			}
			x[k] = e
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = prune(e)
		}
		return x
	}
	return v
}
