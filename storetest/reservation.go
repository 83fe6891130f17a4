package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// RunReservations runs the suite of reservations, burn-down order and split
// consumption. open returns a new, empty store whose clock (the time its
// transactions stamp and check) is clock: the suite moves a ManualClock to
// expire holds and packages without waiting.
func RunReservations(t *testing.T, open func(t *testing.T, clock allot.Clock) allot.Store) {
	tests := map[string]func(*testing.T, *ledgerEnv, *allot.ManualClock){
		"ReserveCommit":     testReserveCommit,
		"Release":           testRelease,
		"HoldsRespected":    testHoldsRespected,
		"ReserveRefused":    testReserveRefused,
		"HoldExpiry":        testHoldExpiry,
		"CommitGrace":       testCommitGrace,
		"BurnOrder":         testBurnOrder,
		"SplitConsume":      testSplitConsume,
		"SplitReservation":  testSplitReservation,
		"ConcurrentReserve": testConcurrentReserve,
		"ListReservations":  testListReservations,
		"HeldModel":         testHeldModel,
		"StoredReservation": testStoredReservation,
		"ReservationReplay": testReservationReplay,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now().UTC().Truncate(time.Second)
			clock := allot.NewManualClock(start)
			clock.Freeze(true)
			clock.Set(start) // whole seconds, as stores keep them
			fn(t, newLedgerEnv(t, open(t, clock)), clock)
		})
	}
}

func (e *ledgerEnv) mustReserve(t *testing.T, req allot.ReserveRequest) allot.ReservationResult {
	t.Helper()
	out, err := e.svc.Reserve(e.ctx, admin, req)
	if err != nil {
		t.Fatalf("Reserve %s: %v", req.IdempotencyKey, err)
	}
	return out
}

// held reads a package's held units and checks them against the open
// reservations, the independent count.
func (e *ledgerEnv) held(t *testing.T, project, id string) allot.Quantity {
	t.Helper()
	r, ok := e.resource(t, project, id)
	if !ok {
		t.Fatalf("%s/%s not found", project, id)
	}
	vs, _, err := e.svc.ListReservations(e.ctx, admin, allot.ReservationQuery{ProjectID: project, State: allot.ReservationOpen, Page: allot.Page{Limit: 10000}})
	if err != nil {
		t.Fatal(err)
	}
	var open allot.Quantity
	for _, v := range vs {
		for _, h := range v.Holds {
			if h.ResourceID == id {
				open += h.Amount
			}
		}
	}
	if open != r.Held {
		t.Fatalf("%s/%s holds %s, its open reservations %s", project, id, r.Held, open)
	}
	return r.Held
}

func reserveReq(project, id string, amount int64, ttl int64, key string) allot.ReserveRequest {
	return allot.ReserveRequest{ProjectID: project, ResourceID: id, Amount: units(amount), TTL: ttl, IdempotencyKey: key}
}

