package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// TestRememberedReservations: a store remembers the open reservations its
// groups wrote, forgets them once settled, and a settle of one that is no
// longer open in the database (a writer that did not bump the project's
// version, which none does) is not applied: the group runs again the slow
// way and the step is refused as the rows say.
func TestRememberedReservations(t *testing.T) {
	s := pgtest.MustOpen(t)
	ctx := context.Background()
	storetest.MustCreateProject(t, s, storetest.NewProject("p", ""))
	svc := &allot.Service{Store: s}
	admin := allot.Actor{ID: "admin-1", Role: allot.RoleAdmin}
	if _, err := svc.AddPackage(ctx, admin, allot.PackageRequest{ProjectID: "p", ResourceID: "r", Source: allot.SourcePurchased,
		OrderID: "o", ResourceType: "MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN",
		Amount: 100 * allot.QuantityScale, ExpireTime: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	reserve := func(key string) allot.ReservationResult {
		t.Helper()
		out, err := svc.Reserve(ctx, admin, allot.ReserveRequest{ProjectID: "p", ResourceID: "r", Amount: 2 * allot.QuantityScale,
			TTL: 600, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	open := reserve("k1")
	if !postgres.Remembered(s, "p", open.ReservationID) {
		t.Fatal("a reservation the store made is not remembered")
	}
	done, err := svc.Commit(ctx, admin, allot.CommitRequest{ReservationID: open.ReservationID, Amount: allot.QuantityScale, IdempotencyKey: "c1"})
	if err != nil || done.State != allot.ReservationCommitted {
		t.Fatalf("commit: %+v %v", done, err)
	}
	if postgres.Remembered(s, "p", open.ReservationID) {
		t.Fatal("a committed reservation is still remembered")
	}

	stale := reserve("k2")
	if _, err := postgres.PoolOf(s).Exec(ctx, `UPDATE reservations SET state = 'released', settled_at = 1 WHERE reservation_id = $1`,
		stale.ReservationID); err != nil {
		t.Fatal(err)
	}
	before := postgres.GroupRuns(s)
	_, err = svc.Commit(ctx, admin, allot.CommitRequest{ReservationID: stale.ReservationID, Amount: allot.QuantityScale, IdempotencyKey: "c2"})
	if allot.ErrorCodeOf(err) != allot.ECONFLICT || !strings.Contains(err.Error(), "is released") {
		t.Fatalf("commit of a reservation released behind the store's back: %v, want a conflict saying it is released", err)
	}
	if after := postgres.GroupRuns(s); after[0] == before[0] {
		t.Fatalf("transactions %v -> %v: the remembered settle did not fail and run again the slow way", before, after)
	}
	vs, _, err := s.Reservations(ctx, allot.ReservationQuery{ProjectID: "p", Page: allot.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.ReservationID == stale.ReservationID && (v.State != allot.ReservationReleased || v.Committed != 0) {
			t.Fatalf("the stale reservation was settled: %+v", v)
		}
	}
}
