package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// RunLedger runs the lifecycle suite: what Ledger.Update and its Tx promise
// themselves, every rule of allot.Service through them, every refusal, the
// idempotency of retries, the ledger query with its paging and time bounds,
// drift detection and concurrent consumption. open returns a new, empty
// store that implements allot.LedgerStore.
func RunLedger(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("Update", func(t *testing.T) { testUpdate(t, open) })
	t.Run("GroupCommit", func(t *testing.T) { testGroupCommit(t, open) })
	t.Run("LedgerEntries", func(t *testing.T) { testLedgerEntries(t, open) })
	t.Run("StoreFailureIsNotForbidden", func(t *testing.T) { testStoreFailureIsNotForbidden(t, open) })
	tests := map[string]func(*testing.T, *ledgerEnv){
		"Packages":             testPackages,
		"Allocate":             testAllocate,
		"AllocateRefused":      testAllocateRefused,
		"Reclaim":              testReclaim,
		"Status":               testStatus,
		"BindAsset":            testBindAsset,
		"Consume":              testConsume,
		"ConsumeBatch":         testConsumeBatch,
		"ConsumeBestMatch":     testConsumeBestMatch,
		"ConsumeReplay":        testConsumeReplay,
		"Refund":               testRefund,
		"RefundSPPool":         testRefundSPPool,
		"LedgerQuery":          testLedgerQuery,
		"ImportIsLedgered":     testImportIsLedgered,
		"ConcurrentConsume":    testConcurrentConsume,
		"ReplayAuthorized":     testReplayAuthorized,
		"IdempotencyScope":     testIdempotencyScope,
		"SPCannotProbe":        testSPCannotProbe,
		"LedgerReadAuthorized": testLedgerReadAuthorized,
		"Created":              testCreated,
		"BadText":              testBadText,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, newLedgerEnv(t, open(t)))
		})
	}
}

var (
	admin  = allot.Actor{ID: "admin-1", Role: allot.RoleAdmin}
	spA    = allot.Actor{ID: "sp-key-a", Role: allot.RoleSP, SPProjectID: "sp-a"}
	spB    = allot.Actor{ID: "sp-key-b", Role: allot.RoleSP, SPProjectID: "sp-b"}
	future = time.Now().UTC().Truncate(time.Second).AddDate(1, 0, 0)
)

type ledgerEnv struct {
	ctx   context.Context
	store allot.Store
	l     allot.LedgerStore
	svc   *allot.Service
}

// newLedgerEnv makes two SPs, each with one customer, and a lone tenant.
func newLedgerEnv(t *testing.T, s allot.Store) *ledgerEnv {
	t.Helper()
	l := mustLedger(t, s)
	e := &ledgerEnv{ctx: context.Background(), store: s, l: l, svc: &allot.Service{Store: l}}
	for _, p := range []allot.Project{NewProject("sp-a", ""), NewProject("sp-b", ""), NewProject("cust-a", "sp-a"), NewProject("cust-b", "sp-b"), NewProject("lone", "")} {
		MustCreateProject(t, s, p)
	}
	return e
}

func pkg(project, id, rtype string, amount int64, expire time.Time) allot.PackageRequest {
	return allot.PackageRequest{ProjectID: project, ResourceID: id, Source: allot.SourcePurchased, OrderID: "order-" + project + "-" + id,
		ResourceType: rtype, BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN",
		Amount: units(amount), ExpireTime: expire}
}

func units(n int64) allot.Quantity { return allot.Quantity(n * allot.QuantityScale) }

func (e *ledgerEnv) mustAdd(t *testing.T, req allot.PackageRequest) allot.Resource {
	t.Helper()
	out, err := e.svc.AddPackage(e.ctx, admin, req)
	if err != nil {
		t.Fatalf("AddPackage %s: %v", req.ResourceID, err)
	}
	return out.Resource
}

