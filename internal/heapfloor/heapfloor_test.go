package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

var sink []byte

func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestKeepRaisesTheGoalAndStopRestoresIt: with a live heap far below the
// floor, the goal reaches the floor after a collection; once stopped, the
// GOGC of before is back and collections no longer change it.
func TestKeepRaisesTheGoalAndStopRestoresIt(t *testing.T) {
	before := gcPercent()
	const floor = 512 << 20
	if heapGoal() >= floor {
		t.Fatalf("the goal is %d before Keep: the test needs a small heap", heapGoal())
	}
	stop := Keep(floor)
	reached := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		for range 64 {
			sink = make([]byte, 64<<10) // garbage, so that cycles run
		}
		runtime.GC()
		if heapGoal() >= floor*9/10 {
			reached = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !reached {
		t.Fatalf("goal %d, want about %d", heapGoal(), floor)
	}
	if p := gcPercent(); p <= before {
		t.Fatalf("GOGC %d, want above %d", p, before)
	}
	stop()
	if p := gcPercent(); p != before {
		t.Fatalf("after stop: GOGC %d, want %d", p, before)
	}
	for range 3 {
		runtime.GC()
	}
	time.Sleep(50 * time.Millisecond) // cleanups run on their own goroutine
	if p := gcPercent(); p != before {
		t.Fatalf("collections after stop: GOGC %d, want %d", p, before)
	}
}

// TestKeepLeavesABigHeapAlone: a live heap past half the floor keeps the
// base GOGC.
func TestKeepLeavesABigHeapAlone(t *testing.T) {
	before := gcPercent()
	live := make([]byte, 8<<20)
	for i := range live {
		live[i] = 1 // touched, and reachable until the end
	}
	stop := Keep(4 << 20)
	defer stop()
	for range 3 {
		runtime.GC()
	}
	time.Sleep(50 * time.Millisecond)
	if p := gcPercent(); p != before {
		t.Fatalf("GOGC %d with a live heap past the floor, want %d", p, before)
	}
	runtime.KeepAlive(live)
}

// TestKeepRespectsGCOff: with the collector off, Keep changes nothing.
func TestKeepRespectsGCOff(t *testing.T) {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	stop := Keep(1 << 30)
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if p := gcPercent(); p != -1 {
		t.Fatalf("GOGC %d, want off", p)
	}
	stop()
	if p := gcPercent(); p != -1 {
		t.Fatalf("after stop: GOGC %d, want off", p)
	}
}

// TestKeepsOverlap: two overlapping Keeps share one keeper; GOGC comes back
// when the last one stops, and a second stop of the same call is a no-op.
func TestKeepsOverlap(t *testing.T) {
	before := gcPercent()
	a := Keep(512 << 20)
	b := Keep(1 << 20)
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	raised := gcPercent()
	if raised <= before {
		t.Fatalf("GOGC %d, want above %d (the first call's floor)", raised, before)
	}
	a()
	a()
	if p := gcPercent(); p <= before {
		t.Fatalf("one of two stopped: GOGC %d, want still raised", p)
	}
	b()
	if p := gcPercent(); p != before {
		t.Fatalf("both stopped: GOGC %d, want %d", p, before)
	}
}

// TestKeepFollowsTheLiveHeap: the GOGC set for a small heap goes back to
// the base after a collection finds the live heap past half the floor, and
// up again when it shrinks: each cycle re-reads it.
func TestKeepFollowsTheLiveHeap(t *testing.T) {
	before := gcPercent()
	stop := Keep(64 << 20)
	defer stop()
	if p := gcPercent(); p <= before {
		t.Fatalf("small heap: GOGC %d, want above %d", p, before)
	}
	live := make([]byte, 48<<20)
	waitFor(t, "GOGC back to the base with 48 MB live", func() bool { return gcPercent() == before })
	runtime.KeepAlive(live)
	live = nil
	waitFor(t, "GOGC raised again once the 48 MB are garbage", func() bool { return gcPercent() > before })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		time.Sleep(5 * time.Millisecond) // the cleanup runs on its own goroutine
		if cond() {
			return
		}
	}
	t.Fatalf("%s: GOGC %d", what, gcPercent())
}
