package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"allot"
	"allot/sqlite"
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

// TestDrift builds resources and assignments both ways (import, and
// allocation through the service), finds no drift, then corrupts one
// column at a time with raw SQL on the writer: Drift must name exactly that
// row and field.
func TestDrift(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	ctx := t.Context()
	svc := &allot.Service{Store: s}
	imported := storetest.NewAssignment("imported-1", "sp", "cust") // no package behind it
	imported.SPResourceID = "pool"                                  // but a stored SPResourceID round-trips
	storetest.MustImport(t, s, allot.ImportBatch{
		Projects:    []allot.Project{storetest.NewProject("sp", ""), storetest.NewProject("cust", "sp")},
		Resources:   []allot.Resource{storetest.NewResource("cust", "r-imported")},
		Assignments: []allot.Assignment{imported},
	})
	MustOp(t)(svc.AddPackage(ctx, admin, purchase("sp", "pool", 100)))
	alloc := MustOp(t)(svc.Allocate(ctx, admin, allot.AllocateRequest{SPProjectID: "sp", CustomerProjectID: "cust",
		ResourceSpecCode: "VIDEO_2D_MIN", Amount: units(30), IdempotencyKey: "a1"}))
	granted := alloc.Resource.ResourceID
	MustOp(t)(svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: "cust", ResourceID: granted, Amount: units(4), IdempotencyKey: "c1"}))

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
	if d := MustDrift(t, s); len(d) != 0 {
		t.Fatalf("drift before any corruption: %+v", d)
	}

	w := sqlite.WriterOf(s)
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
			fmt.Sprintf(`UPDATE ledger SET amount_delta = %d WHERE project_id = 'cust' AND resource_id = 'r-imported'`, units(10)),
			allot.Drift{ProjectID: "cust", ResourceID: "r-imported", Field: "amount", Stored: units(10), Ledger: 0}},
		{"entry without resource", `INSERT INTO ledger (project_id, seq, resource_id, at, actor, op, amount_delta, usage_delta,
				idempotency_key, reason, ref) VALUES ('sp', 999, 'ghost', 0, 't', 'purchase', 7, 0, '', '', '')`,
			`DELETE FROM ledger WHERE project_id = 'sp' AND seq = 999`,
			allot.Drift{ProjectID: "sp", ResourceID: "ghost", Field: "amount", Stored: 0, Ledger: 7}},
	} {
		if _, err := w.ExecContext(ctx, c.corrupt); err != nil {
			t.Fatal(err)
		}
		d := MustDrift(t, s)
		if len(d) != 1 || d[0] != c.want {
			t.Errorf("%s: drift %+v, want exactly %+v", c.name, d, c.want)
		}
		if _, err := w.ExecContext(ctx, c.undo); err != nil {
			t.Fatal(err)
		}
	}
	if d := MustDrift(t, s); len(d) != 0 {
		t.Fatalf("drift after undoing: %+v", d)
	}
}

