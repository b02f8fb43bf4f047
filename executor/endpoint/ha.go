package endpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor/pgstore"
)

// Active/standby (issue 18 item 2): several dpl serve processes on one
// PostgreSQL schema. Each is a Node. The node holding the leadership lease
// (pgstore.Campaign, renewed every RenewEvery) runs a Server — the engines,
// the scheduling, the task hand-out — on a store fenced with its token;
// the others answer every request by passing it to the leader, so clients
// may point at any node. When the leader goes (killed, stopped, cut off)
// its lease runs out after TTL and a standby takes over: it builds its
// Server from the store, which resumes every scheduled pipeline and keeps
// the leases of tasks runners still hold. A former leader that wakes up
// stops serving as soon as its own clock says the lease may have run out,
// and its writes fail on the fence anyway.

// Node defaults.
const (
	DefaultLeaderTTL  = 5 * time.Second
	DefaultRenewEvery = time.Second
	// DefaultLeaderWait is how long a request waits for a leader to exist
	// (a takeover in progress) before ServiceUnavailable.
	DefaultLeaderWait = 20 * time.Second
)

// NodeOptions configure a Node.
type NodeOptions struct {
	// Server configures the Server the node runs while it leads; its
	// Store is replaced by Store fenced with the leadership token.
	Server Options
	// Store is the shared PostgreSQL store.
	Store *pgstore.Store
	// ID names the node in the lease (default host:pid:random).
	ID string
	// Addr is the URL other nodes reach this one at (http://host:port).
	Addr string
	// TTL is the lease's length, RenewEvery how often the leader renews it
	// and a standby tries to take it (defaults 5 s and 1 s).
	TTL, RenewEvery time.Duration
	// Wait bounds how long a request waits for a leader (default 20 s).
	Wait time.Duration
	// Logf logs leadership changes (nil: Server.Logf, then log.Printf).
	Logf func(format string, args ...any)
}

// Node is one dpl serve of an active/standby group. Create with
// StartNode, serve with ServeHTTP or Serve, stop with Close.
type Node struct {
	o      NodeOptions
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	srv   *Server // while leading
	token int64
	// validUntil: the lease surely has not run out before this instant
	// (monotonic clock, counted from before the renewal was sent).
	validUntil time.Time
	// leader is the current leader's address as last read (standby).
	leader string
	// leaderCtx ends the requests passed to a leader that lost the lease.
	leaderCtx    context.Context
	leaderCancel context.CancelFunc
	changed      chan struct{} // closed (and renewed) on every change
	client       *http.Client  // passes requests to the leader
	// Takeovers counts the times this node became the leader.
	takeovers int
	closed    bool
}

// StartNode starts campaigning; the node answers requests at once (as a
// standby until it leads).
func StartNode(o NodeOptions) (*Node, error) {
	if o.Store == nil {
		return nil, errors.New("endpoint: a node needs the shared PostgreSQL store")
	}
	if o.Addr == "" {
		return nil, errors.New("endpoint: a node needs the address other nodes reach it at")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultLeaderTTL
	}
	if o.RenewEvery <= 0 {
		o.RenewEvery = DefaultRenewEvery
	}
	if o.RenewEvery >= o.TTL/2 {
		return nil, fmt.Errorf("endpoint: the lease (%s) must be at least twice as long as its renewal interval (%s)", o.TTL, o.RenewEvery)
	}
	if o.Wait <= 0 {
		o.Wait = DefaultLeaderWait
	}
	if o.Logf == nil {
		o.Logf = o.Server.Logf
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	if o.ID == "" {
		host, _ := os.Hostname()
		o.ID = host + ":" + strconv.Itoa(os.Getpid()) + ":" + newRequestID()[:8]
	}
	n := &Node{o: o, done: make(chan struct{}), changed: make(chan struct{}), client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.leaderCtx, n.leaderCancel = context.WithCancel(n.ctx)
	go n.loop()
	return n, nil
}

// ID is the node's id in the lease.
func (n *Node) ID() string { return n.o.ID }

// Leading reports whether this node leads now.
func (n *Node) Leading() bool {
	srv, _, _ := n.route()
	return srv != nil
}

// Server returns the Server of the leading node (nil on a standby).
func (n *Node) Server() *Server {
	srv, _, _ := n.route()
	return srv
}

// Changed returns a channel closed at the next change of leadership seen
// by this node.
func (n *Node) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

func (n *Node) changedLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// route says where a request goes now: the node's own Server while its
// lease is surely valid, or the leader's address.
func (n *Node) route() (*Server, string, context.Context) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		if time.Now().Before(n.validUntil) {
			return n.srv, "", nil
		}
		return nil, "", nil // stopped past the lease (SIGSTOP): no longer trusted
	}
	return nil, n.leader, n.leaderCtx
}

