package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"allot"
	"allot/postgres"
	"allot/postgres/pgtest"
	"allot/storetest"
)

var admin = allot.Actor{ID: "admin-1", Role: allot.RoleAdmin}

func units(n int64) allot.Quantity { return allot.Quantity(n * allot.QuantityScale) }

// purchase returns a request for a package of n units that expires in a year.
func purchase(project, id string, n int64) allot.PackageRequest {
	return allot.PackageRequest{ProjectID: project, ResourceID: id, Source: allot.SourcePurchased, OrderID: "order-" + id,
		ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN",
		Amount: units(n), ExpireTime: time.Now().UTC().Truncate(time.Second).AddDate(1, 0, 0)}
}

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

// TestDrift builds resources and assignments both ways (import, and
// allocation through the service), finds no drift, then corrupts one
// column at a time with raw SQL: Drift must name exactly that row and field.
func TestDrift(t *testing.T) {
	s := pgtest.MustOpen(t)
	ctx := t.Context()
	svc := &allot.Service{Store: s}
	imported := storetest.NewAssignment("imported-1", "sp", "cust") // no package behind it
	imported.SPResourceID = "pool"                                  // but a stored SPResourceID round-trips
	storetest.MustImport(t, s, allot.ImportBatch{
		Projects:    []allot.Project{storetest.NewProject("sp", ""), storetest.NewProject("cust", "sp")},
		Resources:   []allot.Resource{storetest.NewResource("cust", "r-imported")},
		Assignments: []allot.Assignment{imported},
	})
	mustOp(t)(svc.AddPackage(ctx, admin, purchase("sp", "pool", 100)))
	alloc := mustOp(t)(svc.Allocate(ctx, admin, allot.AllocateRequest{SPProjectID: "sp", CustomerProjectID: "cust",
		ResourceSpecCode: "VIDEO_2D_MIN", Amount: units(30), IdempotencyKey: "a1"}))
	granted := alloc.Resource.ResourceID
	mustOp(t)(svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: "cust", ResourceID: granted, Amount: units(4), IdempotencyKey: "c1"}))

	d := storetest.MustTenantChanges(t, s, "cust", 0)
	spResource := map[string]string{}
	for _, a := range d.Assignments {
		spResource[a.RecordID] = a.SPResourceID
	}
	if got := spResource[granted]; got != "pool" {
		t.Fatalf("TenantChanges: allocation's SPResourceID %q, want pool", got)
	}
	if got := spResource["imported-1"]; got != "pool" {
		t.Fatalf("TenantChanges: imported SPResourceID %q, want it as imported", got)
	}
	// The imported record has no SP_ALLOCATED package of its customer, so
	// Drift has nothing to compare it with, whatever its numbers.
	if d := mustDrift(t, s); len(d) != 0 {
		t.Fatalf("drift before any corruption: %+v", d)
	}

	for _, c := range []struct {
		name, corrupt, undo string
		want                allot.Drift
	}{
		{"usage", `UPDATE resources SET usage = usage + 1 WHERE project_id = 'sp' AND resource_id = 'pool'`,
			`UPDATE resources SET usage = usage - 1 WHERE project_id = 'sp' AND resource_id = 'pool'`,
			allot.Drift{ProjectID: "sp", ResourceID: "pool", Field: "usage", Stored: units(30) + 1, Ledger: units(30)}},
		{"imported amount", `UPDATE resources SET amount = amount + 5 WHERE project_id = 'cust' AND resource_id = 'r-imported'`,
			`UPDATE resources SET amount = amount - 5 WHERE project_id = 'cust' AND resource_id = 'r-imported'`,
			allot.Drift{ProjectID: "cust", ResourceID: "r-imported", Field: "amount", Stored: units(10) + 5, Ledger: units(10)}},
		{"assignment", `UPDATE assignments SET resource_used_num = resource_used_num + 2 WHERE record_id = '` + granted + `'`,
			`UPDATE assignments SET resource_used_num = resource_used_num - 2 WHERE record_id = '` + granted + `'`,
			allot.Drift{ProjectID: "cust", ResourceID: granted, Field: "resource_used_num", Stored: units(4) + 2, Ledger: units(4)}},
		{"lost entry", `UPDATE ledger SET amount_delta = 0 WHERE project_id = 'cust' AND resource_id = 'r-imported'`,
			`UPDATE ledger SET amount_delta = ` + fmt.Sprint(int64(units(10))) + ` WHERE project_id = 'cust' AND resource_id = 'r-imported'`,
			allot.Drift{ProjectID: "cust", ResourceID: "r-imported", Field: "amount", Stored: units(10), Ledger: 0}},
	} {
		if _, err := postgres.PoolOf(s).Exec(ctx, c.corrupt); err != nil {
			t.Fatal(err)
		}
		d := mustDrift(t, s)
		if len(d) != 1 || d[0] != c.want {
			t.Errorf("%s: drift %+v, want exactly %+v", c.name, d, c.want)
		}
		if _, err := postgres.PoolOf(s).Exec(ctx, c.undo); err != nil {
			t.Fatal(err)
		}
	}
	if d := mustDrift(t, s); len(d) != 0 {
		t.Fatalf("drift after undoing: %+v", d)
	}
}

