package awsprov

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// RunnerKeyKindName names runner key parameters in listings.
const RunnerKeyKindName = "ssm-parameter"

// RunnerKeyKind lists and deletes the SSM parameters that hold runner
// keys (under /dpl/, tagged like the instance they are for). A run
// deletes each one when its instance terminates; a run killed with -9 and
// never resumed leaves them, and `dpl resources --cleanup` finds them.
type RunnerKeyKind struct {
	// NewSSM builds the client (default: the SDK's).
	NewSSM func(cfg aws.Config) RunnerKeyAPI
}

// RunnerKeyAPI is the part of the SSM client RunnerKeyKind uses.
type RunnerKeyAPI interface {
	DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, optFns ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	DeleteParameters(ctx context.Context, in *ssm.DeleteParametersInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
}

func (RunnerKeyKind) Name() string { return RunnerKeyKindName }

func (k RunnerKeyKind) client(cfg aws.Config) RunnerKeyAPI {
	if k.NewSSM != nil {
		return k.NewSSM(cfg)
	}
	return ssm.NewFromConfig(cfg)
}

// List returns the runner key parameters under /dpl/ that carry every tag
// in match (any with a dpl:pipelineId tag when match is empty).
func (k RunnerKeyKind) List(ctx context.Context, cfg aws.Config, match map[string]string) ([]Owned, error) {
	c := k.client(cfg)
	filters := []ssmtypes.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/dpl"}}}
	for _, key := range SortedKeys(match) {
		filters = append(filters, ssmtypes.ParameterStringFilter{Key: aws.String("tag:" + key), Values: []string{match[key]}})
	}
	var out []Owned
	pages := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{ParameterFilters: filters})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("ssm DescribeParameters: %w", err)
		}
		for _, p := range page.Parameters {
			name := aws.ToString(p.Name)
			tags, err := c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name)})
			if err != nil {
				return out, fmt.Errorf("ssm ListTagsForResource %s: %w", name, err)
			}
			o := Owned{Kind: RunnerKeyKindName, Region: cfg.Region, ID: name, State: "stored", Tags: map[string]string{}}
			if p.LastModifiedDate != nil {
				o.Time = *p.LastModifiedDate
			}
			for _, t := range tags.TagList {
				if strings.HasPrefix(aws.ToString(t.Key), "dpl:") {
					o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			if o.Tags[TagPipeline] == "" {
				continue // not one of dpl's runner keys
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// Terminate deletes the parameters (at most 10 per call, as SSM takes
// them); ones already gone are fine.
func (k RunnerKeyKind) Terminate(ctx context.Context, cfg aws.Config, ids []string) error {
	c := k.client(cfg)
	var errs []error
	for len(ids) > 0 {
		n := min(10, len(ids))
		if _, err := c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: ids[:n]}); err != nil {
			errs = append(errs, fmt.Errorf("ssm DeleteParameters: %w", err))
		}
		ids = ids[n:]
	}
	return errors.Join(errs...)
}
