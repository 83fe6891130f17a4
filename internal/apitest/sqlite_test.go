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

func TestSQLiteShared(t *testing.T) {
	RunShared(t, func(t *testing.T) (allot.Store, allot.Store) {
		path := filepath.Join(t.TempDir(), "allot.db")
		var stores [2]allot.Store
		for i := range stores {
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		return stores[0], stores[1]
	})
}
