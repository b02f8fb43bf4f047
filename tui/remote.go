package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/remote"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// RemoteSource is a Source over the Data Pipeline API of a running
// `dpl serve` (or anything answering the protocol). The API has no event
// stream, so Watch polls: instances and attempts through QueryObjects and
// DescribeObjects, and status changes between two polls become events.
// Logs are not served by the API; the UI shows each attempt's
// errorMessage instead.
type RemoteSource struct {
	client   *remote.Client
	endpoint string
	pid      string
	name     string
	comps    []Component
	kinds    map[string]string // component id → kind

	mu    sync.Mutex
	insts []runstore.Instance
	atts  map[string][]runstore.Attempt
	err   error // of the last poll
}

var _ Source = (*RemoteSource)(nil)

// RemoteInterval is how often an attached view polls the API.
const RemoteInterval = 2 * time.Second

// PickRemotePipeline chooses the pipeline to attach to when none was
// named: the only one, else the only one that is SCHEDULED; otherwise the
// error lists the candidates.
func PickRemotePipeline(ctx context.Context, c *remote.Client) (string, error) {
	var ids []string
	in := &datapipeline.ListPipelinesInput{}
	for {
		var out *datapipeline.ListPipelinesOutput
		err := c.Do(ctx, func(dp *datapipeline.Client) (err error) { out, err = dp.ListPipelines(ctx, in); return err })
		if err != nil {
			return "", fmt.Errorf("list pipelines: %w", err)
		}
		for _, p := range out.PipelineIdList {
			ids = append(ids, aws.ToString(p.Id))
		}
		if !out.HasMoreResults || out.Marker == nil {
			break
		}
		in.Marker = out.Marker
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("no pipeline to attach to")
	case 1:
		return ids[0], nil
	}
	var scheduled []string
	for i := 0; i < len(ids); i += 25 {
		batch := ids[i:min(i+25, len(ids))]
		var out *datapipeline.DescribePipelinesOutput
		err := c.Do(ctx, func(dp *datapipeline.Client) (err error) {
			out, err = dp.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: batch})
			return err
		})
		if err != nil {
			return "", fmt.Errorf("describe pipelines: %w", err)
		}
		for _, p := range out.PipelineDescriptionList {
			for _, f := range p.Fields {
				if aws.ToString(f.Key) == "@pipelineState" && aws.ToString(f.StringValue) == "SCHEDULED" {
					scheduled = append(scheduled, aws.ToString(p.PipelineId))
				}
			}
		}
	}
	if len(scheduled) == 1 {
		return scheduled[0], nil
	}
	return "", fmt.Errorf("%d pipelines (%s): pick one with --pipeline", len(ids), strings.Join(ids, ", "))
}

// describeBatch bounds the ids of one DescribeObjects call (the service's
// limit is 25 per page of output, ids are not bounded; stay modest).
const describeBatch = 100

