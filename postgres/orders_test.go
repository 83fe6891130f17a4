package postgres_test

import (
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// TestOrders runs the suite of the spec catalog and orders on a store
// whose clock the suite sets.
func TestOrders(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunOrders(t, func(t *testing.T, clock allot.Clock) allot.Store {
		s := pgtest.MustOpen(t)
		s.Now = clock.Now
		return s
	})
}
