package storetest

import (
	"context"
	"testing"

	"github.com/allot-dev/allot"
)

// pinger is the readiness check every store offers beside allot.Store: nil
// when the store can serve, an error saying why not otherwise (no answer,
// or a database schema other than the one this build's migrations make).
type pinger interface {
	Ping(ctx context.Context) error
}

// testPing checks what the suite can reach of Ping through the interface;
// a schema changed under a running store needs raw SQL, so each store
// tests that itself.
func testPing(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		if err := openPinger(t, open).Ping(t.Context()); err != nil {
			t.Fatalf("Ping on a new store: %v", err)
		}
	})

	t.Run("ErrCanceled", func(t *testing.T) {
		t.Parallel()
		p := openPinger(t, open)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := p.Ping(ctx); err == nil {
			t.Fatal("Ping with a cancelled context succeeded")
		}
		if err := p.Ping(t.Context()); err != nil {
			t.Fatalf("Ping after a cancelled one: %v", err)
		}
	})
}

// openPinger opens a store and returns its Ping, failing the test if it
// has none.
func openPinger(t *testing.T, open func(t *testing.T) allot.Store) pinger {
	t.Helper()
	s := open(t)
	p, ok := s.(pinger)
	if !ok {
		t.Fatalf("%T has no method Ping(context.Context) error", s)
	}
	return p
}
