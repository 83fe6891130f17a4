package postgres

import (
	"context"
	"slices"

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