// resource reads a resource the way the read path does.
func (e *ledgerEnv) resource(t *testing.T, project, id string) (allot.Resource, bool) {
	t.Helper()
	d, err := e.store.TenantChanges(e.ctx, project, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Resources {
		if r.ResourceID == id {
			return r, true
		}
	}
	return allot.Resource{}, false
}

func (e *ledgerEnv) assignment(t *testing.T, customer, id string) allot.Assignment {
	t.Helper()
	d, err := e.store.TenantChanges(e.ctx, customer, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range d.Assignments {
		if a.RecordID == id {
			return a
		}
	}
	t.Fatalf("assignment %s not found for %s", id, customer)
	return allot.Assignment{}
}

func (e *ledgerEnv) expect(t *testing.T, project, id string, amount, usage allot.Quantity) allot.Resource {
	t.Helper()
	r, ok := e.resource(t, project, id)
	if !ok {
		t.Fatalf("%s/%s not found", project, id)
	}
	if r.Amount != amount || r.Usage != usage {
		t.Fatalf("%s/%s: amount %s usage %s, want %s %s", project, id, r.Amount, r.Usage, amount, usage)
	}
	return r
}

func (e *ledgerEnv) noDrift(t *testing.T) {
	t.Helper()
	if d := mustDrift(t, e.l); len(d) != 0 {
		t.Fatalf("drift: %+v", d)
	}
}

func testPackages(t *testing.T, e *ledgerEnv) {
	req := pkg("lone", "p1", "VIDEO_2D_MIN", 100, future)
	v0, _ := e.store.TenantVersion(e.ctx, "lone")
	out, err := e.svc.AddPackage(e.ctx, admin, req)
	if err != nil || out.Replayed || len(out.Entries) != 1 || out.Entries[0].Op != allot.OpPurchase || out.Entries[0].AmountDelta != units(100) {
		t.Fatalf("purchase: %+v %v", out, err)
	}
	if v1, _ := e.store.TenantVersion(e.ctx, "lone"); v1 <= v0 {
		t.Fatalf("version %d after purchase, was %d", v1, v0)
	}
	again, err := e.svc.AddPackage(e.ctx, admin, req)
	if err != nil || !again.Replayed || again.Resource.ResourceID != "p1" {
		t.Fatalf("re-sent order: %+v %v", again, err)
	}
	other := req
	other.Amount = units(5)
	_, err = e.svc.AddPackage(e.ctx, admin, other)
	wantCode(t, err, allot.ECONFLICT)
	e.expect(t, "lone", "p1", units(100), 0)

	// A generated id, and the administrator's allocation keyed by its idempotency key.
	grant := pkg("lone", "", "TTS", 7, time.Time{})
	grant.Source, grant.OrderID, grant.IdempotencyKey = allot.SourceAdminAllocated, "", "grant-1"
	g1, err := e.svc.AddPackage(e.ctx, admin, grant)
	if err != nil || g1.Resource.ResourceID == "" || g1.Resource.Source != allot.SourceAdminAllocated {
		t.Fatalf("admin grant: %+v %v", g1, err)
	}
	g2, err := e.svc.AddPackage(e.ctx, admin, grant)
	if err != nil || !g2.Replayed || g2.Resource.ResourceID != g1.Resource.ResourceID {
		t.Fatalf("admin grant retry made another package: %+v %v", g2, err)
	}

	for name, c := range map[string]struct {
		actor allot.Actor
		req   allot.PackageRequest
		code  allot.ErrorCode
	}{
		"sp credential": {spA, pkg("lone", "x", "T", 1, future), allot.EFORBIDDEN},
		"sp source": {admin, func() allot.PackageRequest {
			r := pkg("lone", "x", "T", 1, future)
			r.Source = allot.SourceSPAllocated
			return r
		}(), allot.EINVALID},
		"no order id":       {admin, func() allot.PackageRequest { r := pkg("lone", "x", "T", 1, future); r.OrderID = ""; return r }(), allot.EINVALID},
		"grant without key": {admin, func() allot.PackageRequest { r := grant; r.IdempotencyKey = ""; return r }(), allot.EINVALID},
		"zero amount":       {admin, pkg("lone", "x", "T", 0, future), allot.EINVALID},
		"bad unit":          {admin, func() allot.PackageRequest { r := pkg("lone", "x", "T", 1, future); r.Unit = "KG"; return r }(), allot.EINVALID},
		"missing project":   {admin, pkg("ghost", "x", "T", 1, future), allot.ENOTFOUND},
		"existing id":       {admin, func() allot.PackageRequest { r := pkg("lone", "p1", "T", 1, future); r.OrderID = "order-new"; return r }(), allot.ECONFLICT},
	} {
		_, err := e.svc.AddPackage(e.ctx, c.actor, c.req)
		if allot.ErrorCodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", name, err, c.code)
		}
	}
	if _, ok := e.resource(t, "lone", "x"); ok {
		t.Fatal("a refused package was written")
	}
	e.noDrift(t)
}

func testAllocate(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("sp-a", "pool-late", "CHANNEL", 50, future.AddDate(1, 0, 0)))
	e.mustAdd(t, pkg("sp-a", "pool-early", "CHANNEL", 30, future))
	vSP, _ := e.store.TenantVersion(e.ctx, "sp-a")
	vCust, _ := e.store.TenantVersion(e.ctx, "cust-a")
	req := allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CHANNEL", Amount: units(12), IdempotencyKey: "alloc-1"}
	out, err := e.svc.Allocate(e.ctx, spA, req)
	if err != nil {
		t.Fatal(err)
	}
	a := out.Assignment
	if a == nil || a.ResourceNum != units(12) || a.SPResourceID != "pool-early" || out.Resource.Source != allot.SourceSPAllocated ||
		out.Resource.ResourceID != a.RecordID || !out.Resource.ExpireTime.Equal(future) {
		t.Fatalf("allocation: %+v", out)
	}
	e.expect(t, "sp-a", "pool-early", units(30), units(12)) // the earliest-expiring package gave
	e.expect(t, "cust-a", a.RecordID, units(12), 0)
	if got := e.assignment(t, "cust-a", a.RecordID); got.ResourceNum != units(12) || got.SPProjectID != "sp-a" || got.SPResourceID != "pool-early" {
		t.Fatalf("assignment %+v", got)
	}
	for p, v := range map[string]int64{"sp-a": vSP, "cust-a": vCust} {
		if now, _ := e.store.TenantVersion(e.ctx, p); now <= v {
			t.Fatalf("%s version did not move", p)
		}
	}
	// A retry is counted once.
	again, err := e.svc.Allocate(e.ctx, spA, req)
	if err != nil || !again.Replayed || again.Assignment.RecordID != a.RecordID {
		t.Fatalf("retry: %+v %v", again, err)
	}
	e.expect(t, "sp-a", "pool-early", units(30), units(12))
	// Naming the package to draw from.
	req2 := req
	req2.IdempotencyKey, req2.SPResourceID, req2.Amount = "alloc-2", "pool-late", units(50)
	req2.ExpireTime = future
	out2, err := e.svc.Allocate(e.ctx, admin, req2)
	if err != nil || out2.Assignment.SPResourceID != "pool-late" || !out2.Resource.ExpireTime.Equal(future) {
		t.Fatalf("named package: %+v %v", out2, err)
	}
	e.expect(t, "sp-a", "pool-late", units(50), units(50))
	e.noDrift(t)
}

