// Package control lets other dpl commands reach a `dpl run` in progress.
// The run holds the state store's lock, so `dpl runs`, `dpl rerun`,
// `dpl cancel`, `dpl mark-finished`, `dpl pause` and `dpl resume` ask the
// run itself, over a unix socket in the state folder, instead of opening
// the store; `dpl events` and `dpl tui` too (the view attaches live). Only the local user can reach the socket (mode 0600).
package control

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dpl-dev/dpl/executor"
	"github.com/dpl-dev/dpl/executor/runstore"
)

// SocketName is the socket's file name inside the state folder.
const SocketName = "control.sock"

// Engine is what a run offers through the socket (*executor.Engine).
type Engine interface {
	PipelineID() string
	PipelineName() string
	Activation() int
	Instances() []runstore.Instance
	Attempts(instanceID string) []runstore.Attempt
	SetStatus(ctx context.Context, pipelineID string, ids []string, status string) error
	History(afterSeq uint64) ([]executor.Event, error)
	QueryObjects(ctx context.Context, in executor.QueryInput) (executor.QueryOutput, error)
	DescribeObjects(ctx context.Context, in executor.DescribeInput) (executor.DescribeOutput, error)
	// Secrets are the run's secret values, for a view to mask them in what
	// commands wrote (attempt logs); the socket is the local user's only.
	Secrets() []string
}

// Snapshot is the state of the run in progress.
type Snapshot struct {
	Pipeline   string              `json:"pipeline"`
	Name       string              `json:"name"`
	Activation int                 `json:"activation"`
	Instances  []runstore.Instance `json:"instances"`
}

type statusRequest struct {
	Pipeline string   `json:"pipeline"`
	IDs      []string `json:"ids"`
	Status   string   `json:"status"`
}

type errorReply struct {
	Error string `json:"error"`
}

// ErrNoRun means no run answers on the state folder's socket.
var ErrNoRun = errors.New("no dpl run is serving this state folder")

// maxSocketPath is the longest unix socket path every platform accepts
// (sun_path is 108 bytes on Linux, 104 on the BSDs and macOS).
const maxSocketPath = 103

// SocketPath returns the socket's path for a state folder: inside it, or,
// when that path is too long for a unix socket, a name in the temporary
// folder derived from the state folder's absolute path.
func SocketPath(stateDir string) string {
	p := filepath.Join(stateDir, SocketName)
	if len(p) <= maxSocketPath {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	sum := sha256.Sum256([]byte(p))
	return filepath.Join(os.TempDir(), fmt.Sprintf("dpl-%x.sock", sum[:10]))
}

// Serve answers on the state folder's socket until ctx ends, then removes
// the socket and closes done. It returns once listening (or with the reason it cannot,
// e.g. a socket file of another user in the way).
func Serve(ctx context.Context, stateDir string, eng Engine) (done <-chan struct{}, err error) {
	path := SocketPath(stateDir)
	// A socket left by a killed run: the caller holds the store's lock, so
	// no live run owns it.
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/snapshot", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, Snapshot{Pipeline: eng.PipelineID(), Name: eng.PipelineName(),
			Activation: eng.Activation(), Instances: eng.Instances()})
	})
	mux.HandleFunc("GET /v1/secrets", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, eng.Secrets())
	})
	mux.HandleFunc("GET /v1/attempts", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, eng.Attempts(r.URL.Query().Get("instance")))
	})
	mux.HandleFunc("POST /v1/query", func(w http.ResponseWriter, r *http.Request) {
		var in executor.QueryInput
		if !decode(w, r, &in) {
			return
		}
		out, err := eng.QueryObjects(r.Context(), in)
		answer(w, out, err)
	})
	mux.HandleFunc("POST /v1/describe", func(w http.ResponseWriter, r *http.Request) {
		var in executor.DescribeInput
		if !decode(w, r, &in) {
			return
		}
		out, err := eng.DescribeObjects(r.Context(), in)
		answer(w, out, err)
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		var after uint64
		if a := r.URL.Query().Get("after"); a != "" {
			n, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				reply(w, http.StatusBadRequest, errorReply{fmt.Sprintf("after=%q: %v", a, err)})
				return
			}
			after = n
		}
		evs, err := eng.History(after)
		if err != nil {
			reply(w, http.StatusInternalServerError, errorReply{err.Error()})
			return
		}
		reply(w, http.StatusOK, evs)
	})
	mux.HandleFunc("POST /v1/status", func(w http.ResponseWriter, r *http.Request) {
		var req statusRequest
		if !decode(w, r, &req) {
			return
		}
		if req.Pipeline == "" {
			req.Pipeline = eng.PipelineID()
		}
		if err := eng.SetStatus(r.Context(), req.Pipeline, req.IDs, req.Status); err != nil {
			reply(w, http.StatusBadRequest, errorReply{err.Error()})
			return
		}
		reply(w, http.StatusOK, struct{}{})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
		_ = os.Remove(path)
	}()
	return ch, nil
}

