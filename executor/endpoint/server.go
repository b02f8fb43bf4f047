// Package endpoint serves the AWS Data Pipeline JSON 1.1 API over dpl's
// engine (runtime.md §5 and §7): the management operations, backed by a
// pipeline registry and one engine per activated pipeline, and the task
// runner protocol, so that the AWS CLI, the SDKs and remote task runners
// (package executor/remote, `dpl taskrunner`) work against it unchanged.
//
// Requests are verified with Signature Version 4 when the server has
// credentials. Work of activities whose workerGroup a definition names is
// handed to remote runners polling that group; everything else (runsOn
// resources, no placement) runs in the server's process with the
// activity runner.
package endpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/clock"
	"github.com/dpl-dev/dpl/executor/runstore"
	"github.com/dpl-dev/dpl/executor/task"
)

// Defaults (runtime.md §5).
const (
	DefaultAckTimeout      = 2 * time.Minute
	DefaultProgressTimeout = 15 * time.Minute
	DefaultEndGrace        = 3 * time.Second
	// DefaultMaxBody fits EvaluateExpression's 20 MiB expression.
	DefaultMaxBody    = 24 << 20
	DefaultMaxObjects = 100
	DefaultAccountID  = "000000000000"
	DefaultRegion     = "us-east-1"
	listPageSize      = 50
)

// Options configure a Server.
type Options struct {
	// StateDir holds the registry (serve/pipelines.json), the engine's
	// store (db/) and attempt logs. Required.
	StateDir string
	// Store is the engine store; nil opens one under StateDir.
	// With a backend that keeps the registry (pgstore), pipelines live
	// there too instead of in serve/pipelines.json.
	Store runstore.Backend
	// Credentials are the access keys whose SigV4 signatures are accepted.
	// Every request must be signed with one of them unless NoAuth is set.
	Credentials Credentials
	// NoAuth accepts unsigned requests (loopback use only — the commands
	// enforce that). Without it New refuses empty Credentials.
	NoAuth bool
	// KeyRing holds keys accepted besides Credentials, issued and revoked
	// while serving (per-resource keys of task runners on EC2).
	KeyRing *KeyRing
	// Region is the region a request's credential scope must name
	// (default us-east-1).
	Region string
	// Runner runs the work the engine keeps in-process (resources, objects
	// without workerGroup). Required to run such work.
	Runner task.Runner
	// Parallel is the in-process worker's slots per pipeline (default 2).
	Parallel int
	// Clock is the engine's time source (clock.Real when nil).
	Clock task.Clock
	// PollTimeout bounds PollForTask's long poll (default 90 s).
	PollTimeout time.Duration
	// AckTimeout and ProgressTimeout: a task whose first ReportTaskProgress
	// does not come within AckTimeout, or whose later reports stop for
	// ProgressTimeout (or the attempt's reportProgressTimeout), is failed
	// by the engine (executor.Options of the same names), which hands it
	// out again as a new attempt.
	AckTimeout, ProgressTimeout time.Duration
	// EndGrace is how long ServeEngine keeps serving after the run ended,
	// answering heartbeats with terminate so that runners exit cleanly
	// (default DefaultEndGrace).
	EndGrace time.Duration
	// MaxBodyBytes refuses larger requests (default 24 MiB). Bodies read
	// at once hold at most twice that; beyond it requests are throttled.
	MaxBodyBytes int64
	// HeaderTimeout and BodyTimeout bound reading a request's headers and
	// body (defaults DefaultHeaderTimeout, DefaultBodyTimeout).
	HeaderTimeout, BodyTimeout time.Duration
	// MaxConnsPerClient is how many connections one IP address may hold
	// open in Serve (default DefaultMaxConnsPerClient; negative: no cap).
	MaxConnsPerClient int
	// RateLimit is the requests per second one IP address may make, with
	// bursts of RateBurst, before ThrottlingException (defaults
	// DefaultRateLimit, DefaultRateBurst; negative: no limit).
	RateLimit float64
	RateBurst int
	// MaxObjects per definition (default 100, the service's limit).
	MaxObjects int
	// RetryDelay, when > 0, overrides every retryDelay (tests, demos).
	RetryDelay time.Duration
	// AccountID shown as @accountId (default 000000000000).
	AccountID string
	// Notifier publishes SnsAlarms of every pipeline.
	Notifier executor.Notifier
	// Resources, when set, gives each run its resource providers (dpl
	// serve --resources aws): called once per started run, before its
	// engine is made. nil: provider.Default (the local worker).
	Resources func(pipelineID string) *RunResources
	// Logf logs server events (nil: log.Printf).
	Logf func(format string, args ...any)
}

