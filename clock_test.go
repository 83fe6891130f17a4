package allot

import (
	"testing"
	"time"
)

// TestManualClock: set, advance and freeze move the reading exactly; a
// running clock moves with the wall clock, a frozen one does not. The wall
// clock is a fake, so nothing waits.
func TestManualClock(t *testing.T) {
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	c := &ManualClock{wall: func() time.Time { return wall }}
	c.Set(start)
	check := func(want time.Time) {
		t.Helper()
		if got := c.Now(); !got.Equal(want) {
			t.Fatalf("Now() = %v, want %v", got, want)
		}
	}
	check(start)
	wall = wall.Add(3 * time.Second) // running: follows the wall clock
	check(start.Add(3 * time.Second))
	if got := c.Advance(720 * time.Hour); !got.Equal(start.Add(3*time.Second + 720*time.Hour)) {
		t.Fatalf("Advance returned %v", got)
	}
	c.Freeze(true)
	frozenAt := start.Add(3*time.Second + 720*time.Hour)
	wall = wall.Add(time.Hour) // frozen: the wall clock does not move it
	check(frozenAt)
	c.Advance(-time.Minute)
	check(frozenAt.Add(-time.Minute))
	c.Freeze(false)
	wall = wall.Add(2 * time.Second)
	check(frozenAt.Add(-time.Minute + 2*time.Second))
	c.Set(start)
	check(start)
	if c.Frozen() {
		t.Fatal("Frozen() after Freeze(false)")
	}
}
