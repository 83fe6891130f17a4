package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/storetest"
)

// TestOrders runs the suite of the spec catalog and orders on a store
// whose clock the suite sets.
func TestOrders(t *testing.T) {
	storetest.RunOrders(t, func(t *testing.T, clock allot.Clock) allot.Store {
		s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
		s.Now = clock.Now
		return s
	})
}