func testReserveCommit(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 100, future))
	req := reserveReq("lone", "p", 10, 600, "job-1")
	req.UserID, req.AppUserID = "user-7", "app-3"
	out := e.mustReserve(t, req)
	if !out.Created || out.State != allot.ReservationOpen || len(out.Holds) != 1 || out.Holds[0] != (allot.Hold{ResourceID: "p", Amount: units(10)}) {
		t.Fatalf("reserve: %+v", out)
	}
	if len(out.Entries) != 1 || out.Entries[0].Op != allot.OpReserve || out.Entries[0].HeldDelta != units(10) ||
		out.Entries[0].Ref != out.ReservationID || out.Entries[0].UserID != "user-7" || out.Entries[0].AppUserID != "app-3" {
		t.Fatalf("reserve entries: %+v", out.Entries)
	}
	if got := out.ExpiresAt.Sub(out.CreatedAt); got != 600*time.Second {
		t.Fatalf("ttl %v, want 600s", got)
	}
	if got := e.held(t, "lone", "p"); got != units(10) {
		t.Fatalf("held %s, want 10", got)
	}
	e.expect(t, "lone", "p", units(100), 0)

	again, err := e.svc.Reserve(e.ctx, admin, req)
	if err != nil || !again.Replayed || again.Created || again.ReservationID != out.ReservationID {
		t.Fatalf("replayed reserve: %+v %v", again, err)
	}
	other := req
	other.Amount = units(11)
	_, err = e.svc.Reserve(e.ctx, admin, other)
	wantCode(t, err, allot.ECONFLICT)

	_, err = e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: out.ReservationID, Amount: units(11), IdempotencyKey: "c-0"})
	wantCode(t, err, allot.EINVALID)
	commit := allot.CommitRequest{ReservationID: out.ReservationID, Amount: units(7) + allot.QuantityScale/2, IdempotencyKey: "c-1"}
	done, err := e.svc.Commit(e.ctx, admin, commit)
	if err != nil || done.State != allot.ReservationCommitted || done.Committed != commit.Amount || done.Holds[0].Committed != commit.Amount {
		t.Fatalf("commit: %+v %v", done, err)
	}
	if len(done.Entries) != 1 || done.Entries[0].Op != allot.OpCommit || done.Entries[0].UsageDelta != commit.Amount ||
		done.Entries[0].HeldDelta != -units(10) || done.Entries[0].UserID != "user-7" {
		t.Fatalf("commit entries: %+v", done.Entries)
	}
	e.expect(t, "lone", "p", units(100), commit.Amount)
	if got := e.held(t, "lone", "p"); got != 0 {
		t.Fatalf("held %s after commit, want 0", got)
	}
	replay, err := e.svc.Commit(e.ctx, admin, commit)
	if err != nil || !replay.Replayed || replay.Entries[0].Seq != done.Entries[0].Seq {
		t.Fatalf("replayed commit: %+v %v", replay, err)
	}
	_, err = e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: out.ReservationID, Amount: units(1), IdempotencyKey: "c-2"})
	wantCode(t, err, allot.ECONFLICT)
	_, err = e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: out.ReservationID})
	wantCode(t, err, allot.ECONFLICT)
	e.expect(t, "lone", "p", units(100), commit.Amount)
	e.noDrift(t)
}

func testRelease(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	out := e.mustReserve(t, reserveReq("lone", "p", 10, 60, "job-1"))
	_, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(1), IdempotencyKey: "u-1"})
	wantCode(t, err, allot.ECONFLICT)
	rel, err := e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: out.ReservationID})
	if err != nil || rel.State != allot.ReservationReleased || len(rel.Entries) != 1 || rel.Entries[0].Op != allot.OpRelease ||
		rel.Entries[0].HeldDelta != -units(10) || rel.Entries[0].UsageDelta != 0 {
		t.Fatalf("release: %+v %v", rel, err)
	}
	again, err := e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: out.ReservationID})
	if err != nil || !again.Replayed || again.Entries[0].Seq != rel.Entries[0].Seq {
		t.Fatalf("second release: %+v %v", again, err)
	}
	_, err = e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: out.ReservationID, Amount: 0, IdempotencyKey: "c"})
	wantCode(t, err, allot.ECONFLICT)
	if got := e.held(t, "lone", "p"); got != 0 {
		t.Fatalf("held %s after release", got)
	}
	if _, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(10), IdempotencyKey: "u-2"}); err != nil {
		t.Fatalf("consume of the released units: %v", err)
	}
	_, err = e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: "rsv-missing"})
	wantCode(t, err, allot.ENOTFOUND)
	e.noDrift(t)
}

