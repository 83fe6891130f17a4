package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"

	"github.com/jackc/pgx/v5"
)

// A big tenant's full read takes its pack and the rows changed after it
// (internal/tenantpack). The pack is read in the same batch as the project,
// and the batch's full read of the resources runs only when the project has
// no pack (a one-time filter: with a pack, the scan does not start), so a
// tenant without one costs the round trip it always did.

const (
	packQuery = `SELECT data FROM tenant_packs WHERE project_id = $1`
	// unpackedResourcesQuery is tenantAllResourcesQuery for a project
	// without a pack.
	unpackedResourcesQuery = tenantAllResourcesQuery + ` AND NOT EXISTS (SELECT 1 FROM tenant_packs WHERE project_id = $1)`
	savePackSQL            = `INSERT INTO tenant_packs (project_id, version, data) VALUES ($1, $2, $3)
		ON CONFLICT (project_id) DO UPDATE SET version = excluded.version, data = excluded.data
		WHERE excluded.version >= tenant_packs.version`
)

// packRows is the number of resources from which a tenant gets a pack.
func (s *Store) packRows() int {
	if s.packMin > 0 {
		return s.packMin
	}
	return tenantpack.MinRows
}

// usablePack decodes the pack the batch read (nil if the project has
// none) and returns its resources and version, or nil if it is of no use:
// of another schema or format, malformed, or newer than the project (which
// a project's growing version rules out; it is ignored rather than
// trusted).
func (s *Store) usablePack(data []byte, projectID string, current int64) ([]allot.Resource, int64, error) {
	if data == nil {
		return nil, 0, nil
	}
	rs, version, schema, err := tenantpack.Decode(data, projectID)
	if errors.Is(err, tenantpack.ErrBad) || int64(schema) != s.schema || version > current {
		return nil, 0, nil
	}
	return rs, version, err
}

// readPacked finishes a full read of a project that has a pack: the rows
// changed after the usable pack base, at version, or every row when the
// pack is of no use (base nil). repack tells whether the project should get
// a new pack.
func (s *Store) readPacked(ctx context.Context, tx pgx.Tx, projectID string, base []allot.Resource, version int64, hint int) (rs []allot.Resource, repack bool, err error) {
	if base == nil {
		rows, err := tx.Query(ctx, tenantAllResourcesQuery, projectID)
		if err != nil {
			return nil, false, err
		}
		rs, err = readTenantResources(rows, projectID, hint)
		return rs, err == nil && len(rs) >= s.packRows(), err
	}
	rows, err := tx.Query(ctx, changedResourcesQuery, projectID, version)
	if err != nil {
		return nil, false, err
	}
	changed, err := readTenantResources(rows, projectID, 0)
	if err != nil {
		return nil, false, err
	}
	rs = tenantpack.Merge(base, changed)
	return rs, len(changed) > 0 && len(changed)*8 >= len(rs), nil
}

// savePackLater saves the pack of rs, projectID's resources at version, in
// the background.
func (s *Store) savePackLater(projectID string, version int64, rs []allot.Resource) {
	data := tenantpack.Encode(int(s.schema), version, rs)
	s.packs.Later(projectID, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, savePackSQL, projectID, version, data)
		return err
	})
}

// packImported writes, in the import's transaction, the pack of every
// project the import gave packRows resources or more.
func (t *importTx) packImported() error {
	for projectID, n := range t.added {
		if n < t.s.packRows() {
			continue
		}
		var version int64
		if err := t.tx.QueryRow(t.ctx, `SELECT version FROM projects WHERE id = $1`, projectID).Scan(&version); err != nil {
			return fmt.Errorf("postgres: version of %s: %w", projectID, err)
		}
		rows, err := t.tx.Query(t.ctx, tenantAllResourcesQuery, projectID)
		if err != nil {
			return err
		}
		rs, err := readTenantResources(rows, projectID, n)
		if err != nil {
			return err
		}
		if _, err := t.tx.Exec(t.ctx, savePackSQL, projectID, version, tenantpack.Encode(int(t.s.schema), version, rs)); err != nil {
			return fmt.Errorf("postgres: save pack of %s: %w", projectID, err)
		}
	}
	return nil
}
