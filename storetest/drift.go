package storetest

import (
	"fmt"
	"testing"

	"github.com/allot-dev/allot"
)

// Exec runs one SQL statement on a store's database, behind the store's
// back.
type Exec func(query string) error

// RunDrift runs the suite of Ledger.Drift against rows corrupted under the
// store. open returns a new, empty store that implements
// allot.LedgerStore, with an Exec on its database. The suite corrupts rows
// through the table and column names every store shares (resources,
// assignments, ledger, reservation_holds, amounts in millionths), one change at a time, and
// Drift must name exactly the row and field changed.
func RunDrift(t *testing.T, open func(t *testing.T) (allot.Store, Exec)) {
	s, exec := open(t)
	l := mustLedger(t, s)
	ctx := t.Context()
	svc := &allot.Service{Store: l}
	imported := NewAssignment("imported-1", "sp", "cust") // no package behind it
	imported.SPResourceID = "pool"                        // though it names one
	MustImport(t, s, allot.ImportBatch{
		Projects:    []allot.Project{NewProject("sp", ""), NewProject("cust", "sp")},
		Resources:   []allot.Resource{NewResource("cust", "r-imported")},
		Assignments: []allot.Assignment{imported},
	})
	must := func(_ allot.OpResult, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.AddPackage(ctx, admin, pkg("sp", "pool", "VIDEO_2D_MIN", 100, future)))
	alloc, err := svc.Allocate(ctx, admin, allot.AllocateRequest{SPProjectID: "sp", CustomerProjectID: "cust",
		ResourceSpecCode: "VIDEO_2D_MIN", Amount: units(30), IdempotencyKey: "a1"})
	must(alloc, err)
	granted := alloc.Resource.ResourceID
	must(svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: "cust", ResourceID: granted, Amount: units(4), IdempotencyKey: "c1"}))
	if _, err := svc.Reserve(ctx, admin, allot.ReserveRequest{ProjectID: "cust", ResourceID: granted, Amount: units(5), TTL: 600, IdempotencyKey: "h1"}); err != nil {
		t.Fatal(err)
	}

	// The imported record has no SP_ALLOCATED package of its customer, so
	// Drift has nothing to compare it with, whatever its numbers.
	if d := mustDrift(t, l); len(d) != 0 {
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
			fmt.Sprintf(`UPDATE ledger SET amount_delta = %d WHERE project_id = 'cust' AND resource_id = 'r-imported'`, int64(units(10))),
			allot.Drift{ProjectID: "cust", ResourceID: "r-imported", Field: "amount", Stored: units(10), Ledger: 0}},
		{"entry without resource", `INSERT INTO ledger (project_id, seq, resource_id, at, actor, op, amount_delta, usage_delta,
				idempotency_key, reason, ref) VALUES ('sp', 999, 'ghost', 0, 't', 'purchase', 7, 0, '', '', '')`,
			`DELETE FROM ledger WHERE project_id = 'sp' AND seq = 999`,
			allot.Drift{ProjectID: "sp", ResourceID: "ghost", Field: "amount", Stored: 0, Ledger: 7}},
		// A package's held units are checked against its entries and,
		// independently, against its open reservations' holds.
		{"held entry", `UPDATE ledger SET held_delta = held_delta - 1 WHERE project_id = 'cust' AND op = 'reserve'`,
			`UPDATE ledger SET held_delta = held_delta + 1 WHERE project_id = 'cust' AND op = 'reserve'`,
			allot.Drift{ProjectID: "cust", ResourceID: granted, Field: "held", Stored: units(5), Ledger: units(5) - 1}},
		{"lost hold", `UPDATE reservation_holds SET amount = amount - 1 WHERE project_id = 'cust'`,
			`UPDATE reservation_holds SET amount = amount + 1 WHERE project_id = 'cust'`,
			allot.Drift{ProjectID: "cust", ResourceID: granted, Field: "held_open", Stored: units(5), Ledger: units(5) - 1}},
	} {
		if err := exec(c.corrupt); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d := mustDrift(t, l); len(d) != 1 || d[0] != c.want {
			t.Errorf("%s: drift %+v, want exactly %+v", c.name, d, c.want)
		}
		if err := exec(c.undo); err != nil {
			t.Fatalf("%s: undo: %v", c.name, err)
		}
	}
	if d := mustDrift(t, l); len(d) != 0 {
		t.Fatalf("drift after undoing: %+v", d)
	}
}