// testHoldsRespected checks that every operation that takes units takes
// only what is neither used nor held.
func testHoldsRespected(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	// Allocation from an SP package.
	e.mustAdd(t, pkg("sp-a", "pool", "CH", 10, future))
	e.mustReserve(t, reserveReq("sp-a", "pool", 8, 60, "job-sp"))
	alloc := allot.AllocateRequest{SPProjectID: "sp-a", CustomerProjectID: "cust-a", ResourceSpecCode: "CH", Amount: units(3), IdempotencyKey: "a-1"}
	_, err := e.svc.Allocate(e.ctx, admin, alloc)
	wantCode(t, err, allot.ECONFLICT)
	alloc.Amount = units(2)
	if _, err := e.svc.Allocate(e.ctx, admin, alloc); err != nil {
		t.Fatalf("allocate of what is free: %v", err)
	}

	// Reclaim and cancel.
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	held := e.mustReserve(t, reserveReq("lone", "p", 6, 60, "job-1"))
	out, err := e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}, IdempotencyKey: "rc-1"})
	if err != nil || out.Entries[0].AmountDelta != -units(4) || out.Resource.Removed {
		t.Fatalf("reclaim of the unheld rest: %+v %v", out, err)
	}
	one := units(1)
	_, err = e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}, Amount: &one, IdempotencyKey: "rc-2"})
	wantCode(t, err, allot.ECONFLICT)
	_, err = e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}, Cancel: true, IdempotencyKey: "cx-1"})
	wantCode(t, err, allot.ECONFLICT)
	_, err = e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: one, IdempotencyKey: "u-1"})
	wantCode(t, err, allot.ECONFLICT)
	_, err = e.svc.Reserve(e.ctx, admin, reserveReq("lone", "p", 1, 60, "job-2"))
	wantCode(t, err, allot.ECONFLICT)
	if _, err := e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: held.ReservationID, Amount: units(6), IdempotencyKey: "c"}); err != nil {
		t.Fatalf("commit: %v", err)
	}
	e.expect(t, "lone", "p", units(6), units(6))
	if _, err := e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}, Cancel: true, IdempotencyKey: "cx-2"}); err != nil {
		t.Fatalf("cancel without holds: %v", err)
	}
	e.noDrift(t)
}

func testReserveRefused(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	e.mustAdd(t, pkg("lone", "soon", "MIN", 10, clock.Now().Add(time.Hour)))
	e.mustAdd(t, pkg("lone", "gone", "MIN", 10, future))
	if _, err := e.svc.Reclaim(e.ctx, admin, allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: "lone", ResourceID: "gone"}, Cancel: true, IdempotencyKey: "cx"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetStatus(e.ctx, admin, allot.ResourceRef{ProjectID: "lone", ResourceID: "p"}, allot.StatusFrozen, ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	split := reserveReq("lone", "p", 1, 60, "k")
	split.AllowSplit = true
	noTarget := reserveReq("lone", "", 1, 60, "k")
	for name, c := range map[string]struct {
		actor allot.Actor
		req   allot.ReserveRequest
		code  allot.ErrorCode
	}{
		"frozen":          {admin, reserveReq("lone", "p", 1, 60, "k"), allot.ECONFLICT},
		"expired":         {admin, reserveReq("lone", "soon", 1, 60, "k"), allot.ECONFLICT},
		"cancelled":       {admin, reserveReq("lone", "gone", 1, 60, "k"), allot.ENOTFOUND},
		"missing":         {admin, reserveReq("lone", "none", 1, 60, "k"), allot.ENOTFOUND},
		"no type usable":  {admin, allot.ReserveRequest{ProjectID: "lone", ResourceType: "MIN", Amount: units(1), TTL: 60, IdempotencyKey: "k"}, allot.ECONFLICT},
		"sp credential":   {spA, reserveReq("lone", "p", 1, 60, "k"), allot.EFORBIDDEN},
		"zero ttl":        {admin, reserveReq("lone", "p", 1, 0, "k"), allot.EINVALID},
		"ttl too long":    {admin, reserveReq("lone", "p", 1, allot.MaxReservationTTL+1, "k"), allot.EINVALID},
		"zero amount":     {admin, reserveReq("lone", "p", 0, 60, "k"), allot.EINVALID},
		"no key":          {admin, reserveReq("lone", "p", 1, 60, ""), allot.EINVALID},
		"split of one id": {admin, split, allot.EINVALID},
		"no package":      {admin, noTarget, allot.EINVALID},
	} {
		_, err := e.svc.Reserve(e.ctx, c.actor, c.req)
		if allot.ErrorCodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", name, err, c.code)
		}
	}
	vs, n, err := e.svc.ListReservations(e.ctx, admin, allot.ReservationQuery{ProjectID: "lone", Page: allot.Page{Limit: 10}})
	if err != nil || n != 0 || len(vs) != 0 {
		t.Fatalf("refused reservations were written: %+v %d %v", vs, n, err)
	}
	e.noDrift(t)
}

