package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// TestTenantChangesFullReadOrderAndFields: the full read decodes every
// column of every row exactly and returns the rows in seq order even when
// the table holds them in another order (rows updated after they were
// written move in the heap).
func TestTenantChangesFullReadOrderAndFields(t *testing.T) {
	ctx := context.Background()
	s := pgtest.MustOpen(t)
	storetest.MustCreateProject(t, s, storetest.NewProject("p", ""))
	var want []allot.Resource
	for i := range 300 {
		r := storetest.NewResource("p", fmt.Sprintf("r-%03d", i))
		switch i % 4 {
		case 0:
			r.BoundAsset = &allot.BoundAsset{AssetID: "a-" + r.ResourceID, AssetName: fmt.Sprintf("name \"%d\" | ü", i)}
		case 1:
			r.OrderID, r.ExpireTime = "", time.Time{}
			r.SubResourceType, r.IsSubResource, r.BusinessType = "voice_clone_flexus", true, "FLEXUS_2D"
		case 2:
			r.Status, r.ChargingMode, r.Source, r.Unit = allot.StatusFrozen, "ON_DEMAND", allot.SourceAdminAllocated, "MIN"
			r.BoundAsset = &allot.BoundAsset{AssetID: "a-" + r.ResourceID}
		}
		r.Amount = allot.Quantity(i+1) * allot.QuantityScale / 4
		r.Usage = allot.Quantity(i) * allot.QuantityScale / 8
		want = append(want, r)
	}
	storetest.MustImport(t, s, allot.ImportBatch{Resources: want})
	// Update every tenth row: their new versions go to the end of their pages.
	err := s.Update(ctx, []string{"p"}, func(tx allot.Tx) error {
		for i := 0; i < len(want); i += 10 {
			r, err := tx.Resource("p", want[i].ResourceID)
			if err != nil {
				return err
			}
			r.Usage = 0
			if err := tx.SaveResource(&r); err != nil {
				return err
			}
			want[i].Usage = 0
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := postgres.PoolOf(s).Query(ctx, `SELECT seq FROM resources WHERE project_id = 'p'`)
	if err != nil {
		t.Fatal(err)
	}
	var physical []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			t.Fatal(err)
		}
		physical = append(physical, seq)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if slices.IsSorted(physical) {
		t.Fatal("fixture: the table returns the rows in seq order; the test needs them out of it")
	}

	d, err := s.TenantChanges(ctx, "p", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Resources) != len(want) {
		t.Fatalf("%d resources, want %d", len(d.Resources), len(want))
	}
	for i, got := range d.Resources {
		if got.Seq != int64(i+1) {
			t.Fatalf("resource %d has seq %d: not in seq order", i, got.Seq)
		}
		w := want[i]
		w.Seq, w.Version = got.Seq, got.Version
		if !reflect.DeepEqual(got, w) || got.ExpireTime != w.ExpireTime {
			t.Fatalf("resource %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	// The rows changed by the update are what a read after version 1 gets.
	delta, err := s.TenantChanges(ctx, "p", d.Version-1)
	if err != nil {
		t.Fatal(err)
	}
	if len(delta.Resources) != 30 || delta.Resources[0].ResourceID != "r-000" || delta.Resources[29].ResourceID != "r-290" {
		t.Fatalf("delta of %d resources: %+v", len(delta.Resources), delta.Resources)
	}
}

// TestTenantPacks runs the shared suite of tenant packs.
func TestTenantPacks(t *testing.T) {
	storetest.RunTenantPacks(t, func(t *testing.T) (allot.Store, storetest.Packs) {
		s := pgtest.MustOpen(t)
		return s, postgres.TenantPacks(t, s, 100)
	})
}
