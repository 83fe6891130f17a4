package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"
)

// packFixture returns n resources of project p covering every enumeration,
// with and without expiry, order, sub-resource type and asset.
func packFixture(p string, n int) []allot.Resource {
	var rs []allot.Resource
	for i := range n {
		r := allot.Resource{
			ProjectID: p, ResourceID: fmt.Sprintf("r.%05d_x-y", i),
			ResourceType: fmt.Sprintf("type-%d", i%5),
			BusinessType: allot.BusinessTypes[i%len(allot.BusinessTypes)],
			ChargingMode: allot.ChargingModes[i%len(allot.ChargingModes)],
			Source:       allot.ResourceSources[i%len(allot.ResourceSources)],
			Unit:         allot.Units[i%len(allot.Units)],
			Amount:       allot.Quantity(i*7919) % allot.MaxResourceAmount,
			Status:       allot.ResourceStatus(i % 2),
			Priority:     i % 101,
		}
		r.Usage = r.Amount / 3
		if i%3 == 0 {
			r.OrderID = fmt.Sprintf("order-%d", i)
		}
		if i%4 != 0 {
			r.ExpireTime = time.Unix(int64(i)*86_400+int64(i%2)*2147483647, 0).UTC()
		}
		if i%5 == 0 {
			r.SubResourceType, r.IsSubResource = allot.SubResourceTypes[i%len(allot.SubResourceTypes)], true
		}
		if i%6 == 0 {
			r.BoundAsset = &allot.BoundAsset{AssetID: "asset", AssetName: fmt.Sprintf("a|b|%d|ü \"q\"", i)}
		}
		if i%7 == 0 {
			r.BoundAsset = &allot.BoundAsset{AssetID: "bare"}
		}
		rs = append(rs, r)
	}
	return rs
}

// columnRead is the oracle: every resource of p read column by column
// (queryResources, the read the other store operations use).
func columnRead(t *testing.T, s *Store, p string) []allot.Resource {
	t.Helper()
	var rs []allot.Resource
	err := s.read(context.Background(), func(tx *sql.Tx) (err error) {
		rs, err = queryResources(context.Background(), tx, p, 0, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func packVersion(t *testing.T, s *Store, p string) int64 {
	t.Helper()
	var v int64
	err := s.r.QueryRow(`SELECT version FROM tenant_packs WHERE project_id = ?`, p).Scan(&v)
	if err == sql.ErrNoRows {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sameResources(t *testing.T, what string, got, want []allot.Resource) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d resources, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) || got[i].ExpireTime != want[i].ExpireTime {
			t.Fatalf("%s, row %d:\ngot  %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

// TestTenantPack follows a big tenant's pack through its life: written by
// the import, read with the changes after it (updates, removals, new
// resources), rewritten once the changes have grown, ignored when it was
// written under another schema or does not decode, and gone with a wipe.
// Every full read is held to the column read of the same rows.
func TestTenantPack(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "allot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.packMin = 100
	check := func(what string) allot.TenantDelta {
		t.Helper()
		d, err := s.TenantChanges(ctx, "p", 0)
		if err != nil {
			t.Fatal(err)
		}
		sameResources(t, what, d.Resources, columnRead(t, s, "p"))
		return d
	}
	b := allot.ImportBatch{
		Projects: []allot.Project{
			{ID: "p", Name: "p", RegionID: "r", CreatedAt: time.Unix(0, 0)},
			{ID: "small", Name: "small", RegionID: "r", CreatedAt: time.Unix(0, 0)},
		},
		Resources: append(packFixture("p", 300), packFixture("small", 99)...),
	}
	if err := s.Import(ctx, b); err != nil {
		t.Fatal(err)
	}
	imported, err := s.TenantVersion(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if v := packVersion(t, s, "p"); v != imported {
		t.Fatalf("pack after import at version %d, want %d", v, imported)
	}
	if v := packVersion(t, s, "small"); v != 0 {
		t.Fatalf("a tenant below the pack size got a pack (version %d)", v)
	}
	check("right after the import")

	// A few changes: read through the pack, which stays as it was.
	change := func(ids ...string) {
		t.Helper()
		err := s.Update(ctx, []string{"p"}, func(tx allot.Tx) error {
			for _, id := range ids {
				r, err := tx.Resource("p", id)
				if err != nil {
					return err
				}
				r.Usage, r.Status, r.Removed = 0, allot.StatusFrozen, !r.Removed
				r.Priority = 7
				if err := tx.SaveResource(&r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	change("r.00003_x-y", "r.00150_x-y")
	more := allot.ImportBatch{Resources: packFixture("p", 320)[300:]}
	for i := range more.Resources {
		more.Resources[i].ResourceID += "-new"
	}
	if err := s.Import(ctx, more); err != nil {
		t.Fatal(err)
	}
	d := check("pack and 22 changes")
	if len(d.Resources) != 320 {
		t.Fatalf("%d resources, want 320", len(d.Resources))
	}
	s.packs.Wait()
	if v := packVersion(t, s, "p"); v != imported {
		t.Fatalf("pack rewritten after 22 changes of 320 (version %d, was %d)", v, imported)
	}

	// Changes past an eighth of the rows: the read rewrites the pack.
	var ids []string
	for i := 0; i < 60; i++ {
		ids = append(ids, fmt.Sprintf("r.%05d_x-y", i*5))
	}
	change(ids...)
	d = check("pack and 81 changes")
	s.packs.Wait()
	if v := packVersion(t, s, "p"); v != d.Version {
		t.Fatalf("pack at version %d after the read of version %d", v, d.Version)
	}
	check("the rewritten pack")

	// A pack written under another schema version, or one that does not
	// decode, is not used.
	var data []byte
	if err := s.r.QueryRow(`SELECT data FROM tenant_packs WHERE project_id = 'p'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	rs, version, _, err := tenantpack.Decode(data, "p")
	if err != nil {
		t.Fatal(err)
	}
	rs[0].Amount++ // a pack that would answer wrong, were it used
	for _, bad := range [][]byte{tenantpack.Encode(s.schema-1, version, rs), append(tenantpack.Encode(s.schema, version, rs), 0), data[:len(data)/2]} {
		if _, err := s.w.Exec(`UPDATE tenant_packs SET data = ? WHERE project_id = 'p'`, bad); err != nil {
			t.Fatal(err)
		}
		check("an unusable pack")
	}
	// The check above proves the pack is read: a pack of this schema
	// answers what it holds (here, a wrong amount).
	if _, err := s.w.Exec(`UPDATE tenant_packs SET data = ? WHERE project_id = 'p'`, tenantpack.Encode(s.schema, version, rs)); err != nil {
		t.Fatal(err)
	}
	if d, err := s.TenantChanges(ctx, "p", 0); err != nil || d.Resources[0].Amount != rs[0].Amount {
		t.Fatalf("the pack was not read: amount %d, the pack's %d (%v)", d.Resources[0].Amount, rs[0].Amount, err)
	}

	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM tenant_packs`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d packs after a wipe (%v)", n, err)
	}
}
