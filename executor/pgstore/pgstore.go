// Package pgstore keeps the engine's state in PostgreSQL (pgx): the
// runstore.Backend that several `dpl serve` processes can share. Records are
// the same JSON the badger store keeps, in bytea columns, so that both
// backends read and write them identically; schema migrations are
// versioned and applied when the store opens.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// Store is a runstore.Backend on PostgreSQL. Safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	schema string // quoted
	// timeout bounds each operation (the Backend interface has no context).
	timeout time.Duration
	// lock is the connection holding the Exclusive advisory lock.
	lock *pgx.Conn
	// fence, when not 0, is the leadership token every write transaction
	// checks first (Fenced): a leader that lost the lease cannot write.
	fence int64
	// shared: a Fenced view; Close leaves the pool to its parent.
	shared bool
}

var _ runstore.Backend = (*Store)(nil)

// Options configure Open.
type Options struct {
	// Schema holds dpl's tables (default "dpl"); created when missing.
	Schema string
	// Timeout bounds each operation (default 30 s).
	Timeout time.Duration
	// Exclusive holds a PostgreSQL advisory lock on the schema for as long
	// as the store is open, so that a second `dpl serve` on the same
	// schema refuses to start instead of scheduling the same pipelines.
	Exclusive bool
	// IdleTxTimeout is how long PostgreSQL lets a session of this store
	// sit inside a transaction without a request (default
	// DefaultIdleTxTimeout); dpl's transactions are one batch each.
	IdleTxTimeout time.Duration
}

// DefaultIdleTxTimeout ends the transactions of a stopped process soon
// enough for a standby's takeover (DefaultLeaderTTL is 5 s).
const DefaultIdleTxTimeout = 2 * time.Second

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// migrations are applied in order, each once, recorded in
// schema_migrations. Never edit one that has shipped: append.
var migrations = []string{
	// 1: the records of runstore.Backend.
	`CREATE TABLE pipelines (id text PRIMARY KEY, data bytea NOT NULL);
	 CREATE TABLE definitions (pipeline text NOT NULL, hash text NOT NULL, data bytea NOT NULL, PRIMARY KEY (pipeline, hash));
	 CREATE TABLE activations (pipeline text NOT NULL, seq integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (pipeline, seq));
	 CREATE TABLE instances (pipeline text NOT NULL, seq integer NOT NULL, id text COLLATE "C" NOT NULL, data bytea NOT NULL, PRIMARY KEY (pipeline, seq, id));
	 CREATE TABLE attempts (pipeline text NOT NULL, seq integer NOT NULL, id text COLLATE "C" NOT NULL, data bytea NOT NULL, PRIMARY KEY (pipeline, seq, id));
	 CREATE TABLE events (pipeline text NOT NULL, seq integer NOT NULL, n bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (pipeline, seq, n));`,
	// 2: dpl serve's pipeline registry (the API's view of pipelines).
	`CREATE TABLE serve_registry (id integer PRIMARY KEY CHECK (id = 1), data bytea NOT NULL);`,
	// 3: leader election of the serve processes sharing the schema (a
	// lease row whose token grows with every new leader) and the fence
	// every write of a leader passes: it holds the row FOR SHARE, so a
	// takeover waits for writes in flight and every later write of the
	// old leader fails.
	`CREATE TABLE serve_leader (id integer PRIMARY KEY CHECK (id = 1), holder text NOT NULL, addr text NOT NULL,
		token bigint NOT NULL, expires timestamptz NOT NULL);
	 CREATE FUNCTION dpl_fence(t bigint) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
	 BEGIN
		PERFORM 1 FROM serve_leader WHERE id = 1 AND token = t FOR SHARE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'leadership token % is no longer current: another dpl serve leads this schema', t USING ERRCODE = 'DP001';
		END IF;
	 END $$;`,
}

