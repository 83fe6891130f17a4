package view

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
)

func TestTmpProf(t *testing.T) {
	runtime.MemProfileRate = 64
	s, err := sqlite.Open(context.Background(), "/tmp/viewbench/bench.db")
	if err != nil {
		t.Fatal(err)
	}
	r := New(s, 0)
	for i := 1; i < 2001; i++ {
		if _, err := r.ListResources(context.Background(), fmt.Sprintf("bench-%06d", i), benchFilter, allot.Page{Limit: 10}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	f, _ := os.Create("/tmp/viewbench/heap.out")
	pprof.WriteHeapProfile(f)
	f.Close()
	runtime.KeepAlive(r)
}
