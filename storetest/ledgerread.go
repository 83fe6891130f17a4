package storetest

import (
	"testing"

	"github.com/allot-dev/allot"
)

// testLedgerReadAuthorized: the service decides who reads which ledger. An
// admin reads any project's, an SP its own and its customers', and drift
// is the admin's alone.
func testLedgerReadAuthorized(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("cust-a", "p", "CHANNEL", 3, future))
	e.mustAdd(t, pkg("cust-b", "p", "CHANNEL", 3, future))
	for _, c := range []struct {
		actor   allot.Actor
		project string
		code    allot.ErrorCode
		n       int
	}{
		{admin, "cust-b", "", 1},
		{admin, "ghost", "", 0},
		{spA, "sp-a", "", 0},
		{spA, "cust-a", "", 1},
		{spA, "cust-b", allot.EFORBIDDEN, 0},
		{spA, "sp-b", allot.EFORBIDDEN, 0},
		{spA, "lone", allot.EFORBIDDEN, 0},
		{spA, "ghost", allot.EFORBIDDEN, 0},
	} {
		entries, n, err := e.svc.LedgerEntries(e.ctx, c.actor, allot.LedgerQuery{ProjectID: c.project, Page: allot.Page{Limit: 10}})
		if got := allot.ErrorCodeOf(err); got != c.code || n != c.n || len(entries) != c.n {
			t.Errorf("%s reading %s: %d %d %v, want %d entries and code %q", c.actor.ID, c.project, n, len(entries), err, c.n, c.code)
		}
	}
	if _, err := e.svc.Drift(e.ctx, spA); allot.ErrorCodeOf(err) != allot.EFORBIDDEN {
		t.Errorf("SP drift: %v, want EFORBIDDEN", err)
	}
	if d, err := e.svc.Drift(e.ctx, admin); err != nil || len(d) != 0 {
		t.Errorf("admin drift: %v %v", d, err)
	}
}

// testCreated: an operation says whether it made a new package; a replay
// made nothing.
func testCreated(t *testing.T, e *ledgerEnv) {
	req := pkg("sp-a", "pool", "CHANNEL", 10, future)
	for i, want := range []bool{true, false} {
		out, err := e.svc.AddPackage(e.ctx, admin, req)
		if err != nil || out.Created != want || out.Replayed == want {
			t.Fatalf("purchase %d: created %v replayed %v %v, want created %v", i, out.Created, out.Replayed, err, want)
		}
	}
	alloc := allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CHANNEL", Amount: units(4), IdempotencyKey: "a"}
	var id string
	for i, want := range []bool{true, false} {
		out, err := e.svc.Allocate(e.ctx, spA, alloc)
		if err != nil || out.Created != want || out.Replayed == want {
			t.Fatalf("allocation %d: created %v replayed %v %v, want created %v", i, out.Created, out.Replayed, err, want)
		}
		id = out.Resource.ResourceID
	}
	one := units(1)
	ref := allot.ResourceRef{ProjectID: "cust-a", ResourceID: id}
	if out, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: ref, Amount: &one, IdempotencyKey: "r"}); err != nil || out.Created {
		t.Fatalf("reclaim: created %v %v", out.Created, err)
	}
	if out, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "cust-a", ResourceID: id, Amount: one, IdempotencyKey: "c"}); err != nil || out.Created {
		t.Fatalf("consume: created %v %v", out.Created, err)
	}
	if out, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusFrozen, ""); err != nil || out.Created {
		t.Fatalf("freeze: created %v %v", out.Created, err)
	}
}

// testStoreFailureIsNotForbidden: when the store cannot answer whether an SP
// may read a ledger, the answer is the store's failure (a 5xx), not a
// refusal that blames the credential.
func testStoreFailureIsNotForbidden(t *testing.T, open func(t *testing.T) allot.Store) {
	s := open(t)
	e := newLedgerEnv(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.LedgerEntries(e.ctx, spA, allot.LedgerQuery{ProjectID: "cust-a", Page: allot.Page{Limit: 10}})
	if got := allot.ErrorCodeOf(err); got != allot.EINTERNAL {
		t.Fatalf("ledger read on a closed store: %v (%s), want an internal error", err, got)
	}
}
