package executor

import "sync"

// subscriber queues events without bounds so the engine never blocks on a
// slow reader; a goroutine feeds the channel.
type subscriber struct {
	mu     sync.Mutex
	queue  []Event
	closed bool
	signal chan struct{}
	out    chan Event
	stop   chan struct{}
}

func newSubscriber() *subscriber {
	s := &subscriber{signal: make(chan struct{}, 1), out: make(chan Event, 64), stop: make(chan struct{})}
	go s.pump()
	return s
}

func (s *subscriber) push(ev Event) {
	s.mu.Lock()
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// close ends the stream after the queued events are delivered.
func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *subscriber) pump() {
	defer close(s.out)
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		closed := s.closed
		s.mu.Unlock()
		for _, ev := range q {
			select {
			case s.out <- ev:
			case <-s.stop:
				return
			}
		}
		if closed && len(q) == 0 {
			return
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-s.signal:
		case <-s.stop:
			return
		}
	}
}

func (e *engine) subscribe() (<-chan Event, func()) {
	s := newSubscriber()
	e.mu.Lock()
	if e.done {
		s.close()
	} else {
		e.subs[s] = true
	}
	e.mu.Unlock()
	var once sync.Once
	return s.out, func() {
		once.Do(func() {
			e.mu.Lock()
			delete(e.subs, s)
			e.mu.Unlock()
			close(s.stop)
		})
	}
}
