package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"
	"github.com/allot-dev/allot/storetest"
)

// TestTenantPacks runs the shared suite of tenant packs.
func TestTenantPacks(t *testing.T) {
	storetest.RunTenantPacks(t, func(t *testing.T) (allot.Store, storetest.Packs) {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "allot.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.packMin = 100
		fatal := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		return s, storetest.Packs{
			MinRows: s.packMin,
			Wait:    s.packs.Wait,
			Version: func(p string) int64 {
				var v int64
				err := s.r.QueryRow(`SELECT version FROM tenant_packs WHERE project_id = ?`, p).Scan(&v)
				if errors.Is(err, sql.ErrNoRows) {
					return 0
				}
				fatal(err)
				return v
			},
			Data: func(p string) (data []byte) {
				fatal(s.r.QueryRow(`SELECT data FROM tenant_packs WHERE project_id = ?`, p).Scan(&data))
				return data
			},
			SetData: func(p string, data []byte) {
				_, err := s.w.Exec(`UPDATE tenant_packs SET data = ? WHERE project_id = ?`, data, p)
				fatal(err)
			},
			Encode: func(shift int, version int64, rs []allot.Resource) []byte {
				return tenantpack.Encode(s.schema+shift, version, rs)
			},
			Decode: func(data []byte, p string) ([]allot.Resource, int64, error) {
				rs, version, _, err := tenantpack.Decode(data, p)
				return rs, version, err
			},
			Columns: func(p string) (rs []allot.Resource) {
				fatal(s.read(context.Background(), func(tx *sql.Tx) (err error) {
					rs, err = queryResources(context.Background(), tx, p, 0, 0)
					return err
				}))
				return rs
			},
		}
	})
}
