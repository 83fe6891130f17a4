// Package sqlite is allot's embedded store: one SQLite file, written by one
// connection and read by several, with the schema migrated on Open.
//
// The file is in WAL mode so readers never wait for the writer and always see
// a committed snapshot. Every write runs in a BEGIN IMMEDIATE transaction on
// the single writer connection: it takes the write lock before it reads, so
// two writers (even in two processes sharing the file) queue on busy_timeout
// instead of failing with SQLITE_BUSY when a read lock cannot be upgraded.
// That one lock is what serialises the lifecycle operations (see Update):
// every write to any project runs alone, and reads what the one before it
// committed. Each change to a resource is a ledger entry written in the
// same transaction; the ledger is synced on every commit (synchronous=FULL).
//
// Tenant isolation is in the SQL: every query that reads a project's rows has
// the project id in its WHERE clause.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout bounds how long a connection waits for a lock another process
// holds before it gives up with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is an allot.Store, allot.LedgerStore and allot.AdminKeys backed by
// one SQLite file.
type Store struct {
	// Now returns the current time. A CreatedAt left zero is set from it,
	// and it is the time of every Update (Tx.Now) and of the ledger entries
	// of an import. Tests replace it before using the store.
	Now func() time.Time

	w *sql.DB // one connection: the only writer
	r *sql.DB // readers, query_only

	// schema is the schema version this build's migrations create.
	schema int

	// The lookups every authenticated request makes, prepared once.
	versionStmt    *sql.Stmt
	projectStmt    *sql.Stmt
	credentialStmt *sql.Stmt
	tokenStmt      *sql.Stmt
	adminKeyStmt   *sql.Stmt

	// revocations counts the revocations committed through this value.
	revocations atomic.Uint64

	// The statements of the lifecycle operations, prepared once on the
	// writer connection and bound to each transaction (see Update).
	txStmts [numTxStmts]*sql.Stmt
	rsv     reservationStmts // reservation.go
	// openRsv remembers the open reservations of the groups' projects.
	openRsv allot.OpenReservations

	// group queues concurrent Updates so that they share transactions.
	group allot.Group[update]
	// savepoints tells whether the last group had an operation fail, so
	// the next one runs each operation in its own savepoint from the start
	// (see runGroup). Only the group's leader reads and writes it.
	savepoints atomic.Bool

	// packs saves tenant packs in the background (internal/tenantpack); packMin
	// is the number of resources from which a tenant gets one, 0 for
	// tenantpack.MinRows (tests lower it).
	packs   tenantpack.Saver
	packMin int

	// stamp reads the WAL-index header, nil if it cannot; versions are the
	// project versions read under it; pin is a reader connection held open
	// while the store is, so the -shm file stamp reads is never deleted
	// (walstamp.go).
	stamp    *walStamp
	versions versionCache
	pin      *sql.Conn

	// ckpt checkpoints the WAL off the commit path (checkpoint.go).
	ckpt *checkpointer
}

var (
	_ allot.Store       = (*Store)(nil)
	_ allot.LedgerStore = (*Store)(nil)
	_ allot.AdminKeys   = (*Store)(nil)
)

// Open opens or creates the database file at path and brings its schema up
// to date. The path is a plain file name: in-memory databases are refused,
// because the writer and the readers would each get their own.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		// The driver treats a '?' as the start of its parameters and a
		// "file:" prefix as a URI with its own rules.
		return nil, fmt.Errorf("sqlite: %q is not a plain database file name", path)
	}
	s := &Store{Now: time.Now}
	s.group.Max, s.group.Run = maxGroup, s.runGroup
	if err := s.open(ctx, path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, path string) error {
	// The database holds sealed secrets and hashed tokens: create it
	// readable by its owner only. SQLite gives the -wal and -shm files it
	// creates the database file's permissions, so they follow.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	f.Close()
	busy := fmt.Sprintf("_busy_timeout=%d", busyTimeout.Milliseconds())
	if s.w, err = sql.Open("sqlite", path+"?"+busy+
		// temp_store=memory: the savepoint of each operation of a group
		// (see Update) keeps its rollback pages in a sub-journal, which
		// would otherwise be a temporary file written on every change.
		// wal_autocheckpoint=0: the checkpointer does it (checkpoint.go).
		"&_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_txlock=immediate&_pragma=temp_store(memory)&_pragma=wal_autocheckpoint(0)"); err != nil {
		return fmt.Errorf("sqlite: open writer: %w", err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var temp int
	if err := s.w.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&temp); err != nil || temp != 2 {
		return fmt.Errorf("sqlite: open %s: temp_store is %d (%v), not memory", path, temp, err)
	}
	if mode != "wal" {
		// Without WAL, readers would block the writer and the other way round.
		return fmt.Errorf("sqlite: open %s: journal mode is %q, not wal", path, mode)
	}
	if err := migrate(ctx, s.w); err != nil {
		return err
	}
	if s.schema, err = schemaVersion(); err != nil {
		return err
	}
	for i, query := range txQueries {
		if s.txStmts[i], err = s.w.PrepareContext(ctx, query); err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", query, err)
		}
	}

	// The readers open after the migrations, so they never see a
	// half-migrated schema, and they cannot write even by mistake.
	if s.r, err = sql.Open("sqlite", path+"?"+busy+"&_foreign_keys=1&_query_only=1"); err != nil {
		return fmt.Errorf("sqlite: open readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n + 1) // and the pinned one
	s.r.SetMaxIdleConns(n + 1) // keep them: a new connection re-runs its PRAGMAs
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.versionStmt, `SELECT version FROM projects WHERE id = ?`},
		{&s.projectStmt, `SELECT ` + projectColumns + `, version, next_seq FROM projects WHERE id = ?`},
		{&s.credentialStmt, `SELECT ` + credentialColumns + ` FROM credentials WHERE access_key = ? AND revoked_at IS NULL`},
		{&s.tokenStmt, `SELECT ` + tokenColumns + ` FROM tokens WHERE hash = ? AND revoked_at IS NULL`},
		{&s.adminKeyStmt, `SELECT ` + adminKeyColumns + ` FROM admin_keys WHERE hash = ? AND revoked_at IS NULL`},
	} {
		if *p.stmt, err = s.r.PrepareContext(ctx, p.query); err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", p.query, err)
		}
	}
	if err := s.pinConnection(ctx, path); err != nil {
		return err
	}
	if s.ckpt, err = startCheckpointer(path + "?" + busy); err != nil {
		return err
	}
	return s.prepareReservations(ctx)
}

