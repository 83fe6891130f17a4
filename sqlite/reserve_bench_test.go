package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/storetest"
)

// BenchmarkReserveCommit measures reserve+commit pairs through
// allot.Service on one package, from goroutines running in parallel: two
// transactions per pair, to set beside BenchmarkConsume/Hot's one.
func BenchmarkReserveCommit(b *testing.B) {
	s := MustOpen(b, filepath.Join(benchDir(b), "allot.db"))
	res := storetest.NewResource("p-1", "hot")
	res.ExpireTime, res.Amount, res.Usage = time.Time{}, allot.MaxResourceAmount, 0
	storetest.MustImport(b, s, allot.ImportBatch{Projects: []allot.Project{storetest.NewProject("p-1", "")}, Resources: []allot.Resource{res}})
	svc := &allot.Service{Store: s}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("k-", n.Add(1))
			v, err := svc.Reserve(b.Context(), admin, allot.ReserveRequest{ProjectID: "p-1", ResourceID: "hot", Amount: 2, TTL: 600, IdempotencyKey: key})
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
