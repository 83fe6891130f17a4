package postgres_test

import (
	"context"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"

	"github.com/jackc/pgx/v5"
)

// TestGroupLockOrder: a group's transaction takes its row locks in
// increasing project id order, so it never deadlocks with another: an
// operation that would lock a project sorting before one the transaction
// holds is put off to the next group, and so is every later operation
// naming one of its projects. An operation that fails releases the locks it
// took at once (its savepoint is rolled back), so the next may take them in
// order again, and another transaction can lock them while the group runs.
func TestGroupLockOrder(t *testing.T) {
	s := pgtest.MustOpen(t)
	for _, p := range []string{"p-a", "p-b", "p-c", "p-d"} {
		storetest.MustCreateProject(t, s, storetest.NewProject(p, ""))
	}
	ok := func(allot.Tx) error { return nil }
	deferred, errs := postgres.RunGroup(s,
		[][]string{{"p-b"}, {"p-a"}, {"p-c"}, {"p-a", "p-d"}, {"p-b", "p-d"}},
		[]func(allot.Tx) error{ok, ok, ok, ok, ok})
	// op 4 would be fine by order, but names p-d, a project of the put-off op 3.
	want := []bool{false, true, false, true, true}
	for i := range want {
		if deferred[i] != want[i] {
			t.Errorf("op %d: deferred %v, want %v", i, deferred[i], want[i])
		}
		if !deferred[i] && errs[i] != nil {
			t.Errorf("op %d: %v", i, errs[i])
		}
	}

	// p-d is locked by a failed operation, then released: another
	// transaction locks it without waiting while the group is still open.
	refused := allot.Errorf(allot.ECONFLICT, "no")
	tryLock := func(allot.Tx) error {
		return pgx.BeginTxFunc(context.Background(), postgres.PoolOf(s), pgx.TxOptions{}, func(tx pgx.Tx) error {
			_, err := tx.Exec(context.Background(), `SELECT 1 FROM projects WHERE id = 'p-d' FOR UPDATE NOWAIT`)
			return err
		})
	}
	deferred, errs = postgres.RunGroup(s, [][]string{{"p-d"}, {"p-a"}},
		[]func(allot.Tx) error{func(allot.Tx) error { return refused }, tryLock})
	if deferred[0] || deferred[1] || errs[0] != refused || errs[1] != nil {
		t.Fatalf("deferred %v, errors %v: want both run, the first refused, and p-d free for another transaction", deferred, errs)
	}
	for p, v := range map[string]int64{"p-a": 2, "p-b": 2, "p-c": 2, "p-d": 1} {
		if got := storetest.MustTenantVersion(t, s, p); got != v {
			t.Errorf("%s: version %d, want %d (one bump per applied operation)", p, got, v)
		}
	}
}
