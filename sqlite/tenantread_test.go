package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/storetest"
)

// TestTenantReadMatchesColumns holds TenantChanges' read to the
// column-by-column read of the same rows (queryResources, which the other
// store reads use): every field of every resource equal, for a full read
// and for a read of changes, over every enumeration, with and without
// expiry, order and asset (whose name may hold the separator).
func TestTenantReadMatchesColumns(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "allot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := allot.ImportBatch{Projects: []allot.Project{{ID: "p", Name: "p", RegionID: "r", CreatedAt: time.Unix(0, 0)}},
		Resources: storetest.VariedResources("p", 200)}
	if err := s.Import(ctx, b); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, []string{"p"}, func(tx allot.Tx) error {
		for _, id := range []string{"r.00003_x-y", "r.00150_x-y"} {
			r, err := tx.Resource("p", id)
			if err != nil {
				return err
			}
			r.Usage, r.Status, r.Removed = 0, allot.StatusFrozen, true
			if err := tx.SaveResource(&r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.TenantVersion(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	for _, since := range []int64{0, v - 1} {
		var tenant, columns []allot.Resource
		err := s.read(ctx, func(tx *sql.Tx) error {
			var err error
			if tenant, err = queryTenantResources(ctx, tx, "p", since, 0); err != nil {
				return err
			}
			columns, err = queryResources(ctx, tx, "p", since, 0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int64]int{0: 200, v - 1: 2}[since]; len(tenant) != want || len(columns) != want {
			t.Fatalf("since %d: %d tenant-read rows, %d column rows, want %d", since, len(tenant), len(columns), want)
		}
		for i := range columns {
			if !reflect.DeepEqual(tenant[i], columns[i]) || tenant[i].ExpireTime != columns[i].ExpireTime {
				t.Fatalf("since %d, row %d:\ntenant read %+v\ncolumns     %+v", since, i, tenant[i], columns[i])
			}
		}
	}
}
