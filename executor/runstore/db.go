package runstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Key layout (all under one badger database):
//
//	p/<pipeline>                     Pipeline
//	d/<pipeline>/<hash>              definition bytes
//	a/<pipeline>/<seq:8 hex>         Activation
//	i/<pipeline>/<seq>/<instance>    Instance
//	t/<pipeline>/<seq>/<attempt>     Attempt
//	e/<pipeline>/<seq>/<n:16 bytes>  event (JSON), n big-endian so keys sort
//
// Writes are not fsynced one by one: badger's write-ahead log is a memory
// map, so a killed process loses nothing; Sync flushes to disk at the
// points where a machine crash matters (activation start and end).

// DB is the badger-backed store. Safe for concurrent use.
type DB struct {
	db       *badger.DB
	readOnly bool
	// tmpCopy is the private copy a read-only store was opened on (see
	// OpenReadOnly), removed on Close.
	tmpCopy string
}

// ErrNotFound is returned for missing records.
var ErrNotFound = errors.New("not found")

// Open opens (creating) the store under dir/db, holding its lock.
func Open(stateDir string) (*DB, error) {
	dir := filepath.Join(stateDir, "db")
	// A kill between badger creating a memtable file and sizing it leaves
	// an empty one that badger refuses; with no writer on the store (the
	// shared lock is free) it is removed first.
	if unlock, err := sharedLock(dir); err == nil {
		dropEmptyMemtables(dir)
		unlock()
	}
	db, err := openBadger(badgerOptions(dir))
	if err != nil {
		return nil, describeOpenError(stateDir, err)
	}
	// The store holds run state and (sealed) secrets: only the owner may
	// list or read it, whatever the umask gave its files.
	_ = os.Chmod(dir, 0o700)
	return &DB{db: db}, nil
}

// ErrReadOnly is returned by writes to a store opened with OpenReadOnly.
var ErrReadOnly = errors.New("the state store is open read-only")

// OpenReadOnly opens the store under dir/db for looking only: no file of
// the state folder is created, changed or removed (shared lock, no pid
// file, no compaction, no replay written back). It fails like Open while
// a writer holds the store. A store left by a killed process has a write
// log to replay, which badger only does by truncating it; then the store
// is copied to a temporary folder and opened there, so the state folder
// stays untouched and its unflushed writes are still seen.
func OpenReadOnly(stateDir string) (*DB, error) {
	dir := filepath.Join(stateDir, "db")
	db, err := openBadger(badgerOptions(dir).WithReadOnly(true))
	if err != nil && needsReplay(err) {
		return openCopy(stateDir, dir)
	}
	if err != nil {
		return nil, describeOpenError(stateDir, err)
	}
	return &DB{db: db, readOnly: true}, nil
}

// needsReplay reports whether badger refused a read-only open because the
// files are as a killed writer left them: a write log to truncate
// (ErrTruncateNeeded), or a memtable file created but never sized (a kill
// right after a memtable rotation), which read-only mode cannot truncate.
// badger flattens the errors it wraps into text (y.Wrap).
func needsReplay(err error) bool {
	msg := err.Error()
	return errors.Is(err, badger.ErrTruncateNeeded) || strings.Contains(msg, badger.ErrTruncateNeeded.Error()) ||
		emptyMemtableError(err)
}

// emptyMemtableError reports badger's refusal of a memtable file that was
// created but never sized (a kill between the two): read-only mode cannot
// size it, and a writer takes it for a file it was to create.
func emptyMemtableError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "opening memtable") &&
		(strings.Contains(msg, "error while truncation") || strings.Contains(msg, "Create a new file"))
}

// dropEmptyMemtables removes the empty memtable files of a store no
// process has open (an empty one holds no entry: nothing is lost; badger
// creates it again).
func dropEmptyMemtables(dir string) {
	mems, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	for _, m := range mems {
		if st, err := os.Stat(m); err == nil && st.Size() == 0 {
			_ = os.Remove(m)
		}
	}
}

