package sqlite_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/storetest"
)

// BenchmarkReserveCommit measures reserve+commit pairs through
// allot.Service on one package, from goroutines running in parallel: two
// transactions per pair, to set beside BenchmarkConsume's one. Hot runs
// GOMAXPROCS goroutines like BenchmarkConsume/Hot, Hot64 64 like
// BenchmarkConsume/Hot64 (as 64 HTTP connections would send).
func BenchmarkReserveCommit(b *testing.B) {
	for _, c := range []struct {
		name        string
		parallelism int // goroutines in all
	}{{"Hot", 1}, {"Hot64", 64}} {
		b.Run(c.name, func(b *testing.B) {
			s := MustOpen(b, filepath.Join(benchDir(b), "allot.db"))
			res := storetest.NewResource("p-1", "hot")
			res.ExpireTime, res.Amount, res.Usage = time.Time{}, allot.MaxResourceAmount, 0
			storetest.MustImport(b, s, allot.ImportBatch{Projects: []allot.Project{storetest.NewProject("p-1", "")}, Resources: []allot.Resource{res}})
			benchReserveCommit(b, &allot.Service{Store: s}, "p-1", "hot", c.parallelism)
		})
	}
}

// benchReserveCommit reserves 2 units of resourceID and commits 1, from
// RunParallel goroutines.
func benchReserveCommit(b *testing.B, svc *allot.Service, project, resourceID string, parallelism int) {
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, parallelism/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("k-", n.Add(1))
			v, err := svc.Reserve(b.Context(), admin, allot.ReserveRequest{ProjectID: project, ResourceID: resourceID, Amount: 2, TTL: 600, IdempotencyKey: key})
			if err == nil {
				_, err = svc.Commit(b.Context(), admin, allot.CommitRequest{ReservationID: v.ReservationID, Amount: 1, IdempotencyKey: key})
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