// NewRemote attaches to pipelineID through c: it reads the pipeline's name
// and definition and takes a first snapshot of its instances.
func NewRemote(ctx context.Context, c *remote.Client, endpoint, pipelineID string) (*RemoteSource, error) {
	s := &RemoteSource{client: c, endpoint: endpoint, pid: pipelineID, kinds: map[string]string{}}
	var desc *datapipeline.DescribePipelinesOutput
	err := c.Do(ctx, func(dp *datapipeline.Client) (err error) {
		desc, err = dp.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{pipelineID}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe pipeline %s: %w", pipelineID, err)
	}
	for _, p := range desc.PipelineDescriptionList {
		s.name = aws.ToString(p.Name)
	}
	var def *datapipeline.GetPipelineDefinitionOutput
	err = c.Do(ctx, func(dp *datapipeline.Client) (err error) {
		def, err = dp.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(pipelineID)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("definition of %s: %w", pipelineID, err)
	}
	s.comps, err = componentsOfDefinition(pipelineID, def)
	if err != nil {
		return nil, err
	}
	for _, c := range s.comps {
		s.kinds[c.ID] = c.Kind
	}
	if err := s.poll(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// componentsOfDefinition reads GetPipelineDefinition's objects with the
// definition reader, so that types inherited through parent count.
func componentsOfDefinition(pid string, out *datapipeline.GetPipelineDefinitionOutput) ([]Component, error) {
	type wireField struct {
		Key         string  `json:"key"`
		StringValue *string `json:"stringValue,omitempty"`
		RefValue    *string `json:"refValue,omitempty"`
	}
	type wireObject struct {
		ID     string      `json:"id"`
		Name   string      `json:"name"`
		Fields []wireField `json:"fields"`
	}
	var doc struct {
		Objects []wireObject `json:"pipelineObjects"`
	}
	for _, o := range out.PipelineObjects {
		w := wireObject{ID: aws.ToString(o.Id), Name: aws.ToString(o.Name), Fields: []wireField{}}
		for _, f := range o.Fields {
			w.Fields = append(w.Fields, wireField{Key: aws.ToString(f.Key), StringValue: f.StringValue, RefValue: f.RefValue})
		}
		doc.Objects = append(doc.Objects, w)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	d, err := definition.Parse(pid+".json", data)
	if err != nil {
		return nil, fmt.Errorf("definition of %s: %w", pid, err)
	}
	d.Resolve()
	var comps []Component
	for _, o := range d.Objects {
		eff := d.Effective(o)
		name := o.Name
		if !o.HasName {
			name = o.ID
		}
		to := &task.Object{ID: o.ID, Name: name, Fields: []task.Field{{Key: "type", StringValue: aws.String(eff.Str("type"))}}}
		for _, k := range []string{"input", "output", "dependsOn", "precondition", "runsOn"} {
			for _, r := range eff.Refs(k) {
				to.Fields = append(to.Fields, task.Field{Key: k, RefValue: aws.String(r)})
			}
		}
		if c, ok := componentOf(to); ok {
			comps = append(comps, c)
		}
	}
	return comps, nil
}

// Info implements Source.
func (s *RemoteSource) Info() Info {
	return Info{PipelineID: s.pid, Name: s.name, Endpoint: s.endpoint}
}

// Components implements Source.
func (s *RemoteSource) Components() []Component { return s.comps }

// Instances implements Source: the last poll's snapshot.
func (s *RemoteSource) Instances() []runstore.Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.insts)
}

// Attempts implements Source: the last poll's snapshot.
func (s *RemoteSource) Attempts(id string) []runstore.Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.atts[id])
}

// Err returns the error of the last poll, nil when it succeeded.
func (s *RemoteSource) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Describe implements Source.
func (s *RemoteSource) Describe(ctx context.Context, id string) ([]task.Field, error) {
	return describeVia(ctx, s.client, s.pid, id)
}

// SetStatus implements Source.
func (s *RemoteSource) SetStatus(ctx context.Context, ids []string, cmd string) error {
	return s.client.SetStatus(ctx, s.pid, ids, cmd)
}

// Watch polls every interval until ctx ends and sends the changes as
// events: an EventStatus per instance whose status changed (or that
// appeared), an EventAttempt per attempt that changed. The channel closes
// when ctx ends. A failed poll keeps the last snapshot; its error is in
// Err.
func (s *RemoteSource) Watch(ctx context.Context, interval time.Duration) <-chan executor.Event {
	ch := make(chan executor.Event, 256)
	go func() {
		defer close(ch)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			before, beforeAtts := s.snapshot()
			if err := s.poll(ctx); err != nil {
				continue
			}
			after, afterAtts := s.snapshot()
			for _, ev := range diffSnapshots(before, after, beforeAtts, afterAtts, time.Now()) {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch
}

func (s *RemoteSource) snapshot() ([]runstore.Instance, map[string][]runstore.Attempt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insts, s.atts
}

// diffSnapshots turns two polls into events, in instance order.
func diffSnapshots(before, after []runstore.Instance, ba, aa map[string][]runstore.Attempt, now time.Time) []executor.Event {
	prev := make(map[string]string, len(before))
	for _, in := range before {
		prev[in.ID] = in.Status
	}
	var evs []executor.Event
	for _, in := range after {
		if p, ok := prev[in.ID]; !ok || p != in.Status {
			evs = append(evs, executor.Event{Time: now, Kind: executor.EventStatus, Component: in.Component, Instance: in.ID,
				Status: executor.Status(in.Status), Prev: executor.Status(p), Error: in.ErrorMessage})
		}
		old := map[string]runstore.Attempt{}
		for _, a := range ba[in.ID] {
			old[a.ID] = a
		}
		for _, a := range aa[in.ID] {
			if o, ok := old[a.ID]; ok && o.Status == a.Status && o.ErrorMessage == a.ErrorMessage {
				continue
			}
			evs = append(evs, executor.Event{Time: now, Kind: executor.EventAttempt, Component: in.Component, Instance: in.ID,
				Attempt: a.ID, Status: executor.Status(a.Status), Error: a.ErrorMessage})
		}
	}
	return evs
}

// poll reads every instance and attempt of the pipeline.
func (s *RemoteSource) poll(ctx context.Context) error {
	insts, err := s.describeSphere(ctx, executor.SphereInstance)
	if err == nil {
		var atts []*task.Object
		atts, err = s.describeSphere(ctx, executor.SphereAttempt)
		if err == nil {
			s.store(insts, atts)
		}
	}
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	return err
}

func (s *RemoteSource) store(insts, atts []*task.Object) {
	list := make([]runstore.Instance, 0, len(insts))
	for _, o := range insts {
		list = append(list, s.instanceOf(o))
	}
	byInst := map[string][]runstore.Attempt{}
	for _, o := range atts {
		a := attemptOf(o)
		byInst[a.Instance] = append(byInst[a.Instance], a)
	}
	for k := range list {
		as := byInst[list[k].ID]
		sort.Slice(as, func(i, j int) bool { return as[i].N < as[j].N })
		list[k].Attempts = len(as)
	}
	s.mu.Lock()
	s.insts, s.atts = list, byInst
	s.mu.Unlock()
}

// describeSphere lists a sphere's ids with QueryObjects and describes
// them, following both operations' markers.
func (s *RemoteSource) describeSphere(ctx context.Context, sp executor.Sphere) ([]*task.Object, error) {
	var ids []string
	in := executor.QueryInput{PipelineID: s.pid, Sphere: sp, Limit: 1000}
	for {
		out, err := s.client.QueryObjects(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query %s objects: %w", sp, err)
		}
		ids = append(ids, out.IDs...)
		if !out.HasMoreResults || out.Marker == "" {
			break
		}
		in.Marker = out.Marker
	}
	var objs []*task.Object
	for len(ids) > 0 {
		n := min(len(ids), describeBatch)
		din := executor.DescribeInput{PipelineID: s.pid, ObjectIDs: ids[:n]}
		ids = ids[n:]
		for {
			out, err := s.client.DescribeObjects(ctx, din)
			if err != nil {
				return nil, fmt.Errorf("describe %s objects: %w", sp, err)
			}
			objs = append(objs, out.Objects...)
			if !out.HasMoreResults || out.Marker == "" {
				break
			}
			din.Marker = out.Marker
		}
	}
	return objs, nil
}

// parseTime reads the API's UTC time layout; empty or bad values are zero.
func parseTime(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func firstRef(o *task.Object, key string) string {
	if r := o.Refs(key); len(r) > 0 {
		return r[0]
	}
	return ""
}

// instanceOf maps a described instance to the store's shape; what the
// API does not carry (next attempt, next check, runnable time) stays zero.
func (s *RemoteSource) instanceOf(o *task.Object) runstore.Instance {
	in := runstore.Instance{ID: o.ID, Component: firstRef(o, "@componentParent"), Type: o.Get("type"),
		Status: o.Get("@status"), ScheduledStart: parseTime(o.Get("@scheduledStartTime")),
		ScheduledEnd: parseTime(o.Get("@scheduledEndTime")), ActualStart: parseTime(o.Get("@actualStartTime")),
		ActualEnd: parseTime(o.Get("@actualEndTime")), ErrorID: o.Get("errorId"), ErrorMessage: o.Get("errorMessage"),
		ErrorStack: o.Get("errorStackTrace"), CascadeFrom: firstRef(o, "@cascadeFailedOn"), WaitingOn: o.Refs("@waitingOn"),
		Resource: firstRef(o, "runsOn"), Node: firstRef(o, "node"), LastCheck: parseTime(o.Get("lastRetryTime")),
		Reason: o.Get("cancellationReason")}
	in.Kind = s.kinds[in.Component]
	in.WaitingCount = len(in.WaitingOn)
	return in
}

func attemptOf(o *task.Object) runstore.Attempt {
	n, _ := strconv.Atoi(o.Get("@attempt"))
	return runstore.Attempt{ID: o.ID, Instance: firstRef(o, "@instanceParent"), N: n, Status: o.Get("@status"),
		ActualStart: parseTime(o.Get("@actualStartTime")), ActualEnd: parseTime(o.Get("@actualEndTime")),
		Hostname: o.Get("hostname"), ErrorID: o.Get("errorId"), ErrorMessage: o.Get("errorMessage")}
}

// describeVia describes one object with expressions evaluated; when they
// fail to evaluate the raw fields come back with the error, so the view
// still shows them.
func describeVia(ctx context.Context, api interface {
	DescribeObjects(context.Context, executor.DescribeInput) (executor.DescribeOutput, error)
}, pid, id string) ([]task.Field, error) {
	in := executor.DescribeInput{PipelineID: pid, ObjectIDs: []string{id}, EvaluateExpressions: true}
	out, err := api.DescribeObjects(ctx, in)
	if err != nil {
		in.EvaluateExpressions = false
		raw, rerr := api.DescribeObjects(ctx, in)
		if rerr != nil || len(raw.Objects) == 0 {
			return nil, err
		}
		return raw.Objects[0].Fields, fmt.Errorf("fields shown unevaluated: %w", err)
	}
	if len(out.Objects) == 0 {
		return nil, fmt.Errorf("no object %s", id)
	}
	return out.Objects[0].Fields, nil
}