func testAllocateRefused(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("sp-a", "pool", "CHANNEL", 10, future))
	e.mustAdd(t, pkg("sp-a", "frozen", "VOICE", 10, future))
	if _, err := e.svc.SetStatus(e.ctx, admin, allot.ResourceRef{ProjectID: "sp-a", ResourceID: "frozen"}, allot.StatusFrozen, ""); err != nil {
		t.Fatal(err)
	}
	base := allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CHANNEL", Amount: units(4), IdempotencyKey: "k"}
	cases := map[string]struct {
		actor  allot.Actor
		mutate func(*allot.AllocateRequest)
		code   allot.ErrorCode
	}{
		"more than it has":        {spA, func(r *allot.AllocateRequest) { r.Amount = units(11) }, allot.ECONFLICT},
		"not its customer":        {spA, func(r *allot.AllocateRequest) { r.CustomerProjectID = "cust-b" }, allot.EINVALID},
		"lone tenant":             {spA, func(r *allot.AllocateRequest) { r.CustomerProjectID = "lone" }, allot.EINVALID},
		"another sp's credential": {spB, func(r *allot.AllocateRequest) {}, allot.EFORBIDDEN},
		"no package of the spec":  {spA, func(r *allot.AllocateRequest) { r.ResourceSpecCode = "GB" }, allot.ECONFLICT},
		"frozen package":          {spA, func(r *allot.AllocateRequest) { r.ResourceSpecCode, r.SPResourceID = "VOICE", "frozen" }, allot.ECONFLICT},
		"package of another type": {spA, func(r *allot.AllocateRequest) { r.SPResourceID = "frozen" }, allot.EINVALID},
		"expiry after the pool's": {spA, func(r *allot.AllocateRequest) { r.ExpireTime = future.Add(time.Hour) }, allot.EINVALID},
		"zero amount":             {spA, func(r *allot.AllocateRequest) { r.Amount = 0 }, allot.EINVALID},
		"no idempotency key":      {spA, func(r *allot.AllocateRequest) { r.IdempotencyKey = "" }, allot.EINVALID},
		"missing customer":        {admin, func(r *allot.AllocateRequest) { r.CustomerProjectID = "ghost" }, allot.ENOTFOUND},
	}
	for name, c := range cases {
		req := base
		req.IdempotencyKey = "k-" + name
		c.mutate(&req)
		_, err := e.svc.Allocate(e.ctx, c.actor, req)
		if allot.ErrorCodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", name, err, c.code)
		}
	}
	e.expect(t, "sp-a", "pool", units(10), 0)
	if d, _ := e.store.TenantChanges(e.ctx, "cust-a", 0); len(d.Resources) != 0 || len(d.Assignments) != 0 {
		t.Fatalf("refused allocations wrote: %+v", d)
	}
	// The same key with another request is refused.
	if _, err := e.svc.Allocate(e.ctx, spA, base); err != nil {
		t.Fatal(err)
	}
	other := base
	other.Amount = units(1)
	_, err := e.svc.Allocate(e.ctx, spA, other)
	wantCode(t, err, allot.ECONFLICT)
	e.noDrift(t)
}

