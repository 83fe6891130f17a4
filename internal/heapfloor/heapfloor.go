// Package heapfloor keeps the garbage collector's heap goal from falling
// below a floor, for a server whose live heap is small.
//
// Why: with GOGC=100 the collector runs each time the heap doubles its live
// size. A server holding 10 MB that allocates 8 KB per request then runs a
// collection every thousand or so requests, and each cycle pays a fixed
// cost (scanning every goroutine's stack, shrinking the stacks it finds
// oversized, which the next request grows back). Measured with allotbench
// (server on one CPU, 64 connections, a tenant of 100 resources): the
// collector took 6% of the server's CPU and a request cost 34.6 µs, against
// 1.4% and 29.2 µs once a 100,000-row tenant was loaded too; GOGC=400 gave
// the small tenant 21% more requests per second. A floor gives a small
// heap the headroom a big one has anyway, and changes nothing once the live
// heap is past half of it, so a server holding every tenant uses no more
// memory than before.
package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// keeper adjusts GOGC after every collection.
type keeper struct {
	floor   uint64
	base    int // the GOGC in force when Keep was called
	stopped atomic.Bool
	mu      sync.Mutex
	percent int // what was last set
	sample  []metrics.Sample
}

// Keep raises GOGC after each collection, as far as needed for the next
// heap goal to be at least floor bytes, and never below the GOGC in force
// when it was called. It does nothing when that GOGC is off (negative).
// GOGC is the whole process's: calls that overlap share the first call's
// keeper (its floor), and the stop of the last one restores the GOGC of
// before. allot serve calls it; a library embedding allot in someone
// else's process does not.
func Keep(floor uint64) (stop func()) {
	active.mu.Lock()
	defer active.mu.Unlock()
	if active.users == 0 {
		active.k = start(floor)
	}
	active.users++
	var once sync.Once
	return func() {
		once.Do(func() {
			active.mu.Lock()
			defer active.mu.Unlock()
			if active.users--; active.users == 0 && active.k != nil {
				active.k.stop()
				active.k = nil
			}
		})
	}
}

// active is the process's keeper and how many Keeps share it.
var active struct {
	mu    sync.Mutex
	users int
	k     *keeper
}

func start(floor uint64) *keeper {
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}} // -1, as a uint64, when off
	metrics.Read(gogc)
	base := int(int64(gogc[0].Value.Uint64()))
	if base < 0 || floor == 0 {
		return nil
	}
	k := &keeper{floor: floor, base: base, percent: base,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	k.arm()
	k.adjust()
	return k
}

func (k *keeper) stop() {
	k.stopped.Store(true)
	k.mu.Lock()
	defer k.mu.Unlock()
	debug.SetGCPercent(k.base)
}

// arm makes the collection that finds a new object unreachable call adjust
// and arm again: an object the program no longer points to is the runtime's
// own notice that a cycle has run.
func (k *keeper) arm() {
	runtime.AddCleanup(new([16]byte), func(k *keeper) {
		if k.stopped.Load() {
			return
		}
		k.adjust()
		k.arm()
	}, k)
}

// adjust sets GOGC so that the next goal, live*(1+GOGC/100), reaches the
// floor.
func (k *keeper) adjust() {
	metrics.Read(k.sample)
	live := k.sample[0].Value.Uint64()
	// Before the first collection the figure is 0; a heap that small aims
	// for the floor all the same.
	live = max(live, 1<<20)
	want := k.base
	if live*uint64(100+k.base)/100 < k.floor {
		want = int(k.floor*100/live) - 100
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped.Load() {
		return
	}
	// Setting GOGC is cheap but not free; a change of less than a tenth is
	// not worth it, except back to the base.
	if want != k.percent && (want == k.base || absDiff(want, k.percent)*10 > k.percent) {
		debug.SetGCPercent(want)
		k.percent = want
	}
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