// Open connects to dsn (postgres://…) and applies pending migrations.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	if o.Schema == "" {
		o.Schema = "dpl"
	}
	if !schemaName.MatchString(o.Schema) {
		return nil, fmt.Errorf("pgstore: schema %q: want lower-case letters, digits and _", o.Schema)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.IdleTxTimeout <= 0 {
		o.IdleTxTimeout = DefaultIdleTxTimeout
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", redact(dsn), err)
	}
	// A process stopped (SIGSTOP) or cut off inside a write transaction
	// would hold its row locks — the leadership row's among them —
	// forever: PostgreSQL ends such a session after IdleTxTimeout.
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(o.IdleTxTimeout.Milliseconds())
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect %s: %w", redact(dsn), err)
	}
	s := &Store{pool: pool, schema: pgx.Identifier{o.Schema}.Sanitize(), timeout: o.Timeout}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if o.Exclusive {
		if err := s.lockSchema(ctx, dsn, o.Schema); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// lockSchema takes the session advisory lock of the schema on a
// connection of its own; it is released when that connection closes
// (Close, or the process dies and PostgreSQL drops the connection).
func (s *Store) lockSchema(ctx context.Context, dsn, schema string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("pgstore: lock schema %s: %w", schema, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('dpl-serve:' || $1))`, schema).Scan(&ok); err != nil {
		conn.Close(ctx)
		return fmt.Errorf("pgstore: lock schema %s: %w", schema, err)
	}
	if !ok {
		conn.Close(ctx)
		return fmt.Errorf("pgstore: another dpl serve is using schema %s of this database (it holds the schema's advisory lock); one serve per schema", schema)
	}
	s.lock = conn
	return nil
}

// redact hides a DSN's password in messages.
func redact(dsn string) string {
	if cfg, err := pgx.ParseConfig(dsn); err == nil && cfg.Password != "" {
		return strings.ReplaceAll(dsn, cfg.Password, "********")
	}
	return dsn
}

// migrate applies pending migrations in one transaction under an advisory
// lock, so that serve processes starting together do not race.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('dpl-migrate:' || $1))`, s.schema); err != nil {
		return fmt.Errorf("pgstore: migrate: lock: %w", err)
	}
	for _, q := range []string{
		`CREATE SCHEMA IF NOT EXISTS ` + s.schema,
		`CREATE TABLE IF NOT EXISTS ` + s.schema + `.schema_migrations (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+s.schema+`.schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("pgstore: schema %s is at version %d, newer than this dpl (%d): upgrade dpl", s.schema, current, len(migrations))
	}
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+s.schema); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	for v := current + 1; v <= len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("pgstore: migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
			return fmt.Errorf("pgstore: migration %d: %w", v, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// SchemaVersion is the applied migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+s.schema+`.schema_migrations`).Scan(&v)
	return v, err
}

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

func (s *Store) t(name string) string { return s.schema + "." + name }

// Close closes the connection pool and releases the Exclusive lock; a
// Fenced view's Close does nothing (its parent owns the pool).
func (s *Store) Close() error {
	if s.shared {
		return nil
	}
	s.pool.Close()
	if s.lock != nil {
		ctx, cancel := s.ctx()
		defer cancel()
		return s.lock.Close(ctx)
	}
	return nil
}

// PutServeRegistry stores dpl serve's pipeline registry document.
func (s *Store) PutServeRegistry(data []byte) error {
	var b pgx.Batch
	b.Queue(`INSERT INTO `+s.t("serve_registry")+` (id, data) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, data)
	return s.apply("put serve registry", &b)
}

// ServeRegistry loads the registry document, ErrNotFound before the first.
func (s *Store) ServeRegistry() ([]byte, error) {
	return s.one("serve registry", `SELECT data FROM `+s.t("serve_registry")+` WHERE id = 1`)
}

// ReadOnly is false: the store is opened for writing.
func (s *Store) ReadOnly() bool { return false }

// Sync is a no-op: every write is a committed transaction.
func (s *Store) Sync() error { return nil }

func (s *Store) putJSON(op, query string, v any, args ...any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	var batch pgx.Batch
	batch.Queue(query, append(args, b)...)
	return s.apply(op, &batch)
}

// apply runs a batch of writes in one transaction, after the fence check
// of a Fenced store.
func (s *Store) apply(op string, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if s.fence != 0 {
		b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: `SELECT ` + s.schema + `.dpl_fence($1)`, Arguments: []any{s.fence}}}, b.QueuedQueries...)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		if isFenced(err) {
			return fmt.Errorf("pgstore: %s: %w: %v", op, ErrFenced, err)
		}
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	return nil
}

// one reads a single row's data, ErrNotFound when there is none.
func (s *Store) one(op, query string, args ...any) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var b []byte
	err := s.pool.QueryRow(ctx, query, args...).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, runstore.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	return b, nil
}

// all decodes every row's data into fresh T values.
func all[T any](s *Store, op, query string, args ...any) ([]*T, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("pgstore: %s: %w", op, err)
		}
		v := new(T)
		if err := json.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("pgstore: %s: decode: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	return out, nil
}

// PutPipeline stores a pipeline record.
func (s *Store) PutPipeline(p *runstore.Pipeline) error {
	return s.putJSON("put pipeline "+p.ID, `INSERT INTO `+s.t("pipelines")+` (id, data) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, p, p.ID)
}

// Pipeline loads a pipeline record.
func (s *Store) Pipeline(id string) (*runstore.Pipeline, error) {
	b, err := s.one("pipeline "+id, `SELECT data FROM `+s.t("pipelines")+` WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	var p runstore.Pipeline
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("pgstore: pipeline %s: decode: %w", id, err)
	}
	return &p, nil
}

// Pipelines lists every pipeline record in id order.
func (s *Store) Pipelines() ([]*runstore.Pipeline, error) {
	return all[runstore.Pipeline](s, "pipelines", `SELECT data FROM `+s.t("pipelines")+` ORDER BY id COLLATE "C"`)
}

// PutDefinition stores a definition version.
func (s *Store) PutDefinition(pipeline, hash string, data []byte) error {
	var b pgx.Batch
	b.Queue(`INSERT INTO `+s.t("definitions")+` (pipeline, hash, data) VALUES ($1, $2, $3)
		ON CONFLICT (pipeline, hash) DO UPDATE SET data = EXCLUDED.data`, pipeline, hash, data)
	return s.apply(fmt.Sprintf("put definition %s/%s", pipeline, hash), &b)
}

// Definition loads a definition version.
func (s *Store) Definition(pipeline, hash string) ([]byte, error) {
	return s.one("definition "+pipeline, `SELECT data FROM `+s.t("definitions")+` WHERE pipeline = $1 AND hash = $2`, pipeline, hash)
}

// PutActivation stores an activation record.
func (s *Store) PutActivation(a *runstore.Activation) error {
	return s.putJSON(fmt.Sprintf("put activation %s/%d", a.Pipeline, a.Seq), `INSERT INTO `+s.t("activations")+` (pipeline, seq, data) VALUES ($1, $2, $3)
		ON CONFLICT (pipeline, seq) DO UPDATE SET data = EXCLUDED.data`, a, a.Pipeline, a.Seq)
}

// Activations lists a pipeline's activations, oldest first.
func (s *Store) Activations(pipeline string) ([]*runstore.Activation, error) {
	return all[runstore.Activation](s, "activations of "+pipeline, `SELECT data FROM `+s.t("activations")+` WHERE pipeline = $1 ORDER BY seq`, pipeline)
}

// Latest returns a pipeline's most recent activation, or ErrNotFound.
func (s *Store) Latest(pipeline string) (*runstore.Activation, error) {
	as, err := all[runstore.Activation](s, "latest activation of "+pipeline, `SELECT data FROM `+s.t("activations")+` WHERE pipeline = $1 ORDER BY seq DESC LIMIT 1`, pipeline)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, runstore.ErrNotFound
	}
	return as[0], nil
}

// Write applies a change of an activation in one transaction.
func (s *Store) Write(pipeline string, seq int, c runstore.Change) error {
	var batch pgx.Batch
	for _, in := range c.Instances {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("pgstore: encode instance %s: %w", in.ID, err)
		}
		batch.Queue(`INSERT INTO `+s.t("instances")+` (pipeline, seq, id, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (pipeline, seq, id) DO UPDATE SET data = EXCLUDED.data`, pipeline, seq, in.ID, b)
	}
	for _, at := range c.Attempts {
		b, err := json.Marshal(at)
		if err != nil {
			return fmt.Errorf("pgstore: encode attempt %s: %w", at.ID, err)
		}
		batch.Queue(`INSERT INTO `+s.t("attempts")+` (pipeline, seq, id, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (pipeline, seq, id) DO UPDATE SET data = EXCLUDED.data`, pipeline, seq, at.ID, b)
	}
	for _, ev := range c.Events {
		batch.Queue(`INSERT INTO `+s.t("events")+` (pipeline, seq, n, data) VALUES ($1, $2, $3, $4)
			ON CONFLICT (pipeline, seq, n) DO UPDATE SET data = EXCLUDED.data`, pipeline, seq, int64(ev.Seq), ev.Data)
	}
	return s.apply("write state of "+pipeline, &batch)
}

// Instances loads an activation's instances in id order.
func (s *Store) Instances(pipeline string, seq int) ([]*runstore.Instance, error) {
	return all[runstore.Instance](s, "instances of "+pipeline, `SELECT data FROM `+s.t("instances")+` WHERE pipeline = $1 AND seq = $2 ORDER BY id`, pipeline, seq)
}

// Attempts loads an activation's attempts in id order.
func (s *Store) Attempts(pipeline string, seq int) ([]*runstore.Attempt, error) {
	return all[runstore.Attempt](s, "attempts of "+pipeline, `SELECT data FROM `+s.t("attempts")+` WHERE pipeline = $1 AND seq = $2 ORDER BY id`, pipeline, seq)
}

// Events calls fn for each event with Seq > after, in order.
func (s *Store) Events(pipeline string, seq int, after uint64, fn func(runstore.Event) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT n, data FROM `+s.t("events")+` WHERE pipeline = $1 AND seq = $2 AND n > $3 ORDER BY n`, pipeline, seq, int64(after))
	if err != nil {
		return fmt.Errorf("pgstore: events of %s: %w", pipeline, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		var b []byte
		if err := rows.Scan(&n, &b); err != nil {
			return fmt.Errorf("pgstore: events of %s: %w", pipeline, err)
		}
		if err := fn(runstore.Event{Seq: uint64(n), Data: b}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: events of %s: %w", pipeline, err)
	}
	return nil
}

// LastEventSeq returns the highest event sequence number (0 when none).
func (s *Store) LastEventSeq(pipeline string, seq int) (uint64, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(n), 0) FROM `+s.t("events")+` WHERE pipeline = $1 AND seq = $2`, pipeline, seq).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: last event of %s: %w", pipeline, err)
	}
	return uint64(n), nil
}

// DeletePipeline removes everything stored for a pipeline, in one
// transaction.
func (s *Store) DeletePipeline(id string) error {
	if id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("pgstore: delete pipeline %q: not a pipeline id", id)
	}
	var b pgx.Batch
	b.Queue(`DELETE FROM `+s.t("pipelines")+` WHERE id = $1`, id)
	for _, table := range []string{"definitions", "activations", "instances", "attempts", "events"} {
		b.Queue(`DELETE FROM `+s.t(table)+` WHERE pipeline = $1`, id)
	}
	return s.apply("delete pipeline "+id, &b)
}
