package sqlite

import (
	"context"
	"database/sql"

	"github.com/allot-dev/allot"
)

// TenantChanges returns a project, its version and its rows changed after
// version since, all read in one transaction so that the version and the
// rows come from the same snapshot: a caller that caches the result under
// Version never misses a row committed between two queries.
func (s *Store) TenantChanges(ctx context.Context, projectID string, since int64) (allot.TenantDelta, error) {
	var d allot.TenantDelta
	err := s.read(ctx, func(tx *sql.Tx) error {
		row, err := findProject(ctx, tx.StmtContext(ctx, s.projectStmt), projectID)
		if err != nil {
			return err
		}
		d.Project, d.Version = row.Project, row.version
		// A full read gets capacity for every row the project ever gained
		// (resources and assignments share the seq counter): an upper bound.
		// A delta is small and grows as it needs.
		var n int
		if since <= 0 {
			n = int(min(row.nextSeq-1, 1<<24))
		}
		if d.Resources, err = queryTenantResources(ctx, tx, projectID, since, n); err != nil {
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
