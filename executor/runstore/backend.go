package runstore

// Backend is the engine's storage, one interface for every place state can
// live: the embedded badger DB (this package) and the PostgreSQL store
// (package executor/pgstore). Package executor/runstore/storetest is the
// conformance suite both pass.
//
// Records arrive encoded as the engine wants them kept: anything that must
// be encrypted at rest (secrets) is encrypted before it reaches a Backend,
// so every backend stores it the same way and none needs the key.
type Backend interface {
	// Close releases the backend; Sync makes written data durable.
	Close() error
	Sync() error

	PutPipeline(p *Pipeline) error
	// Pipeline returns ErrNotFound for an unknown id.
	Pipeline(id string) (*Pipeline, error)
	// Pipelines lists every pipeline in id order.
	Pipelines() ([]*Pipeline, error)

	PutDefinition(pipeline, hash string, data []byte) error
	// Definition returns ErrNotFound for an unknown version.
	Definition(pipeline, hash string) ([]byte, error)

	PutActivation(a *Activation) error
	// Activations lists a pipeline's activations, oldest (lowest Seq) first.
	Activations(pipeline string) ([]*Activation, error)
	// Latest is the highest Seq, or ErrNotFound.
	Latest(pipeline string) (*Activation, error)

	// Write stores instances and attempts (replacing records of the same
	// id) and appends events of one activation, atomically when it is an
	// ordinary state change.
	Write(pipeline string, seq int, c Change) error
	// Instances and Attempts list an activation's records in id order
	// (byte order).
	Instances(pipeline string, seq int) ([]*Instance, error)
	Attempts(pipeline string, seq int) ([]*Attempt, error)
	// Events calls fn for each event with Seq > after, in Seq order, with
	// the event's bytes exactly as written.
	Events(pipeline string, seq int, after uint64, fn func(Event) error) error
	// LastEventSeq is the highest event Seq of an activation (0: none).
	LastEventSeq(pipeline string, seq int) (uint64, error)

	// DeletePipeline removes everything stored for one pipeline.
	DeletePipeline(id string) error

	// ReadOnly reports a backend opened for reading only: writes fail with
	// ErrReadOnly.
	ReadOnly() bool
}

// NilIfNone returns nil for a nil backend, also a nil *DB inside the
// interface, so that callers can test b == nil.
func NilIfNone(b Backend) Backend {
	if db, ok := b.(*DB); ok && db == nil {
		return nil
	}
	return b
}

var _ Backend = (*DB)(nil)
