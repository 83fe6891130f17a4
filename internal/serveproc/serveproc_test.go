package serveproc

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestTune: one P becomes MinProcs unless GOMAXPROCS is set; the heap floor
// raises GOGC for this small test heap and undo puts it back.
func TestTune(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	before := gcPercent()

	runtime.GOMAXPROCS(1)
	undo := Tune(func(string) string { return "" })
	if n := runtime.GOMAXPROCS(0); n != MinProcs {
		t.Fatalf("GOMAXPROCS %d, want %d", n, MinProcs)
	}
	if p := gcPercent(); p <= before {
		t.Fatalf("GOGC %d under the floor, want above %d", p, before)
	}
	undo()
	if p := gcPercent(); p != before {
		t.Fatalf("after undo: GOGC %d, want %d", p, before)
	}

	runtime.GOMAXPROCS(1)
	undo = Tune(func(k string) string {
		if k == "GOMAXPROCS" {
			return "1"
		}
		return ""
	})
	defer undo()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("GOMAXPROCS=1 in the environment: %d Ps, want 1", n)
	}
}
