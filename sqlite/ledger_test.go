package sqlite_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
	"github.com/allot-dev/allot/storetest"
)

var admin = allot.Actor{ID: "admin-1", Role: allot.RoleAdmin}

func units(n int64) allot.Quantity { return allot.Quantity(n * allot.QuantityScale) }

// purchase returns a request for a package of n units that expires in a year.
func purchase(project, id string, n int64) allot.PackageRequest {
	return allot.PackageRequest{ProjectID: project, ResourceID: id, Source: allot.SourcePurchased, OrderID: "order-" + id,
		ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN",
		Amount: units(n), ExpireTime: time.Now().UTC().Truncate(time.Second).AddDate(1, 0, 0)}
}

// MustOp fails tb unless the operation succeeded, for use as
// MustOp(t)(svc.Consume(...)).
func MustOp(tb testing.TB) func(allot.OpResult, error) allot.OpResult {
	return func(out allot.OpResult, err error) allot.OpResult {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return out
	}
}

func MustDrift(tb testing.TB, s *sqlite.Store) []allot.Drift {
	tb.Helper()
	d, err := s.Drift(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestDrift runs the drift suite, corrupting rows with raw SQL on the
// writer.
func TestDrift(t *testing.T) {
	storetest.RunDrift(t, func(t *testing.T) (allot.Store, storetest.Exec) {
		s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
		return s, func(query string) error {
			_, err := sqlite.WriterOf(s).ExecContext(t.Context(), query)
			return err
		}
	})
}

// TestLedgerUpgrade opens a database that an older build left at schema
// version 1, with projects, resources and an assignment written as that
// build wrote them. The migration must give every resource its import
// entry, so nothing drifts, and start the ledger counters after them.
func TestLedgerUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.db")
	if err := sqlite.MigrateTo(t.Context(), path, 1); err != nil {
		t.Fatal(err)
	}
	if got := countMigrations(t, path); got != 1 {
		t.Fatalf("schema_migrations has %d rows, want 1", got)
	}
	db := rawDB(t, path)
	expire := time.Now().AddDate(1, 0, 0).Unix()
	for _, stmt := range []string{
		`INSERT INTO projects (id, name, region_id, sp_project_id, created_at, version, next_seq) VALUES
			('sp', 'SP', 'r', NULL, 0, 2, 2), ('cust', 'Customer', 'r', 'sp', 0, 3, 4)`,
		fmt.Sprintf(`INSERT INTO resources (project_id, seq, resource_id, version, order_id, asset_id, asset_name,
				expire_time, resource_type, business_type, sub_resource_type, is_sub_resource, charging_mode,
				resource_source, amount, usage, status, unit) VALUES
			('sp', 1, 'pool', 2, 'o-1', NULL, '', %[1]d, 'T', 'VIDEO_2D', '', 0, 'PERIODIC', 'PURCHASED', 100000000, 30000000, 0, 'MIN'),
			('cust', 1, 'r-1', 2, 'o-2', 'as-1', 'Anchor', NULL, 'T', 'VIDEO_2D', '', 0, 'PERIODIC', 'PURCHASED', 5000000, 5000000, 0, 'MIN'),
			('cust', 3, 'r-2', 3, 'o-3', NULL, '', %[1]d, 'T', 'VIDEO_2D', '', 0, 'PERIODIC', 'PURCHASED', 7000000, 0, 0, 'MIN')`, expire),
		`INSERT INTO assignments (customer_project_id, seq, record_id, version, sp_project_id, resource_spec_code,
				charging_mode, resource_num, resource_used_num, allocate_time, expire_time) VALUES
			('cust', 2, 'a-1', 2, 'sp', 'T', 'PERIODIC', 9000000, 1000000, 0, 0)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := MustOpen(t, path)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after the upgrade: %v", err)
	}
	if d := MustDrift(t, s); len(d) != 0 {
		t.Fatalf("drift after the upgrade: %+v", d)
	}
	d := storetest.MustTenantChanges(t, s, "cust", 0)
	if len(d.Resources) != 2 || d.Resources[0].Removed || d.Resources[0].BoundAsset == nil || len(d.Assignments) != 1 || d.Assignments[0].SPResourceID != "" {
		t.Fatalf("cust after the upgrade: %+v", d)
	}
	es, n, err := s.LedgerEntries(t.Context(), allot.LedgerQuery{ProjectID: "cust", Page: allot.Page{Limit: 10}})
	if err != nil || n != 2 || es[0].Op != allot.OpImport || es[0].ResourceID != "r-1" || es[0].AmountDelta != units(5) || es[0].UsageDelta != units(5) ||
		es[1].ResourceID != "r-2" || es[1].Seq != 3 {
		t.Fatalf("cust's ledger after the upgrade: %+v (count %d) %v", es, n, err)
	}

	svc := &allot.Service{Store: s}
	out := MustOp(t)(svc.Consume(t.Context(), admin, allot.ConsumeRequest{ProjectID: "cust", ResourceID: "r-2", Amount: units(1), IdempotencyKey: "k"}))
	if e := out.Entries[0]; e.Seq != 4 {
		t.Fatalf("first entry after the upgrade has seq %d, want 4 (after the resources' seqs)", e.Seq)
	}
	if out.Resource.Seq != 3 || out.Resource.Version != 4 {
		t.Fatalf("consumed resource: seq %d version %d", out.Resource.Seq, out.Resource.Version)
	}
	added := MustOp(t)(svc.AddPackage(t.Context(), admin, purchase("cust", "r-3", 1)))
	if added.Resource.Seq != 4 {
		t.Fatalf("a new resource after the upgrade has seq %d, want 4: resource seqs stay gap-free", added.Resource.Seq)
	}
	if d := MustDrift(t, s); len(d) != 0 {
		t.Fatalf("drift after a consume: %+v", d)
	}
}

// TestPing: a store whose file a newer build has migrated since it opened
// is not ready, and says why. storetest checks the rest of Ping.
func TestPing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.db")
	s := MustOpen(t, path)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping on a healthy store: %v", err)
	}
	if _, err := sqlite.WriterOf(s).Exec(`INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "999") {
		t.Fatalf("Ping on a newer schema: %v, want an error naming the version", err)
	}
}

// TestModel runs the ledger against the model of storetest.RunModel.
func TestModel(t *testing.T) {
	storetest.RunModel(t, func(t *testing.T) allot.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	}, 400)
}
