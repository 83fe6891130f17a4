package postgres

import (
	"context"
	"slices"
	"sync"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOf returns a store's connection pool, for tests that write raw SQL.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }

// WithTx runs fn like every transaction of the store, with its retries.
func WithTx(ctx context.Context, s *Store, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	return s.withTx(ctx, opts, fn)
}

// RunGroup runs fns as one group of Updates, fns[i] holding ids[i], and
// returns which were put off to a later group, with each applied one's error.
func RunGroup(s *Store, ids [][]string, fns []func(allot.Tx) error) (deferred []bool, errs []error) {
	var ops []*allot.GroupOp[update]
	for i := range ids {
		ops = append(ops, &allot.GroupOp[update]{V: update{ctx: context.Background(), ids: ids[i], fn: fns[i]}})
	}
	put := s.runGroup(ops)
	for _, op := range ops {
		deferred = append(deferred, slices.Contains(put, op))
		errs = append(errs, op.Err)
	}
	return deferred, errs
}

// RunAlone runs fn as a group of one Update on the slow path, every
// statement sent on its own: the reference the fast path is held to.
func RunAlone(s *Store, ids []string, fn func(allot.Tx) error) error {
	op := &allot.GroupOp[update]{V: update{ctx: context.Background(), ids: ids, fn: fn}}
	_, err := s.tryGroup([]*allot.GroupOp[update]{op}, slow)
	if err != nil {
		return err
	}
	return op.Err
}

// GroupRuns returns how many transactions groups ran on the slow path, on
// the fast path reading keys, and guessing keys.
func GroupRuns(s *Store) [3]uint64 {
	return [3]uint64{s.groupRuns[slow].Load(), s.groupRuns[fast].Load(), s.groupRuns[guess].Load()}
}

// WatchGroups makes s count its groups in flight, and returns how many were
// in flight at once at most so far, and how many leaders s allows.
func WatchGroups(s *Store) (most func() int, leaders int) {
	var mu sync.Mutex
	now, top := 0, 0
	run := s.group.Run
	s.group.Run = func(ops []*allot.GroupOp[update]) []*allot.GroupOp[update] {
		mu.Lock()
		now++
		top = max(top, now)
		mu.Unlock()
		defer func() {
			mu.Lock()
			now--
			mu.Unlock()
		}()
		return run(ops)
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return top
	}, s.group.Leaders
}

// Remembered reports whether s remembers reservation id of projectID open.
func Remembered(s *Store, projectID, id string) bool {
	_, ok := s.open.Get(projectID, id)
	return ok
}
