package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests need a PostgreSQL server. ALLOT_TEST_POSTGRES is a URL that can
// create databases; each run of the test binary creates its own database,
// allot_test_<random>, drops it at the end, and gives every store that a
// test opens a fresh schema in it (much faster than a database per store).
const defaultAdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	testDSN     string        // the run's database; "" when there is none
	unavailable string        // why there is none
	testDB      *pgxpool.Pool // creates the schemas
	schemas     atomic.Int64
)

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgres tests:", err)
		code = 1
	}
	os.Exit(code)
}

func runTests(m *testing.M) (int, error) {
	admin := os.Getenv("ALLOT_TEST_POSTGRES")
	if admin == "" {
		admin = defaultAdminDSN
	}
	u, err := url.Parse(admin)
	if err != nil || u.Scheme == "" {
		return 0, fmt.Errorf("ALLOT_TEST_POSTGRES must be a postgres:// URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		unavailable = fmt.Sprintf("PostgreSQL not reachable at %s (%v): start it or set ALLOT_TEST_POSTGRES", u.Redacted(), err)
		return m.Run(), nil
	}
	defer conn.Close(context.Background())

	name := "allot_test_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return 0, fmt.Errorf("create test database: %w", err)
	}
	defer func() {
		// FORCE ends connections a failed test may have left open.
		if _, err := conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "postgres tests: drop test database:", err)
		}
	}()
	u.Path = "/" + name
	testDSN = u.String()
	if testDB, err = pgxpool.New(ctx, testDSN); err != nil {
		return 0, err
	}
	defer testDB.Close()
	return m.Run(), nil
}

// NeedDB skips tb when there is no PostgreSQL server, and fails it instead
// on CI, where a missing server means a broken setup rather than a laptop.
func NeedDB(tb testing.TB) {
	tb.Helper()
	if unavailable == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal(unavailable + " (CI=true: these tests must run, not skip)")
	}
	tb.Skip(unavailable)
}

// NewSchemaDSN creates an empty schema and returns a DSN whose connections
// use it: every table the migrations create lands in that schema.
func NewSchemaDSN(tb testing.TB) string {
	tb.Helper()
	NeedDB(tb)
	schema := fmt.Sprintf("s%d_%s", schemas.Add(1), randomHex(3))
	if _, err := testDB.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(testDSN)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustOpen opens a store on a fresh schema and closes it when tb ends.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, NewSchemaDSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// AdminPool returns the connection that made the schemas, for inspecting them.
func AdminPool() *pgxpool.Pool { return testDB }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestWithTxRetries makes two serializable transactions read the same row
// and then both update it: PostgreSQL aborts the second with 40001, and
// withTx must run it again so that both increments count.
func TestWithTxRetries(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	var (
		calls  atomic.Int64
		bothIn sync.WaitGroup
		done   sync.WaitGroup
		errs   = make(chan error, 2)
	)
	bothIn.Add(2)
	for range 2 {
		done.Add(1)
		go func() {
			defer done.Done()
			errs <- s.withTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
				var n int64
				if err := tx.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
					return err
				}
				if calls.Add(1) <= 2 { // the first try of each: both have read before either writes
					bothIn.Done()
					bothIn.Wait()
				}
				_, err := tx.Exec(ctx, `UPDATE counter SET n = $1`, n+1)
				return err
			})
		}()
	}
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if got, want := n, int64(2); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
	if got := calls.Load(); got < 3 {
		t.Fatalf("the transaction function ran %d times, want a retry (at least 3)", got)
	}
}

// TestRetryGivesUp checks that retry stops after maxTries and returns the
// last error, and never retries an error that is not a conflict.
func TestRetryGivesUp(t *testing.T) {
	ctx := context.Background()
	tries := 0
	serialization := &pgconn.PgError{Code: "40001"}
	err := retry(ctx, conflict, func() error { tries++; return serialization })
	if !errors.Is(err, serialization) || tries != maxTries {
		t.Fatalf("got %v after %d tries, want the 40001 error after %d", err, tries, maxTries)
	}
	tries = 0
	unique := &pgconn.PgError{Code: "23505"}
	if err := retry(ctx, conflict, func() error { tries++; return unique }); !errors.Is(err, unique) || tries != 1 {
		t.Fatalf("got %v after %d tries, want the 23505 error after 1", err, tries)
	}
}
