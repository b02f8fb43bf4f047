package endpoint

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// Pipeline states (the values of @pipelineState).
const (
	StatePending      = "PENDING"
	StateScheduled    = "SCHEDULED"
	StateFinished     = "FINISHED"
	StateDeactivating = "DEACTIVATING"
	StateInactive     = "INACTIVE"
)

// Pipeline is a pipeline known to the server: what CreatePipeline,
// PutPipelineDefinition and ActivatePipeline recorded.
type Pipeline struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	UniqueID    string    `json:"uniqueId"`
	Description string    `json:"description,omitempty"`
	Tags        []Tag     `json:"tags,omitempty"`
	Created     time.Time `json:"created"`
	State       string    `json:"state"`
	Deleted     bool      `json:"deleted,omitempty"`
	// Latest is the last definition put; Active the last one activated.
	Latest        *Definition `json:"latest,omitempty"`
	LatestErrored bool        `json:"latestErrored,omitempty"`
	Active        *Definition `json:"active,omitempty"`
	// Version counts PutPipelineDefinition calls (@version).
	Version        int       `json:"version"`
	LastActivation time.Time `json:"lastActivation,omitzero"`
	// ActiveParams are the parameter values of the last activation.
	ActiveParams map[string][]string `json:"activeParams,omitempty"`
	StartTime    time.Time           `json:"startTime,omitzero"`
	// Health is HEALTHY or ERROR after a run ended.
	Health string `json:"health,omitempty"`
	Ended  string `json:"ended,omitempty"` // why the last run ended
}

// registry holds the pipelines and persists them as one JSON file (they
// are few and small; run state lives in the engine's store).
type registry struct {
	mu    sync.Mutex
	path  string // "" keeps everything in memory (unless kept)
	kept  registryStore
	order []*Pipeline
	byID  map[string]*Pipeline
}

type registryFile struct {
	Pipelines []*Pipeline `json:"pipelines"`
}

// registryStore is a store backend that keeps the registry document
// (pgstore: shared by the servers of one database).
type registryStore interface {
	PutServeRegistry(data []byte) error
	ServeRegistry() ([]byte, error)
}

func openRegistry(path string, kept registryStore) (*registry, error) {
	r := &registry{path: path, kept: kept, byID: map[string]*Pipeline{}}
	var data []byte
	var err error
	switch {
	case kept != nil:
		data, err = kept.ServeRegistry()
		if errors.Is(err, runstore.ErrNotFound) {
			return r, nil
		}
	case path == "":
		return r, nil
	default:
		data, err = os.ReadFile(path)
	}
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline registry: %w", err)
	}
	var f registryFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("pipeline registry %s: %w", path, err)
	}
	for _, p := range f.Pipelines {
		r.order = append(r.order, p)
		r.byID[p.ID] = p
	}
	return r, nil
}

// saveLocked writes the registry atomically (temp file + rename). r.mu is held.
func (r *registry) saveLocked() error {
	if r.path == "" && r.kept == nil {
		return nil
	}
	data, err := json.MarshalIndent(registryFile{Pipelines: r.order}, "", " ")
	if err != nil {
		return fmt.Errorf("pipeline registry: %w", err)
	}
	if r.kept != nil {
		return r.kept.PutServeRegistry(data)
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
		return fmt.Errorf("pipeline registry: %w", err)
	}
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("pipeline registry: %w", err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		return fmt.Errorf("pipeline registry: %w", err)
	}
	return nil
}

// update runs fn on the pipeline under the lock and saves. Deleted and
// unknown ids give the service's errors.
func (r *registry) update(id string, fn func(p *Pipeline) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.getLocked(id)
	if err != nil {
		return err
	}
	if err := fn(p); err != nil {
		return err
	}
	return r.saveLocked()
}

func (r *registry) getLocked(id string) (*Pipeline, error) {
	p := r.byID[id]
	if p == nil {
		return nil, notFound(id)
	}
	if p.Deleted {
		return nil, deleted(id)
	}
	return p, nil
}

// get returns a copy of the pipeline.
func (r *registry) get(id string) (Pipeline, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.getLocked(id)
	if err != nil {
		return Pipeline{}, err
	}
	return *p, nil
}

// create adds a pipeline, or returns the existing one with the same name
// and uniqueId (CreatePipeline's idempotency).
func (r *registry) create(name, uniqueID, description string, tags []Tag, now time.Time) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.order {
		if !p.Deleted && p.Name == name && p.UniqueID == uniqueID {
			return p.ID, nil
		}
	}
	p := &Pipeline{ID: newPipelineID(), Name: name, UniqueID: uniqueID, Description: description,
		Tags: tags, Created: now.UTC().Truncate(time.Second), State: StatePending}
	r.order = append(r.order, p)
	r.byID[p.ID] = p
	return p.ID, r.saveLocked()
}

// list returns the live pipelines in creation order.
func (r *registry) list() []Pipeline {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Pipeline
	for _, p := range r.order {
		if !p.Deleted {
			out = append(out, *p)
		}
	}
	return out
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newPipelineID makes an id shaped like the service's: df- and 19
// upper-case alphanumerics.
func newPipelineID() string {
	b := make([]byte, 19)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "df-" + string(b)
}
