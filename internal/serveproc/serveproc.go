// Package serveproc tunes the Go runtime for a process that serves allot:
// allot serve, and the benchmark's profiled servers, which must run as it
// does. A library embedding allot in someone else's process (allottest)
// leaves the runtime alone.
package serveproc

import (
	"runtime"

	"github.com/allot-dev/allot/internal/heapfloor"
)

// MinProcs is the fewest Ps a server runs with.
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
const MinProcs = 2

// HeapFloor is the least heap goal a server lets the garbage collector aim
// for (internal/heapfloor): one holding few tenants otherwise collects
// every few milliseconds under load. Past half of it, GOGC works as usual;
// GOGC=off is kept.
const HeapFloor = 64 << 20

// Tune raises GOMAXPROCS to MinProcs unless the environment sets it, and
// keeps the heap floor until undo is called.
func Tune(getenv func(string) string) (undo func()) {
	if getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < MinProcs {
		runtime.GOMAXPROCS(MinProcs)
	}
	return heapfloor.Keep(HeapFloor)
}