func testReclaim(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("sp-a", "pool", "CHANNEL", 100, future))
	out, err := e.svc.Allocate(e.ctx, spA, allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CHANNEL", Amount: units(40), IdempotencyKey: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	id := out.Resource.ResourceID
	ref := allot.ResourceRef{ProjectID: "cust-a", ResourceID: id}
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "cust-a", ResourceID: id, Amount: units(15), IdempotencyKey: "c1"}); err != nil {
		t.Fatal(err)
	}
	if a := e.assignment(t, "cust-a", id); a.ResourceUsedNum != units(15) {
		t.Fatalf("assignment used %s after consume", a.ResourceUsedNum)
	}
	// Partial reclaim by the SP that allocated.
	ten := units(10)
	if _, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: ref, Amount: &ten, Reason: "downsize", IdempotencyKey: "r1"}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "cust-a", id, units(30), units(15))
	e.expect(t, "sp-a", "pool", units(100), units(30))
	replay, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: ref, Amount: &ten, Reason: "downsize", IdempotencyKey: "r1"})
	if err != nil || !replay.Replayed || replay.Entries[0].AmountDelta != -units(10) {
		t.Fatalf("reclaim retry: %+v %v", replay, err)
	}
	e.expect(t, "cust-a", id, units(30), units(15))
	if a := e.assignment(t, "cust-a", id); a.ResourceNum != units(30) {
		t.Fatalf("assignment num %s", a.ResourceNum)
	}
	// Refusals change nothing.
	twenty := units(20)
	_, err = e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: ref, Amount: &twenty, IdempotencyKey: "r2"})
	wantCode(t, err, allot.ECONFLICT) // only 15 unused
	_, err = e.svc.Reclaim(e.ctx, spB, allot.ReclaimRequest{ResourceRef: ref, IdempotencyKey: "r3"})
	wantCode(t, err, allot.EFORBIDDEN)
	e.mustAdd(t, pkg("lone", "own", "CHANNEL", 5, future))
	_, err = e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "own"}, IdempotencyKey: "r4"})
	wantCode(t, err, allot.EFORBIDDEN)
	e.expect(t, "cust-a", id, units(30), units(15))

	// Cancel: the unused rest goes back to the pool and the package leaves the list.
	if _, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: ref, Cancel: true, Reason: "contract ended", IdempotencyKey: "r5"}); err != nil {
		t.Fatal(err)
	}
	r, _ := e.resource(t, "cust-a", id)
	if !r.Removed || r.Amount != units(15) || r.Usage != units(15) {
		t.Fatalf("cancelled: %+v", r)
	}
	e.expect(t, "sp-a", "pool", units(100), units(15))
	_, err = e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "cust-a", ResourceID: id, Amount: 1, IdempotencyKey: "c2"})
	wantCode(t, err, allot.ENOTFOUND)

	// Fully reclaiming an unused purchase removes it too.
	if _, err := e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "own"}, IdempotencyKey: "r6"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.resource(t, "lone", "own"); !r.Removed || r.Amount != 0 {
		t.Fatalf("fully reclaimed: %+v", r)
	}
	e.noDrift(t)
}