// Server is the HTTP endpoint. Create with New, serve with Handler or
// Serve, stop with Close.
type Server struct {
	opts  Options
	reg   *registry
	db    runstore.Backend
	ownDB bool
	// limiter and bodies protect the server from floods and from many
	// large bodies at once.
	limiter *rateLimiter
	bodies  *bodyBudget
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	runs    map[string]*pipelineRun
	wake    map[string]chan struct{}
	leases  map[string]*lease
	runners map[string]*RunnerInfo
	closed  bool
	// attached: the server only fronts engines driven elsewhere (dpl run
	// --serve); heartbeats answer terminate once they all ended.
	attached bool
	// ending: the served run ended (ServeEngine's grace period): heartbeats
	// answer terminate and waiting polls return empty.
	ending bool
}

// New opens the registry and store and resumes the pipelines that were
// scheduled when the server last stopped.
func New(opts Options) (*Server, error) { return newServer(opts, true) }

func newServer(opts Options, persist bool) (*Server, error) {
	if opts.StateDir == "" {
		return nil, errors.New("endpoint: a state folder is required")
	}
	if len(opts.Credentials) == 0 && opts.KeyRing == nil && !opts.NoAuth {
		return nil, errors.New("endpoint: credentials are required (Options.NoAuth serves unsigned requests)")
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = executor.PollTimeout
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	if opts.ProgressTimeout <= 0 {
		opts.ProgressTimeout = DefaultProgressTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBody
	}
	if opts.HeaderTimeout <= 0 {
		opts.HeaderTimeout = DefaultHeaderTimeout
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = DefaultBodyTimeout
	}
	if opts.MaxConnsPerClient == 0 {
		opts.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = max(DefaultRateBurst, int(2*opts.RateLimit))
	}
	if opts.MaxObjects <= 0 {
		opts.MaxObjects = DefaultMaxObjects
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 2
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	regPath := ""
	if persist {
		regPath = filepath.Join(opts.StateDir, "serve", "pipelines.json")
	}
	opts.Store = runstore.NilIfNone(opts.Store)
	var kept registryStore
	if rs, ok := opts.Store.(registryStore); ok && persist {
		kept, regPath = rs, ""
	}
	reg, err := openRegistry(regPath, kept)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, reg: reg, db: opts.Store, runs: map[string]*pipelineRun{},
		limiter: newRateLimiter(opts.RateLimit, opts.RateBurst), bodies: newBodyBudget(bodyBudgetFactor * opts.MaxBodyBytes),
		wake: map[string]chan struct{}{}, leases: map[string]*lease{}, runners: map[string]*RunnerInfo{}}
	if s.db == nil && persist {
		db, err := runstore.Open(opts.StateDir)
		if err != nil {
			return nil, err
		}
		s.db = db
		s.ownDB = true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.pruneLeases()
	s.resume()
	return s, nil
}

// Close stops every running pipeline (their state stays resumable) and
// closes the store it opened.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	runs := make([]*pipelineRun, 0, len(s.runs))
	for _, r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		r.stop("shutdown")
	}
	s.cancel()
	s.wg.Wait()
	if s.ownDB {
		return s.db.Close()
	}
	return nil
}

// Serve answers requests on l until ctx ends, then shuts the HTTP server
// down (in-flight long polls are answered empty).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	return serveHTTP(ctx, l, s, s.opts, func() {
		s.cancel() // ends long polls
	})
}

// serveHTTP answers requests on l with h until ctx ends; then stopping
// ends what would hold the shutdown (long polls) and the HTTP server
// shuts down.
func serveHTTP(ctx context.Context, l net.Listener, h http.Handler, o Options, stopping func()) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: o.HeaderTimeout, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: log.New(logWriter(o.Logf), "", 0)}
	l = newConnLimitListener(l, o.MaxConnsPerClient, o.Logf)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopping()
	_ = hs.Shutdown(sctx)
	return nil
}

// operation is one API operation: decode into a fresh request value, act.
type operation func(s *Server, ctx context.Context, body []byte) (any, error)

