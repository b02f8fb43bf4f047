package tui

import (
	"context"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/control"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// ControlInterval is how often a view attached to another process's run
// asks it for new events.
const ControlInterval = 500 * time.Millisecond

// NewControlSource attaches to a `dpl run` in another process through its
// control socket: the same view as in the run's own terminal, with live
// events and operator commands. It returns the source, the events so far
// and the live stream, which closes when the run ends (its socket goes
// away) or ctx ends.
func NewControlSource(ctx context.Context, c *control.Client, stateDir string) (*EngineSource, []executor.Event, <-chan executor.Event, error) {
	snap, err := c.Snapshot(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	history, err := c.Events(ctx, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	eng := &controlEngine{c: c, pid: snap.Pipeline, insts: snap.Instances, atts: map[string][]runstore.Attempt{}}
	src := &EngineSource{Engine: eng, Name: snap.Name, Activation: snap.Activation, StateDir: stateDir}
	var last uint64
	if len(history) > 0 {
		last = history[len(history)-1].Seq
	}
	ch := make(chan executor.Event, 256)
	go func() {
		defer close(ch)
		t := time.NewTicker(ControlInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			evs, err := c.Events(ctx, last)
			if err != nil {
				return // the run ended (or its process died): the view shows what it had
			}
			for _, ev := range evs {
				last = ev.Seq
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return src, history, ch, nil
}

// controlEngine is EngineAPI over a control socket. Source's snapshot
// methods have no error result: when a call fails (the run just ended) the
// last answer stands.
type controlEngine struct {
	c   *control.Client
	pid string

	mu    sync.Mutex
	insts []runstore.Instance
	atts  map[string][]runstore.Attempt

	secretsOnce sync.Once
	secrets     []string
}

func (e *controlEngine) PipelineID() string { return e.pid }

// Secrets asks the run once (they are known when it starts), so that the
// logs view masks them in what commands wrote.
func (e *controlEngine) Secrets() []string {
	e.secretsOnce.Do(func() {
		e.secrets, _ = e.c.Secrets(context.Background())
	})
	return e.secrets
}

func (e *controlEngine) Instances() []runstore.Instance {
	snap, err := e.c.Snapshot(context.Background())
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		e.insts = snap.Instances
	}
	return e.insts
}

func (e *controlEngine) Attempts(id string) []runstore.Attempt {
	atts, err := e.c.Attempts(context.Background(), id)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		e.atts[id] = atts
	}
	return e.atts[id]
}

func (e *controlEngine) QueryObjects(ctx context.Context, in executor.QueryInput) (executor.QueryOutput, error) {
	return e.c.QueryObjects(ctx, in)
}

func (e *controlEngine) DescribeObjects(ctx context.Context, in executor.DescribeInput) (executor.DescribeOutput, error) {
	return e.c.DescribeObjects(ctx, in)
}

func (e *controlEngine) SetStatus(ctx context.Context, pid string, ids []string, status string) error {
	return e.c.SetStatus(ctx, pid, ids, status)
}

// Attached wraps the source of a run in another process (NewControlSource)
// with final, which opens that run's stored state once the run has ended,
// so the view shows the final statuses rather than the last live answer.
func Attached(src Source, final func(ctx context.Context) (Source, []executor.Event, error)) Source {
	return &attachedSource{Source: src, final: final}
}

type attachedSource struct {
	Source
	final func(ctx context.Context) (Source, []executor.Event, error)
}

// RunEnded implements Finaler.
func (a *attachedSource) RunEnded(ctx context.Context) (Source, []executor.Event) {
	s, history, err := a.final(ctx)
	if err != nil {
		return nil, nil
	}
	return s, history
}