func testStatus(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	ref := allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}
	if _, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusFrozen, "unpaid"); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.resource(t, "lone", "p"); r.Status != allot.StatusFrozen {
		t.Fatalf("status %d", r.Status)
	}
	_, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(1), IdempotencyKey: "k1"})
	wantCode(t, err, allot.ECONFLICT)
	if out, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusFrozen, ""); err != nil || len(out.Entries) != 0 {
		t.Fatalf("freezing a frozen package: %+v %v", out, err)
	}
	_, err = e.svc.SetStatus(e.ctx, spA, ref, allot.StatusNormal, "")
	wantCode(t, err, allot.EFORBIDDEN)
	_, err = e.svc.SetStatus(e.ctx, admin, ref, 2, "")
	wantCode(t, err, allot.EINVALID)
	if _, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusNormal, "paid"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(1), IdempotencyKey: "k1"}); err != nil {
		t.Fatalf("consume after unfreeze (same key as the refused one): %v", err)
	}
	e.expect(t, "lone", "p", units(10), units(1))
	e.noDrift(t)
}

func testBindAsset(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	ref := allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}
	if _, err := e.svc.BindAsset(e.ctx, admin, ref, &allot.BoundAsset{AssetID: "asset-1", AssetName: "Anchor"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.resource(t, "lone", "p"); r.BoundAsset == nil || *r.BoundAsset != (allot.BoundAsset{AssetID: "asset-1", AssetName: "Anchor"}) {
		t.Fatalf("bound: %+v", r.BoundAsset)
	}
	_, err := e.svc.BindAsset(e.ctx, admin, ref, &allot.BoundAsset{AssetID: "bad id"})
	wantCode(t, err, allot.EINVALID)
	if _, err := e.svc.BindAsset(e.ctx, admin, ref, nil); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.resource(t, "lone", "p"); r.BoundAsset != nil {
		t.Fatalf("still bound: %+v", r.BoundAsset)
	}
	_, err = e.svc.BindAsset(e.ctx, admin, allot.ResourceRef{ProjectID: "lone", ResourceID: "nope"}, nil)
	wantCode(t, err, allot.ENOTFOUND)
}

func testConsume(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	e.mustAdd(t, pkg("cust-a", "p", "MIN", 10, future)) // same id, another project
	e.mustAdd(t, pkg("lone", "old", "MIN", 10, time.Now().Add(-time.Hour).UTC().Truncate(time.Second)))
	req := allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(4), IdempotencyKey: "c1"}
	out, err := e.svc.Consume(e.ctx, admin, req)
	if err != nil || out.Resource.Usage != units(4) || out.Entries[0].UsageDelta != units(4) || out.Entries[0].Actor != admin.ID {
		t.Fatalf("consume: %+v %v", out, err)
	}
	again, err := e.svc.Consume(e.ctx, admin, req)
	if err != nil || !again.Replayed || again.Resource.Usage != units(4) {
		t.Fatalf("retry: %+v %v", again, err)
	}
	e.expect(t, "lone", "p", units(10), units(4))
	changed := req
	changed.Amount = units(1)
	_, err = e.svc.Consume(e.ctx, admin, changed)
	wantCode(t, err, allot.ECONFLICT)

	for name, c := range map[string]struct {
		req  allot.ConsumeRequest
		code allot.ErrorCode
	}{
		"over the amount":     {allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(7), IdempotencyKey: "x1"}, allot.ECONFLICT},
		"expired":             {allot.ConsumeRequest{ProjectID: "lone", ResourceID: "old", Amount: 1, IdempotencyKey: "x2"}, allot.ECONFLICT},
		"unknown resource":    {allot.ConsumeRequest{ProjectID: "lone", ResourceID: "nope", Amount: 1, IdempotencyKey: "x3"}, allot.ENOTFOUND},
		"other project's id":  {allot.ConsumeRequest{ProjectID: "cust-b", ResourceID: "p", Amount: 1, IdempotencyKey: "x4"}, allot.ENOTFOUND},
		"zero":                {allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: 0, IdempotencyKey: "x5"}, allot.EINVALID},
		"no key":              {allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: 1}, allot.EINVALID},
		"neither id nor type": {allot.ConsumeRequest{ProjectID: "lone", Amount: 1, IdempotencyKey: "x6"}, allot.EINVALID},
		"no usable of type":   {allot.ConsumeRequest{ProjectID: "lone", ResourceType: "GB", Amount: 1, IdempotencyKey: "x7"}, allot.ECONFLICT},
	} {
		_, err := e.svc.Consume(e.ctx, admin, c.req)
		if allot.ErrorCodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", name, err, c.code)
		}
	}
	_, err = e.svc.Consume(e.ctx, spA, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: 1, IdempotencyKey: "x8"})
	wantCode(t, err, allot.EFORBIDDEN)
	e.expect(t, "lone", "p", units(10), units(4))
	e.expect(t, "cust-a", "p", units(10), 0)
	// Exactly to the amount is allowed.
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(6), IdempotencyKey: "c2"}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "lone", "p", units(10), units(10))
	e.noDrift(t)
}