// openCopy opens a private copy of the store in dir (see OpenReadOnly).
func openCopy(stateDir, dir string) (*DB, error) {
	tmp, err := os.MkdirTemp("", "dpl-store-")
	if err != nil {
		return nil, fmt.Errorf("open state store in %s: %w", stateDir, err)
	}
	// A shared lock on the folder keeps a writer out while it is copied.
	unlock, err := sharedLock(dir)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("open state store in %s: %w", stateDir, err)
	}
	defer unlock()
	if err := os.CopyFS(tmp, os.DirFS(dir)); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("open state store in %s: copy for reading: %w", stateDir, err)
	}
	// The copy is ours: badger may replay and truncate it.
	dropEmptyMemtables(tmp)
	db, err := openBadger(badgerOptions(tmp))
	if err != nil {
		os.RemoveAll(tmp)
		return nil, describeOpenError(stateDir, err)
	}
	return &DB{db: db, readOnly: true, tmpCopy: tmp}, nil
}

func badgerOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(nil).
		WithSyncWrites(false).
		WithNumVersionsToKeep(1).
		WithMemTableSize(4 << 20).
		WithValueThreshold(64 << 10).
		WithValueLogFileSize(1 << 20).
		WithBlockCacheSize(2 << 20).
		WithIndexCacheSize(2 << 20).
		WithNumCompactors(2).
		// One writer (the engine) and no read-modify-write transactions:
		// conflict tracking is pure overhead. State is small JSON written
		// once per run; compressing tables costs more CPU than it saves.
		WithDetectConflicts(false).
		WithCompression(options.None)
}

// openBadger opens badger, turning a panic on a damaged file into an error.
func openBadger(opts badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", errDamaged, r)
		}
	}()
	return badger.Open(opts)
}

// errDamaged marks a store that badger cannot read.
var errDamaged = errors.New("damaged store")

// Open error kinds, for errors.Is.
var (
	ErrLocked     = errors.New("state store is in use")
	ErrPermission = errors.New("no permission on the state store")
	ErrCorrupt    = errors.New("state store is damaged")
)

// describeOpenError says what went wrong opening the store: held by
// another process (naming it), not accessible, or damaged.
func describeOpenError(stateDir string, err error) error {
	dir := filepath.Join(stateDir, "db")
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Cannot acquire directory lock"):
		who := "another process"
		if b, rerr := os.ReadFile(filepath.Join(dir, "LOCK")); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				who = "process " + strconv.Itoa(pid)
				if cmd := processCommand(pid); cmd != "" {
					who += " (" + cmd + ")"
				}
			}
		}
		return fmt.Errorf("%w: %s is locked by %s; wait for it to end or use another --state-dir", ErrLocked, dir, who)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %s: %v (the folder belongs to another user, or its mode forbids access)", ErrPermission, dir, err)
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO):
		return fmt.Errorf("open state store in %s: %w", stateDir, err)
	case errors.Is(err, errDamaged) || !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: cannot read %s: %v; move the folder away to start afresh (its runs are lost) or restore it from a backup", ErrCorrupt, dir, err)
	}
	return fmt.Errorf("open state store in %s: %w", stateDir, err)
}

// processCommand is a process's command line, "" when unknown.
func processCommand(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return ""
	}
	s := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// OpenMemory opens a store that lives in memory only (tests).
func OpenMemory() (*DB, error) {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		return nil, fmt.Errorf("open in-memory store: %w", err)
	}
	return &DB{db: db}, nil
}

// Close flushes and closes the store.
func (s *DB) Close() error {
	err := s.db.Close()
	if s.tmpCopy != "" {
		os.RemoveAll(s.tmpCopy)
	}
	return err
}

// ReadOnly reports whether the store was opened with OpenReadOnly.
func (s *DB) ReadOnly() bool { return s.readOnly }

