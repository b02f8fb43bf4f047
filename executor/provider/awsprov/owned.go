package awsprov

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Owned is one resource dpl created on AWS.
type Owned struct {
	Kind   string            `json:"kind"` // a Kind's Name: ec2-instance, emr-cluster, …
	Region string            `json:"region"`
	ID     string            `json:"id"` // i-…, j-…, sir-…
	Tags   map[string]string `json:"tags,omitempty"`
	State  string            `json:"state,omitempty"` // as AWS reports it (List)
	Time   time.Time         `json:"time"`            // launch time (List) or when recorded
}

// Key identifies o across regions and kinds.
func (o Owned) Key() string { return o.Kind + "/" + o.Region + "/" + o.ID }

// Kind is one sort of resource a provider creates, listed and terminated
// by its ownership tags.
type Kind interface {
	// Name names the kind in records and listings (ec2-instance).
	Name() string
	// List returns the resources of this kind in cfg's region that carry
	// every tag in match (any dpl-owned one when match is empty, i.e. one
	// with a dpl:pipelineId tag) and are not terminated yet.
	List(ctx context.Context, cfg aws.Config, match map[string]string) ([]Owned, error)
	// Terminate ends the resources with these ids in cfg's region; ids
	// already gone are not an error.
	Terminate(ctx context.Context, cfg aws.Config, ids []string) error
}

// RegisterKind adds a kind to what Leftovers and Cleanup look at.
func RegisterKind(k Kind) {
	mu.Lock()
	defer mu.Unlock()
	kinds[k.Name()] = k
}

// Kinds lists the registered kinds by name.
func Kinds() []Kind {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Kind, len(names))
	for i, n := range names {
		out[i] = kinds[n]
	}
	return out
}

// RecordFile is the ownership record's path under a state folder.
func RecordFile(stateDir string) string { return filepath.Join(stateDir, "resources", "aws.jsonl") }

// Record is the append-only ownership record of a state folder: a line
// when a resource is created and one when it is terminated, written and
// synced before the call that created it returns to the engine, so that
// after a crash the regions and ids of everything still up are known
// even without a tag search. It is safe for concurrent use.
type Record struct {
	path string
	mu   sync.Mutex
}

// OpenRecord returns the record of stateDir (the file is created on the
// first write).
func OpenRecord(stateDir string) *Record { return &Record{path: RecordFile(stateDir)} }

type recordLine struct {
	Op string `json:"op"` // created | terminated
	Owned
}

// Created records a new resource.
func (r *Record) Created(o Owned) error { return r.append("created", o) }

// Terminated records that a resource was terminated.
func (r *Record) Terminated(o Owned) error { return r.append("terminated", o) }

func (r *Record) append(op string, o Owned) error {
	if r == nil {
		return nil
	}
	if o.Time.IsZero() {
		o.Time = time.Now().UTC()
	}
	b, err := json.Marshal(recordLine{Op: op, Owned: o})
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
		return fmt.Errorf("ownership record: %w", err)
	}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("ownership record: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("ownership record %s: %w", r.path, werr)
	}
	return nil
}

