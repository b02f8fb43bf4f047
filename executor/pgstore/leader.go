package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dpl-dev/dpl/executor/runstore"
)

// Leader election of the dpl serve processes that share one schema: a
// lease row (serve_leader) with an expiry kept by PostgreSQL's clock and a
// fencing token that grows with every new leader. The leader renews the
// lease; when it stops (killed, stopped, cut off) the lease runs out and a
// standby takes it with the next token. Every write of a leader's Fenced
// store checks its token in the same transaction, so a former leader that
// wakes up cannot write.

// ErrFenced: the write was refused because its leadership token is no
// longer current.
var ErrFenced = errors.New("fenced: this dpl serve is no longer the leader")

// fencedCode is the SQLSTATE dpl_fence raises.
const fencedCode = "DP001"

func isFenced(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == fencedCode
}

// Lease is the current leadership record.
type Lease struct {
	Holder string // the leader's node id
	Addr   string // the URL it serves the API on
	Token  int64
	// Live: the lease has not run out (by the database's clock).
	Live bool
	// Left is how long the lease has to run when Live.
	Left time.Duration
}

// Campaign takes the leadership for node (serving at addr) for ttl when
// nobody holds a live lease, and returns the new fencing token; won is
// false while another node's lease is live.
func (s *Store) Campaign(ctx context.Context, node, addr string, ttl time.Duration) (token int64, won bool, err error) {
	err = s.pool.QueryRow(ctx, `INSERT INTO `+s.t("serve_leader")+` AS l (id, holder, addr, token, expires)
		VALUES (1, $1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond')
		ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, addr = EXCLUDED.addr, token = l.token + 1, expires = EXCLUDED.expires
		WHERE l.expires < clock_timestamp()
		RETURNING token`, node, addr, ttl.Milliseconds()).Scan(&token)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pgstore: campaign for leadership: %w", err)
	}
	return token, true, nil
}

// Renew extends the lease of token by ttl from now; false when the token
// is no longer the leader's (the lease ran out and another node took it).
func (s *Store) Renew(ctx context.Context, token int64, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE `+s.t("serve_leader")+` SET expires = clock_timestamp() + $2 * interval '1 millisecond'
		WHERE id = 1 AND token = $1 AND expires >= clock_timestamp()`, token, ttl.Milliseconds())
	if err != nil {
		return false, fmt.Errorf("pgstore: renew leadership: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Resign ends the lease of token at once, so that a standby takes over
// without waiting for it to run out.
func (s *Store) Resign(ctx context.Context, token int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.t("serve_leader")+` SET expires = clock_timestamp() - interval '1 millisecond' WHERE id = 1 AND token = $1`, token)
	if err != nil {
		return fmt.Errorf("pgstore: resign leadership: %w", err)
	}
	return nil
}

// Leader reads the leadership record; ErrNotFound before the first leader.
func (s *Store) Leader(ctx context.Context) (Lease, error) {
	var l Lease
	var leftMs float64
	err := s.pool.QueryRow(ctx, `SELECT holder, addr, token, expires >= clock_timestamp(), extract(epoch FROM expires - clock_timestamp()) * 1000
		FROM `+s.t("serve_leader")+` WHERE id = 1`).Scan(&l.Holder, &l.Addr, &l.Token, &l.Live, &leftMs)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lease{}, runstore.ErrNotFound
	}
	if err != nil {
		return Lease{}, fmt.Errorf("pgstore: read leadership: %w", err)
	}
	if l.Live {
		l.Left = time.Duration(leftMs * float64(time.Millisecond))
	}
	return l, nil
}

// Fenced returns a view of the store whose every write transaction first
// checks that token is still the leadership token (ErrFenced otherwise).
// It shares the connection pool; its Close does nothing.
func (s *Store) Fenced(token int64) *Store {
	c := *s
	c.fence, c.shared, c.lock = token, true, nil
	return &c
}
