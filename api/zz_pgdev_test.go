package api_test

import (
	"testing"

	"allot/postgres/pgtest"
)

func TestMain(m *testing.M) {
	openContractStore = func(t *testing.T) contractStore { return pgtest.MustOpen(t) }
	pgtest.Main(m)
}