// testConsumeReplay: a retried consume gets its first answer even when the
// consume could no longer be applied (its package frozen, then used up),
// the key reused for another request is refused naming the key, and a
// refused consume leaves its key free for a later request.
func testConsumeReplay(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	ref := allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}
	req := allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(3), IdempotencyKey: "r1"}
	first, err := e.svc.Consume(e.ctx, admin, req)
	if err != nil || first.Replayed {
		t.Fatalf("first: %+v %v", first, err)
	}
	if _, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusFrozen, "unpaid"); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Consume(e.ctx, admin, req)
	if err != nil || !again.Replayed || again.Resource.Usage != units(3) || len(again.Entries) != 1 || again.Entries[0].Seq != first.Entries[0].Seq {
		t.Fatalf("retry of a frozen package's consume: %+v %v, want the first answer %+v", again, err, first)
	}
	if _, err := e.svc.SetStatus(e.ctx, admin, ref, allot.StatusNormal, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(7), IdempotencyKey: "r2"}); err != nil {
		t.Fatal(err)
	}
	if again, err := e.svc.Consume(e.ctx, admin, req); err != nil || !again.Replayed || again.Resource.Usage != units(3) {
		t.Fatalf("retry once the package is used up: %+v %v", again, err)
	}
	changed := req
	changed.Amount = units(1)
	_, err = e.svc.Consume(e.ctx, admin, changed)
	wantCode(t, err, allot.ECONFLICT)
	if err == nil || !strings.Contains(err.Error(), `idempotency_key "r1" was used for a different request`) {
		t.Fatalf("reused key: %v", err)
	}
	// Refused (nothing left), then accepted with the same key once there is.
	over := allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(1), IdempotencyKey: "r3"}
	_, err = e.svc.Consume(e.ctx, admin, over)
	wantCode(t, err, allot.ECONFLICT)
	if _, err := e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(1), Reason: "refund", IdempotencyKey: "f1"}); err != nil {
		t.Fatal(err)
	}
	if out, err := e.svc.Consume(e.ctx, admin, over); err != nil || out.Replayed {
		t.Fatalf("a refused key used again: %+v %v", out, err)
	}
	e.expect(t, "lone", "p", units(10), units(10))
	all, _, err := e.svc.LedgerEntries(e.ctx, admin, allot.LedgerQuery{ProjectID: "lone", Page: allot.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	for _, en := range all {
		if en.Op == allot.OpConsume {
			entries++
		}
	}
	if entries != 3 {
		t.Fatalf("%d consume entries, want 3 (r1, r2, r3)", entries)
	}
	e.noDrift(t)
}

func testConsumeBestMatch(t *testing.T, e *ledgerEnv) {
	now := time.Now().UTC().Truncate(time.Second)
	e.mustAdd(t, pkg("lone", "never", "MIN", 100, time.Time{}))
	e.mustAdd(t, pkg("lone", "late", "MIN", 100, now.AddDate(0, 2, 0)))
	e.mustAdd(t, pkg("lone", "soon", "MIN", 3, now.AddDate(0, 1, 0)))
	e.mustAdd(t, pkg("lone", "expired", "MIN", 100, now.Add(-time.Minute)))
	e.mustAdd(t, pkg("lone", "other-type", "GB", 100, now.Add(time.Minute)))
	e.mustAdd(t, pkg("lone", "frozen-soonest", "MIN", 100, now.Add(time.Hour)))
	e.svc.SetStatus(e.ctx, admin, allot.ResourceRef{ProjectID: "lone", ResourceID: "frozen-soonest"}, allot.StatusFrozen, "")
	steps := []struct {
		amount int64
		want   string
	}{{2, "soon"}, {2, "late"}, {1, "soon"}, {100, "never"}, {98, "late"}}
	for i, s := range steps {
		out, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceType: "MIN", Amount: units(s.amount), IdempotencyKey: fmt.Sprint("k", i)})
		if err != nil || out.Resource.ResourceID != s.want {
			t.Fatalf("step %d (%d units): got %s %v, want %s", i, s.amount, out.Resource.ResourceID, err, s.want)
		}
	}
	_, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceType: "MIN", Amount: 1, IdempotencyKey: "k-last"})
	wantCode(t, err, allot.ECONFLICT)
	e.noDrift(t)
}

