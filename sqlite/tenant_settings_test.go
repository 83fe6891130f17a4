package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/storetest"
)

func TestTenantSettings(t *testing.T) {
	storetest.RunTenantSettings(t, func(t *testing.T) allot.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	})
}