// ServeHTTP implements http.Handler: POST / with X-Amz-Target.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.opts.Logf("endpoint: panic in %s: %v", r.Header.Get("X-Amz-Target"), v)
			writeError(w, &apiError{Status: 500, Code: CodeInternal, Message: "internal error; request " + reqID})
		}
	}()
	if r.Method != http.MethodPost {
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Code: CodeUnsupportedMethod, Message: "only POST is supported"})
		return
	}
	client := clientKey(r.RemoteAddr)
	if !s.limiter.allow(client, time.Now()) {
		refuseUnread(w, throttled("too many requests from "+client))
		return
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		refuseUnread(w, tooLarge(s.opts.MaxBodyBytes))
		return
	}
	body, ae := s.readBody(w, r)
	if ae != nil {
		refuseUnread(w, ae)
		return
	}
	defer s.bodies.give(int64(len(body)))
	if !s.opts.NoAuth {
		if ae := verifySigV4(r, body, serverKeys{s.opts.Credentials, s.opts.KeyRing}, s.opts.Region, time.Now()); ae != nil {
			writeError(w, ae)
			return
		}
		s.opts.KeyRing.markUsed(signingKeyID(r.Header.Get("Authorization")))
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, "DataPipeline.")
	if !ok {
		name, ok = strings.CutPrefix(target, "DataPipeline_20121129.")
	}
	op := operations[name]
	if !ok || op == nil {
		writeError(w, &apiError{Status: 400, Code: CodeUnknownOperation, Message: fmt.Sprintf("unknown operation %q", target)})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-amz-json-1.") && !strings.HasPrefix(ct, "application/json") {
		writeError(w, &apiError{Status: 400, Code: CodeSerialization, Message: "unsupported Content-Type " + ct + "; want application/x-amz-json-1.1"})
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	out, err := op(s, r.Context(), body)
	if err != nil {
		ae := toAPIError(err)
		if ae.Status >= 500 {
			s.opts.Logf("endpoint: %s: %v", name, err)
		}
		writeError(w, ae)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	data, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{Status: 500, Code: CodeInternal, Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(data)
}

// reserved is what a request's body takes of the body budget.
func reserved(r *http.Request, maxBody int64) int64 {
	if r.ContentLength >= 0 {
		return r.ContentLength
	}
	return maxBody
}

// readBody reads the request body within the body budget and
// BodyTimeout. On success the reservation is len(body), which the caller
// gives back when the request is answered.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	n := reserved(r, s.opts.MaxBodyBytes)
	if !s.bodies.take(n) {
		return nil, throttled("too many large request bodies in flight; retry later")
	}
	rc := http.NewResponseController(w)
	// Errors: not supported outside a real connection (tests), harmless.
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.BodyTimeout))
	lr := http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	var body []byte
	var err error
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(lr, body)
	} else {
		body, err = io.ReadAll(lr)
	}
	if err == nil {
		// Long polls start now: the deadline was for reading only.
		_ = rc.SetReadDeadline(time.Time{})
		s.bodies.give(n - int64(len(body)))
		return body, nil
	}
	s.bodies.give(n)
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge(s.opts.MaxBodyBytes)
	case errors.As(err, &ne) && ne.Timeout():
		return nil, &apiError{Status: http.StatusRequestTimeout, Code: CodeRequestTimeout, Message: fmt.Sprintf("the request body was not received within %s", s.opts.BodyTimeout)}
	}
	return nil, &apiError{Status: 400, Code: CodeSerialization, Message: "the request body could not be read completely"}
}

// refuseUnread answers a request whose body was not (wholly) read and
// closes the connection: the server would otherwise wait to drain the
// rest of a body that a slow or hostile client may never send.
func refuseUnread(w http.ResponseWriter, e *apiError) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	w.Header().Set("Connection", "close")
	writeError(w, e)
}

// logWriter sends the HTTP server's own messages (TLS, accept errors) to
// Logf.
type logWriter func(string, ...any)

func (f logWriter) Write(p []byte) (int, error) {
	f("endpoint: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func tooLarge(n int64) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", n)}
}

// decode reads a request; bad JSON is a SerializationException whose
// message speaks of the request, not of Go types.
func decode(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	msg := "the request body is not valid JSON"
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		msg = fmt.Sprintf("the request body is not valid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the request"
		}
		msg = fmt.Sprintf("%s: expected %s, got a JSON %s (at byte %d)", wireFieldName(field), jsonKind(te.Type), te.Value, te.Offset)
	}
	return &apiError{Status: 400, Code: CodeSerialization, Message: msg}
}

// wireFieldName turns encoding/json's Go field path (PipelineObjects.Fields.Key)
// into the API's member names (pipelineObjects.fields.key).
func wireFieldName(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToLower(p[:1]) + p[1:]
		}
	}
	out := strings.Join(parts, ".")
	return strings.NewReplacer("iD", "Id", "iDs", "Ids").Replace(out)
}

// jsonKind names what a Go type is on the wire.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a structure"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a value"
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
