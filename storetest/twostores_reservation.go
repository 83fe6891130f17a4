package storetest

import (
	"context"
	"testing"

	"github.com/allot-dev/allot"
)

// testSharedReservations takes reservations through their steps on two
// nodes of one database, each node stepping on what the other wrote since
// it last looked: a node must not settle a reservation the other settled,
// and must settle one the other left open, whatever it remembers of its
// own steps. The package's usage and holds end as the accepted steps say.
func testSharedReservations(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	first, second := open(t)
	ctx := context.Background()
	MustCreateProject(t, first, NewProject("tenant", ""))
	a, b := &allot.Service{Store: mustLedger(t, first)}, &allot.Service{Store: mustLedger(t, second)}
	if _, err := a.AddPackage(ctx, admin, pkg("tenant", "hot", "VIDEO_2D_MIN", 100, future)); err != nil {
		t.Fatal(err)
	}
	reserve := func(svc *allot.Service, key string, amount int64) allot.ReservationResult {
		t.Helper()
		out, err := svc.Reserve(ctx, admin, allot.ReserveRequest{ProjectID: "tenant", ResourceID: "hot", Amount: units(amount), TTL: 600,
			IdempotencyKey: key})
		if err != nil {
			t.Fatalf("reserve %s: %v", key, err)
		}
		return out
	}
	commit := func(svc *allot.Service, id, key string, amount int64) (allot.ReservationResult, error) {
		return svc.Commit(ctx, admin, allot.CommitRequest{ReservationID: id, Amount: units(amount), IdempotencyKey: key})
	}

	// Reserved on a, committed on b: a must see it committed.
	r1 := reserve(a, "r1", 10)
	if _, err := commit(b, r1.ReservationID, "c1", 4); err != nil {
		t.Fatalf("commit on the other node: %v", err)
	}
	_, err := commit(a, r1.ReservationID, "c1-again", 1)
	wantCode(t, err, allot.ECONFLICT)
	_, err = a.Release(ctx, admin, allot.ReleaseRequest{ReservationID: r1.ReservationID})
	wantCode(t, err, allot.ECONFLICT)
	if replay, err := commit(a, r1.ReservationID, "c1", 4); err != nil || !replay.Replayed || replay.Committed != units(4) {
		t.Fatalf("replay on a of b's commit: %+v %v", replay, err)
	}

	// Reserved and committed on a after b consumed from the project.
	r2 := reserve(a, "r2", 10)
	if _, err := b.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: "tenant", ResourceID: "hot", Amount: units(5), IdempotencyKey: "u1"}); err != nil {
		t.Fatal(err)
	}
	if out, err := commit(a, r2.ReservationID, "c2", 10); err != nil || out.State != allot.ReservationCommitted {
		t.Fatalf("commit on a after b's consume: %+v %v", out, err)
	}

	// Reserved on a, released on b, then committed on a: refused.
	r3 := reserve(a, "r3", 20)
	if _, err := b.Release(ctx, admin, allot.ReleaseRequest{ReservationID: r3.ReservationID}); err != nil {
		t.Fatal(err)
	}
	_, err = commit(a, r3.ReservationID, "c3", 1)
	wantCode(t, err, allot.ECONFLICT)

	// Reserved on b, committed on a and then on b.
	r4 := reserve(b, "r4", 3)
	if _, err := commit(a, r4.ReservationID, "c4", 3); err != nil {
		t.Fatal(err)
	}
	_, err = commit(b, r4.ReservationID, "c4-b", 1)
	wantCode(t, err, allot.ECONFLICT)

	// Left open on a: 7 held.
	reserve(a, "r5", 7)

	// Usage: 4 (r1) + 5 (u1) + 10 (r2) + 3 (r4); held: 7 (r5).
	for _, s := range []allot.Store{first, second} {
		d, err := s.TenantChanges(ctx, "tenant", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Resources) != 1 || d.Resources[0].Usage != units(22) || d.Resources[0].Held != units(7) {
			t.Fatalf("packages %+v, want usage 22 and 7 held", d.Resources)
		}
		if d := mustDrift(t, mustLedger(t, s)); len(d) != 0 {
			t.Fatalf("drift: %+v", d)
		}
	}
}
