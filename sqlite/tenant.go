package sqlite

import (
	"context"
	"database/sql"

	"allot"
)

// TenantChanges returns a project, its version and its rows changed after
// version since, all read in one transaction so that the version and the
// rows come from the same snapshot: a caller that caches the result under
// Version never misses a row committed between two queries.
func (s *Store) TenantChanges(ctx context.Context, projectID string, since int64) (allot.TenantDelta, error) {
	var d allot.TenantDelta
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if d.Project, d.Version, err = findProject(ctx, tx.StmtContext(ctx, s.projectStmt), projectID); err != nil {
			return err
		}
		if d.Resources, err = queryResources(ctx, tx, projectID, since); err != nil {
			return err
		}
		d.Assignments, err = queryAssignments(ctx, tx, projectID, since)
		return err
	})
	if err != nil {
		return allot.TenantDelta{}, err
	}
	return d, nil
}
