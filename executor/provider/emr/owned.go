package emr

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsemr "github.com/aws/aws-sdk-go-v2/service/emr"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"
)

// liveStates are the states of a cluster that still costs money.
var liveStates = []emrtypes.ClusterState{emrtypes.ClusterStateStarting, emrtypes.ClusterStateBootstrapping,
	emrtypes.ClusterStateRunning, emrtypes.ClusterStateWaiting}

// OwnedCluster is a live cluster that carries dpl's ownership tags.
type OwnedCluster struct {
	ID      string
	Name    string
	State   emrtypes.ClusterState
	Tags    map[string]string
	Created time.Time
}

// ListOwned returns the live clusters whose tags include every tag in
// match, and a dpl:pipelineId tag in any case (a cluster dpl made).
// ListClusters does not return tags, so each live cluster is described.
func ListOwned(ctx context.Context, client Client, match map[string]string) ([]OwnedCluster, error) {
	var out []OwnedCluster
	in := &awsemr.ListClustersInput{ClusterStates: liveStates}
	for {
		page, err := client.ListClusters(ctx, in)
		if err != nil {
			return nil, apiError("ListClusters", err)
		}
		for _, s := range page.Clusters {
			d, err := client.DescribeCluster(ctx, &awsemr.DescribeClusterInput{ClusterId: s.Id})
			if err != nil {
				return nil, fmt.Errorf("cluster %s: %w", aws.ToString(s.Id), apiError("DescribeCluster", err))
			}
			tags := map[string]string{}
			for _, t := range d.Cluster.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if !matches(tags, match) {
				continue
			}
			oc := OwnedCluster{ID: aws.ToString(s.Id), Name: aws.ToString(s.Name), Tags: tags}
			if s.Status != nil {
				oc.State = s.Status.State
				if s.Status.Timeline != nil && s.Status.Timeline.CreationDateTime != nil {
					oc.Created = *s.Status.Timeline.CreationDateTime
				}
			}
			out = append(out, oc)
		}
		if page.Marker == nil || aws.ToString(page.Marker) == "" {
			return out, nil
		}
		in.Marker = page.Marker
	}
}

func matches(tags, match map[string]string) bool {
	if tags[TagPipeline] == "" {
		return false
	}
	for k, v := range match {
		if tags[k] != v {
			return false
		}
	}
	return true
}

// TerminateClusters terminates clusters by id (TerminateJobFlows takes
// them all at once; ids already gone are not an error to EMR).
func TerminateClusters(ctx context.Context, client Client, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := client.TerminateJobFlows(ctx, &awsemr.TerminateJobFlowsInput{JobFlowIds: ids}); err != nil {
		return apiError("TerminateJobFlows", err)
	}
	return nil
}

// adoptable finds the live cluster an earlier dpl process made for this
// very resource instance (same pipeline, run and instance tags), so that a
// resumed run goes on with it instead of paying for a second one.
func (c *Cluster) adoptable() (string, error) {
	match := map[string]string{}
	for _, t := range c.request.Tags {
		switch k := aws.ToString(t.Key); k {
		case TagPipeline, TagRun, TagInstance:
			match[k] = aws.ToString(t.Value)
		}
	}
	if match[TagRun] == "" || match[TagRun] == "0" {
		return "", nil // no activation: nothing to tell runs apart by
	}
	owned, err := ListOwned(c.ctx, c.client, match)
	if err != nil || len(owned) == 0 {
		return "", err
	}
	return owned[0].ID, nil
}

// cancelLeftoverSteps cancels the steps still pending or running on an
// adopted cluster: they belong to attempts of the stopped process, which
// the resumed engine runs again; left alone they would hold the new steps
// back.
func (c *Cluster) cancelLeftoverSteps(id string) {
	out, err := c.client.ListSteps(c.ctx, &awsemr.ListStepsInput{ClusterId: aws.String(id),
		StepStates: []emrtypes.StepState{emrtypes.StepStatePending, emrtypes.StepStateRunning}})
	if err != nil {
		c.p.logf("%s: cluster %s: %v", c.spec.InstanceID, id, apiError("ListSteps", err))
		return
	}
	var ids []string
	for _, s := range out.Steps {
		ids = append(ids, aws.ToString(s.Id))
	}
	if len(ids) == 0 {
		return
	}
	if _, err := c.client.CancelSteps(c.ctx, &awsemr.CancelStepsInput{ClusterId: aws.String(id), StepIds: ids,
		StepCancellationOption: emrtypes.StepCancellationOptionTerminateProcess}); err != nil {
		c.p.logf("%s: cluster %s: %v", c.spec.InstanceID, id, apiError("CancelSteps", err))
		return
	}
	c.p.logf("%s: cluster %s: canceled steps %v of the stopped dpl process", c.spec.InstanceID, id, ids)
}