// update runs fn in a read-write transaction, refusing on a read-only
// store.
func (s *DB) update(fn func(txn *badger.Txn) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.db.Update(fn)
}

// Sync forces written data to disk.
func (s *DB) Sync() error {
	if s.readOnly {
		return nil
	}
	return s.db.Sync()
}

func actPrefix(pipeline string, seq int) string {
	return pipeline + "/" + fmt.Sprintf("%08x", seq) + "/"
}

func put(txn *badger.Txn, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set([]byte(key), b)
}

func get(txn *badger.Txn, key string, v any) error {
	it, err := txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return it.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

// PutPipeline stores a pipeline record.
func (s *DB) PutPipeline(p *Pipeline) error {
	return s.update(func(txn *badger.Txn) error { return put(txn, "p/"+p.ID, p) })
}

// Pipeline loads a pipeline record.
func (s *DB) Pipeline(id string) (*Pipeline, error) {
	var p Pipeline
	err := s.db.View(func(txn *badger.Txn) error { return get(txn, "p/"+id, &p) })
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Pipelines lists every pipeline record.
func (s *DB) Pipelines() ([]*Pipeline, error) {
	var out []*Pipeline
	err := s.scan("p/", func(_ []byte, b []byte) error {
		var p Pipeline
		if err := json.Unmarshal(b, &p); err != nil {
			return err
		}
		out = append(out, &p)
		return nil
	})
	return out, err
}

// PutDefinition stores a definition version.
func (s *DB) PutDefinition(pipeline, hash string, data []byte) error {
	return s.update(func(txn *badger.Txn) error {
		return txn.Set([]byte("d/"+pipeline+"/"+hash), data)
	})
}

// Definition loads a definition version.
func (s *DB) Definition(pipeline, hash string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte("d/" + pipeline + "/" + hash))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	return out, err
}

// PutActivation stores an activation record.
func (s *DB) PutActivation(a *Activation) error {
	return s.update(func(txn *badger.Txn) error {
		return put(txn, "a/"+a.Pipeline+"/"+fmt.Sprintf("%08x", a.Seq), a)
	})
}

// Activations lists a pipeline's activations, oldest first.
func (s *DB) Activations(pipeline string) ([]*Activation, error) {
	var out []*Activation
	err := s.scan("a/"+pipeline+"/", func(_ []byte, b []byte) error {
		var a Activation
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		out = append(out, &a)
		return nil
	})
	return out, err
}

// Latest returns a pipeline's most recent activation, or ErrNotFound.
func (s *DB) Latest(pipeline string) (*Activation, error) {
	as, err := s.Activations(pipeline)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, ErrNotFound
	}
	return as[len(as)-1], nil
}

// Change is one state change: records to write and events to append, in
// one transaction.
type Change struct {
	Instances []*Instance
	Attempts  []*Attempt
	Events    []Event
}

// Event is an event log entry: its sequence number and JSON.
type Event struct {
	Seq  uint64
	Data []byte
}

// Write applies a change of an activation: atomically when it fits in one
// badger transaction (every normal state change), else in several (the
// creation of thousands of instances at once).
func (s *DB) Write(pipeline string, seq int, c Change) error {
	if s.readOnly {
		return ErrReadOnly
	}
	pre := actPrefix(pipeline, seq)
	type kv struct {
		k   []byte
		v   any
		raw []byte
	}
	var items []kv
	for _, in := range c.Instances {
		items = append(items, kv{k: []byte("i/" + pre + in.ID), v: in})
	}
	for _, at := range c.Attempts {
		items = append(items, kv{k: []byte("t/" + pre + at.ID), v: at})
	}
	for _, ev := range c.Events {
		items = append(items, kv{k: eventKey(pre, ev.Seq), raw: ev.Data})
	}
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for _, it := range items {
		val := it.raw
		if val == nil {
			b, err := json.Marshal(it.v)
			if err != nil {
				return fmt.Errorf("store: encode %s: %w", it.k, err)
			}
			val = b
		}
		err := txn.Set(it.k, val)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err := txn.Commit(); err != nil {
				return fmt.Errorf("store: write state of %s: %w", pipeline, err)
			}
			txn = s.db.NewTransaction(true)
			err = txn.Set(it.k, val)
		}
		if err != nil {
			return fmt.Errorf("store: write state of %s: %w", pipeline, err)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("store: write state of %s: %w", pipeline, err)
	}
	return nil
}

