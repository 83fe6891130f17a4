package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOf returns a store's connection pool, for tests that write raw SQL.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }

// WithTx runs fn like every transaction of the store, with its retries.
func WithTx(ctx context.Context, s *Store, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	return s.withTx(ctx, opts, fn)
}
