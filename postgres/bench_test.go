package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"allot"
	"allot/postgres"
	"allot/storetest"
)

// BenchmarkTenantVersion is the query every tenant request makes: one
// primary-key lookup on a cached prepared statement, from many goroutines.
func BenchmarkTenantVersion(b *testing.B) {
	s := postgres.MustOpen(b)
	storetest.MustCreateProject(b, s, storetest.NewProject("p-1", ""))
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer() // the schema and its migrations are not the query
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.TenantVersion(ctx, "p-1"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// bigProject is the size of the project the TenantChanges benchmarks read.
const bigProject = 100_000

// mustBigProject imports bigProject resources into project "big" in batches
// of 10,000 and logs how long the import took.
func mustBigProject(b *testing.B, s allot.Store) {
	b.Helper()
	storetest.MustCreateProject(b, s, storetest.NewProject("big", ""))
	start := time.Now()
	const batch = 10_000
	for n := 0; n < bigProject; n += batch {
		rs := make([]allot.Resource, batch)
		for i := range rs {
			rs[i] = storetest.NewResource("big", fmt.Sprintf("r-%06d", n+i))
		}
		storetest.MustImport(b, s, allot.ImportBatch{Resources: rs})
	}
	b.Logf("imported %d resources in %v", bigProject, time.Since(start).Round(time.Millisecond))
}

// BenchmarkTenantChangesFull reads a 100,000-resource project from version
// 0: what a node does when it first serves a big tenant.
func BenchmarkTenantChangesFull(b *testing.B) {
	s := postgres.MustOpen(b)
	mustBigProject(b, s)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		d, err := s.TenantChanges(ctx, "big", 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Resources) != bigProject {
			b.Fatalf("got %d resources, want %d", len(d.Resources), bigProject)
		}
	}
	b.ReportMetric(float64(bigProject)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkTenantChangesDelta reads the 10 newest resources of the same
// project: what a node does to catch up after a small write.
func BenchmarkTenantChangesDelta(b *testing.B) {
	s := postgres.MustOpen(b)
	mustBigProject(b, s)
	rs := make([]allot.Resource, 10)
	for i := range rs {
		rs[i] = storetest.NewResource("big", fmt.Sprintf("new-%d", i))
	}
	since := storetest.MustTenantVersion(b, s, "big")
	storetest.MustImport(b, s, allot.ImportBatch{Resources: rs})
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		d, err := s.TenantChanges(ctx, "big", since)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Resources) != len(rs) {
			b.Fatalf("got %d resources, want %d", len(d.Resources), len(rs))
		}
	}
}
