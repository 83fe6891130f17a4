package view

import (
	"context"
	"sync/atomic"
	"time"
)

// buildSlot bounds the filter builds of one tenant: one at a time, and
// together at most about half of the time. It is shared by the tenant's
// snapshots.
//
// Why: a build scans the tenant's rows (half a millisecond for 100,000), so
// a client sending a big tenant a new filter on every request could keep a
// processor busy. Worse, with one processor the Go scheduler polls the
// network only when it has nothing else to run (or every 10 ms): requests
// of other tenants would wait unread behind the builds. So a tenant's next
// build starts no sooner than its last one took after that one ended, and
// builds wait for their turn by sleeping, which leaves the scheduler idle
// between them, free to poll. Only the tenant sending the filters waits;
// other tenants' requests, and this tenant's requests for lists already
// built, do not.
type buildSlot struct {
	busy atomic.Bool
	next atomic.Int64 // monotonic time (see since) before which no build starts
	last atomic.Int64 // how long the last build took
}

// A waiting build sleeps until the slot may be free again: while a build
// runs, for twice as long as the last one took (the running one likely
// takes as long, and then the slot stays closed as long again), within
// these bounds. Fewer wake-ups leave more of the processor to others.
const (
	minBuildWait = 100 * time.Microsecond
	maxBuildWait = 5 * time.Millisecond
)

var epoch = time.Now()

// since returns a monotonic clock reading.
func since() int64 { return int64(time.Since(epoch)) }

// acquire takes the slot, waiting while another build of the tenant holds it
// or the tenant's last build was too recent. It returns the time taken, to
// pass to release, or ctx's error if ctx ends first.
func (b *buildSlot) acquire(ctx context.Context) (int64, error) {
	for {
		now := since()
		next := b.next.Load()
		if now >= next && b.busy.CompareAndSwap(false, true) {
			return now, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		wait := time.Duration(next - now)
		if b.busy.Load() {
			wait = 2 * time.Duration(b.last.Load())
		}
		time.Sleep(min(max(wait, minBuildWait), maxBuildWait))
	}
}

// release frees the slot taken at start: the tenant's next build may start
// once as much time has passed again.
func (b *buildSlot) release(start int64) {
	now := since()
	b.last.Store(now - start)
	b.next.Store(now + (now - start))
	b.busy.Store(false)
}
