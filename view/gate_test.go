package view

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestVersionGateIsExact: every read returns a version at least as new as
// the last write acknowledged before the read began, while concurrent reads
// share fetches.
func TestVersionGateIsExact(t *testing.T) {
	var g versionGate
	var version, acked, fetches atomic.Int64
	fetch := func(context.Context) (int64, error) {
		fetches.Add(1)
		v := version.Load()
		time.Sleep(200 * time.Microsecond) // a slow query: others arrive meanwhile
		return v, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the writer: commit, then acknowledge
		for ctx.Err() == nil {
			version.Add(1)
			acked.Store(version.Load())
			time.Sleep(50 * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				seen := acked.Load()
				v, err := g.read(context.Background(), fetch)
				reads.Add(1)
				if err != nil || v < seen {
					t.Errorf("read %d after write %d was acknowledged (%v)", v, seen, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if f, r := fetches.Load(), reads.Load(); f >= r {
		t.Fatalf("%d fetches for %d reads: nothing was shared", f, r)
	}
}