// Close closes the statements and both pools.
func (s *Store) Close() error {
	s.packs.Close()
	var errs []error
	stmts := append(append([]*sql.Stmt{s.versionStmt, s.projectStmt, s.credentialStmt, s.tokenStmt, s.adminKeyStmt}, s.txStmts[:]...), s.rsv.stmts()...)
	for _, st := range stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.pin != nil {
		errs = append(errs, s.pin.Close())
		s.pin = nil
	}
	errs = append(errs, s.ckpt.close())
	s.ckpt = nil
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	// After the connections: see walStamp.
	errs = append(errs, s.stamp.release())
	s.stamp = nil
	return errors.Join(errs...)
}

// Ping reports whether the store is ready: a reader answers, and the
// database is at the schema version this build's migrations create (Open
// refuses a newer one; a newer build may have migrated the file since).
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if v != s.schema {
		return fmt.Errorf("sqlite: ping: database schema version %d, this build expects %d", v, s.schema)
	}
	return nil
}

// write runs fn in one write transaction and commits it if fn succeeds.
// The transaction starts with BEGIN IMMEDIATE (the writer's _txlock).
//
// BEGIN IMMEDIATE waits up to busyTimeout for a writer of another process
// to release the file, then fails with SQLITE_BUSY. SQLite's wait is no
// queue: it sleeps and looks again, in steps of up to 100 ms, and a process
// that writes back to back can take the lock in every gap it leaves (seen in
// tests: two stores on one file, one consuming in a loop, and the other's
// BEGIN failed after 5 s). So a busy transaction runs again, from the start,
// under allot.DefaultRetry, the one policy of every store, until ctx is
// done. fn must therefore derive everything it writes from its inputs and
// what it reads in tx.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return allot.DefaultRetry.Do(ctx, busy, func() error { return s.writeOnce(ctx, fn) })
}

func (s *Store) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeOn(ctx, s.w, fn)
}

// writeOn is writeOnce on the writer pool or on its connection, held.
func (s *Store) writeOn(ctx context.Context, w interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(tx *sql.Tx) error) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	s.ckpt.committed()
	return nil
}

// busy reports whether err is SQLITE_BUSY (or one of its extended codes):
// the file stayed locked by another connection for longer than busyTimeout.
func busy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// read runs fn in one read transaction: every query fn makes sees the same
// snapshot, taken at its first query.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer tx.Rollback() // nothing to commit
	return fn(tx)
}

// lookup prepares the context of a single-row primary-key lookup. Such a
// lookup takes a few microseconds, and watching a cancellable context costs
// more than that: database/sql and the driver each start a goroutine per
// query for it (measured: 2-3 µs more per lookup). So a context that is done
// already fails at once, and otherwise the lookup runs to completion. The
// price is that a wait for a free reader connection is not cancelled either;
// it lasts only as long as the queries ahead of it.
func lookup(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// now returns the creation time for a record whose CreatedAt is zero.
func (s *Store) now(t time.Time) time.Time {
	if t.IsZero() {
		return s.Now()
	}
	return t
}

// constraint returns the extended result code of the SQLite constraint
// violation in err's chain (SQLITE_CONSTRAINT_PRIMARYKEY, ..._UNIQUE,
// ..._FOREIGNKEY, ...), or 0 if err is not a constraint violation. Errors are
// told apart by code, never by their text, which changes between versions.
func constraint(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return e.Code()
	}
	return 0
}

// Times are kept as Unix seconds: the API speaks seconds, and integers sort
// and compare in SQL without parsing.
func fromUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// nullString stores an optional identifier as NULL when it is empty, so that
// foreign keys on it are not checked.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
