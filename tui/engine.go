package tui

import (
	"context"
	"fmt"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/schedule"
	"github.com/dpl-dev/dpl/executor/task"
)

// EngineAPI is what EngineSource needs of an engine: *executor.Engine, or
// a run in another dpl process reached over its control socket.
type EngineAPI interface {
	PipelineID() string
	Instances() []runstore.Instance
	Attempts(instanceID string) []runstore.Attempt
	QueryObjects(ctx context.Context, in executor.QueryInput) (executor.QueryOutput, error)
	DescribeObjects(ctx context.Context, in executor.DescribeInput) (executor.DescribeOutput, error)
	SetStatus(ctx context.Context, pipelineID string, ids []string, status string) error
}

// EngineSource is a Source over an engine: the running one of `dpl run`,
// one opened on a stored activation for browsing (ReadOnly), or a run in
// another process (NewControlSource).
type EngineSource struct {
	Engine     EngineAPI
	Name       string
	Activation int
	StateDir   string
	ReadOnly   bool
}

var _ Source = (*EngineSource)(nil)

// Info implements Source.
func (s *EngineSource) Info() Info {
	info := Info{PipelineID: s.Engine.PipelineID(), Name: s.Name, Activation: s.Activation, StateDir: s.StateDir, ReadOnly: s.ReadOnly}
	if e, ok := s.Engine.(interface{ Secrets() []string }); ok {
		info.Secrets = e.Secrets()
	}
	return info
}

// Components implements Source through the API: every COMPONENT object of
// a scheduled kind, with its reference fields as edges.
func (s *EngineSource) Components() []Component {
	ctx := context.Background()
	pid := s.Engine.PipelineID()
	var ids []string
	in := executor.QueryInput{PipelineID: pid, Sphere: executor.SphereComponent, Limit: 1000}
	for {
		out, err := s.Engine.QueryObjects(ctx, in)
		if err != nil {
			return nil
		}
		ids = append(ids, out.IDs...)
		if !out.HasMoreResults {
			break
		}
		in.Marker = out.Marker
	}
	var comps []Component
	for len(ids) > 0 {
		n := min(len(ids), 100)
		out, err := s.Engine.DescribeObjects(ctx, executor.DescribeInput{PipelineID: pid, ObjectIDs: ids[:n]})
		ids = ids[n:]
		if err != nil {
			continue
		}
		for _, o := range out.Objects {
			if c, ok := componentOf(o); ok {
				comps = append(comps, c)
			}
		}
	}
	return comps
}

// componentOf maps a described component to a graph node; objects that
// never get instances (schedules, actions, databases) are left out.
func componentOf(o *task.Object) (Component, bool) {
	typ := o.Get("type")
	var kind string
	switch schedule.KindOf(typ) {
	case schedule.KindActivity:
		kind = "activity"
	case schedule.KindDataNode:
		kind = "datanode"
	case schedule.KindResource:
		kind = "resource"
	case schedule.KindPrecondition:
		kind = "precondition"
	default:
		return Component{}, false
	}
	c := Component{ID: o.ID, Name: o.Name, Type: typ, Kind: kind,
		Inputs: o.Refs("input"), Outputs: o.Refs("output"), DependsOn: o.Refs("dependsOn"),
		Preconditions: o.Refs("precondition")}
	if r := o.Refs("runsOn"); len(r) > 0 {
		c.RunsOn = r[0]
	}
	return c, true
}

// Instances implements Source.
func (s *EngineSource) Instances() []runstore.Instance { return s.Engine.Instances() }

// Attempts implements Source.
func (s *EngineSource) Attempts(id string) []runstore.Attempt { return s.Engine.Attempts(id) }

// Describe implements Source.
func (s *EngineSource) Describe(ctx context.Context, id string) ([]task.Field, error) {
	return describeVia(ctx, s.Engine, s.Engine.PipelineID(), id)
}

// SetStatus implements Source.
func (s *EngineSource) SetStatus(ctx context.Context, ids []string, cmd string) error {
	if s.ReadOnly {
		return fmt.Errorf("read-only: this stored run is not running; continue it with dpl run")
	}
	return s.Engine.SetStatus(ctx, s.Engine.PipelineID(), ids, cmd)
}
