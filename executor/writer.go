package executor

import (
	"sync"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// writer writes the engine's changes to the store in order, outside the
// engine's lock, merging whatever queued up meanwhile into one badger
// transaction (group commit): while one change is being written the
// engine keeps working, and under load many small changes cost one write.
// A goroutine runs only while there is something to write.
type writer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []runstore.Change
	db      runstore.Backend
	pipe    string
	seq     int
	n       uint64 // changes queued so far
	done    uint64 // changes written (or failed)
	active  bool
	werr    error
}

// queue adds a change; it is written after every change queued before it.
func (w *writer) queue(db runstore.Backend, pipeline string, seq int, c runstore.Change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cond == nil {
		w.cond = sync.NewCond(&w.mu)
	}
	w.db, w.pipe, w.seq = db, pipeline, seq
	w.pending = append(w.pending, c)
	w.n++
	if !w.active {
		w.active = true
		go w.loop()
	}
}

func (w *writer) loop() {
	w.mu.Lock()
	for len(w.pending) > 0 {
		batch, upto := w.pending, w.n
		db, pipe, seq := w.db, w.pipe, w.seq
		w.pending = nil
		w.mu.Unlock()
		err := db.Write(pipe, seq, merge(batch))
		w.mu.Lock()
		if err != nil && w.werr == nil {
			w.werr = err
		}
		w.done = upto
		w.cond.Broadcast()
	}
	w.active = false
	w.mu.Unlock()
}

// merge joins changes in order; an instance or attempt saved several
// times (also within one operation: a status and a waiting update) is
// encoded and written once, in its last state. Events are all kept.
func merge(cs []runstore.Change) runstore.Change {
	if len(cs) == 1 && len(cs[0].Instances) <= 1 && len(cs[0].Attempts) <= 1 {
		return cs[0]
	}
	var out runstore.Change
	insts := map[string]int{}
	atts := map[string]int{}
	for _, c := range cs {
		for _, in := range c.Instances {
			if k, ok := insts[in.ID]; ok {
				out.Instances[k] = in
				continue
			}
			insts[in.ID] = len(out.Instances)
			out.Instances = append(out.Instances, in)
		}
		for _, a := range c.Attempts {
			if k, ok := atts[a.ID]; ok {
				out.Attempts[k] = a
				continue
			}
			atts[a.ID] = len(out.Attempts)
			out.Attempts = append(out.Attempts, a)
		}
		out.Events = append(out.Events, c.Events...)
	}
	return out
}

// queued is the number of changes queued so far (for waitFor).
func (w *writer) queued() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// waitFor blocks until the first n changes are written.
func (w *writer) waitFor(n uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.done < n {
		w.cond.Wait()
	}
}

// sync blocks until everything queued so far is written and returns the
// first write error.
func (w *writer) sync() error {
	w.waitFor(w.queued())
	return w.err()
}

func (w *writer) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.werr
}
