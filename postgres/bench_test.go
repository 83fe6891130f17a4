package postgres_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// BenchmarkTenantVersion is the query every tenant request makes: one
// primary-key lookup on a cached prepared statement, from many goroutines.
func BenchmarkTenantVersion(b *testing.B) {
	s := pgtest.MustOpen(b)
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "consumes/s")
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
// 0: what a node does when it first serves a big tenant. First from the
// pack its import wrote, then from the columns, with no pack.
func BenchmarkTenantChangesFull(b *testing.B) {
	s := pgtest.MustOpen(b)
	mustBigProject(b, s)
	ctx := b.Context()
	read := func(b *testing.B) {
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
	b.Run("pack", read)
	if err := postgres.WithoutPacks(s); err != nil {
		b.Fatal(err)
	}
	b.Run("columns", read)
}

// BenchmarkTenantChangesDelta reads the 10 newest resources of the same
// project: what a node does to catch up after a small write.
func BenchmarkTenantChangesDelta(b *testing.B) {
	s := pgtest.MustOpen(b)
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

// benchConsume consumes one millionth per operation through allot.Service
// from RunParallel goroutines; project picks the project of a goroutine.
func benchConsume(b *testing.B, project func(worker int64) string, projects, parallelism int) {
	s := pgtest.MustOpen(b)
	ctx := b.Context()
	svc := &allot.Service{Store: s}
	admin := allot.Actor{ID: "bench", Role: allot.RoleAdmin}
	for i := range projects {
		p := fmt.Sprintf("p-%d", i)
		storetest.MustCreateProject(b, s, storetest.NewProject(p, ""))
		_, err := svc.AddPackage(ctx, admin, allot.PackageRequest{ProjectID: p, ResourceID: "pkg", Source: allot.SourcePurchased,
			OrderID: "o-" + p, ResourceType: "MIN", BusinessType: "VIDEO_2D", ChargingMode: "ON_DEMAND", Unit: "MIN",
			Amount: allot.MaxResourceAmount})
		if err != nil {
			b.Fatal(err)
		}
	}
	var workers, ops atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, parallelism/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		p := project(workers.Add(1))
		for pb.Next() {
			key := fmt.Sprint("k", ops.Add(1))
			if _, err := svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: p, ResourceID: "pkg", Amount: 1, IdempotencyKey: key}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "consumes/s")
}

// BenchmarkConsumeHot has every goroutine consume from the same package:
// the project's row lock makes them take turns.
func BenchmarkConsumeHot(b *testing.B) {
	benchConsume(b, func(int64) string { return "p-0" }, 1, 1)
}

// BenchmarkConsumeHot64 is BenchmarkConsumeHot from 64 goroutines, as 64
// HTTP connections would send: what group commit is for.
func BenchmarkConsumeHot64(b *testing.B) {
	benchConsume(b, func(int64) string { return "p-0" }, 1, 64)
}

// BenchmarkConsumeSpread gives each goroutine a project of its own: nothing
// is shared but the database.
func BenchmarkConsumeSpread(b *testing.B) {
	const projects = 64
	benchConsume(b, func(w int64) string { return fmt.Sprintf("p-%d", w%projects) }, projects, 1)
}

// BenchmarkConsumeSpread64 is BenchmarkConsumeSpread from 64 goroutines.
func BenchmarkConsumeSpread64(b *testing.B) {
	const projects = 64
	benchConsume(b, func(w int64) string { return fmt.Sprintf("p-%d", w%projects) }, projects, 64)
}
