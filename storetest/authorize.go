package storetest

import (
	"testing"

	"github.com/allot-dev/allot"
)

// testReplayAuthorized: a retry is answered only to someone who may make
// the request. A known key posted by an actor without the right gets the
// same refusal as a new key, never the stored answer nor a conflict that
// tells the key exists.
func testReplayAuthorized(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("sp-a", "pool", "CHANNEL", 100, future))
	alloc, err := e.svc.Allocate(e.ctx, spA, allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CHANNEL", Amount: units(40), IdempotencyKey: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	allocated := allot.ResourceRef{ProjectID: "cust-a", ResourceID: alloc.Resource.ResourceID}
	e.mustAdd(t, pkg("cust-a", "bought", "CHANNEL", 10, future))
	bought := allot.ResourceRef{ProjectID: "cust-a", ResourceID: "bought"}
	five := units(5)

	// The admin reclaims from both packages of sp-a's customer.
	for _, ref := range []allot.ResourceRef{allocated, bought} {
		if _, err := e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: ref, Amount: &five, IdempotencyKey: "admin-r"}); err != nil {
			t.Fatalf("admin reclaim %s: %v", ref.ResourceID, err)
		}
	}
	for name, c := range map[string]struct {
		actor allot.Actor
		req   allot.ReclaimRequest
	}{
		"another sp, same body":      {spB, allot.ReclaimRequest{ResourceRef: allocated, Amount: &five, IdempotencyKey: "admin-r"}},
		"another sp, other body":     {spB, allot.ReclaimRequest{ResourceRef: allocated, IdempotencyKey: "admin-r"}},
		"another sp, cancel":         {spB, allot.ReclaimRequest{ResourceRef: allocated, Cancel: true, IdempotencyKey: "admin-r"}},
		"its sp, not its allocation": {spA, allot.ReclaimRequest{ResourceRef: bought, Amount: &five, IdempotencyKey: "admin-r"}},
		"its sp, other body":         {spA, allot.ReclaimRequest{ResourceRef: bought, IdempotencyKey: "admin-r"}},
	} {
		out, err := e.svc.Reclaim(e.ctx, c.actor, c.req)
		if got := allot.ErrorCodeOf(err); got != allot.EFORBIDDEN {
			t.Errorf("%s: got %+v %v, want %s", name, out, err, allot.EFORBIDDEN)
		}
	}
	// The SP that allocated may retry the admin's request on its allocation.
	replay, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: allocated, Amount: &five, IdempotencyKey: "admin-r"})
	if err != nil || !replay.Replayed {
		t.Fatalf("allocating SP's retry: %+v %v", replay, err)
	}

	// Refunds and consumption are the admin's: an SP's retry of a known
	// key is refused like any request of it.
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "cust-a", ResourceID: "bought", Amount: units(2), IdempotencyKey: "use-1"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Consume(e.ctx, spA, allot.ConsumeRequest{ProjectID: "cust-a", ResourceID: "bought", Amount: units(2), IdempotencyKey: "use-1"})
	wantCode(t, err, allot.EFORBIDDEN)
	refund := allot.RefundRequest{ResourceRef: bought, Amount: units(1), Reason: "meter error", IdempotencyKey: "refund-1"}
	if _, err := e.svc.Refund(e.ctx, admin, refund); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Refund(e.ctx, spA, refund)
	wantCode(t, err, allot.EFORBIDDEN)
	e.expect(t, "cust-a", "bought", units(5), units(1))
	e.noDrift(t)
}

