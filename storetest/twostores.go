package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// RunShared runs the suite of stores that share one database, as the
// processes or nodes of one deployment do. open returns two stores, each
// opened on its own (its own connections, pools and statements) on the same
// new, empty database, and registers their cleanup with t; both implement
// allot.LedgerStore.
func RunShared(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	t.Run("SeesWrites", func(t *testing.T) {
		t.Parallel()
		testSharedSeesWrites(t, open)
	})
	t.Run("Revocation", func(t *testing.T) {
		t.Parallel()
		testSharedRevocation(t, open)
	})
	t.Run("ConcurrentConsume", func(t *testing.T) {
		t.Parallel()
		testSharedConsume(t, open)
	})
	t.Run("ConcurrentExpiry", func(t *testing.T) {
		t.Parallel()
		testSharedExpiry(t, open)
	})
	t.Run("Reservations", func(t *testing.T) {
		t.Parallel()
		testSharedReservations(t, open)
	})
}

// testSharedExpiry runs the sweeper of two nodes at once over the same
// overdue holds: each hold is released exactly once, with one hold_expired
// entry, and the two sweeps together count each once.
func testSharedExpiry(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	first, second := open(t)
	ctx := context.Background()
	MustCreateProject(t, first, NewProject("tenant", ""))
	svcs := []*allot.Service{{Store: mustLedger(t, first)}, {Store: mustLedger(t, second)}}
	if _, err := svcs[0].AddPackage(ctx, admin, pkg("tenant", "hot", "VIDEO_2D_MIN", 100, future)); err != nil {
		t.Fatal(err)
	}
	const holds = 30
	for i := range holds {
		if _, err := svcs[i%2].Reserve(ctx, admin, allot.ReserveRequest{ProjectID: "tenant", ResourceID: "hot", Amount: units(1), TTL: 60,
			IdempotencyKey: fmt.Sprint("job-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Both sweep as if an hour had passed (ExpireHolds takes the time it
	// compares with), so nothing waits for a clock.
	later := time.Now().Add(time.Hour)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		n     [2]int
	)
	for i, svc := range svcs {
		wg.Go(func() {
			<-start
			var err error
			if n[i], err = svc.ExpireHolds(ctx, later); err != nil {
				t.Errorf("sweeper %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n[0]+n[1] != holds {
		t.Fatalf("the sweepers expired %d and %d, want %d in all", n[0], n[1], holds)
	}
	es, _, err := svcs[1].Store.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "tenant", ResourceID: "hot", Page: allot.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	expired := map[string]int{}
	for _, e := range es {
		if e.Op == allot.OpHoldExpired {
			expired[e.Ref]++
		}
	}
	if len(expired) != holds {
		t.Fatalf("%d reservations have hold_expired entries, want %d", len(expired), holds)
	}
	for ref, c := range expired {
		if c != 1 {
			t.Errorf("reservation %s expired %d times", ref, c)
		}
	}
	if d := mustDrift(t, svcs[0].Store); len(d) != 0 {
		t.Fatalf("drift: %+v", d)
	}
}

// testSharedSeesWrites: a write acknowledged by one store is seen by the
// next read of the other, both ways.
func testSharedSeesWrites(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	first, second := open(t)
	want := MustCreateProject(t, first, NewProject("p-1", ""))
	got, err := second.FindProject(t.Context(), "p-1")
	if err != nil {
		t.Fatalf("the second store does not see the first's project: %v", err)
	}
	checkProject(t, got, want)
	r := NewResource("p-1", "r-1")
	MustImport(t, second, allot.ImportBatch{Resources: []allot.Resource{r}})
	if got := MustTenantVersion(t, first, "p-1"); got != 2 {
		t.Fatalf("the first store sees version %d after the second's import, want 2", got)
	}
	checkResources(t, MustTenantChanges(t, first, "p-1", 1).Resources, []allot.Resource{r})
}

// testSharedConsume has eight goroutines on each store consume one unit
// each from the same package, which has fewer units than there are
// attempts; every key is sent once by each store, at about the same time.
// No attempt may fail with anything but ECONFLICT (the package is used
// up): a store whose transaction meets the other's lock waits or retries.
// The package must end with exactly as much usage as there were distinct
// accepted keys, never more than its amount, each key counted once, and the
// ledger must agree.
func testSharedConsume(t *testing.T, open func(t *testing.T) (first, second allot.Store)) {
	first, second := open(t)
	stores := []allot.Store{first, second}
	ctx := context.Background()
	MustCreateProject(t, first, NewProject("tenant", ""))
	const amount, perStore, perWorker = 40, 8, 7 // 56 distinct keys for 40 units
	if _, err := (&allot.Service{Store: mustLedger(t, first)}).AddPackage(ctx, admin, pkg("tenant", "hot", "VIDEO_2D_MIN", amount, future)); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		accepted = map[string]int{} // key -> answers that were not replays
		replays  int
		wg       sync.WaitGroup
		start    = make(chan struct{})
	)
	for _, s := range stores {
		svc := &allot.Service{Store: mustLedger(t, s)}
		for w := range perStore {
			wg.Go(func() {
				<-start
				for i := range perWorker {
					key := fmt.Sprintf("w%d-%d", w, i) // the other store's worker w sends it too
					out, err := svc.Consume(ctx, admin, allot.ConsumeRequest{ProjectID: "tenant", ResourceID: "hot", Amount: units(1), IdempotencyKey: key})
					switch allot.ErrorCodeOf(err) {
					case "":
						mu.Lock()
						if out.Replayed {
							replays++
						} else {
							accepted[key]++
						}
						mu.Unlock()
					case allot.ECONFLICT: // the package is used up
					default:
						t.Errorf("consume %s: %v", key, err)
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for key, n := range accepted {
		if n != 1 {
			t.Errorf("key %s was counted %d times", key, n)
		}
	}
	if got, want := len(accepted), amount; got != want {
		t.Errorf("%d distinct keys accepted, want %d (every attempt fits until the package is used up)", got, want)
	}
	for i, s := range stores {
		d := MustTenantChanges(t, s, "tenant", 0)
		if len(d.Resources) != 1 {
			t.Fatalf("store %d: %d resources", i, len(d.Resources))
		}
		if r := d.Resources[0]; r.Usage != units(int64(len(accepted))) || r.Usage > r.Amount {
			t.Fatalf("store %d: usage %s with %d keys accepted, amount %s", i, r.Usage, len(accepted), r.Amount)
		}
	}
	l := mustLedger(t, second)
	_, n, err := l.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "tenant", ResourceID: "hot", Page: allot.Page{Limit: 1}})
	if err != nil || n != 1+len(accepted) {
		t.Fatalf("%d ledger entries for hot (%v), want the purchase and %d consumes", n, err, len(accepted))
	}
	if d := mustDrift(t, l); len(d) != 0 {
		t.Fatalf("drift: %+v", d)
	}
	t.Logf("%d keys accepted, %d replays answered", len(accepted), replays)
}
