package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// testHeldModel runs a seeded random sequence of reserves (on one package
// or split by type), commits, releases, consumes, clock moves and sweeps
// on two packages, beside a small model of the rules: after every step each
// package's usage and held units equal the model's, the held units equal
// the sum of the open reservations' holds (e.held), and at the end there
// is no drift. The model decides on its own which steps must succeed.
func testHeldModel(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	const total = 300
	ids := []string{"a", "b"} // burn-down order: a expires first
	e.mustAdd(t, pkg("lone", "a", "S", total, future))
	e.mustAdd(t, pkg("lone", "b", "S", total, future.AddDate(0, 1, 0)))
	type mres struct {
		id      string
		holds   []allot.Hold
		expires time.Time
	}
	var (
		usage, held = map[string]allot.Quantity{}, map[string]allot.Quantity{}
		open        []mres
		rng         = rand.New(rand.NewPCG(7, 11))
	)
	left := func(id string) allot.Quantity { return units(total) - usage[id] - held[id] }
	closeRes := func(i int) mres {
		v := open[i]
		open = append(open[:i], open[i+1:]...)
		for _, h := range v.holds {
			held[h.ResourceID] -= h.Amount
		}
		return v
	}
	for step := range 300 {
		key := fmt.Sprint("k-", step)
		what := ""
		switch n := rng.IntN(10); {
		case n < 4 || len(open) == 0 && n < 7: // reserve
			amount := units(1 + rng.Int64N(12))
			ttl := 10 + rng.Int64N(90)
			req := allot.ReserveRequest{ProjectID: "lone", Amount: amount, TTL: ttl, IdempotencyKey: key}
			var want []allot.Hold
			if rng.IntN(2) == 0 {
				req.ResourceID = ids[rng.IntN(2)]
				what = "reserve " + req.ResourceID
				if left(req.ResourceID) >= amount {
					want = []allot.Hold{{ResourceID: req.ResourceID, Amount: amount}}
				}
			} else {
				req.ResourceType, req.AllowSplit = "S", true
				what = "reserve split"
				if rng.IntN(3) == 0 {
					// More than either package has left: a split, if both
					// together have it.
					req.Amount = max(left("a"), left("b")) + units(1+rng.Int64N(3))
					amount = req.Amount
				}
				for _, id := range ids {
					if want == nil && left(id) >= amount {
						want = []allot.Hold{{ResourceID: id, Amount: amount}}
					}
				}
				if want == nil && left("a")+left("b") >= amount {
					rest := amount
					for _, id := range ids {
						if take := min(left(id), rest); take > 0 {
							want = append(want, allot.Hold{ResourceID: id, Amount: take})
							rest -= take
						}
					}
				}
			}
			out, err := e.svc.Reserve(e.ctx, admin, req)
			if want == nil {
				wantCode(t, err, allot.ECONFLICT)
				break
			}
			if err != nil {
				t.Fatalf("step %d %s of %s: %v", step, what, amount, err)
			}
			if fmt.Sprint(out.Holds) != fmt.Sprint(want) {
				t.Fatalf("step %d %s: holds %v, the model's %v", step, what, out.Holds, want)
			}
			for _, h := range want {
				held[h.ResourceID] += h.Amount
			}
			open = append(open, mres{id: out.ReservationID, holds: want, expires: clock.Now().Add(time.Duration(ttl) * time.Second)})
		case n < 6 && len(open) > 0: // commit
			i := rng.IntN(len(open))
			v := open[i]
			var amount allot.Quantity
			for _, h := range v.holds {
				amount += h.Amount
			}
			// At most half, and at most 12: the packages last the run.
			settle := allot.Quantity(rng.Int64N(int64(min(amount/2, units(12))) + 1))
			what = fmt.Sprintf("commit %s of %s", settle, v.id)
			_, err := e.svc.Commit(e.ctx, admin, allot.CommitRequest{ReservationID: v.id, Amount: settle, IdempotencyKey: key})
			if !v.expires.After(clock.Now()) {
				wantCode(t, err, allot.ECONFLICT) // overdue, swept or not
				break
			}
			if err != nil {
				t.Fatalf("step %d %s: %v", step, what, err)
			}
			closeRes(i)
			want := slices.Clone(v.holds)
			for j, h := range v.holds {
				take := min(h.Amount, settle)
				settle -= take
				usage[h.ResourceID] += take
				want[j].Committed = take
			}
			// The stored reservation, read back, holds the spread.
			got, err := e.l.FindReservation(e.ctx, v.id)
			if err != nil || got.State != allot.ReservationCommitted || fmt.Sprint(got.Holds) != fmt.Sprint(want) {
				t.Fatalf("step %d %s: stored %+v %v, the model's holds %v", step, what, got, err, want)
			}
			// And so does the project's list, the other read (a lone
			// hold's committed part is the reservation's, not a column).
			listed, _, err := e.l.Reservations(e.ctx, allot.ReservationQuery{ProjectID: "lone", State: allot.ReservationCommitted, Page: allot.Page{Limit: 1000}})
			if i := slices.IndexFunc(listed, func(l allot.Reservation) bool { return l.ReservationID == v.id }); err != nil || i < 0 ||
				fmt.Sprint(listed[i].Holds) != fmt.Sprint(want) {
				t.Fatalf("step %d %s: listed %+v %v, the model's holds %v", step, what, listed, err, want)
			}
		case n < 7 && len(open) > 0: // release
			i := rng.IntN(len(open))
			what = "release " + open[i].id
			if _, err := e.svc.Release(e.ctx, admin, allot.ReleaseRequest{ReservationID: open[i].id}); err != nil {
				t.Fatalf("step %d %s: %v", step, what, err)
			}
			closeRes(i)
		case n < 8: // consume
			id, amount := ids[rng.IntN(2)], units(1+rng.Int64N(3))
			what = fmt.Sprintf("consume %s of %s", amount, id)
			_, err := e.svc.Consume(e.ctx, admin, allot.ConsumeRequest{ProjectID: "lone", ResourceID: id, Amount: amount, IdempotencyKey: key})
			if left(id) < amount {
				wantCode(t, err, allot.ECONFLICT)
				break
			}
			if err != nil {
				t.Fatalf("step %d %s: %v", step, what, err)
			}
			usage[id] += amount
		default: // time passes; sometimes the sweeper runs
			clock.Advance(time.Duration(rng.IntN(40)) * time.Second)
			what = "advance"
			if rng.IntN(2) == 0 {
				what = "sweep"
				due := 0
				for i := len(open) - 1; i >= 0; i-- {
					if !open[i].expires.After(clock.Now()) {
						closeRes(i)
						due++
					}
				}
				if n, err := e.svc.ExpireHolds(e.ctx, clock.Now()); err != nil || n != due {
					t.Fatalf("step %d: ExpireHolds %d %v, the model's %d", step, n, err, due)
				}
			}
		}
		for _, id := range ids {
			r, _ := e.resource(t, "lone", id)
			if r.Usage != usage[id] || r.Held != held[id] {
				t.Fatalf("step %d (%s): %s usage %s held %s, the model's %s and %s", step, what, id, r.Usage, r.Held, usage[id], held[id])
			}
			e.held(t, "lone", id)
		}
	}
	e.noDrift(t)
}

