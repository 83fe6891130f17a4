package api

import (
	"sync"

	"golang.org/x/time/rate"

	"github.com/allot-dev/allot"
)

// limiter keeps one token bucket per credential (access key, token project
// or admin key). Buckets are made only after authentication succeeds, so
// their number is bounded by the number of real credentials.
type limiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(perSecond))
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, buckets: make(map[string]*rate.Limiter)}
}

// allow takes a token for key, or returns ERATELIMIT.
func (l *limiter) allow(key string) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	if !b.Allow() {
		return allot.Errorf(allot.ERATELIMIT, "too many requests for this credential: the limit is %g per second (burst %d)", float64(l.rate), l.burst)
	}
	return nil
}
