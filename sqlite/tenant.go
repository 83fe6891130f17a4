package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"
)

// TenantChanges implements allot.Store: the project and its resources and
// assignments changed after version since (everything when since <= 0),
// read in one transaction, in seq order. A full read of a tenant with a
// pack reads the pack and the changes after it (see internal/tenantpack).
func (s *Store) TenantChanges(ctx context.Context, projectID string, since int64) (allot.TenantDelta, error) {
	var (
		d      allot.TenantDelta
		repack bool
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		row, err := findProject(ctx, tx.StmtContext(ctx, s.projectStmt), projectID)
		if err != nil {
			return err
		}
		d.Project, d.Version = row.Project, row.version
		if since > 0 {
			d.Resources, err = queryTenantResources(ctx, tx, projectID, since, 0)
		} else {
			d.Resources, repack, err = s.readTenant(ctx, tx, projectID, row)
		}
		if err != nil {
			return err
		}
		d.Assignments, err = queryAssignments(ctx, tx, projectID, since)
		return err
	})
	if err != nil {
		return allot.TenantDelta{}, err
	}
	if repack {
		data := tenantpack.Encode(s.schema, d.Version, d.Resources)
		s.packs.Later(projectID, func(ctx context.Context) error {
			return s.write(ctx, func(tx *sql.Tx) error { return savePack(ctx, tx, projectID, d.Version, data) })
		})
	}
	return d, nil
}

// readTenant reads every resource of a project, from its pack and the
// changes after it when it has a usable pack. repack tells whether the
// project should get a new pack: it has none and is big enough, or the
// changes after its pack have grown to an eighth of its rows.
func (s *Store) readTenant(ctx context.Context, tx *sql.Tx, projectID string, p projectRow) (rs []allot.Resource, repack bool, err error) {
	base, version, err := s.readPack(ctx, tx, projectID, p.version)
	if err != nil {
		return nil, false, err
	}
	if base == nil {
		// A full read gets capacity for every row the project ever gained
		// (resources and assignments share the seq counter): an upper bound.
		rs, err = queryTenantResources(ctx, tx, projectID, 0, int(min(p.nextSeq-1, 1<<24)))
		return rs, err == nil && len(rs) >= s.packRows(), err
	}
	changed, err := queryTenantResources(ctx, tx, projectID, version, 0)
	if err != nil {
		return nil, false, err
	}
	rs = tenantpack.Merge(base, changed)
	return rs, len(changed) > 0 && len(changed)*8 >= len(rs), nil
}

// readPack returns the resources of projectID's pack and the version they
// are at, or nil if it has no pack this build can use: none, one of another
// schema or format, one that does not decode, or one newer than the
// project (which a project's growing version rules out; it is ignored
// rather than trusted).
func (s *Store) readPack(ctx context.Context, tx *sql.Tx, projectID string, current int64) ([]allot.Resource, int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT data FROM tenant_packs WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: read pack of %s: %w", projectID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, 0, rows.Err()
	}
	var data sql.RawBytes // decoded before the next call on rows: no copy
	if err := rows.Scan(&data); err != nil {
		return nil, 0, fmt.Errorf("sqlite: read pack of %s: %w", projectID, err)
	}
	rs, version, schema, err := tenantpack.Decode(data, projectID)
	if errors.Is(err, tenantpack.ErrBad) || schema != s.schema || version > current {
		return nil, 0, nil
	}
	return rs, version, err
}

// packRows is the number of resources from which a tenant gets a pack.
func (s *Store) packRows() int {
	if s.packMin > 0 {
		return s.packMin
	}
	return tenantpack.MinRows
}

// savePack stores data as projectID's pack at version, unless the pack it
// has is newer (two saves may finish out of order; either pack is exact).
func savePack(ctx context.Context, tx *sql.Tx, projectID string, version int64, data []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO tenant_packs (project_id, version, data) VALUES (?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET version = excluded.version, data = excluded.data
		WHERE excluded.version >= tenant_packs.version`, projectID, version, data)
	if err != nil {
		return fmt.Errorf("sqlite: save pack of %s: %w", projectID, err)
	}
	return nil
}
