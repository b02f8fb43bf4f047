package endpoint

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/dpl-dev/dpl/executor"
)

// NewAttached returns a server that fronts engines driven elsewhere, as
// `dpl run --serve` needs: nothing is persisted by the server, no engine
// is started by it, and heartbeats answer terminate once every attached
// run ended. Management operations other than the read-only ones and
// SetStatus act only on attached pipelines.
func NewAttached(opts Options) (*Server, error) {
	s, err := newServer(opts, false)
	if err != nil {
		return nil, err
	}
	s.attached = true
	return s, nil
}

// Attach serves eng's pipeline: tasks of groups (the engine must have been
// made with Options.Remote = groups; see WorkerGroups) go to runners
// polling this server, and DescribePipelines, QueryObjects,
// DescribeObjects, EvaluateExpression and SetStatus read and act on the
// engine. The pipeline shows SCHEDULED until eng's run ends, then
// FINISHED. The caller keeps driving eng.Run.
func (s *Server) Attach(eng *executor.Engine, name string, groups []string) error {
	id := eng.PipelineID()
	events, unsubscribe := eng.Subscribe()
	r := &pipelineRun{id: id, eng: eng, groups: groups, done: make(chan struct{})}
	now := s.now()
	s.reg.mu.Lock()
	if s.reg.byID[id] != nil {
		s.reg.mu.Unlock()
		unsubscribe()
		return fmt.Errorf("endpoint: pipeline %s is already served", id)
	}
	p := &Pipeline{ID: id, Name: name, UniqueID: id, Created: now.Truncate(time.Second), State: StateScheduled, LastActivation: now, Version: 1}
	s.reg.order = append(s.reg.order, p)
	s.reg.byID[id] = p
	s.reg.mu.Unlock()
	s.mu.Lock()
	s.runs[id] = r
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer unsubscribe()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					close(r.done)
					_ = s.reg.update(id, func(p *Pipeline) error { p.State = StateFinished; return nil })
					return
				}
				if ev.Kind == executor.EventAttempt && ev.Status == executor.WaitingForRunner {
					s.wakeGroups(groups)
					s.wakeGroups(eng.ResourceGroups())
				}
			case <-s.ctx.Done():
				return
			}
		}
	}()
	s.wakeGroups(groups)
	return nil
}

// ServeEngine is `dpl run --serve ADDR`: it listens on addr and serves
// eng (made with Options.Remote = groups) until ctx ends or the run ends,
// then for opts.EndGrace more: during the grace period heartbeats answer
// terminate and waiting polls return at once, so runners learn that the
// run is over and exit cleanly before the server closes. The caller must
// wait for ServeEngine to return before exiting for the grace to matter.
// opts.StateDir is the run's state folder (nothing is written to it; the
// store stays the caller's).
func ServeEngine(ctx context.Context, addr string, eng *executor.Engine, name string, groups []string, opts Options) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve %s: %w", addr, err)
	}
	return serveEngine(ctx, l, eng, name, groups, opts)
}

func serveEngine(ctx context.Context, l net.Listener, eng *executor.Engine, name string, groups []string, opts Options) error {
	s, err := NewAttached(opts)
	if err != nil {
		l.Close()
		return err
	}
	defer s.Close()
	if err := s.Attach(eng, name, groups); err != nil {
		l.Close()
		return err
	}
	grace := opts.EndGrace
	if grace <= 0 {
		grace = DefaultEndGrace
	}
	s.mu.Lock()
	r := s.runs[eng.PipelineID()]
	s.mu.Unlock()
	serveCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
		case <-r.done:
		}
		s.mu.Lock()
		s.ending = true
		s.mu.Unlock()
		s.wakeGroups(groups) // waiting polls answer now; runners heartbeat
		select {
		case <-time.After(grace):
		case <-serveCtx.Done():
		}
		stop()
	}()
	return s.Serve(serveCtx, l)
}
