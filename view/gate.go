package view

import (
	"context"
	"sync"
	"time"
)

// versionGate lets concurrent requests of one tenant share version reads
// without giving up exactness.
//
// A request must see every write acknowledged before it arrived, so it may
// only use a read that started after its arrival. The gate runs at most one
// read at a time: a request that finds none running starts one; a request
// that finds one running (it started too early for it) joins the next read,
// which starts as soon as the running one ends and serves everyone who
// arrived meanwhile. Under load one read serves many requests; alone, a
// request costs exactly one read, as without the gate.
type versionGate struct {
	mu      sync.Mutex
	running bool
	next    *versionRead // joined by requests arriving while a read runs
}

type versionRead struct {
	fetch   func(context.Context) (int64, error)
	done    chan struct{}
	version int64
	err     error
}

// sharedReadTimeout bounds a read that serves several requests; it does not
// follow any one request's context, whose cancellation must not fail the
// others.
const sharedReadTimeout = 5 * time.Second

func (g *versionGate) read(ctx context.Context, fetch func(context.Context) (int64, error)) (int64, error) {
	g.mu.Lock()
	if !g.running {
		g.running = true
		g.mu.Unlock()
		v, err := fetch(ctx)
		g.finish()
		return v, err
	}
	if g.next == nil {
		g.next = &versionRead{done: make(chan struct{})}
	}
	r := g.next
	r.fetch = fetch
	g.mu.Unlock()
	select {
	case <-r.done:
		return r.version, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// finish ends the running read and starts the next one, if anyone is
// waiting for it.
func (g *versionGate) finish() {
	g.mu.Lock()
	r := g.next
	g.next = nil
	g.running = r != nil
	g.mu.Unlock()
	if r == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), sharedReadTimeout)
		r.version, r.err = r.fetch(ctx)
		cancel()
		close(r.done)
		g.finish()
	}()
}