// testHoldExpiry expires a hold by the clock alone, and refuses its commit.
func testHoldExpiry(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	out := e.mustReserve(t, reserveReq("lone", "p", 4, 60, "job-1"))
	clock.Advance(59 * time.Second)
	if n, err := e.svc.ExpireHolds(e.ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("a hold expired before its TTL: %d %v", n, err)
	}
	clock.Advance(time.Second)
	// Overdue but not swept yet: the commit is refused all the same.
	_, err := e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: out.ReservationID, Amount: units(1), IdempotencyKey: "c"})
	wantCode(t, err, allot.ECONFLICT)
	if n, err := e.svc.ExpireHolds(e.ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("ExpireHolds: %d %v, want 1", n, err)
	}
	if n, err := e.svc.ExpireHolds(e.ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("a second sweep expired %d again: %v", n, err)
	}
	v, err := e.l.FindReservation(e.ctx, out.ReservationID)
	if err != nil || v.State != allot.ReservationExpired || !v.SettledAt.Equal(clock.Now()) {
		t.Fatalf("after expiry: %+v %v", v, err)
	}
	es, _, err := e.l.LedgerEntries(e.ctx, allot.LedgerQuery{ProjectID: "lone", ResourceID: "p", Page: allot.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	if last.Op != allot.OpHoldExpired || last.Actor != allot.SystemActor || last.HeldDelta != -units(4) || last.Ref != out.ReservationID {
		t.Fatalf("last entry %+v, want hold_expired by system", last)
	}
	_, err = e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: out.ReservationID, Amount: units(1), IdempotencyKey: "c"})
	wantCode(t, err, allot.ECONFLICT)
	if got := e.held(t, "lone", "p"); got != 0 {
		t.Fatalf("held %s after expiry", got)
	}
	e.expect(t, "lone", "p", units(10), 0)
	e.noDrift(t)
}

// testCommitGrace commits holds taken before their packages expired or
// were frozen.
func testCommitGrace(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, clock.Now().Add(time.Hour)))
	out := e.mustReserve(t, reserveReq("lone", "p", 5, 7200, "job-1"))
	clock.Advance(90 * time.Minute)
	_, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: "p", Amount: units(1), IdempotencyKey: "u"})
	wantCode(t, err, allot.ECONFLICT)
	if _, err := e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: out.ReservationID, Amount: units(3), IdempotencyKey: "c"}); err != nil {
		t.Fatalf("commit after the package expired: %v", err)
	}
	e.expect(t, "lone", "p", units(10), units(3))

	// Frozen after the hold: the commit settles all the same.
	e.mustAdd(t, pkg("lone", "q", "MIN", 10, future))
	held := e.mustReserve(t, reserveReq("lone", "q", 5, 600, "job-2"))
	if _, err := e.svc.SetStatus(e.ctx, admin, allot.ResourceRef{ProjectID: "lone", ResourceID: "q"}, allot.StatusFrozen, "unpaid"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Reserve(e.ctx, admin, reserveReq("lone", "q", 1, 600, "job-3"))
	wantCode(t, err, allot.ECONFLICT)
	if _, err := e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: held.ReservationID, Amount: units(5), IdempotencyKey: "c"}); err != nil {
		t.Fatalf("commit after the package was frozen: %v", err)
	}
	e.expect(t, "lone", "q", units(10), units(5))
	e.noDrift(t)
}

// testBurnOrder consumes by type and checks the order: priority (higher
// first), then expiry (none last), then age.
func testBurnOrder(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	withPriority := func(req allot.PackageRequest, p int) allot.PackageRequest { req.Priority = &p; return req }
	e.mustAdd(t, pkg("lone", "old-late", "X", 5, future.AddDate(1, 0, 0)))
	e.mustAdd(t, pkg("lone", "never", "X", 5, time.Time{}))
	e.mustAdd(t, pkg("lone", "early", "X", 5, future))
	e.mustAdd(t, pkg("lone", "new-late", "X", 5, future.AddDate(1, 0, 0)))
	e.mustAdd(t, withPriority(pkg("lone", "urgent", "X", 5, time.Time{}), 10))
	e.mustAdd(t, withPriority(pkg("lone", "first", "X", 5, future.AddDate(2, 0, 0)), 100))
	_, err := e.svc.AddPackage(e.ctx, admin, withPriority(pkg("lone", "bad", "X", 5, future), 101))
	wantCode(t, err, allot.EINVALID)
	for i, want := range []string{"first", "urgent", "early", "old-late", "new-late", "never"} {
		out, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceType: "X", Amount: units(5), IdempotencyKey: fmt.Sprint("u-", i)})
		if err != nil || out.Resource.ResourceID != want {
			t.Fatalf("consume %d took %s (%v), want %s", i, out.Resource.ResourceID, err, want)
		}
	}
	e.noDrift(t)
}

