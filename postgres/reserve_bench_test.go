package postgres_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// benchReserveCommit reserves 2 units of one package and commits 1 per
// operation through allot.Service, from RunParallel goroutines: two
// transactions per pair, to set beside benchConsume's one.
func benchReserveCommit(b *testing.B, parallelism int) {
	s := pgtest.MustOpen(b)
	ctx := b.Context()
	svc := &allot.Service{Store: s}
	admin := allot.Actor{ID: "bench", Role: allot.RoleAdmin}
	storetest.MustCreateProject(b, s, storetest.NewProject("p-0", ""))
	_, err := svc.AddPackage(ctx, admin, allot.PackageRequest{ProjectID: "p-0", ResourceID: "pkg", Source: allot.SourcePurchased,
		OrderID: "o-p-0", ResourceType: "MIN", BusinessType: "VIDEO_2D", ChargingMode: "ON_DEMAND", Unit: "MIN",
		Amount: allot.MaxResourceAmount})
	if err != nil {
		b.Fatal(err)
	}
	var ops atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, parallelism/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("k", ops.Add(1))
			v, err := svc.Reserve(ctx, admin, allot.ReserveRequest{ProjectID: "p-0", ResourceID: "pkg", Amount: 2, TTL: 600, IdempotencyKey: key})
			if err == nil {
				_, err = svc.Commit(ctx, admin, allot.CommitRequest{ReservationID: v.ReservationID, Amount: 1, IdempotencyKey: key})
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkReserveCommitHot is beside BenchmarkConsumeHot: every goroutine
// on the same package.
func BenchmarkReserveCommitHot(b *testing.B) { benchReserveCommit(b, 1) }

// BenchmarkReserveCommitHot64 is BenchmarkReserveCommitHot from 64
// goroutines, beside BenchmarkConsumeHot64.
func BenchmarkReserveCommitHot64(b *testing.B) { benchReserveCommit(b, 64) }
