package main

import (
	"runtime"

	"github.com/allot-dev/allot/internal/heapfloor"
)

// minServeProcs is the fewest Ps allot serve runs with.
//
// Why not one, on one CPU: a write group's leader (see allot.Group) blocks
// its thread in the commit's fsync while every other writer waits for its
// answer. With a single P, the runtime hands that P to the HTTP goroutines
// during the fsync, and when the fsync returns the leader queues behind all
// of them for the P: the goroutine everyone waits for runs last. Measured
// with `allotbench consume` (server pinned to one CPU by taskset, 64
// connections, SQLite): GOMAXPROCS=1 gave about 1,500 consumes/s with a p99
// of 600 ms and the CPU a third idle; GOMAXPROCS=2 on the same single CPU
// gave about 4,000/s with a p99 of 40 ms. An explicit GOMAXPROCS is kept.
const minServeProcs = 2

// ensureServeProcs raises GOMAXPROCS to minServeProcs unless the
// environment sets it.
func ensureServeProcs(getenv func(string) string) {
	if getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minServeProcs {
		runtime.GOMAXPROCS(minServeProcs)
	}
}

// serveHeapFloor is the least heap goal allot serve lets the garbage
// collector aim for (internal/heapfloor): a server holding few tenants
// otherwise collects every few milliseconds under load. Past half of it,
// GOGC works as usual; GOGC=off is kept.
const serveHeapFloor = 64 << 20

// tuneServeRuntime applies both and returns what undoes the heap floor.
func tuneServeRuntime(getenv func(string) string) (undo func()) {
	ensureServeProcs(getenv)
	return heapfloor.Keep(serveHeapFloor)
}
