// Package apitest is the end-to-end suite of allot's tenant API: it starts a
// real server on a loopback port over a real store and drives it with the
// official Huawei Cloud Go SDK and with plain HTTP. Each store's tests call
// Run with their own opener, so every store passes the same suite.
package apitest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/allot-dev/allot"
)

// fixture is the data every run starts from. Expected answers are computed
// from it by the oracle in oracle.go, never by the code under test.
type fixture struct {
	batch allot.ImportBatch
	// byProject lists each project's resources in insertion order, which is
	// the documented list order.
	byProject map[string][]allot.Resource
}

const (
	tenantA  = "tenant-a" // many varied resources, customer of spProj
	tenantB  = "tenant-b" // shares resource ids with tenantA
	tenantC  = "tenant-c" // no resources at all
	spProj   = "sp-1"
	regionID = "cn-north-4"
)

var baseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newFixture() *fixture {
	rng := rand.New(rand.NewPCG(7, 11))
	f := &fixture{byProject: map[string][]allot.Resource{}}
	f.batch.Projects = []allot.Project{
		{ID: spProj, Name: "Service provider", RegionID: regionID, CreatedAt: baseTime},
		{ID: tenantA, Name: "Tenant A", RegionID: regionID, SPProjectID: spProj, CreatedAt: baseTime},
		{ID: tenantB, Name: "Tenant B", RegionID: "cn-east-3", CreatedAt: baseTime},
		{ID: tenantC, Name: "Tenant C", RegionID: regionID, CreatedAt: baseTime},
	}
	types := []string{"VOICE_CLONE_NUM", "VIDEO_2D_MIN", "Interaction.basic.channel", "TTS_CHARS", "ASSET_GB"}
	for _, p := range []struct {
		id string
		n  int
	}{{tenantA, 240}, {tenantB, 40}} {
		for i := range p.n {
			r := allot.Resource{
				ProjectID:    p.id,
				ResourceID:   fmt.Sprintf("res-%04d", i),
				ResourceType: types[rng.IntN(len(types))],
				BusinessType: allot.BusinessTypes[rng.IntN(len(allot.BusinessTypes))],
				ChargingMode: allot.ChargingModes[rng.IntN(len(allot.ChargingModes))],
				Source:       allot.ResourceSources[rng.IntN(len(allot.ResourceSources))],
				Unit:         allot.Units[rng.IntN(len(allot.Units))],
				Status:       allot.ResourceStatus(rng.IntN(2)),
			}
			r.Amount = allot.Quantity(rng.Int64N(1_000_000)) * 1000 // thousandths of a unit
			r.Usage = allot.Quantity(rng.Int64N(int64(r.Amount) + 1))
			if rng.IntN(10) > 0 { // some resources never expire
				r.ExpireTime = baseTime.Add(time.Duration(rng.IntN(400*24)) * time.Hour)
			}
			if rng.IntN(3) == 0 {
				r.OrderID = fmt.Sprintf("order-%d", rng.IntN(20))
			}
			if rng.IntN(5) == 0 {
				r.BoundAsset = &allot.BoundAsset{AssetID: fmt.Sprintf("asset-%d", i)}
				if rng.IntN(2) == 0 {
					r.BoundAsset.AssetName = "Anchor " + fmt.Sprint(i)
				}
			}
			if rng.IntN(4) == 0 {
				r.IsSubResource = true
				r.SubResourceType = allot.SubResourceTypes[rng.IntN(len(allot.SubResourceTypes))]
			}
			f.batch.Resources = append(f.batch.Resources, r)
			f.byProject[p.id] = append(f.byProject[p.id], r)
		}
	}
	specs := []string{"spec.channel", "spec.video", "spec.voice"}
	for i := range 23 {
		num := allot.Quantity(rng.Int64N(5000)) * allot.QuantityScale / 4 // quarters of a unit
		f.batch.Assignments = append(f.batch.Assignments, allot.Assignment{
			RecordID:          fmt.Sprintf("assign-%03d", i),
			SPProjectID:       spProj,
			CustomerProjectID: tenantA,
			ResourceSpecCode:  specs[rng.IntN(len(specs))],
			ChargingMode:      allot.ChargingModes[rng.IntN(len(allot.ChargingModes))],
			ResourceNum:       num,
			ResourceUsedNum:   allot.Quantity(rng.Int64N(int64(num) + 1)),
			AllocateTime:      baseTime.Add(time.Duration(i) * time.Hour),
			ExpireTime:        baseTime.Add(time.Duration(i+1000) * time.Hour),
		})
	}
	return f
}
