package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
)

// hold is one reservation step written against allot.Tx the way the
// domain's are: a reserve inserts a reservation with one hold of amount
// units of resource; a settle reads the reservation under the lock,
// refuses it if it is not open, and commits committed units of it.
// Sabotage "over" settles more than is held (a CHECK the domain keeps),
// "refuse" refuses the step after its write, which must then be undone.
type hold struct {
	project, id, resource string
	reserve               bool
	amount, committed     int64
	sabotage              string
}

func (h hold) fn(answer *string) func(allot.Tx) error {
	return func(tx allot.Tx) error {
		*answer = ""
		if h.reserve {
			v := allot.Reservation{ReservationID: h.id, ProjectID: h.project, State: allot.ReservationOpen,
				Amount: allot.Quantity(h.amount), CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(3600e9), Actor: "test",
				IdempotencyKey: "k-" + h.id, Holds: []allot.Hold{{ResourceID: h.resource, Amount: allot.Quantity(h.amount)}}}
			if err := tx.InsertReservation(v); err != nil {
				return err
			}
			if h.sabotage == "refuse" {
				return allot.Errorf(allot.ECONFLICT, "refused after writing")
			}
			*answer = "reserved " + h.id
			return nil
		}
		v, err := tx.Reservation(h.project, h.id)
		if err != nil {
			return err
		}
		if v.State != allot.ReservationOpen {
			return allot.Errorf(allot.ECONFLICT, "reservation %s is %s", v.ReservationID, v.State)
		}
		v.State, v.Committed, v.SettledAt = allot.ReservationCommitted, allot.Quantity(h.committed), tx.Now()
		v.Holds[0].Committed = v.Committed
		if h.sabotage == "over" {
			// The reservation's row is written (a lone hold's row is not:
			// allot.Reservation.SettledHolds), so its CHECK is the one broken.
			v.Committed = v.Amount + 1
			v.Holds[0].Committed = v.Committed
		}
		if err := tx.UpdateReservation(v); err != nil {
			return err
		}
		if h.sabotage == "refuse" {
			return allot.Errorf(allot.ECONFLICT, "refused after writing")
		}
		*answer = fmt.Sprintf("settled %s: %s of %s", h.id, v.Committed, v.Amount)
		return nil
	}
}

// TestGroupFastPathReservations holds the queued reservation writes (the
// insert of a new reservation, the settle of one the transaction read) to
// the slow path run one step at a time on a fresh schema: every step of
// every group gets the answer it gets alone, and the stores end with the
// same reservations. An id that exists already and a settle that breaks a
// CHECK fail in the database after their step returned: the group runs
// again the slow way.
func TestGroupFastPathReservations(t *testing.T) {
	groups := []struct {
		name string
		ops  []hold
		runs [3]uint64 // slow, fast, guessing
	}{
		{"reserves", []hold{
			{project: "p-1", id: "rsv-a", resource: "r-1", reserve: true, amount: 5},
			{project: "p-1", id: "rsv-b", resource: "r-1", reserve: true, amount: 3},
			{project: "p-2", id: "rsv-c", resource: "r-2", reserve: true, amount: 1},
			{project: "p-1", id: "rsv-d", resource: "r-1", reserve: true, amount: 1, sabotage: "refuse"},
			{project: "p-1", id: "rsv-e", resource: "r-1", reserve: true, amount: 2},
		}, [3]uint64{0, 0, 1}},
		{"settles, and steps on what the group wrote", []hold{
			{project: "p-1", id: "rsv-a", committed: 4},
			{project: "p-1", id: "rsv-a", committed: 1}, // settled in this group
			{project: "p-1", id: "rsv-b", committed: 3, sabotage: "refuse"},
			{project: "p-1", id: "rsv-b", committed: 2}, // the refused settle left it open
			{project: "p-1", id: "rsv-d", committed: 1}, // its reserve was refused
			{project: "p-2", id: "rsv-f", resource: "r-1", reserve: true, amount: 2},
			{project: "p-2", id: "rsv-f", committed: 2}, // reserved in this group
			{project: "p-2", id: "rsv-a", committed: 1}, // another project's
		}, [3]uint64{0, 0, 1}},
		{"an id that exists", []hold{
			{project: "p-1", id: "rsv-g", resource: "r-1", reserve: true, amount: 1},
			{project: "p-1", id: "rsv-a", resource: "r-2", reserve: true, amount: 1},
			{project: "p-2", id: "rsv-c", committed: 1},
		}, [3]uint64{1, 0, 1}},
		{"a settle over its hold", []hold{
			{project: "p-1", id: "rsv-e", committed: 1, sabotage: "over"},
			{project: "p-1", id: "rsv-g", committed: 1},
			{project: "p-1", id: "rsv-h", resource: "r-1", reserve: true, amount: 4},
		}, [3]uint64{1, 0, 1}},
	}

	grouped, alone := openMeterStore(t), openMeterStore(t)
	for _, g := range groups {
		before := postgres.GroupRuns(grouped)
		answers := make([]string, len(g.ops))
		ids := make([][]string, len(g.ops))
		fns := make([]func(allot.Tx) error, len(g.ops))
		for i, h := range g.ops {
			ids[i], fns[i] = []string{h.project}, h.fn(&answers[i])
		}
		deferred, errs := postgres.RunGroup(grouped, ids, fns)
		for i, h := range g.ops {
			if deferred[i] {
				t.Fatalf("%s: op %d was put off", g.name, i)
			}
			var answer string
			err := postgres.RunAlone(alone, []string{h.project}, h.fn(&answer))
			if got, want := (outcome{answers[i], errString(errs[i])}), (outcome{answer, errString(err)}); got != want {
				t.Errorf("%s, op %d %+v: got %+v, alone %+v", g.name, i, h, got, want)
			}
		}
		after := postgres.GroupRuns(grouped)
		var runs [3]uint64
		for i := range runs {
			runs[i] = after[i] - before[i]
		}
		if runs != g.runs {
			t.Errorf("%s: %v transactions (slow, fast, guessing), want %v", g.name, runs, g.runs)
		}
	}
	// The oracle itself, written out.
	want := map[string]string{"rsv-a": "committed 4", "rsv-b": "committed 2", "rsv-c": "committed 1", "rsv-e": "open 0",
		"rsv-f": "committed 2", "rsv-g": "committed 1", "rsv-h": "open 0"}
	for _, p := range []string{"p-1", "p-2"} {
		g, a := reservationsOf(t, grouped, p), reservationsOf(t, alone, p)
		if !reflect.DeepEqual(g, a) {
			t.Errorf("%s: grouped\n%+v\nalone\n%+v", p, g, a)
		}
		for _, v := range a {
			if got := fmt.Sprintf("%s %d", v.State, v.Committed); got != want[v.ReservationID] || v.Holds[0].Committed != v.Committed {
				t.Errorf("%s: %s %+v, want %s", p, v.ReservationID, v, want[v.ReservationID])
			}
			delete(want, v.ReservationID)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing reservations: %v", want)
	}
}

func reservationsOf(t *testing.T, s *postgres.Store, project string) []allot.Reservation {
	t.Helper()
	vs, _, err := s.Reservations(context.Background(), allot.ReservationQuery{ProjectID: project, Page: allot.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}
