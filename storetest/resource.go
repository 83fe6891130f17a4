package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

func testImport(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		full := NewResource("customer-1", "r-b")
		full.BoundAsset = &allot.BoundAsset{AssetID: "asset-1", AssetName: "Asset 名 'one'"}
		full.ExpireTime = Epoch.AddDate(3, 0, 0)
		full.BusinessType, full.SubResourceType, full.IsSubResource = "FLEXUS_2D", "voice_clone_flexus", true
		full.ChargingMode, full.Source, full.Unit = "ON_DEMAND", allot.SourceSPAllocated, "MIN"
		full.Amount, full.Usage = allot.MaxResourceAmount, 1 // 1000000 and 0.000001
		full.Status = allot.StatusFrozen
		full.Removed = true // a cancelled package keeps its row
		sparse := NewResource("customer-1", "r-a")
		sparse.BoundAsset = &allot.BoundAsset{AssetID: "asset-2"} // bound, with no name
		sparse.ExpireTime = time.Time{}
		sparse.OrderID = ""
		sparse.Amount, sparse.Usage = allot.QuantityScale/2, 0
		bare := NewResource("customer-1", "r-c")
		bare.ExpireTime = time.Unix(0, 0).UTC() // set, and not the zero time
		bare.Amount, bare.Usage = 0, 0
		other := NewResource("p-2", "r-a") // resource ids are unique per project only
		other.OrderID = "order-of-p-2"
		largest := NewAssignment("a-2", "sp-1", "customer-1")
		largest.ResourceNum, largest.ResourceUsedNum = allot.MaxQuantity, 1
		largest.AllocateTime = time.Unix(0, 0).UTC()
		largest.ExpireTime = time.Unix(allot.MaxUnixSeconds, 0).UTC()
		largest.ChargingMode = "PERIODIC"
		largest.SPResourceID = "pool-1" // the SP's package it came from
		fraction := NewAssignment("a-1", "sp-1", "customer-1")
		fraction.ResourceNum, fraction.ResourceUsedNum = allot.QuantityScale/2, allot.QuantityScale/4
		fraction.ChargingMode = "ON_DEMAND"
		projects := []allot.Project{NewProject("sp-1", ""), NewProject("customer-1", "sp-1"), NewProject("p-2", "")}
		projects[2].CreatedAt = Epoch.AddDate(0, 0, 1)

		MustImport(t, s, allot.ImportBatch{
			Projects:    projects,
			Resources:   []allot.Resource{full, sparse, other, bare},
			Assignments: []allot.Assignment{largest, fraction},
		})

		for _, want := range projects {
			got, err := s.FindProject(t.Context(), want.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkProject(t, got, want)
		}
		d := MustTenantChanges(t, s, "customer-1", 0)
		checkProject(t, d.Project, projects[1])
		checkResources(t, d.Resources, []allot.Resource{full, sparse, bare})
		checkAssignments(t, d.Assignments, []allot.Assignment{largest, fraction})
		checkSeqs(t, d)
		d = MustTenantChanges(t, s, "p-2", 0)
		checkResources(t, d.Resources, []allot.Resource{other})
		checkAssignments(t, d.Assignments, nil)
	})

	t.Run("EveryEnumValue", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var rs []allot.Resource
		add := func(modify func(r *allot.Resource)) {
			r := NewResource("customer-1", fmt.Sprintf("r-%d", len(rs)))
			modify(&r)
			rs = append(rs, r)
		}
		for _, v := range allot.BusinessTypes {
			add(func(r *allot.Resource) { r.BusinessType = v })
		}
		for _, v := range allot.SubResourceTypes {
			add(func(r *allot.Resource) { r.BusinessType, r.SubResourceType, r.IsSubResource = "FLEXUS_2D", v, true })
		}
		for _, v := range allot.ChargingModes {
			add(func(r *allot.Resource) { r.ChargingMode = v })
		}
		for _, v := range allot.ResourceSources {
			add(func(r *allot.Resource) { r.Source = v })
		}
		for _, v := range allot.Units {
			add(func(r *allot.Resource) { r.Unit = v })
		}
		for _, v := range []allot.ResourceStatus{allot.StatusNormal, allot.StatusFrozen} {
			add(func(r *allot.Resource) { r.Status = v })
		}
		var as []allot.Assignment
		for i, v := range allot.ChargingModes {
			a := NewAssignment(fmt.Sprintf("a-%d", i), "sp-1", "customer-1")
			a.ChargingMode = v
			as = append(as, a)
		}
		MustImport(t, s, allot.ImportBatch{
			Projects:    []allot.Project{NewProject("sp-1", ""), NewProject("customer-1", "sp-1")},
			Resources:   rs,
			Assignments: as,
		})
		d := MustTenantChanges(t, s, "customer-1", 0)
		checkResources(t, d.Resources, rs)
		checkAssignments(t, d.Assignments, as)
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustImport(t, s, allot.ImportBatch{})
		if got, want := MustTenantVersion(t, s, "p-1"), int64(1); got != want {
			t.Fatalf("version: got %d, want %d", got, want)
		}
	})

	t.Run("SPLaterInBatch", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		customer, sp := NewProject("customer-1", "sp-1"), NewProject("sp-1", "")
		r := NewResource("customer-1", "r-1")
		a := NewAssignment("a-1", "sp-1", "customer-1")
		MustImport(t, s, allot.ImportBatch{
			Projects:    []allot.Project{customer, sp},
			Resources:   []allot.Resource{r},
			Assignments: []allot.Assignment{a},
		})
		d := MustTenantChanges(t, s, "customer-1", 0)
		checkProject(t, d.Project, customer)
		checkResources(t, d.Resources, []allot.Resource{r})
		checkAssignments(t, d.Assignments, []allot.Assignment{a})
	})

	t.Run("SameResourceIDInTwoProjects", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		MustCreateProject(t, s, NewProject("p-2", ""))
		MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{NewResource("p-1", "r-1")}})
		MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{NewResource("p-2", "r-1")}})
		wantCode(t, s.Import(t.Context(), allot.ImportBatch{Resources: []allot.Resource{NewResource("p-1", "r-1")}}), allot.ECONFLICT)
		for _, p := range []string{"p-1", "p-2"} {
			checkResources(t, MustTenantChanges(t, s, p, 0).Resources, []allot.Resource{NewResource(p, "r-1")})
		}
	})

	testImportErrors(t, open)

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		const writers, rows = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				var b allot.ImportBatch
				for i := range rows {
					b.Resources = append(b.Resources, NewResource("p-1", fmt.Sprintf("r-%d-%d", w, i)))
				}
				errs <- s.Import(t.Context(), b)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		d := MustTenantChanges(t, s, "p-1", 0)
		if got, want := d.Version, int64(1+writers); got != want {
			t.Errorf("version: got %d, want %d", got, want)
		}
		if got, want := len(d.Resources), writers*rows; got != want {
			t.Fatalf("got %d resources, want %d", got, want)
		}
		checkSeqs(t, d)
		// Each batch is one version, and its rows are contiguous in seq order.
		seen := make(map[int64]bool)
		for i, r := range d.Resources {
			if i > 0 && r.Version != d.Resources[i-1].Version && seen[r.Version] {
				t.Fatalf("rows of version %d are not contiguous: %v", r.Version, resourceIDs(d.Resources))
			}
			seen[r.Version] = true
		}
		if got, want := len(seen), writers; got != want {
			t.Errorf("got %d distinct row versions, want %d", got, want)
		}
	})
}

// checkSeqs fails the test unless Seq grows strictly within each list.
func checkSeqs(tb testing.TB, d allot.TenantDelta) {
	tb.Helper()
	for i := 1; i < len(d.Resources); i++ {
		if d.Resources[i].Seq <= d.Resources[i-1].Seq {
			tb.Errorf("resource seqs do not grow: %d after %d", d.Resources[i].Seq, d.Resources[i-1].Seq)
		}
	}
	for i := 1; i < len(d.Assignments); i++ {
		if d.Assignments[i].Seq <= d.Assignments[i-1].Seq {
			tb.Errorf("assignment seqs do not grow: %d after %d", d.Assignments[i].Seq, d.Assignments[i-1].Seq)
		}
	}
}
