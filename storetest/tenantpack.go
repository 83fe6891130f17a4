package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// Packs are what RunTenantPacks needs of a store besides allot.Store: its
// hooks on the tenant packs (internal/tenantpack) it keeps.
type Packs struct {
	// MinRows is the store's pack size for this test: a tenant of MinRows
	// resources or more gets a pack.
	MinRows int
	// Wait waits for the packs the store saves in the background.
	Wait func()
	// Version returns the version of projectID's pack, 0 if it has none.
	Version func(projectID string) int64
	// Data and SetData read and replace the blob of projectID's pack.
	Data    func(projectID string) []byte
	SetData func(projectID string, data []byte)
	// Encode and Decode are the pack codec under the store's schema
	// version; Encode's schema shift is added to it.
	Encode func(schemaShift int, version int64, rs []allot.Resource) []byte
	Decode func(data []byte, projectID string) ([]allot.Resource, int64, error)
	// Columns reads every resource of projectID from its columns, in seq
	// order: the oracle.
	Columns func(projectID string) []allot.Resource
}

// VariedResources returns n resources of project p covering every
// enumeration, with and without expiry, order, sub-resource type and
// asset (whose name may hold '|', quotes and non-ASCII).
func VariedResources(p string, n int) []allot.Resource {
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

// RunTenantPacks follows a big tenant's pack through its life: written by
// the import, read with the changes after it (updates, removals, new
// resources), rewritten once the changes have grown, ignored when it was
// written under another schema or does not decode, and gone with a wipe.
// Every full read (TenantChanges since 0) is held to the column read of
// the same rows.
func RunTenantPacks(t *testing.T, open func(t *testing.T) (allot.Store, Packs)) {
	s, packs := open(t)
	l := mustLedger(t, s)
	ctx := t.Context()
	n := packs.MinRows
	check := func(what string) allot.TenantDelta {
		t.Helper()
		d, err := s.TenantChanges(ctx, "p", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := packs.Columns("p")
		if len(d.Resources) != len(want) {
			t.Fatalf("%s: %d resources, want %d", what, len(d.Resources), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(d.Resources[i], want[i]) || d.Resources[i].ExpireTime != want[i].ExpireTime {
				t.Fatalf("%s, row %d:\ngot  %+v\nwant %+v", what, i, d.Resources[i], want[i])
			}
		}
		return d
	}
	MustImport(t, s, allot.ImportBatch{
		Projects:  []allot.Project{NewProject("p", ""), NewProject("small", "")},
		Resources: append(VariedResources("p", n+n/2), VariedResources("small", n-1)...),
	})
	imported, err := s.TenantVersion(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if v := packs.Version("p"); v != imported {
		t.Fatalf("pack after import at version %d, want %d", v, imported)
	}
	if v := packs.Version("small"); v != 0 {
		t.Fatalf("a tenant below the pack size got a pack (version %d)", v)
	}
	check("right after the import")

	change := func(ids ...string) {
		t.Helper()
		err := l.Update(ctx, []string{"p"}, func(tx allot.Tx) error {
			for _, id := range ids {
				r, err := tx.Resource("p", id)
				if err != nil {
					return err
				}
				r.Usage, r.Status, r.Removed, r.Priority = 0, allot.StatusFrozen, !r.Removed, 7
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
	// A few changes (under an eighth of the rows): read through the pack,
	// which stays as it was.
	rows := n + n/2
	change("r.00003_x-y", "r.00010_x-y")
	more := VariedResources("p", rows+rows/20)[rows:]
	for i := range more {
		more[i].ResourceID += "-new"
	}
	MustImport(t, s, allot.ImportBatch{Resources: more})
	rows += len(more)
	d := check("pack and a few changes")
	if len(d.Resources) != rows {
		t.Fatalf("%d resources, want %d", len(d.Resources), rows)
	}
	packs.Wait()
	if v := packs.Version("p"); v != imported {
		t.Fatalf("pack rewritten after %d changes of %d (version %d, was %d)", 2+len(more), rows, v, imported)
	}

	// Changes past an eighth of the rows: the read rewrites the pack.
	var ids []string
	for i := 0; i < rows/6; i++ {
		ids = append(ids, fmt.Sprintf("r.%05d_x-y", i*5%(n+n/2)))
	}
	change(ids...)
	d = check("pack and many changes")
	packs.Wait()
	if v := packs.Version("p"); v != d.Version {
		t.Fatalf("pack at version %d after the read of version %d", v, d.Version)
	}
	check("the rewritten pack")

	// A pack of this schema is read: one that holds a wrong amount
	// answers it. One written under another schema version, or that does
	// not decode, is not used.
	data := packs.Data("p")
	rs, version, err := packs.Decode(data, "p")
	if err != nil {
		t.Fatal(err)
	}
	rs[0].Amount++
	packs.SetData("p", packs.Encode(0, version, rs))
	if d, err := s.TenantChanges(ctx, "p", 0); err != nil || d.Resources[0].Amount != rs[0].Amount {
		t.Fatalf("the pack was not read: amount %d, the pack's %d (%v)", d.Resources[0].Amount, rs[0].Amount, err)
	}
	for _, bad := range [][]byte{packs.Encode(-1, version, rs), append(packs.Encode(0, version, rs), 0), data[:len(data)/2]} {
		packs.SetData("p", bad)
		check("an unusable pack")
		packs.Wait() // the read saves a new pack; the next bad one replaces it
	}

	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if v := packs.Version("p"); v != 0 {
		t.Fatalf("a pack (version %d) after a wipe", v)
	}
}