func testRefund(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	ref := allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}
	e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(5), IdempotencyKey: "c"})
	_, err := e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(2), IdempotencyKey: "r0"})
	wantCode(t, err, allot.EINVALID) // reason required
	_, err = e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(6), Reason: "x", IdempotencyKey: "r1"})
	wantCode(t, err, allot.ECONFLICT)
	out, err := e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(2), Reason: "failed render", IdempotencyKey: "r2"})
	if err != nil || out.Entries[0].Op != allot.OpRefund || out.Entries[0].UsageDelta != -units(2) || out.Entries[0].Reason != "failed render" {
		t.Fatalf("refund: %+v %v", out, err)
	}
	replay, err := e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(2), Reason: "failed render", IdempotencyKey: "r2"})
	if err != nil || !replay.Replayed || replay.Entries[0].UsageDelta != -units(2) || replay.Resource.Usage != units(3) {
		t.Fatalf("refund retry: %+v %v", replay, err)
	}
	e.expect(t, "lone", "p", units(10), units(3))
	e.noDrift(t)
}

// testRefundSPPool: an SP package's usage counts the units its customers
// hold; a refund may take off only what the package metered itself, so the
// reclaim that later brings the units back cannot drive its usage below 0.
func testRefundSPPool(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("sp-a", "pool", "MIN", 10, future))
	alloc, err := e.svc.Allocate(e.ctx, spA, allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "MIN", Amount: units(6), IdempotencyKey: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "sp-a", ResourceID: "pool", Amount: units(2), IdempotencyKey: "c"}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "sp-a", "pool", units(10), units(8)) // 6 allocated + 2 metered
	ref := allot.ResourceRef{ProjectID: "sp-a", ResourceID: "pool"}
	_, err = e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(3), Reason: "x", IdempotencyKey: "r1"})
	wantCode(t, err, allot.ECONFLICT)
	e.expect(t, "sp-a", "pool", units(10), units(8))
	if _, err := e.svc.Refund(e.ctx, admin, allot.RefundRequest{ResourceRef: ref, Amount: units(2), Reason: "x", IdempotencyKey: "r2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reclaim(e.ctx, spA, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "cust-a", ResourceID: alloc.Resource.ResourceID}, IdempotencyKey: "rc"}); err != nil {
		t.Fatalf("reclaim after the refund: %v", err)
	}
	e.expect(t, "sp-a", "pool", units(10), 0)
	e.noDrift(t)
}