func (n *Node) loop() {
	defer close(n.done)
	t := time.NewTicker(n.o.RenewEvery)
	defer t.Stop()
	for {
		n.tick()
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick renews the lease (leader) or campaigns and reads who leads (standby).
func (n *Node) tick() {
	n.mu.Lock()
	leading, token, valid := n.srv != nil, n.token, n.validUntil
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(n.ctx, n.o.TTL/2)
	defer cancel()
	sent := time.Now()
	if leading {
		ok, err := n.o.Store.Renew(ctx, token, n.o.TTL)
		switch {
		case ok:
			n.mu.Lock()
			n.validUntil = sent.Add(n.o.TTL - n.o.RenewEvery)
			n.mu.Unlock()
		case err == nil:
			n.demote("the lease was taken over by another node")
		case time.Now().After(valid):
			n.demote(fmt.Sprintf("the lease could not be renewed before it ran out: %v", err))
		default:
			n.o.Logf("renew leadership: %v (lease valid for %s more)", err, time.Until(valid).Round(time.Millisecond))
		}
		return
	}
	tok, won, err := n.o.Store.Campaign(ctx, n.o.ID, n.o.Addr, n.o.TTL)
	if err != nil {
		if n.ctx.Err() == nil {
			n.o.Logf("campaign: %v", err)
		}
		return
	}
	if won {
		n.lead(tok, sent)
		return
	}
	l, err := n.o.Store.Leader(ctx)
	addr := ""
	if err == nil && l.Live && l.Holder != n.o.ID {
		addr = l.Addr
	}
	n.mu.Lock()
	if addr != n.leader {
		n.leader = addr
		// Requests passed to the former leader end (it may be stopped
		// and never answer); their clients retry and reach the new one.
		n.leaderCancel()
		n.leaderCtx, n.leaderCancel = context.WithCancel(n.ctx)
		n.changedLocked()
	}
	n.mu.Unlock()
}

// lead builds the Server on the fenced store: it resumes every scheduled
// pipeline from the store.
func (n *Node) lead(token int64, sent time.Time) {
	start := time.Now()
	opts := n.o.Server
	opts.Store = n.o.Store.Fenced(token)
	srv, err := New(opts)
	if err != nil {
		n.o.Logf("leadership (token %d) taken but the server did not start: %v; resigning", token, err)
		_ = n.o.Store.Resign(n.ctx, token)
		return
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		_ = srv.Close()
		_ = n.o.Store.Resign(context.Background(), token)
		return
	}
	n.srv, n.token, n.leader = srv, token, ""
	n.validUntil = sent.Add(n.o.TTL - n.o.RenewEvery)
	n.takeovers++
	n.leaderCancel()
	n.leaderCtx, n.leaderCancel = context.WithCancel(n.ctx)
	n.changedLocked()
	n.mu.Unlock()
	n.o.Logf("leading (token %d): scheduling resumed from the store in %s", token, time.Since(start).Round(time.Millisecond))
	// Renew at once: resuming may have taken a while.
	n.tick()
}

// demote stops serving as the leader at once and closes its Server (its
// writes are fenced from now on).
func (n *Node) demote(why string) {
	n.mu.Lock()
	srv, token := n.srv, n.token
	n.srv, n.token = nil, 0
	n.changedLocked()
	n.mu.Unlock()
	if srv == nil {
		return
	}
	n.o.Logf("no longer leading (token %d): %s; now a standby", token, why)
	go func() {
		if err := srv.Close(); err != nil {
			n.o.Logf("closing the former leader's server: %v", err)
		}
	}()
}

// ServeHTTP implements http.Handler: the leader's Server answers, or the
// request is passed to the leader. While nobody leads (a takeover), or the
// leader does not answer (killed, stopped: its lease has yet to run out),
// the request waits and is passed again, up to Wait: a client sees a slow
// answer, not an error.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	deadline := time.NewTimer(n.o.Wait)
	defer deadline.Stop()
	var body []byte
	read := false
	for {
		changed := n.Changed()
		srv, addr, lctx := n.route()
		if srv != nil {
			if read {
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			}
			srv.ServeHTTP(w, r)
			return
		}
		if addr != "" {
			if !read {
				// Kept, so that it can be passed again to the next leader.
				var err error
				body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, n.maxBody()))
				if err != nil {
					refuseUnread(w, tooLarge(n.maxBody()))
					return
				}
				read = true
			}
			if n.pass(w, r, addr, body, lctx) {
				return
			}
		}
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond): // a stopped leader's lease runs out without a change here
		case <-r.Context().Done():
			return
		case <-deadline.C:
			writeError(w, &apiError{Status: http.StatusServiceUnavailable, Code: CodeInternal,
				Message: fmt.Sprintf("no dpl serve leads this store or answers as its leader (waited %s for a takeover); retry", n.o.Wait)})
			return
		}
	}
}

func (n *Node) maxBody() int64 {
	if n.o.Server.MaxBodyBytes > 0 {
		return n.o.Server.MaxBodyBytes
	}
	return DefaultMaxBody
}

// pass forwards a request to the leader as it came (the signature holds:
// the Host header and the body are unchanged) and copies the answer back.
// false: the leader could not be reached or lost the lease before it
// answered; nothing was written to w.
func (n *Node) pass(w http.ResponseWriter, r *http.Request, addr string, body []byte, lctx context.Context) bool {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(lctx, cancel)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, r.Method, addr+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		writeError(w, &apiError{Status: http.StatusBadGateway, Code: CodeInternal, Message: "leader address " + addr + ": " + err.Error()})
		return true
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.Header.Set("X-Forwarded-For", host)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
	return true
}

// Serve answers requests on l until ctx ends, with the Server's limits on
// headers and connections per client.
func (n *Node) Serve(ctx context.Context, l net.Listener) error {
	so := n.o.Server
	if so.HeaderTimeout <= 0 {
		so.HeaderTimeout = DefaultHeaderTimeout
	}
	if so.MaxConnsPerClient == 0 {
		so.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
	so.Logf = n.o.Logf
	return serveHTTP(ctx, l, n, so, func() {
		if srv := n.Server(); srv != nil {
			srv.cancel() // ends long polls
		}
		n.mu.Lock()
		n.leaderCancel()
		n.mu.Unlock()
	})
}

// Close stops campaigning; a leader closes its Server (its state stays
// resumable) and resigns, so that a standby takes over at once.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	n.cancel()
	<-n.done
	n.mu.Lock()
	srv, token := n.srv, n.token
	n.srv = nil
	n.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rerr := n.o.Store.Resign(ctx, token); err == nil {
		err = rerr
	}
	return err
}

// Takeovers is how many times this node became the leader.
func (n *Node) Takeovers() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.takeovers
}
