package postgres_test

import (
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

var admin = allot.Actor{ID: "admin-1", Role: allot.RoleAdmin}

func units(n int64) allot.Quantity { return allot.Quantity(n * allot.QuantityScale) }

// mustOp returns a function that fails t unless the operation succeeded,
// for use as mustOp(t)(svc.Consume(...)).
func mustOp(t *testing.T) func(allot.OpResult, error) allot.OpResult {
	return func(out allot.OpResult, err error) allot.OpResult {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// lasting returns storetest's resource without its expiry, which is in the
// past by now.
func lasting(project, id string) allot.Resource {
	r := storetest.NewResource(project, id)
	r.ExpireTime = time.Time{}
	return r
}

func mustDrift(t *testing.T, s *postgres.Store) []allot.Drift {
	t.Helper()
	d, err := s.Drift(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDrift runs the drift suite, corrupting rows with raw SQL on the
// store's pool.
func TestDrift(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunDrift(t, func(t *testing.T) (allot.Store, storetest.Exec) {
		s := pgtest.MustOpen(t)
		return s, func(query string) error {
			_, err := postgres.PoolOf(s).Exec(t.Context(), query)
			return err
		}
	})
}

// TestModel runs the ledger against the model of storetest.RunModel.
func TestModel(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunModel(t, open, 300)
}

// TestLedgerBackfill takes a database back to before the ledger: resources
// without entries, migrations 2 and 3 unrecorded. Opening it again must
// give every resource its import entry, so nothing drifts, and start the
// ledger counters after them, so new entries still fit.
func TestLedgerBackfill(t *testing.T) {
	dsn := pgtest.NewSchemaDSN(t)
	s := pgtest.MustOpenDSN(t, dsn)
	ctx := t.Context()
	storetest.MustImport(t, s, allot.ImportBatch{
		Projects:  []allot.Project{storetest.NewProject("p-a", ""), storetest.NewProject("p-b", "p-a")},
		Resources: []allot.Resource{storetest.NewResource("p-a", "r-1"), storetest.NewResource("p-b", "r-1"), lasting("p-b", "r-2")},
	})
	for _, stmt := range []string{`DELETE FROM ledger`, `UPDATE projects SET next_ledger_seq = 1`, `DELETE FROM schema_migrations WHERE version >= 2`} {
		if _, err := postgres.PoolOf(s).Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if d := mustDrift(t, s); len(d) != 6 {
		t.Fatalf("before the backfill: %d drifts, want amount and usage of 3 resources", len(d))
	}
	s2 := pgtest.MustOpenDSN(t, dsn)
	if d := mustDrift(t, s2); len(d) != 0 {
		t.Fatalf("after the backfill: %+v", d)
	}
	svc := &allot.Service{Store: s2}
	mustOp(t)(svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: "p-b", ResourceID: "r-2", Amount: units(1), IdempotencyKey: "k"}))
	es, n, err := s2.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-b", Page: allot.Page{Limit: 10}})
	if err != nil || n != 3 || es[0].Op != allot.OpImport || es[2].Op != allot.OpConsume || es[2].Seq <= es[1].Seq {
		t.Fatalf("p-b's ledger after the backfill and a consume: %+v %v", es, err)
	}
	if d := mustDrift(t, s2); len(d) != 0 {
		t.Fatalf("after a consume: %+v", d)
	}
}