func testLedgerQuery(t *testing.T, e *ledgerEnv) {
	e.mustAdd(t, pkg("lone", "a", "MIN", 100, future))
	e.mustAdd(t, pkg("lone", "b", "MIN", 100, future))
	e.mustAdd(t, pkg("cust-a", "a", "MIN", 100, future))
	for i := range 7 {
		id := []string{"a", "b"}[i%2]
		if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: id, Amount: units(1), IdempotencyKey: fmt.Sprint("k", i)}); err != nil {
			t.Fatal(err)
		}
	}
	all, n, err := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", Page: allot.Page{Limit: 100}})
	if err != nil || n != 9 || len(all) != 9 {
		t.Fatalf("all: %d entries, count %d, %v", len(all), n, err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq || all[i].ProjectID != "lone" {
			t.Fatalf("entries out of order or of another project: %+v", all)
		}
	}
	onlyA, n, _ := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", ResourceID: "a", Page: allot.Page{Limit: 2, Offset: 1}})
	if n != 5 || len(onlyA) != 2 || onlyA[0].ResourceID != "a" || onlyA[0].Op != allot.OpConsume {
		t.Fatalf("resource a page: count %d, %+v", n, onlyA)
	}
	past := time.Now().Add(-time.Hour)
	if _, n, _ := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", To: &past, Page: allot.Page{Limit: 10}}); n != 0 {
		t.Fatalf("window before everything: %d", n)
	}
	from := all[0].At
	if _, n, _ := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", From: &from, To: &from, Page: allot.Page{Limit: 10}}); n < 1 {
		t.Fatal("inclusive window on the first entry found nothing")
	}
}

func testImportIsLedgered(t *testing.T, e *ledgerEnv) {
	r := NewResource("lone", "imported")
	if err := e.store.Import(e.ctx, allot.ImportBatch{Resources: []allot.Resource{r}}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", ResourceID: "imported", Page: allot.Page{Limit: 10}})
	if err != nil || len(entries) != 1 || entries[0].Op != allot.OpImport || entries[0].AmountDelta != r.Amount || entries[0].UsageDelta != r.Usage {
		t.Fatalf("import entries: %+v %v", entries, err)
	}
	e.noDrift(t)
}

// testConcurrentConsume: many goroutines consume from one package at once,
// with retried keys mixed in. Usage ends as the sum of the distinct accepted
// consumes and never passes the amount.
func testConcurrentConsume(t *testing.T, e *ledgerEnv) {
	const amount, workers, perWorker = 60, 8, 12 // 96 distinct attempts at 1 unit for 60 units
	e.mustAdd(t, pkg("lone", "hot", "MIN", amount, future))
	var mu sync.Mutex
	accepted := map[string]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				key := fmt.Sprintf("w%d-%d", w, i)
				for try := range 2 { // every key is sent twice
					out, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "hot", Amount: units(1), IdempotencyKey: key})
					switch allot.ErrorCodeOf(err) {
					case "":
						mu.Lock()
						if accepted[key] && !out.Replayed {
							t.Errorf("key %s counted twice", key)
						}
						accepted[key] = true
						mu.Unlock()
					case allot.ECONFLICT:
						if try == 1 {
							mu.Lock()
							if accepted[key] {
								t.Errorf("key %s accepted then refused", key)
							}
							mu.Unlock()
						}
					default:
						t.Errorf("consume %s: %v", key, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(accepted) != amount {
		t.Fatalf("%d consumes accepted, want exactly %d", len(accepted), amount)
	}
	e.expect(t, "lone", "hot", units(amount), units(int64(len(accepted))))
	e.noDrift(t)
}
