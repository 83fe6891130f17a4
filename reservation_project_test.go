package allot

import (
	"fmt"
	"testing"
)

// TestProjectCache holds the cache of reservations' projects to its bound:
// what was put is found until two generations have filled up after it, and
// it never holds more than two generations.
func TestProjectCache(t *testing.T) {
	var c projectCache
	if _, ok := c.get("rsv-1"); ok {
		t.Fatal("empty cache found rsv-1")
	}
	n := 3*projectCacheSize + 7
	for i := range n {
		c.put(fmt.Sprintf("rsv-%d", i), fmt.Sprintf("p%d", i%5))
		if got := len(c.cur) + len(c.prev); got > 2*projectCacheSize {
			t.Fatalf("after %d puts the cache holds %d ids, more than %d", i+1, got, 2*projectCacheSize)
		}
	}
	// The newest projectCacheSize+7 ids are there with their projects; the
	// oldest, put two generations ago, are gone.
	for i := n - projectCacheSize - 7; i < n; i++ {
		p, ok := c.get(fmt.Sprintf("rsv-%d", i))
		if want := fmt.Sprintf("p%d", i%5); !ok || p != want {
			t.Fatalf("rsv-%d: %q %v, want %q", i, p, ok, want)
		}
	}
	for i := range projectCacheSize {
		if _, ok := c.get(fmt.Sprintf("rsv-%d", i)); ok {
			t.Fatalf("rsv-%d is still there after two generations", i)
		}
	}
}
