package endpoint

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Defaults against hostile or broken clients.
const (
	// DefaultHeaderTimeout bounds reading a request's headers.
	DefaultHeaderTimeout = 10 * time.Second
	// DefaultBodyTimeout bounds reading a request's body (24 MiB at
	// 400 KB/s); long polls start after it, so it does not limit them.
	DefaultBodyTimeout = 60 * time.Second
	// DefaultMaxConnsPerClient is how many connections one IP address may
	// hold open; more are closed at once. 200 pollers on one host fit.
	DefaultMaxConnsPerClient = 256
	// DefaultRateLimit is the requests per second one IP address may
	// make (sustained; DefaultRateBurst at once) before
	// ThrottlingException.
	DefaultRateLimit = 1000
	DefaultRateBurst = 2000
	// bodyBudgetFactor: request bodies read at once hold at most this
	// many MaxBodyBytes in memory; beyond it requests are throttled.
	bodyBudgetFactor = 2
	// clientIdle is when an idle client's rate state is forgotten.
	clientIdle = 10 * time.Minute
)

// clientKey is what limits are counted per: the remote IP address.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// rateLimiter is a token bucket per client.
type rateLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	per   map[string]*clientRate
}

type clientRate struct {
	lim  *rate.Limiter
	seen time.Time
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: max(burst, 1), per: map[string]*clientRate{}}
}

// allow takes one token of client's bucket.
func (rl *rateLimiter) allow(client string, now time.Time) bool {
	if rl == nil {
		return true
	}
	rl.mu.Lock()
	c := rl.per[client]
	if c == nil {
		c = &clientRate{lim: rate.NewLimiter(rl.limit, rl.burst)}
		rl.per[client] = c
	}
	c.seen = now
	rl.mu.Unlock()
	return c.lim.AllowN(now, 1)
}

// prune forgets clients idle since before cutoff.
func (rl *rateLimiter) prune(cutoff time.Time) {
	if rl == nil {
		return
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	for k, c := range rl.per {
		if c.seen.Before(cutoff) {
			delete(rl.per, k)
		}
	}
}

func throttled(what string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeThrottling, Message: "Rate exceeded: " + what}
}

// bodyBudget bounds the bytes of request bodies held at once.
type bodyBudget struct {
	sem *semaphore.Weighted
	max int64
}

func newBodyBudget(total int64) *bodyBudget {
	return &bodyBudget{sem: semaphore.NewWeighted(total), max: total}
}

// take reserves n bytes, or reports false when the budget is spent: the
// request is then throttled rather than queued, so that memory stays
// bounded and no goroutine waits on a slow client's behalf.
func (b *bodyBudget) take(n int64) bool { return b.sem.TryAcquire(min(n, b.max)) }

func (b *bodyBudget) give(n int64) { b.sem.Release(min(n, b.max)) }

// connLimitListener closes connections beyond max per client IP at once.
type connLimitListener struct {
	net.Listener
	max  int
	logf func(string, ...any)

	mu      sync.Mutex
	open    map[string]int
	refused int
}

func newConnLimitListener(l net.Listener, max int, logf func(string, ...any)) net.Listener {
	if max <= 0 {
		return l
	}
	return &connLimitListener{Listener: l, max: max, logf: logf, open: map[string]int{}}
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr().String())
		l.mu.Lock()
		if l.open[key] >= l.max {
			l.refused++
			n := l.refused
			l.mu.Unlock()
			_ = c.Close()
			if n == 1 || n%1000 == 0 {
				l.logf("endpoint: %s holds %d connections, the most one client may; refused %d so far", key, l.max, n)
			}
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() {
			l.mu.Lock()
			if l.open[key]--; l.open[key] <= 0 {
				delete(l.open, key)
			}
			l.mu.Unlock()
		}}, nil
	}
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
