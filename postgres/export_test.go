package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"
	"github.com/allot-dev/allot/storetest"

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

// TenantPacks returns the hooks of storetest.RunTenantPacks on s, which gets
// packs from minRows resources.
func TenantPacks(t *testing.T, s *Store, minRows int) storetest.Packs {
	s.packMin = minRows
	ctx := context.Background()
	fatal := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return storetest.Packs{
		MinRows: minRows,
		Wait:    s.packs.Wait,
		Version: func(p string) int64 {
			var v int64
			err := s.pool.QueryRow(ctx, `SELECT version FROM tenant_packs WHERE project_id = $1`, p).Scan(&v)
			if errors.Is(err, pgx.ErrNoRows) {
				return 0
			}
			fatal(err)
			return v
		},
		Data: func(p string) (data []byte) {
			fatal(s.pool.QueryRow(ctx, packQuery, p).Scan(&data))
			return data
		},
		SetData: func(p string, data []byte) {
			_, err := s.pool.Exec(ctx, `UPDATE tenant_packs SET data = $2 WHERE project_id = $1`, p, data)
			fatal(err)
		},
		Encode: func(shift int, version int64, rs []allot.Resource) []byte {
			return tenantpack.Encode(int(s.schema)+shift, version, rs)
		},
		Decode: func(data []byte, p string) ([]allot.Resource, int64, error) {
			rs, version, _, err := tenantpack.Decode(data, p)
			return rs, version, err
		},
		Columns: func(p string) []allot.Resource {
			rows, err := s.pool.Query(ctx, `SELECT `+resourceColumns+` FROM resources WHERE project_id = $1 ORDER BY seq`, p)
			fatal(err)
			rs, err := scanResources(rows, p, 0)
			fatal(err)
			return rs
		},
	}
}

// WithoutPacks deletes every tenant pack and keeps the store from writing
// new ones: its full reads are column reads.
func WithoutPacks(s *Store) error {
	s.packs.Wait()
	s.packMin = 1 << 30
	_, err := s.pool.Exec(context.Background(), `DELETE FROM tenant_packs`)
	return err
}

// Remembered reports whether s remembers reservation id of projectID open.
func Remembered(s *Store, projectID, id string) bool {
	_, ok := s.open.Get(projectID, id)
	return ok
}
