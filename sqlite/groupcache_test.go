package sqlite

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/storetest"
)

// TestGroupReadsWhatTheTransactionHolds: the operations of one group read
// each package as the operations before them left it, and not as an
// operation rolled back to its savepoint wrote it; a group run without
// savepoints in which an operation fails runs again with them, and commits
// only what the successful operations did. The group is built by hand, so
// every operation is in the same transaction.
func TestGroupReadsWhatTheTransactionHolds(t *testing.T) {
	for _, savepoints := range []bool{true, false} {
		t.Run(map[bool]string{true: "savepoints", false: "bare first"}[savepoints], func(t *testing.T) {
			testGroupReads(t, savepoints)
		})
	}
}

func testGroupReads(t *testing.T, savepoints bool) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "allot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.MustCreateProject(t, s, storetest.NewProject("p", ""))
	svc := &allot.Service{Store: s}
	admin := allot.Actor{ID: "admin-1", Role: allot.RoleAdmin}
	if _, err := svc.AddPackage(t.Context(), admin, allot.PackageRequest{ProjectID: "p", ResourceID: "r", Source: allot.SourcePurchased,
		OrderID: "o", ResourceType: "MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	errUndo := errors.New("undo")
	var seen []allot.Quantity
	add := func(delta allot.Quantity, fail bool) update {
		return update{ctx: t.Context(), ids: []string{"p"}, fn: func(tx allot.Tx) error {
			r, err := tx.Resource("p", "r")
			if err != nil {
				return err
			}
			seen = append(seen, r.Usage)
			r.Usage += delta
			if err := tx.SaveResource(&r); err != nil {
				return err
			}
			if fail {
				return errUndo
			}
			return nil
		}}
	}
	ops := []*allot.GroupOp[update]{{V: add(5, false)}, {V: add(1, false)}, {V: add(30, true)}, {V: add(2, false)}, {V: add(7, true)}, {V: add(3, false)}}
	s.savepoints.Store(savepoints)
	s.runGroup(ops)
	if !s.savepoints.Load() {
		t.Fatal("after a group with failures, the next group does not start with savepoints")
	}
	for i, op := range ops {
		if want := []bool{false, false, true, false, true, false}[i]; (op.Err != nil) != want || op.Err != nil && !errors.Is(op.Err, errUndo) {
			t.Fatalf("operation %d: %v", i, op.Err)
		}
	}
	// Each read sees the usage the successful operations before it left.
	// Without savepoints the group stops at the first failure, rolls back
	// and runs again.
	want := []allot.Quantity{0, 5, 6, 6, 8, 8}
	if !savepoints {
		want = append([]allot.Quantity{0, 5, 6}, want...)
	}
	if len(seen) != len(want) {
		t.Fatalf("reads %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("reads %v, want %v", seen, want)
		}
	}
	var r allot.Resource
	err = s.Update(t.Context(), []string{"p"}, func(tx allot.Tx) (err error) {
		r, err = tx.Resource("p", "r")
		return err
	})
	if err != nil || r.Usage != 11 {
		t.Fatalf("committed usage %d (%v), want 11", r.Usage, err)
	}
	// That Update had no failure: the next group runs without savepoints.
	if s.savepoints.Load() {
		t.Fatal("after a group without failures, the next group starts with savepoints")
	}
	seen = nil
	ops = []*allot.GroupOp[update]{{V: add(1, false)}, {V: add(1, false)}}
	s.runGroup(ops)
	if ops[0].Err != nil || ops[1].Err != nil || len(seen) != 2 || seen[0] != 11 || seen[1] != 12 {
		t.Fatalf("a group without failures: %v %v, reads %v, want [11 12] once", ops[0].Err, ops[1].Err, seen)
	}
}
