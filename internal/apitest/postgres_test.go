package apitest

import (
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres/pgtest"
)

// TestMain gives the run a PostgreSQL database of its own, dropped at the
// end; without a server the PostgreSQL tests skip (and fail on CI), and the
// SQLite ones run as ever.
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestPostgres runs the SDK suite with allot on PostgreSQL, each group on a
// schema of its own.
func TestPostgres(t *testing.T) {
	pgtest.NeedDB(t)
	Run(t, func(t *testing.T) allot.Store { return pgtest.MustOpen(t) })
}

// TestPostgresShared runs the two-node tests on one schema.
func TestPostgresShared(t *testing.T) {
	pgtest.NeedDB(t)
	RunShared(t, func(t *testing.T) (allot.Store, allot.Store) {
		dsn := pgtest.NewSchemaDSN(t)
		return pgtest.MustOpenDSN(t, dsn), pgtest.MustOpenDSN(t, dsn)
	})
}
