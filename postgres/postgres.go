// Package postgres is allot's Store on PostgreSQL, written so that the same
// schema and SQL also run on the distributed PostgreSQL-compatible databases
// (CockroachDB, YugabyteDB) when one PostgreSQL is no longer enough.
//
// The main invariant: a project's row in the projects table is the one point
// that serialises writes to that project. Every write to its resources,
// assignments, ledger or idempotency records updates that row first, in its
// transaction, and takes the project's new version and its sequence numbers
// from it; the row lock held until commit makes the project's writers, on
// any number of nodes, take turns (see Update). There is
// no global sequence and every key starts with the project id, so unrelated
// tenants never contend and spread across the key space of a distributed
// database. Many allot nodes can share one database: nothing is cached between
// requests except prepared statements.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is an allot.Store backed by a pgx connection pool.
type Store struct {
	pool *pgxpool.Pool

	// Now is the clock that stamps CreatedAt when a caller leaves it zero,
	// imports' ledger entries and every Update (Tx.Now). Tests may replace
	// it before first use.
	Now func() time.Time

	// revocations counts the revocations committed through this value.
	revocations atomic.Uint64

	// group queues concurrent Updates so that they share transactions.
	group allot.Group[update]
	// groupRuns counts the transactions groups ran, by mode (see groupTx).
	groupRuns [guess + 1]atomic.Uint64

	// schema is the schema version this build's migrations make.
	schema int64
	// packs saves tenant packs in the background (tenantpack.go); packMin
	// is the number of resources from which a tenant gets one, 0 for
	// tenantpack.MinRows (tests lower it).
	packs   tenantpack.Saver
	packMin int
	// open remembers the open reservations of the groups' projects.
	open allot.OpenReservations
}

var _ allot.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// or postgresql://
// URL, or key=value pairs; pgxpool settings such as pool_max_conns are
// honoured), checks that it answers and brings the schema up to date. Several
// processes may call Open on the same database at once.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, Now: time.Now}
	// Groups of different projects commit in parallel; half the pool's
	// connections is left for reads and authentication.
	s.group.Max, s.group.Leaders, s.group.Run = maxGroup, max(1, int(cfg.MaxConns)/2), s.runGroup
	// An Update of a project a group in flight holds waits for the next
	// group: a second leader would only wait for that group's row lock.
	s.group.Keys = func(u update) []string { return u.ids }
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	ms, err := migrations()
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.schema = ms[len(ms)-1].version
	return s, nil
}

// Ping reports whether the database answers: the readiness check.
//
// It also checks that the schema is at the version this build's migrations
// make: a node whose database was migrated by a newer build is not ready.
func (s *Store) Ping(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	if want := ms[len(ms)-1].version; v != want {
		return fmt.Errorf("postgres: ping: database schema version %d, this build expects %d", v, want)
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.packs.Close()
	s.pool.Close()
	return nil
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// A migration is one embedded file, NNNN_name.sql, applied as version NNNN.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil || v <= 0 || len(ms) > 0 && v <= ms[len(ms)-1].version {
			return nil, fmt.Errorf("postgres: migration %s: name must start with a new, increasing number", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	return ms, nil
}

// migrationRace reports whether err may come from another process applying
// the same migration at the same moment: the loser sees the winner's catalog
// rows or version row as a unique violation or an existing object, or loses
// a serialization conflict. Running it again finds the version applied.
func migrationRace(err error) bool {
	return hasCode(err, "23505", "42P07", "42710", "40001", "40P01")
}

// Migrate applies the embedded migrations that schema_migrations does not
// list yet. It is safe to run from several processes at once without locks:
// each migration runs in one transaction that executes its (idempotent) DDL
// and then inserts its version into schema_migrations, whose primary key lets
// exactly one transaction commit it. A loser rolls back, finds the version
// applied and goes on. The DDL comes before the insert because CockroachDB
// refuses schema changes after a write in the same transaction.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	err = retry(ctx, migrationRace, func() error {
		_, err := s.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT NOT NULL,
			name       TEXT   NOT NULL,
			applied_at BIGINT NOT NULL,
			CONSTRAINT schema_migrations_pkey PRIMARY KEY (version))`)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	var latest int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&latest); err != nil {
		return fmt.Errorf("postgres: read schema version: %w", err)
	}
	if n := ms[len(ms)-1].version; latest > n {
		// An older build must not write to a schema it does not know.
		return fmt.Errorf("postgres: database schema version %d is newer than this build's %d", latest, n)
	}
	for _, m := range ms {
		err := retry(ctx, migrationRace, func() error {
			var applied bool
			err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&applied)
			if err != nil || applied {
				return err
			}
			return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.sql); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
					m.version, m.name, time.Now().Unix())
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// createdAt returns the Unix time to store for a CreatedAt: the caller's,
// or the store's clock when the caller left it zero.
func (s *Store) createdAt(t time.Time) int64 {
	if t.IsZero() {
		t = s.Now()
	}
	return t.Unix()
}

// Transactions that lose a conflict are retried by allot.DefaultRetry.

// conflict reports whether err means that the transaction lost a race and
// running it again from the start may succeed.
func conflict(err error) bool { return hasCode(err, "40001", "40P01") }

// hasCode reports whether err is a PgError with one of the SQLSTATE codes.
func hasCode(err error, codes ...string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && slices.Contains(codes, pgErr.Code)
}

// retry runs fn under the stores' one retry policy.
func retry(ctx context.Context, retryable func(error) bool, fn func() error) error {
	return allot.DefaultRetry.Do(ctx, retryable, fn)
}

// withTx runs fn in a transaction and commits it, running the whole function
// again when the database aborts it for a conflict. fn must therefore derive
// everything it writes from its inputs and what it reads in tx.
func (s *Store) withTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	return retry(ctx, conflict, func() error { return pgx.BeginTxFunc(ctx, s.pool, opts, fn) })
}

// mapError turns an integrity violation into the allot error that the
// caller says it means: on is keyed by constraint name (the names are fixed
// in the migrations) and, for databases that leave the name empty, by
// SQLSTATE (23505 unique, 23503 foreign key). Both come from structured
// fields of the PgError, never from its message text. Any other error is
// returned unchanged, and so stays internal.
func mapError(err error, on map[string]*allot.Error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" && pgErr.Code != "23503" {
		return err
	}
	e, ok := on[pgErr.ConstraintName]
	if !ok && pgErr.ConstraintName == "" {
		e, ok = on[pgErr.Code]
	}
	if !ok {
		return err
	}
	return &allot.Error{Code: e.Code, Message: e.Message, Err: err}
}

// constraintOf returns the name of the constraint that err violated, or "".
func constraintOf(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

func projectNotFound(id string) *allot.Error {
	return allot.Errorf(allot.ENOTFOUND, "project %s does not exist", id)
}

// unixOrNull stores a zero time as NULL.
func unixOrNull(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}

// fromUnix returns a stored time, in UTC like every time allot hands out.
func fromUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
