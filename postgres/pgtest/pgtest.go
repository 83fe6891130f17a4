// Package pgtest gives the tests of any package a PostgreSQL database of
// their own, for stores of package postgres. It is for tests only.
//
// ALLOT_TEST_POSTGRES is a URL that can create databases (default: the
// local server as user postgres). Each test binary that calls Main creates
// its own database, allot_test_<random>, and drops it when its tests end;
// every store a test opens gets a fresh schema in it, which is much faster
// than a database per store. Without a server the tests that need one skip,
// saying why, except on CI (CI=true), where they fail: there a missing
// server means a broken setup.
//
// A package uses it with
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and pgtest.MustOpen(t) in its tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/allot-dev/allot/postgres"
)

// DefaultAdminDSN is used when ALLOT_TEST_POSTGRES is unset.
const DefaultAdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	started     bool          // Main has run
	testDSN     string        // the run's database; "" when there is none
	unavailable string        // why there is none
	testDB      *pgxpool.Pool // creates the schemas
	schemas     atomic.Int64
)

// Main runs the package's tests with a database of their own and exits. Call
// it from TestMain: a TestMain cannot be shared between packages, so each
// test binary creates, and drops, its own database.
func Main(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	started = true
	admin := os.Getenv("ALLOT_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultAdminDSN
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
	name := "allot_test_" + randomHex(6)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	conn.Close(context.Background())
	if err != nil {
		return 0, fmt.Errorf("create test database: %w", err)
	}
	defer drop(admin, name)
	u.Path = "/" + name
	testDSN = u.String()
	if testDB, err = pgxpool.New(ctx, testDSN); err != nil {
		return 0, err
	}
	defer testDB.Close()
	return m.Run(), nil
}

// drop drops the run's database on a connection of its own: the one that
// created it may have been closed by the server while the tests ran.
func drop(admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err == nil {
		defer conn.Close(context.Background())
		// FORCE ends connections a failed test may have left open.
		_, err = conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: drop test database %s: %v\n", name, err)
	}
}

// NeedDB skips tb when there is no PostgreSQL server, and fails it instead
// on CI, where a missing server means a broken setup rather than a laptop.
func NeedDB(tb testing.TB) {
	tb.Helper()
	if !started {
		tb.Fatal("pgtest: the package's TestMain must call pgtest.Main(m)")
	}
	if unavailable == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal(unavailable + " (CI=true: these tests must run, not skip)")
	}
	tb.Skip(unavailable)
}

// NewSchemaDSN creates an empty schema and returns a DSN whose connections
// use it: every table the migrations create lands in that schema. Stores
// opened on the same DSN share the schema, as nodes share a database.
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

// SchemaOf returns the schema of a DSN made by NewSchemaDSN.
func SchemaOf(tb testing.TB, dsn string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	return u.Query().Get("search_path")
}

// MustOpen opens a store on a fresh schema and closes it when tb ends.
func MustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	return MustOpenDSN(tb, NewSchemaDSN(tb))
}

// MustOpenDSN opens a store on dsn, with a pool of its own, and closes it
// when tb ends.
func MustOpenDSN(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// AdminPool returns the pool that made the schemas, for inspecting them
// (qualify table names with the schema). Nil when Main found no server.
func AdminPool() *pgxpool.Pool { return testDB }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
