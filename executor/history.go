// Queries over stored state: instances, attempts, the event history.

package executor

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dpl-dev/dpl/executor/runstore"
)

func (e *engine) history(after uint64) ([]Event, error) {
	e.mu.Lock()
	e.flush() // normally empty: every operation flushes before unlocking
	target := e.w.queued()
	last := e.seq
	if e.db == nil {
		var out []Event
		for _, ev := range e.memLog {
			if ev.Seq > after {
				out = append(out, *ev)
			}
		}
		e.mu.Unlock()
		return out, nil
	}
	e.mu.Unlock()
	// Once the writer has written what was queued, everything up to last
	// is in the store; read it without holding the engine (a long history
	// must not stall the run).
	e.w.waitFor(target)
	var out []Event
	err := e.db.Events(e.pipelineID, e.act.Seq, after, func(se runstore.Event) error {
		if se.Seq > last {
			return errStopScan
		}
		var ev Event
		if err := json.Unmarshal(se.Data, &ev); err != nil {
			return fmt.Errorf("event %d: %w", se.Seq, err)
		}
		ev.Seq = se.Seq
		out = append(out, ev)
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	if err != nil {
		return out, fmt.Errorf("engine: read history of activation %d: %w", e.act.Seq, err)
	}
	return out, nil
}

var errStopScan = errors.New("stop")

func (e *engine) instances() []runstore.Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]runstore.Instance, 0, len(e.order))
	for _, i := range e.order {
		out = append(out, i.Instance)
	}
	return out
}

func (e *engine) attempts(id string) []runstore.Attempt {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []runstore.Attempt
	for _, a := range e.attList[id] {
		out = append(out, *a)
	}
	return out
}
