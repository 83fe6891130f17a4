package allot

import (
	"sync"
	"time"
)

// Clock is the one source of the time every rule reads: ledger timestamps,
// expiry checks of packages, tokens, access keys and admin keys, and
// everything scheduled. Production runs on WallClock; tests and test mode run
// on a ManualClock they can set, advance and freeze.
//
// The signature check is the exception: every SDK signs X-Sdk-Date with the
// real time, so the 15-minute skew is always measured against the wall
// clock, whatever Clock says.
type Clock interface {
	Now() time.Time
}

// WallClock is the real time.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// ManualClock is a clock that tests move. Unless frozen it runs at the wall
// clock's pace from where it was last set, so code that measures durations
// still sees time pass; frozen, it stands still until moved.
type ManualClock struct {
	mu     sync.Mutex
	base   time.Time // the clock's reading at wallAt
	wallAt time.Time // the wall-clock time of the last change
	frozen bool
	wall   func() time.Time
}

// NewManualClock returns a running clock that reads start now.
func NewManualClock(start time.Time) *ManualClock {
	c := &ManualClock{wall: time.Now}
	c.base, c.wallAt = start, c.wall()
	return c
}

// Now returns the clock's reading.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *ManualClock) nowLocked() time.Time {
	if c.frozen {
		return c.base
	}
	return c.base.Add(c.wall().Sub(c.wallAt))
}

// Set makes the clock read t now.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.wallAt = t, c.wall()
}

// Advance moves the clock on by d (back, when d is negative).
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.wallAt = c.nowLocked().Add(d), c.wall()
	return c.base
}

// Freeze stops the clock where it is (frozen true) or lets it run on from
// there (false).
func (c *ManualClock) Freeze(frozen bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.wallAt = c.nowLocked(), c.wall()
	c.frozen = frozen
}

// Frozen reports whether the clock stands still.
func (c *ManualClock) Frozen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frozen
}