// Open returns the recorded resources not recorded as terminated, oldest
// first. A missing record is empty; a torn last line (a crash while
// writing) is skipped.
func (r *Record) Open() ([]Owned, error) {
	if r == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.Open(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ownership record: %w", err)
	}
	defer f.Close()
	open := map[string]Owned{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var l recordLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		k := l.Key()
		switch l.Op {
		case "created":
			if _, ok := open[k]; !ok {
				order = append(order, k)
			}
			open[k] = l.Owned
		case "terminated":
			delete(open, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ownership record %s: %w", r.path, err)
	}
	var out []Owned
	for _, k := range order {
		if o, ok := open[k]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}

// Regions are the regions the record names, sorted.
func (r *Record) Regions() []string {
	owned, _ := r.Open()
	seen := map[string]bool{}
	var out []string
	for _, o := range owned {
		if !seen[o.Region] {
			seen[o.Region] = true
			out = append(out, o.Region)
		}
	}
	sort.Strings(out)
	return out
}

// Leftovers lists the dpl-owned resources still up that carry every tag
// in match, asking AWS (by tag) in each region of regions, the record's
// and the default one.
func (e *Env) Leftovers(ctx context.Context, match map[string]string, regions ...string) ([]Owned, error) {
	if e.AWS == nil {
		return nil, fmt.Errorf("no AWS configuration")
	}
	seen := map[string]bool{}
	var all []string
	for _, r := range append(append(regions, e.Record.Regions()...), e.AWS.Region()) {
		if r != "" && !seen[r] {
			seen[r] = true
			all = append(all, r)
		}
	}
	var out []Owned
	var errs []error
	for _, region := range all {
		cfg := e.AWS.ConfigFor(region)
		for _, k := range Kinds() {
			found, err := k.List(ctx, cfg, match)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s in %s: %w", k.Name(), region, err))
				continue
			}
			out = append(out, found...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, errors.Join(errs...)
}

// Terminate ends the listed resources, grouped by kind and region, and
// records them as terminated.
func (e *Env) Terminate(ctx context.Context, owned []Owned) error {
	if e.AWS == nil {
		return fmt.Errorf("no AWS configuration")
	}
	type group struct{ kind, region string }
	groups := map[group][]Owned{}
	var order []group
	for _, o := range owned {
		g := group{o.Kind, o.Region}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], o)
	}
	var errs []error
	for _, g := range order {
		mu.RLock()
		k, ok := kinds[g.kind]
		mu.RUnlock()
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no provider knows this kind", g.kind))
			continue
		}
		var ids []string
		for _, o := range groups[g] {
			ids = append(ids, o.ID)
		}
		if err := k.Terminate(ctx, e.AWS.ConfigFor(g.region), ids); err != nil {
			errs = append(errs, fmt.Errorf("terminating %s %v in %s: %w", g.kind, ids, g.region, err))
			continue
		}
		for _, o := range groups[g] {
			if err := e.Record.Terminated(o); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// CleanupRun terminates everything still up that this pipeline's
// activation created (found by tag in the record's regions and the
// default one), plus what the state folder's record lists as open for the
// pipeline from earlier activations (ended: only one runs at a time), and
// returns what it terminated. `dpl run` calls it when the run ends, fails
// or is interrupted, unless --keep-resources.
func (e *Env) CleanupRun(ctx context.Context, pipelineID string, activation int) ([]Owned, error) {
	match := map[string]string{TagPipeline: pipelineID, TagRun: fmt.Sprint(activation)}
	found, err := e.Leftovers(ctx, match)
	seen := map[string]bool{}
	for _, o := range found {
		seen[o.Key()] = true
	}
	recorded, rerr := e.Record.Open()
	err = errors.Join(err, rerr)
	for _, o := range recorded {
		if o.Tags[TagPipeline] == pipelineID && !seen[o.Key()] {
			// Still up? Ask by its own tags (it may be long gone).
			up, lerr := e.stillUp(ctx, o)
			err = errors.Join(err, lerr)
			if up {
				found = append(found, o)
			} else if lerr == nil {
				err = errors.Join(err, e.Record.Terminated(o))
			}
		}
	}
	if len(found) == 0 {
		return nil, err
	}
	if terr := e.Terminate(ctx, found); terr != nil {
		return found, errors.Join(err, terr)
	}
	return found, err
}

// stillUp asks AWS whether a recorded resource is still up.
func (e *Env) stillUp(ctx context.Context, o Owned) (bool, error) {
	mu.RLock()
	k, ok := kinds[o.Kind]
	mu.RUnlock()
	if !ok {
		return false, nil
	}
	found, err := k.List(ctx, e.AWS.ConfigFor(o.Region), o.Tags)
	if err != nil {
		return false, err
	}
	for _, f := range found {
		if f.ID == o.ID {
			return true, nil
		}
	}
	return false, nil
}