func testSplitConsume(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "a", "S", 20, future))
	e.mustAdd(t, pkg("lone", "b", "S", 20, future.AddDate(0, 1, 0)))
	req := allot.ConsumeRequest{ProjectID: "lone", ResourceType: "S", Amount: units(30), IdempotencyKey: "big", Attribution: allot.Attribution{UserID: "u-1"}}
	_, err := e.svc.Consume(e.ctx, admin, req)
	wantCode(t, err, allot.ECONFLICT)
	e.expect(t, "lone", "a", units(20), 0)

	req.IdempotencyKey = "big-split"
	req.AllowSplit = true
	out, err := e.svc.Consume(e.ctx, admin, req)
	if err != nil {
		t.Fatal(err)
	}
	if out.Resource.ResourceID != "a" || len(out.Split) != 1 || out.Split[0].ResourceID != "b" || len(out.Entries) != 2 {
		t.Fatalf("split consume: %+v", out)
	}
	a, b := out.Entries[0], out.Entries[1]
	if a.ResourceID != "a" || a.UsageDelta != units(20) || b.ResourceID != "b" || b.UsageDelta != units(10) ||
		a.Ref == "" || a.Ref != b.Ref || a.IdempotencyKey != "big-split" || b.IdempotencyKey != "big-split" || a.UserID != "u-1" || b.UserID != "u-1" {
		t.Fatalf("split entries: %+v", out.Entries)
	}
	e.expect(t, "lone", "a", units(20), units(20))
	e.expect(t, "lone", "b", units(20), units(10))
	again, err := e.svc.Consume(e.ctx, admin, req)
	if err != nil || !again.Replayed || len(again.Entries) != 2 || again.Entries[1].Seq != b.Seq {
		t.Fatalf("replayed split: %+v %v", again, err)
	}
	e.expect(t, "lone", "b", units(20), units(10))
	// More than all packages have left: nothing is written.
	req.IdempotencyKey, req.Amount = "too-big", units(11)
	_, err = e.svc.Consume(e.ctx, admin, req)
	wantCode(t, err, allot.ECONFLICT)
	e.expect(t, "lone", "b", units(20), units(10))
	// One package covers it: no split, no Ref.
	req.IdempotencyKey, req.Amount = "small", units(4)
	small, err := e.svc.Consume(e.ctx, admin, req)
	if err != nil || len(small.Entries) != 1 || small.Entries[0].Ref != "" || small.Entries[0].ResourceID != "b" {
		t.Fatalf("covered consume: %+v %v", small, err)
	}
	e.noDrift(t)
}

func testSplitReservation(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "a", "S", 5, future))
	e.mustAdd(t, pkg("lone", "b", "S", 5, future.AddDate(0, 1, 0)))
	req := allot.ReserveRequest{ProjectID: "lone", ResourceType: "S", Amount: units(8), TTL: 60, IdempotencyKey: "job"}
	_, err := e.svc.Reserve(e.ctx, admin, req)
	wantCode(t, err, allot.ECONFLICT)
	req.AllowSplit, req.IdempotencyKey = true, "job-split"
	out := e.mustReserve(t, req)
	want := []allot.Hold{{ResourceID: "a", Amount: units(5)}, {ResourceID: "b", Amount: units(3)}}
	if len(out.Holds) != 2 || out.Holds[0] != want[0] || out.Holds[1] != want[1] || len(out.Entries) != 2 {
		t.Fatalf("split reservation: %+v", out)
	}
	done, err := e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: out.ReservationID, Amount: units(6), IdempotencyKey: "c"})
	if err != nil || done.Holds[0].Committed != units(5) || done.Holds[1].Committed != units(1) {
		t.Fatalf("commit of a split reservation: %+v %v", done, err)
	}
	e.expect(t, "lone", "a", units(5), units(5))
	e.expect(t, "lone", "b", units(5), units(1))
	if e.held(t, "lone", "a") != 0 || e.held(t, "lone", "b") != 0 {
		t.Fatal("holds left after the commit")
	}
	e.noDrift(t)
}