// TestUpdate checks what Update itself promises, apart from the rules.
func TestUpdate(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	ctx := t.Context()
	storetest.MustCreateProject(t, s, storetest.NewProject("p-a", ""))
	storetest.MustCreateProject(t, s, storetest.NewProject("p-b", ""))
	v := func(p string) int64 { return storetest.MustTenantVersion(t, s, p) }

	// A missing project is named, and nothing runs.
	ran := false
	err := s.Update(ctx, []string{"p-a", "ghost"}, func(allot.Tx) error { ran = true; return nil })
	if allot.ErrorCodeOf(err) != allot.ENOTFOUND || ran || !strings.Contains(allot.ErrorMessageOf(err), "ghost") {
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
	rec := allot.IdempotencyRecord{ProjectID: "p-b", Key: "k", Fingerprint: "f", Result: []byte("{}")}
	if err := s.Update(ctx, []string{"p-a"}, func(tx allot.Tx) error { return tx.SaveIdempotency(rec) }); allot.ErrorCodeOf(err) != allot.EINTERNAL {
		t.Fatalf("SaveIdempotency for a project not held: %v, want an internal error", err)
	}
	if got := v("p-a"); got != 1 {
		t.Fatalf("p-a version %d after failed Updates, want 1", got)
	}

	// Both held, in any order and repeated: each version moves once, the
	// rows carry it, a duplicate id is ECONFLICT and leaves the transaction
	// usable, and one Now stamps everything.
	now := time.Date(2031, 5, 6, 7, 8, 9, 500_000_000, time.FixedZone("X", 7200))
	s.Now = func() time.Time { return now }
	va, vb := v("p-a"), v("p-b")
	err = s.Update(ctx, []string{"p-b", "p-a", "p-b"}, func(tx allot.Tx) error {
		if want := now.UTC().Truncate(time.Second); tx.Now() != want {
			t.Errorf("Now %v, want %v", tx.Now(), want)
		}
		if p, err := tx.Project("p-a"); err != nil || p.ID != "p-a" || p.Name != "Project p-a" {
			t.Errorf("Project(p-a): %+v %v", p, err)
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
		if _, err := tx.Resource("p-a", "r-1"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
			t.Errorf("r-1 of the other project: %v, want ENOTFOUND", err)
		}
		if rs, err := tx.ResourcesOfType("p-b", r1.ResourceType); err != nil || len(rs) != 1 || rs[0].ResourceID != "r-2" {
			t.Errorf("ResourcesOfType: %v %v, want only r-2 (r-1 is removed)", rs, err)
		}
		if got, ok, err := tx.ResourceByOrder("p-b", "order-r-2"); err != nil || !ok || got.ResourceID != "r-2" {
			t.Errorf("ResourceByOrder: %+v %v %v", got, ok, err)
		}
		if _, ok, err := tx.ResourceByOrder("p-a", "order-r-2"); err != nil || ok {
			t.Errorf("ResourceByOrder of the other project: %v %v", ok, err)
		}
		// An assignment of p-a's customer... p-b is no customer, but Tx
		// leaves that rule to the service: it stores what it is given.
		a := storetest.NewAssignment("rec-1", "p-a", "p-b")
		a.SPResourceID = "pool"
		if err := tx.SaveAssignment(&a); err != nil {
			return err
		}
		if a.Seq != r2.Seq+1 || a.Version != vb+1 {
			t.Errorf("assignment seq %d version %d", a.Seq, a.Version)
		}
		a.ResourceUsedNum = a.ResourceNum
		if err := tx.SaveAssignment(&a); err != nil {
			return err
		}
		if got, err := tx.Assignment("rec-1"); err != nil || got.CustomerProjectID != "p-b" || got.ResourceUsedNum != a.ResourceNum || got.SPResourceID != "pool" {
			t.Errorf("Assignment read back: %+v %v", got, err)
		}
		ghost := storetest.NewAssignment("rec-2", "ghost", "p-b")
		if err := tx.SaveAssignment(&ghost); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
			t.Errorf("an assignment of a missing SP: %v, want ENOTFOUND", err)
		}
		if _, err := tx.Assignment("rec-2"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
			t.Errorf("Assignment(rec-2): %v, want ENOTFOUND", err)
		}
		if _, ok, err := tx.Idempotency("p-b", "k"); ok || err != nil {
			t.Errorf("Idempotency before saving: %v %v", ok, err)
		}
		if err := tx.SaveIdempotency(rec); err != nil {
			return err
		}
		if err := tx.SaveIdempotency(rec); allot.ErrorCodeOf(err) != allot.ECONFLICT {
			t.Errorf("a second record of one key: %v, want ECONFLICT", err)
		}
		if got, ok, err := tx.Idempotency("p-b", "k"); !ok || err != nil || got.Fingerprint != "f" || string(got.Result) != "{}" || got.CreatedAt != tx.Now() {
			t.Errorf("Idempotency: %+v %v %v", got, ok, err)
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
	if len(d.Resources) != 2 || !d.Resources[0].Removed || d.Resources[0].Usage != d.Resources[0].Amount || d.Resources[1].Removed {
		t.Fatalf("TenantChanges after the update: %+v", d.Resources)
	}
	if len(d.Assignments) != 1 || d.Assignments[0].SPResourceID != "pool" {
		t.Fatalf("TenantChanges after the update: %+v", d.Assignments)
	}
	// r-1's usage moved without an entry: the ledger says so. The
	// assignment is compared with no package (its id names none).
	if drift := MustDrift(t, s); len(drift) != 1 || drift[0].ResourceID != "r-1" || drift[0].Field != "usage" {
		t.Fatalf("drift %+v, want r-1's usage", drift)
	}
	entries, n, err := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-b", Page: allot.Page{Limit: 10}})
	if err != nil || n != 2 || len(entries) != 2 || entries[0].Seq != 1 || entries[1].Seq != 2 || !entries[0].At.Equal(now.Truncate(time.Second)) {
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
		e := allot.LedgerEntry{ProjectID: "p-b", ResourceID: "r-3", Actor: "t", Op: allot.OpImport, AmountDelta: r.Amount, UsageDelta: r.Usage}
		if err := tx.AppendLedger(&e); err != nil {
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
	if _, n, _ := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-b", Page: allot.Page{Limit: 10}}); n != 2 {
		t.Fatalf("a failed fn left %d entries, want 2", n)
	}
	// The counters were not moved either: the next row and entry follow on.
	err = s.Update(ctx, []string{"p-b"}, func(tx allot.Tx) error {
		r := storetest.NewResource("p-b", "r-4")
		if err := tx.SaveResource(&r); err != nil {
			return err
		}
		e := allot.LedgerEntry{ProjectID: "p-b", ResourceID: "r-4", Actor: "t", Op: allot.OpImport, AmountDelta: r.Amount, UsageDelta: r.Usage}
		if err := tx.AppendLedger(&e); err != nil {
			return err
		}
		if r.Seq != 4 || e.Seq != 3 {
			t.Errorf("after a rollback: resource seq %d, entry seq %d; want 4 and 3", r.Seq, e.Seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLedgerEntriesWindow checks the paging and the time bounds of the
// ledger query against entries stamped at known times.
func TestLedgerEntriesWindow(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	ctx := t.Context()
	storetest.MustCreateProject(t, s, storetest.NewProject("p", ""))
	storetest.MustCreateProject(t, s, storetest.NewProject("q", ""))
	svc := &allot.Service{Store: s}
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		s.Now = func() time.Time { return base.Add(time.Duration(i) * time.Minute) }
		for _, p := range []string{"p", "q"} {
			MustOp(t)(svc.AddPackage(ctx, admin, purchase(p, fmt.Sprint("r-", i), 1)))
		}
	}
	at := func(min int, nsec int) *time.Time {
		t := base.Add(time.Duration(min)*time.Minute + time.Duration(nsec))
		return &t
	}
	for _, c := range []struct {
		name     string
		q        allot.LedgerQuery
		count    int
		firstSeq int64
		n        int
	}{
		{"all", allot.LedgerQuery{Page: allot.Page{Limit: 100}}, 10, 1, 10},
		{"page", allot.LedgerQuery{Page: allot.Page{Limit: 3, Offset: 4}}, 10, 5, 3},
		{"last page", allot.LedgerQuery{Page: allot.Page{Limit: 3, Offset: 9}}, 10, 10, 1},
		{"past the end", allot.LedgerQuery{Page: allot.Page{Limit: 3, Offset: 10}}, 10, 0, 0},
		{"no limit", allot.LedgerQuery{}, 10, 0, 0},
		{"inclusive", allot.LedgerQuery{From: at(2, 0), To: at(4, 0), Page: allot.Page{Limit: 100}}, 3, 3, 3},
		{"from between seconds", allot.LedgerQuery{From: at(2, 1), Page: allot.Page{Limit: 100}}, 7, 4, 7},
		{"to between seconds", allot.LedgerQuery{To: at(2, 1), Page: allot.Page{Limit: 100}}, 3, 1, 3},
		{"resource", allot.LedgerQuery{ResourceID: "r-7", Page: allot.Page{Limit: 100}}, 1, 8, 1},
		{"resource outside the window", allot.LedgerQuery{ResourceID: "r-7", To: at(6, 0), Page: allot.Page{Limit: 100}}, 0, 0, 0},
	} {
		q := c.q
		q.ProjectID = "p"
		es, n, err := s.LedgerEntries(ctx, q)
		if err != nil || n != c.count || len(es) != c.n || len(es) > 0 && es[0].Seq != c.firstSeq {
			t.Errorf("%s: %d of %d entries (%v), want %d of %d from seq %d", c.name, len(es), n, err, c.n, c.count, c.firstSeq)
		}
		for _, e := range es {
			if e.ProjectID != "p" {
				t.Errorf("%s: an entry of %s", c.name, e.ProjectID)
			}
		}
	}
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

// TestAdminKeys checks the management credentials' store.
func TestAdminKeys(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	ctx := t.Context()
	storetest.MustCreateProject(t, s, storetest.NewProject("sp-1", ""))
	hash := func(secret string) []byte { h := sha256.Sum256([]byte(secret)); return h[:] }
	root := allot.AdminKey{ID: "root", Hash: hash("root-secret"), Role: allot.RoleAdmin, CreatedAt: storetest.Epoch}
	sp := allot.AdminKey{ID: "sp-key", Hash: hash("sp-secret"), Role: allot.RoleSP, SPProjectID: "sp-1"}
	now := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	s.Now = func() time.Time { return now }
	for _, k := range []allot.AdminKey{root, sp} {
		if err := s.CreateAdminKey(ctx, k); err != nil {
			t.Fatalf("CreateAdminKey %s: %v", k.ID, err)
		}
	}
	got, err := s.FindAdminKey(ctx, root.Hash)
	if err != nil || got.ID != "root" || got.Role != allot.RoleAdmin || got.SPProjectID != "" || got.CreatedAt != storetest.Epoch ||
		!bytes.Equal(got.Hash, root.Hash) {
		t.Fatalf("FindAdminKey(root): %+v %v", got, err)
	}
	if got, err := s.FindAdminKey(ctx, sp.Hash); err != nil || got.ID != "sp-key" || got.Role != allot.RoleSP || got.SPProjectID != "sp-1" ||
		got.CreatedAt != now.Truncate(time.Second) {
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
	// The refused keys left nothing behind.
	if _, err := s.FindAdminKey(ctx, hash("other")); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		t.Fatalf("a refused key was stored: %v", err)
	}
}

// TestPing: a healthy store is ready; one whose file a newer build has
// migrated since it opened is not, and says why.
func TestPing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.db")
	s := MustOpen(t, path)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping on a healthy store: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping with a cancelled context succeeded")
	}
	if _, err := sqlite.WriterOf(s).Exec(`INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "999") {
		t.Fatalf("Ping on a newer schema: %v, want an error naming the version", err)
	}
}

// TestTwoStoresConsume opens two stores on one file, as two processes would
// (each with its own writer and readers), and has eight goroutines on each
// consume one unit at a time from the same package, which has fewer units
// than there are keys. Every key is sent by both stores at about the same
// time. SQLite's file lock serialises the writers, and with BEGIN IMMEDIATE
// and the busy timeout they wait for it instead of failing: no attempt may
// fail with anything but ECONFLICT (the package is used up), no key may
// count twice, and usage must end at exactly the amount.
func TestTwoStoresConsume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.db")
	stores := []*sqlite.Store{MustOpen(t, path), MustOpen(t, path)}
	ctx := context.Background()
	storetest.MustCreateProject(t, stores[0], storetest.NewProject("tenant", ""))
	const amount, perStore, perWorker = 40, 8, 7 // 56 distinct keys for 40 units
	MustOp(t)((&allot.Service{Store: stores[0]}).AddPackage(ctx, admin, purchase("tenant", "hot", amount)))

	var (
		mu       sync.Mutex
		accepted = map[string]int{} // key -> answers that were not replays
		replays  int
		wg       sync.WaitGroup
		start    = make(chan struct{})
	)
	for _, store := range stores {
		svc := &allot.Service{Store: store}
		for w := range perStore {
			wg.Go(func() {
				<-start
				for i := range perWorker {
					key := fmt.Sprintf("w%d-%d", w, i) // the other store's worker w sends it too
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
	for _, s := range stores {
		d := storetest.MustTenantChanges(t, s, "tenant", 0)
		if len(d.Resources) != 1 {
			t.Fatalf("%d resources", len(d.Resources))
		}
		if r := d.Resources[0]; r.Usage != units(int64(len(accepted))) || r.Usage > r.Amount {
			t.Fatalf("usage %s with %d keys accepted, amount %s", r.Usage, len(accepted), r.Amount)
		}
	}
	_, n, err := stores[1].LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "tenant", ResourceID: "hot", Page: allot.Page{Limit: 1}})
	if err != nil || n != 1+len(accepted) {
		t.Fatalf("%d ledger entries for hot (%v), want the purchase and %d consumes", n, err, len(accepted))
	}
	if d := MustDrift(t, stores[1]); len(d) != 0 {
		t.Fatalf("drift: %+v", d)
	}
	t.Logf("%d keys accepted, %d replays answered", len(accepted), replays)
}
