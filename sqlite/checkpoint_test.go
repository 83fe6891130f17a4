package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
)

// TestCheckpointsOffTheCommitPath: a commit that takes the WAL far past
// SQLite's own checkpoint threshold (1,000 pages) returns with the database
// file untouched, and the pages reach the file afterwards, with no other
// request, while the store stays open.
func TestCheckpointsOffTheCommitPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func() int64 {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return info.Size()
	}
	before := size()
	var b allot.ImportBatch
	b.Projects = []allot.Project{{ID: "p1", Name: "p1", RegionID: "r", CreatedAt: time.Unix(0, 0)}}
	for i := range 20_000 {
		b.Resources = append(b.Resources, allot.Resource{ProjectID: "p1", ResourceID: fmt.Sprintf("r%06d", i), ResourceType: "T",
			BusinessType: "LIVE_2D", ChargingMode: "ONE_TIME", Source: allot.SourcePurchased, Unit: "NUM", Amount: allot.QuantityScale})
	}
	if err := s.Import(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if wal.Size() < 1000*4096 {
		t.Fatalf("the WAL holds %d bytes: the test needs more than 1,000 pages", wal.Size())
	}
	if after := size(); after != before {
		t.Fatalf("the database file went from %d to %d bytes during the commit: the commit checkpointed", before, after)
	}
	for deadline := time.Now().Add(15 * time.Second); size() == before; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the database file still has %d bytes: no checkpoint ran", before)
		}
	}
	page, err := s.TenantChanges(context.Background(), "p1", 0)
	if err != nil || len(page.Resources) != 20_000 {
		t.Fatalf("after the checkpoint: %d resources, %v", len(page.Resources), err)
	}
}
