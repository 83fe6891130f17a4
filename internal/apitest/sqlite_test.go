package apitest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
)

func TestSQLite(t *testing.T) {
	Run(t, func(t *testing.T) allot.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "allot.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