func eventKey(pre string, n uint64) []byte {
	k := make([]byte, 0, 2+len(pre)+8)
	k = append(k, "e/"...)
	k = append(k, pre...)
	return binary.BigEndian.AppendUint64(k, n)
}

// Instances loads an activation's instances (in key order).
func (s *DB) Instances(pipeline string, seq int) ([]*Instance, error) {
	var out []*Instance
	err := s.scan("i/"+actPrefix(pipeline, seq), func(_ []byte, b []byte) error {
		var in Instance
		if err := json.Unmarshal(b, &in); err != nil {
			return err
		}
		out = append(out, &in)
		return nil
	})
	return out, err
}

// Attempts loads an activation's attempts (in key order).
func (s *DB) Attempts(pipeline string, seq int) ([]*Attempt, error) {
	var out []*Attempt
	err := s.scan("t/"+actPrefix(pipeline, seq), func(_ []byte, b []byte) error {
		var at Attempt
		if err := json.Unmarshal(b, &at); err != nil {
			return err
		}
		out = append(out, &at)
		return nil
	})
	return out, err
}

// Events calls fn for each event of an activation with Seq > after, in
// order.
func (s *DB) Events(pipeline string, seq int, after uint64, fn func(Event) error) error {
	pre := "e/" + actPrefix(pipeline, seq)
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		start := eventKey(actPrefix(pipeline, seq), after+1)
		for it.Seek(start); it.ValidForPrefix([]byte(pre)); it.Next() {
			k := it.Item().Key()
			n := binary.BigEndian.Uint64(k[len(k)-8:])
			b, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := fn(Event{Seq: n, Data: b}); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastEventSeq returns the highest event sequence number of an activation
// (0 when none).
func (s *DB) LastEventSeq(pipeline string, seq int) (uint64, error) {
	var last uint64
	pre := "e/" + actPrefix(pipeline, seq)
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Reverse = true
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Seek(append([]byte(pre), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		if it.ValidForPrefix([]byte(pre)) {
			k := it.Item().Key()
			last = binary.BigEndian.Uint64(k[len(k)-8:])
		}
		return nil
	})
	return last, err
}

func (s *DB) scan(prefix string, fn func(k, v []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Seek([]byte(prefix)); it.ValidForPrefix([]byte(prefix)); it.Next() {
			if err := it.Item().Value(func(v []byte) error { return fn(it.Item().Key(), v) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeletePipeline removes everything stored for a pipeline: its record,
// definition versions, activations, instances, attempts and events.
func (s *DB) DeletePipeline(id string) error {
	if id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("store: delete pipeline %q: not a pipeline id", id)
	}
	if err := s.update(func(txn *badger.Txn) error { return txn.Delete([]byte("p/" + id)) }); err != nil {
		return fmt.Errorf("store: delete pipeline %s: %w", id, err)
	}
	var pre [][]byte
	for _, k := range []string{"d/", "a/", "i/", "t/", "e/"} {
		pre = append(pre, []byte(k+id+"/"))
	}
	if err := s.db.DropPrefix(pre...); err != nil {
		return fmt.Errorf("store: delete pipeline %s: %w", id, err)
	}
	return nil
}

// ParseSeq reads an activation number written by users ("3").
func ParseSeq(s string) (int, error) { return strconv.Atoi(s) }