// decode reads a JSON request body, answering 400 when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		reply(w, http.StatusBadRequest, errorReply{fmt.Sprintf("bad request: %v", err)})
		return false
	}
	return true
}

// answer replies with out, or with the engine's refusal.
func answer(w http.ResponseWriter, out any, err error) {
	if err != nil {
		reply(w, http.StatusBadRequest, errorReply{err.Error()})
		return
	}
	reply(w, http.StatusOK, out)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Client talks to the run serving a state folder.
type Client struct {
	http *http.Client
}

// Dial returns a client for the run serving stateDir, or ErrNoRun.
func Dial(stateDir string) (*Client, error) {
	path := SocketPath(stateDir)
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoRun, err)
	}
	conn.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// Snapshot returns the state of the run in progress.
func (c *Client) Snapshot(ctx context.Context) (*Snapshot, error) {
	var s Snapshot
	if err := c.do(ctx, http.MethodGet, "/v1/snapshot", nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Events returns the event log of the run in progress with Seq > after,
// oldest first.
func (c *Client) Events(ctx context.Context, after uint64) ([]executor.Event, error) {
	var evs []executor.Event
	if err := c.do(ctx, http.MethodGet, "/v1/events?after="+strconv.FormatUint(after, 10), nil, &evs); err != nil {
		return nil, err
	}
	return evs, nil
}

// Secrets returns the run's secret values (to mask, never to show).
func (c *Client) Secrets(ctx context.Context) ([]string, error) {
	var out []string
	if err := c.do(ctx, http.MethodGet, "/v1/secrets", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Attempts returns an instance's attempts, oldest first.
func (c *Client) Attempts(ctx context.Context, instanceID string) ([]runstore.Attempt, error) {
	var out []runstore.Attempt
	err := c.do(ctx, http.MethodGet, "/v1/attempts?instance="+url.QueryEscape(instanceID), nil, &out)
	return out, err
}

// QueryObjects is the run's executor.API QueryObjects.
func (c *Client) QueryObjects(ctx context.Context, in executor.QueryInput) (executor.QueryOutput, error) {
	var out executor.QueryOutput
	err := c.post(ctx, "/v1/query", in, &out)
	return out, err
}

// DescribeObjects is the run's executor.API DescribeObjects.
func (c *Client) DescribeObjects(ctx context.Context, in executor.DescribeInput) (executor.DescribeOutput, error) {
	var out executor.DescribeOutput
	err := c.post(ctx, "/v1/describe", in, &out)
	return out, err
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, body, out)
}

// SetStatus applies a SetStatus command (RERUN, TRY_CANCEL, MARK_FINISHED,
// PAUSE, RESUME) to the run in progress. pipeline may be empty.
func (c *Client) SetStatus(ctx context.Context, pipeline string, ids []string, status string) error {
	return c.post(ctx, "/v1/status", statusRequest{Pipeline: pipeline, IDs: ids, Status: status}, nil)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://dpl"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("ask the running dpl: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e errorReply
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" {
			return fmt.Errorf("the running dpl answered %s", resp.Status)
		}
		return errors.New(e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("read the running dpl's answer: %w", err)
	}
	return nil
}
