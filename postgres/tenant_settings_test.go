package postgres_test

import (
	"testing"

	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// TestTenantSettings runs the suite of tenant settings, usage reads and
// user quotas.
func TestTenantSettings(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunTenantSettings(t, open)
}
