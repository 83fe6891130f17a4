package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"allot"
	"allot/storetest"
)

// BenchmarkTenantVersion measures the query every tenant request makes.
func BenchmarkTenantVersion(b *testing.B) {
	s := MustOpen(b, filepath.Join(b.TempDir(), "allot.db"))
	for i := range 100 {
		storetest.MustCreateProject(b, s, storetest.NewProject(fmt.Sprintf("p-%d", i), ""))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.TenantVersion(b.Context(), "p-42"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTenantChangesFull reads all of a project with 100,000 resources,
// next to a second project of the same size.
func BenchmarkTenantChangesFull(b *testing.B) {
	const n = 100_000
	s := MustOpen(b, filepath.Join(b.TempDir(), "allot.db"))
	for _, p := range []string{"p-1", "p-2"} {
		storetest.MustCreateProject(b, s, storetest.NewProject(p, ""))
		storetest.MustImport(b, s, allot.ImportBatch{Resources: resources(p, 0, n)})
	}
	b.ReportAllocs()
	for b.Loop() {
		d, err := s.TenantChanges(b.Context(), "p-1", 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Resources) != n {
			b.Fatalf("got %d resources, want %d", len(d.Resources), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkImport measures write throughput in batches of 1,000 resources.
func BenchmarkImport(b *testing.B) {
	const batch = 1000
	s := MustOpen(b, filepath.Join(b.TempDir(), "allot.db"))
	storetest.MustCreateProject(b, s, storetest.NewProject("p-1", ""))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		storetest.MustImport(b, s, allot.ImportBatch{Resources: resources("p-1", i*batch, batch)})
		i++
	}
	b.ReportMetric(float64(i*batch)/b.Elapsed().Seconds(), "rows/s")
}

func resources(projectID string, from, n int) []allot.Resource {
	rs := make([]allot.Resource, n)
	for i := range rs {
		rs[i] = storetest.NewResource(projectID, fmt.Sprintf("r-%07d", from+i))
		rs[i].BoundAsset = &allot.BoundAsset{AssetID: fmt.Sprintf("asset-%d", from+i), AssetName: "an asset"}
	}
	return rs
}