// testConcurrentReserve sends 300 reservations of 1 against 100 units,
// half of them twice: exactly 100 hold, every replay names the first
// reservation, and committing 0.7 of 50 and releasing 50 uses exactly 35.
func testConcurrentReserve(t *testing.T, e *ledgerEnv, _ *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "hot", "MIN", 100, future))
	var (
		mu  sync.Mutex
		ids = map[string]string{} // key -> reservation id
		wg  sync.WaitGroup
	)
	for i := range 300 {
		key := fmt.Sprint("job-", i)
		sends := 1 + i%2
		for range sends {
			wg.Go(func() {
				out, err := e.svc.Reserve(e.ctx, admin, reserveReq("lone", "hot", 1, 600, key))
				switch allot.ErrorCodeOf(err) {
				case "":
					mu.Lock()
					defer mu.Unlock()
					if id, ok := ids[key]; ok && id != out.ReservationID {
						t.Errorf("key %s answered %s and %s", key, id, out.ReservationID)
					}
					ids[key] = out.ReservationID
				case allot.ECONFLICT:
				default:
					t.Errorf("reserve %s: %v", key, err)
				}
			})
		}
	}
	wg.Wait()
	if len(ids) != 100 {
		t.Fatalf("%d reservations hold, want exactly 100", len(ids))
	}
	if got := e.held(t, "lone", "hot"); got != units(100) {
		t.Fatalf("held %s, want 100", got)
	}
	n := 0
	for _, id := range ids {
		var err error
		if n < 50 {
			_, err = e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: id, Amount: 7 * allot.QuantityScale / 10, IdempotencyKey: "c"})
		} else {
			_, err = e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: id})
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	e.expect(t, "lone", "hot", units(100), units(35))
	if got := e.held(t, "lone", "hot"); got != 0 {
		t.Fatalf("held %s at the end", got)
	}
	e.noDrift(t)
}

func testListReservations(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "p", "MIN", 10, future))
	first := e.mustReserve(t, reserveReq("lone", "p", 1, 60, "j-1"))
	clock.Advance(time.Second)
	second := e.mustReserve(t, reserveReq("lone", "p", 1, 60, "j-2"))
	if _, err := e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: first.ReservationID}); err != nil {
		t.Fatal(err)
	}
	all, n, err := e.svc.ListReservations(e.ctx, admin, allot.ReservationQuery{ProjectID: "lone", Page: allot.Page{Limit: 10}})
	if err != nil || n != 2 || len(all) != 2 || all[0].ReservationID != second.ReservationID || all[1].State != allot.ReservationReleased {
		t.Fatalf("list: %+v %d %v", all, n, err)
	}
	open, n, err := e.svc.ListReservations(e.ctx, admin, allot.ReservationQuery{ProjectID: "lone", State: allot.ReservationOpen, Page: allot.Page{Limit: 10}})
	if err != nil || n != 1 || open[0].ReservationID != second.ReservationID || len(open[0].Holds) != 1 {
		t.Fatalf("open: %+v %d %v", open, n, err)
	}
	page, n, err := e.svc.ListReservations(e.ctx, admin, allot.ReservationQuery{ProjectID: "lone", Page: allot.Page{Limit: 1, Offset: 1}})
	if err != nil || n != 2 || len(page) != 1 || page[0].ReservationID != first.ReservationID {
		t.Fatalf("page 2: %+v %d %v", page, n, err)
	}
	_, _, err = e.svc.ListReservations(e.ctx, admin, allot.ReservationQuery{ProjectID: "lone", State: "pending"})
	wantCode(t, err, allot.EINVALID)
	none, n, err := e.svc.ListReservations(e.ctx, admin, allot.ReservationQuery{ProjectID: "cust-a", Page: allot.Page{Limit: 10}})
	if err != nil || n != 0 || len(none) != 0 {
		t.Fatalf("another project's list: %+v %d %v", none, n, err)
	}
}