// testIdempotencyScope: a key identifies an operation together with its
// project, its kind and the resource it acts on; the same key in another
// scope is another operation.
func testIdempotencyScope(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "p1", "CHANNEL", 10, future))
	e.mustAdd(t, pkg("lone", "p2", "CHANNEL", 10, future))
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p1", Amount: units(3), IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	// A grant's key that spells another operation's scoped key.
	for _, key := range []string{"consume:k1", "k1", "reclaim:p1:k1"} {
		grant := pkg("lone", "", "TTS", 1, future)
		grant.Source, grant.OrderID, grant.IdempotencyKey = allot.SourceAdminAllocated, "", key
		out, err := e.svc.AddPackage(e.ctx, admin, grant)
		if err != nil || out.Replayed || !out.Created || out.Resource.Source != allot.SourceAdminAllocated {
			t.Fatalf("grant with key %q: %+v %v", key, out, err)
		}
	}
	one := units(1)
	// The same key on two resources, and for a reclaim and a cancel, names
	// different operations.
	for _, req := range []allot.ReclaimRequest{
		{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p1"}, Amount: &one, IdempotencyKey: "k1"},
		{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p2"}, Amount: &one, IdempotencyKey: "k1"},
		{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p2"}, Cancel: true, IdempotencyKey: "k1"},
	} {
		out, err := e.svc.Reclaim(e.ctx, admin, req)
		if err != nil || out.Replayed {
			t.Fatalf("reclaim %+v: %+v %v", req, out, err)
		}
	}
	for _, id := range []string{"p1", "p2"} {
		refund := allot.RefundRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: id}, Amount: units(1), Reason: "r", IdempotencyKey: "k1"}
		if id == "p2" {
			refund.ResourceID = "p1" // p2 is cancelled; refund p1 once more under another key below
			refund.IdempotencyKey = "k2"
		}
		if out, err := e.svc.Refund(e.ctx, admin, refund); err != nil || out.Replayed {
			t.Fatalf("refund %+v: %+v %v", refund, out, err)
		}
	}
	e.expect(t, "lone", "p1", units(9), units(1))
	// A conflict names the key the client sent, not its scoped form.
	other := pkg("lone", "p1", "CHANNEL", 11, future)
	_, err := e.svc.AddPackage(e.ctx, admin, other)
	if want := `order_id "order-lone-p1" was used for a different request`; allot.ErrorCodeOf(err) != allot.ECONFLICT || allot.ErrorMessageOf(err) != want {
		t.Errorf("re-sent order with another amount: %v, want ECONFLICT %q", err, want)
	}
	_, err = e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p1", Amount: units(4), IdempotencyKey: "k1"})
	if want := `idempotency_key "k1" was used for a different request`; allot.ErrorCodeOf(err) != allot.ECONFLICT || allot.ErrorMessageOf(err) != want {
		t.Errorf("consume key with another amount: %v, want ECONFLICT %q", err, want)
	}
	e.noDrift(t)
}

// testSPCannotProbe: an SP asking about a project it may not manage gets
// EFORBIDDEN whether or not the project or the resource exists, so the
// answer tells it nothing.
func testSPCannotProbe(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("cust-b", "real", "CHANNEL", 10, future))
	for _, ref := range []allot.ResourceRef{
		{ProjectID: "cust-b", ResourceID: "real"},
		{ProjectID: "cust-b", ResourceID: "missing"},
		{ProjectID: "ghost", ResourceID: "missing"},
		{ProjectID: "lone", ResourceID: "missing"},
	} {
		_, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: ref, IdempotencyKey: "probe"})
		if got := allot.ErrorCodeOf(err); got != allot.EFORBIDDEN {
			t.Errorf("reclaim %+v: got %v, want %s", ref, err, allot.EFORBIDDEN)
		}
		_, err = e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: ref, Cancel: true, IdempotencyKey: "probe"})
		if got := allot.ErrorCodeOf(err); got != allot.EFORBIDDEN {
			t.Errorf("cancel %+v: got %v, want %s", ref, err, allot.EFORBIDDEN)
		}
	}
	// An allocation to a project that is not its customer is refused the
	// same way whether the project exists or not.
	e.mustAdd(t, pkg("sp-a", "pool", "CHANNEL", 10, future))
	var msgs []string
	for _, customer := range []string{"cust-b", "ghost"} {
		_, err := e.svc.Allocate(e.ctx, spA, allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: customer, ResourceSpecCode: "CHANNEL", Amount: units(1), IdempotencyKey: "probe"})
		wantCode(t, err, allot.EINVALID)
		msgs = append(msgs, allot.ErrorMessageOf(err))
	}
	if want := "customer_project_id: ghost is not a customer of service provider sp-a"; msgs[1] != want {
		t.Errorf("missing customer: got %q, want %q", msgs[1], want)
	}
}
