package allot

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy is how a store runs a transaction again after the database
// aborted it for a conflict that running it again may resolve: a
// serialization failure or deadlock (PostgreSQL 40001/40P01, which
// CockroachDB also uses for every conflict it cannot resolve itself), or a
// SQLite file that another process kept locked past the busy timeout. Both
// stores use the one policy, DefaultRetry.
type RetryPolicy struct {
	// MaxTries bounds the runs in all.
	MaxTries int
	// FirstBackoff is the pause after the first failure; each later pause
	// doubles, up to MaxBackoff. Every pause is drawn uniformly below its
	// bound (full jitter), so writers who collided do not collide again in
	// step.
	FirstBackoff, MaxBackoff time.Duration
}

// DefaultRetry is the policy of every store.
var DefaultRetry = RetryPolicy{MaxTries: 10, FirstBackoff: 2 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}

// Do runs fn until it succeeds, fails with an error retryable does not
// accept, has run MaxTries times, or ctx ends. fn must derive everything it
// writes from its inputs and what it reads in its transaction.
func (p RetryPolicy) Do(ctx context.Context, retryable func(error) bool, fn func() error) error {
	backoff := p.FirstBackoff
	for try := 1; ; try++ {
		err := fn()
		if err == nil || !retryable(err) || try >= p.MaxTries {
			return err
		}
		t := time.NewTimer(time.Millisecond + rand.N(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, p.MaxBackoff)
	}
}
