package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
	"github.com/allot-dev/allot/storetest"
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
// next to a second project of the same size: from the pack the import
// wrote, then from the columns, with no pack.
func BenchmarkTenantChangesFull(b *testing.B) {
	const n = 100_000
	s := MustOpen(b, filepath.Join(b.TempDir(), "allot.db"))
	for _, p := range []string{"p-1", "p-2"} {
		storetest.MustCreateProject(b, s, storetest.NewProject(p, ""))
		storetest.MustImport(b, s, allot.ImportBatch{Resources: resources(p, 0, n)})
	}
	read := func(b *testing.B) {
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
	b.Run("pack", read)
	if err := sqlite.WithoutPacks(s); err != nil {
		b.Fatal(err)
	}
	b.Run("columns", read)
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

// BenchmarkConsume measures consumes through allot.Service, each with its
// own idempotency key, from goroutines running in parallel: Hot on one
// package, Spread over 1,000 packages in 100 projects. Hot64 and Spread64
// run 64 goroutines at once (32 per GOMAXPROCS on two CPUs), as 64 HTTP
// connections would: what group commit is for.
func BenchmarkConsume(b *testing.B) {
	for _, c := range []struct {
		name               string
		projects, packages int
		parallelism        int // goroutines per GOMAXPROCS
	}{{"Hot", 1, 1, 1}, {"Spread", 100, 10, 1}, {"Hot64", 1, 1, 64}, {"Spread64", 100, 10, 64}} {
		b.Run(c.name, func(b *testing.B) {
			s := MustOpen(b, filepath.Join(benchDir(b), "allot.db"))
			var refs []allot.ResourceRef
			var batch allot.ImportBatch
			for p := range c.projects {
				pid := fmt.Sprintf("p-%03d", p)
				batch.Projects = append(batch.Projects, storetest.NewProject(pid, ""))
				for r := range c.packages {
					res := storetest.NewResource(pid, fmt.Sprintf("r-%02d", r))
					res.ExpireTime, res.Amount, res.Usage = time.Time{}, allot.MaxResourceAmount, 0
					batch.Resources = append(batch.Resources, res)
					refs = append(refs, allot.ResourceRef{ProjectID: pid, ResourceID: res.ResourceID})
				}
			}
			storetest.MustImport(b, s, batch)
			svc := &allot.Service{Store: s}
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(max(1, c.parallelism/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					ref := refs[int(i)%len(refs)]
					_, err := svc.Consume(b.Context(), admin, allot.ConsumeRequest{ProjectID: ref.ProjectID, ResourceID: ref.ResourceID,
						Amount: 1, IdempotencyKey: fmt.Sprint("k-", i)})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "consumes/s")
		})
	}
}

// benchDir returns a new directory for a benchmark's database: under
// $ALLOT_BENCH_DIR when set (to compare disks, or a tmpfs such as /dev/shm
// to leave out the cost of fsync), else under the default temporary
// directory.
func benchDir(b *testing.B) string {
	parent := os.Getenv("ALLOT_BENCH_DIR")
	if parent == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "allot-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// BenchmarkDrift audits 50,000 imported resources and their ledger
// entries: one pass over both tables, not a join of one with the other.
func BenchmarkDrift(b *testing.B) {
	const n = 50_000
	s := MustOpen(b, filepath.Join(benchDir(b), "allot.db"))
	storetest.MustCreateProject(b, s, storetest.NewProject("p-1", ""))
	storetest.MustImport(b, s, allot.ImportBatch{Resources: resources("p-1", 0, n)})
	for b.Loop() {
		d, err := s.Drift(b.Context())
		if err != nil || len(d) != 0 {
			b.Fatalf("drift %v: %v", d, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
}