// testStoredReservation holds the store's reservation rows to the Tx
// contract: a reservation and its holds read back as written, from the
// locked read and from FindReservation; a second insert of the same id is
// ECONFLICT and leaves the first untouched, and the transaction goes on; a
// reservation read in another project, or settled when it is missing, is
// ENOTFOUND; a settle writes the state and every hold's committed part.
func testStoredReservation(t *testing.T, e *ledgerEnv, clock *allot.ManualClock) {
	e.mustAdd(t, pkg("lone", "a", "S", 10, future))
	e.mustAdd(t, pkg("lone", "b", "S", 10, future))
	e.mustAdd(t, pkg("cust-a", "c", "S", 10, future))
	now := clock.Now()
	v := allot.Reservation{ReservationID: "rsv-stored", ProjectID: "lone", State: allot.ReservationOpen, Amount: units(7),
		Holds:     []allot.Hold{{ResourceID: "b", Amount: units(4)}, {ResourceID: "a", Amount: units(3)}},
		CreatedAt: now, ExpiresAt: now.Add(time.Minute), Actor: "admin-1", IdempotencyKey: "k",
		Attribution: allot.Attribution{UserID: "u-1", AppUserID: "app-1"}}
	other := v
	other.Holds = []allot.Hold{{ResourceID: "a", Amount: units(7)}}
	other.Amount, other.IdempotencyKey = units(7), "k2"
	err := e.l.Update(e.ctx, []string{"lone"}, func(tx allot.Tx) error {
		if err := tx.InsertReservation(v); err != nil {
			return err
		}
		wantCode(t, tx.InsertReservation(other), allot.ECONFLICT)
		got, err := tx.Reservation("lone", v.ReservationID)
		if err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", v) {
			t.Errorf("read in the transaction: %+v %v, want %+v", got, err, v)
		}
		missing := v
		missing.ReservationID = "rsv-missing"
		wantCode(t, tx.UpdateReservation(missing), allot.ENOTFOUND)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.l.FindReservation(e.ctx, v.ReservationID)
	if err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", v) {
		t.Fatalf("FindReservation: %+v %v, want %+v", got, err, v)
	}
	if _, err := e.l.FindReservation(e.ctx, "rsv-none"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		t.Fatalf("FindReservation of none: %v", err)
	}
	settled := v
	settled.State, settled.Committed, settled.SettledAt = allot.ReservationCommitted, units(5), now.Add(time.Second)
	settled.Holds = []allot.Hold{{ResourceID: "b", Amount: units(4), Committed: units(4)}, {ResourceID: "a", Amount: units(3), Committed: units(1)}}
	err = e.l.Update(e.ctx, []string{"cust-a", "lone"}, func(tx allot.Tx) error {
		_, err := tx.Reservation("cust-a", v.ReservationID)
		wantCode(t, err, allot.ENOTFOUND)
		return tx.UpdateReservation(settled)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.l.FindReservation(e.ctx, v.ReservationID)
	if err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", settled) {
		t.Fatalf("after the settle: %+v %v, want %+v", got, err, settled)
	}
}