// TestUpdate checks what Update itself promises, apart from the rules.
func TestUpdate(t *testing.T) {
	s := pgtest.MustOpen(t)
	ctx := t.Context()
	storetest.MustCreateProject(t, s, storetest.NewProject("p-a", ""))
	storetest.MustCreateProject(t, s, storetest.NewProject("p-b", ""))
	v := func(p string) int64 { return storetest.MustTenantVersion(t, s, p) }

	// A missing project is named, and nothing runs.
	ran := false
	err := s.Update(ctx, []string{"p-a", "ghost"}, func(allot.Tx) error { ran = true; return nil })
	if allot.ErrorCodeOf(err) != allot.ENOTFOUND || ran || !bytes.Contains([]byte(allot.ErrorMessageOf(err)), []byte("ghost")) {
		t.Fatalf("missing project: %v (fn ran: %v)", err, ran)
	}
	if got := v("p-a"); got != 1 {
		t.Fatalf("p-a version %d after a failed Update, want 1", got)
	}

	// Writing to a project the transaction does not hold is a programming
	// error, and rolls everything back.
	r := storetest.NewResource("p-b", "r-1")
	err = s.Update(ctx, []string{"p-a"}, func(tx allot.Tx) error { return tx.SaveResource(&r) })
	if allot.ErrorCodeOf(err) != allot.EINTERNAL {
		t.Fatalf("SaveResource on a project not held: %v, want an internal error", err)
	}
	e := allot.LedgerEntry{ProjectID: "p-b", ResourceID: "r-1", Op: allot.OpConsume}
	if err := s.Update(ctx, []string{"p-a"}, func(tx allot.Tx) error { return tx.AppendLedger(&e) }); allot.ErrorCodeOf(err) != allot.EINTERNAL {
		t.Fatalf("AppendLedger on a project not held: %v, want an internal error", err)
	}
	a := storetest.NewAssignment("rec-1", "p-a", "p-b")
	if err := s.Update(ctx, []string{"p-a"}, func(tx allot.Tx) error { return tx.SaveAssignment(&a) }); allot.ErrorCodeOf(err) != allot.EINTERNAL {
		t.Fatalf("SaveAssignment for a customer not held: %v, want an internal error", err)
	}

	// Both held, in any order and repeated: each version moves once, the
	// rows carry it, a duplicate id is ECONFLICT and leaves the transaction
	// usable, and one Now stamps everything.
	va, vb := v("p-a"), v("p-b")
	var now time.Time
	err = s.Update(ctx, []string{"p-b", "p-a", "p-b"}, func(tx allot.Tx) error {
		now = tx.Now()
		if now.Nanosecond() != 0 || now.Location() != time.UTC {
			t.Errorf("Now %v is not whole seconds in UTC", now)
		}
		r1, r2 := storetest.NewResource("p-b", "r-1"), storetest.NewResource("p-b", "r-2")
		if err := tx.SaveResource(&r1); err != nil {
			return err
		}
		dup := storetest.NewResource("p-b", "r-1")
		if err := tx.SaveResource(&dup); allot.ErrorCodeOf(err) != allot.ECONFLICT {
			t.Errorf("a second r-1: %v, want ECONFLICT", err)
		}
		if err := tx.SaveResource(&r2); err != nil {
			return err
		}
		if r1.Version != vb+1 || r2.Seq != r1.Seq+1 {
			t.Errorf("r1 %d/%d, r2 %d/%d: want version %d and consecutive seqs", r1.Seq, r1.Version, r2.Seq, r2.Version, vb+1)
		}
		for _, r := range []*allot.Resource{&r1, &r2} {
			e := allot.LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, At: tx.Now(), Actor: "t", Op: allot.OpImport,
				AmountDelta: r.Amount, UsageDelta: r.Usage}
			if err := tx.AppendLedger(&e); err != nil {
				return err
			}
		}
		r1.Usage, r1.Status, r1.BoundAsset, r1.Removed = r1.Amount, allot.StatusFrozen, &allot.BoundAsset{AssetID: "as-1"}, true
		if err := tx.SaveResource(&r1); err != nil {
			return err
		}
		got, err := tx.Resource("p-b", "r-1")
		if err != nil || got.Usage != r1.Amount || !got.Removed || got.BoundAsset == nil || got.Status != allot.StatusFrozen {
			t.Errorf("r-1 read back in the transaction: %+v, %v", got, err)
		}
		if rs, err := tx.ResourcesOfType("p-b", r1.ResourceType); err != nil || len(rs) != 1 || rs[0].ResourceID != "r-2" {
			t.Errorf("ResourcesOfType: %v %v, want only r-2 (r-1 is removed)", rs, err)
		}
		if got, ok, err := tx.ResourceByOrder("p-b", "order-r-2"); err != nil || !ok || got.ResourceID != "r-2" {
			t.Errorf("ResourceByOrder: %+v %v %v", got, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := v("p-a"); got != va+1 {
		t.Errorf("p-a version %d, want %d", got, va+1)
	}
	if got := v("p-b"); got != vb+1 {
		t.Errorf("p-b version %d, want %d", got, vb+1)
	}
	d := storetest.MustTenantChanges(t, s, "p-b", vb)
	if len(d.Resources) != 2 || !d.Resources[0].Removed || d.Resources[0].Usage != d.Resources[0].Amount {
		t.Fatalf("TenantChanges after the update: %+v", d.Resources)
	}
	// r-1's usage moved without an entry: the ledger says so.
	if drift := mustDrift(t, s); len(drift) != 1 || drift[0].ResourceID != "r-1" || drift[0].Field != "usage" {
		t.Fatalf("drift %+v, want r-1's usage", drift)
	}
	entries, n, err := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-b", Page: allot.Page{Limit: 10}})
	if err != nil || n != 2 || len(entries) != 2 || entries[0].Seq != 1 || entries[1].Seq != 2 || !entries[0].At.Equal(now) {
		t.Fatalf("entries %+v (count %d), %v", entries, n, err)
	}
	if _, _, err := s.LedgerEntries(ctx, allot.LedgerQuery{}); allot.ErrorCodeOf(err) != allot.EINVALID {
		t.Fatalf("a ledger query without a project: %v, want EINVALID", err)
	}

	// A failing fn writes nothing, not even the version.
	vb = v("p-b")
	err = s.Update(ctx, []string{"p-b"}, func(tx allot.Tx) error {
		r := storetest.NewResource("p-b", "r-3")
		if err := tx.SaveResource(&r); err != nil {
			return err
		}
		return allot.Errorf(allot.ECONFLICT, "changed my mind")
	})
	if allot.ErrorCodeOf(err) != allot.ECONFLICT || v("p-b") != vb {
		t.Fatalf("failed fn: %v, version %d (was %d)", err, v("p-b"), vb)
	}
	if d := storetest.MustTenantChanges(t, s, "p-b", 0); len(d.Resources) != 2 {
		t.Fatalf("a failed fn left %d resources", len(d.Resources))
	}
}

// TestAdminKeys checks the management credentials' store.
func TestAdminKeys(t *testing.T) {
	s := pgtest.MustOpen(t)
	ctx := t.Context()
	storetest.MustCreateProject(t, s, storetest.NewProject("sp-1", ""))
	hash := func(secret string) []byte { h := sha256.Sum256([]byte(secret)); return h[:] }
	root := allot.AdminKey{ID: "root", Hash: hash("root-secret"), Role: allot.RoleAdmin, CreatedAt: storetest.Epoch}
	sp := allot.AdminKey{ID: "sp-key", Hash: hash("sp-secret"), Role: allot.RoleSP, SPProjectID: "sp-1"}
	for _, k := range []allot.AdminKey{root, sp} {
		if err := s.CreateAdminKey(ctx, k); err != nil {
			t.Fatalf("CreateAdminKey %s: %v", k.ID, err)
		}
	}
	got, err := s.FindAdminKey(ctx, root.Hash)
	if err != nil || got.ID != "root" || got.Role != allot.RoleAdmin || got.SPProjectID != "" || !got.CreatedAt.Equal(storetest.Epoch) ||
		got.CreatedAt.Location() != time.UTC || !bytes.Equal(got.Hash, root.Hash) {
		t.Fatalf("FindAdminKey(root): %+v %v", got, err)
	}
	if got, err := s.FindAdminKey(ctx, sp.Hash); err != nil || got.ID != "sp-key" || got.Role != allot.RoleSP || got.SPProjectID != "sp-1" || got.CreatedAt.IsZero() {
		t.Fatalf("FindAdminKey(sp): %+v %v", got, err)
	}
	if _, err := s.FindAdminKey(ctx, hash("nobody")); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		t.Fatalf("unknown hash: %v, want ENOTFOUND", err)
	}
	for name, c := range map[string]struct {
		key  allot.AdminKey
		code allot.ErrorCode
	}{
		"same id":           {allot.AdminKey{ID: "root", Hash: hash("other"), Role: allot.RoleAdmin}, allot.ECONFLICT},
		"same hash":         {allot.AdminKey{ID: "root-2", Hash: root.Hash, Role: allot.RoleAdmin}, allot.ECONFLICT},
		"missing sp":        {allot.AdminKey{ID: "sp-2", Hash: hash("sp-2"), Role: allot.RoleSP, SPProjectID: "ghost"}, allot.ENOTFOUND},
		"unknown role":      {allot.AdminKey{ID: "x", Hash: hash("x"), Role: "root"}, allot.EINVALID},
		"sp key without sp": {allot.AdminKey{ID: "x", Hash: hash("x"), Role: allot.RoleSP}, allot.EINVALID},
		"admin key with sp": {allot.AdminKey{ID: "x", Hash: hash("x"), Role: allot.RoleAdmin, SPProjectID: "sp-1"}, allot.EINVALID},
		"no hash":           {allot.AdminKey{ID: "x", Role: allot.RoleAdmin}, allot.EINVALID},
	} {
		if err := s.CreateAdminKey(ctx, c.key); allot.ErrorCodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", name, err, c.code)
		}
	}
}

// TestTwoNodesConsume runs two stores, each with its own pool, on one
// schema, as two allot nodes on one database would. Sixteen goroutines,
// eight per node, consume one unit each from the same package, which has
// fewer units than there are attempts; every key is sent once by each
// node, at about the same time. The package must end with exactly as much
// usage as there were distinct accepted keys, never more than its amount,
// each key counted once, and the ledger must agree.
func TestTwoNodesConsume(t *testing.T) {
	dsn := pgtest.NewSchemaDSN(t)
	nodes := []*postgres.Store{pgtest.MustOpenDSN(t, dsn), pgtest.MustOpenDSN(t, dsn)}
	ctx := context.Background()
	storetest.MustCreateProject(t, nodes[0], storetest.NewProject("tenant", ""))
	const amount, perNode, perWorker = 40, 8, 7 // 56 distinct keys for 40 units
	mustOp(t)((&allot.Service{Store: nodes[0]}).AddPackage(ctx, admin, purchase("tenant", "hot", amount)))

	var (
		mu       sync.Mutex
		accepted = map[string]int{} // key -> answers that were not replays
		replays  int
		wg       sync.WaitGroup
		start    = make(chan struct{})
	)
	for _, node := range nodes {
		svc := &allot.Service{Store: node}
		for w := range perNode {
			wg.Go(func() {
				<-start
				for i := range perWorker {
					key := fmt.Sprintf("w%d-%d", w, i) // the other node's worker w sends it too
					out, err := svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: "tenant", ResourceID: "hot", Amount: units(1), IdempotencyKey: key})
					switch allot.ErrorCodeOf(err) {
					case "":
						mu.Lock()
						if out.Replayed {
							replays++
						} else {
							accepted[key]++
						}
						mu.Unlock()
					case allot.ECONFLICT: // the package is used up
					default:
						t.Errorf("consume %s: %v", key, err)
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for key, n := range accepted {
		if n != 1 {
			t.Errorf("key %s was counted %d times", key, n)
		}
	}
	if got, want := len(accepted), amount; got != want {
		t.Errorf("%d distinct keys accepted, want %d (every attempt fits until the package is used up)", got, want)
	}
	for _, node := range nodes {
		d := storetest.MustTenantChanges(t, node, "tenant", 0)
		if len(d.Resources) != 1 {
			t.Fatalf("%d resources", len(d.Resources))
		}
		r := d.Resources[0]
		if r.Usage != units(int64(len(accepted))) || r.Usage > r.Amount {
			t.Fatalf("usage %s with %d keys accepted, amount %s", r.Usage, len(accepted), r.Amount)
		}
	}
	_, n, err := nodes[1].LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "tenant", ResourceID: "hot", Page: allot.Page{Limit: 1}})
	if err != nil || n != 1+len(accepted) {
		t.Fatalf("%d ledger entries for hot (%v), want the purchase and %d consumes", n, err, len(accepted))
	}
	if d := mustDrift(t, nodes[1]); len(d) != 0 {
		t.Fatalf("drift: %+v", d)
	}
	t.Logf("%d keys accepted, %d replays answered", len(accepted), replays)
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
