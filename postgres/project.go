package postgres

import (
	"context"
	"errors"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

// CreateProject adds a project at version 1. ECONFLICT if the id exists;
// EINVALID if p is invalid or its SP project does not exist.
func (s *Store) CreateProject(ctx context.Context, p allot.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	// A single statement is a transaction of its own, retried like any
	// other on a conflict. The foreign key proves that the SP exists.
	err := retry(ctx, conflict, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO projects (id, name, region_id, sp_project_id, created_at, version, next_seq)
			VALUES ($1, $2, $3, $4, $5, 1, 1)`,
			p.ID, p.Name, p.RegionID, nullIfEmpty(p.SPProjectID), s.createdAt(p.CreatedAt))
		return err
	})
	return mapError(err, map[string]*allot.Error{
		"projects_pkey":  allot.Errorf(allot.ECONFLICT, "project %s exists already", p.ID),
		"projects_sp_fk": allot.Errorf(allot.EINVALID, "sp_project_id: project %s does not exist", p.SPProjectID),
		"23505":          allot.Errorf(allot.ECONFLICT, "project %s exists already", p.ID),
		"23503":          allot.Errorf(allot.EINVALID, "sp_project_id: project %s does not exist", p.SPProjectID),
	})
}

// FindProject returns a project. ENOTFOUND if it does not exist.
func (s *Store) FindProject(ctx context.Context, id string) (allot.Project, error) {
	p, _, _, err := scanProject(s.pool.QueryRow(ctx, projectQuery, id), id)
	return p, err
}

// projectQuery reads a project with its version and the number of rows it
// has gained (resources and assignments together), all from one row, so a
// snapshot read sees them as of the same moment.
const projectQuery = `SELECT id, name, region_id, COALESCE(sp_project_id, ''), created_at, version, next_seq - 1
	FROM projects WHERE id = $1`

// scanProject reads the row of projectQuery for project id.
func scanProject(row pgx.Row, id string) (p allot.Project, version, gained int64, err error) {
	var created int64
	err = row.Scan(&p.ID, &p.Name, &p.RegionID, &p.SPProjectID, &created, &version, &gained)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.Project{}, 0, 0, projectNotFound(id)
	}
	if err != nil {
		return allot.Project{}, 0, 0, err
	}
	p.CreatedAt = fromUnix(created)
	return p, version, gained, nil
}

// insertProjects writes new projects at version 1 in the order given: a
// service provider of the same batch must come before its customers
// (allot.Import orders them), or the foreign key fails.
func (s *Store) insertProjects(ctx context.Context, tx pgx.Tx, ps []allot.Project) error {
	for len(ps) > 0 {
		n := min(len(ps), insertChunk)
		ids, names, regions := make([]string, n), make([]string, n), make([]string, n)
		sps, created := make([]*string, n), make([]int64, n)
		for i, p := range ps[:n] {
			ids[i], names[i], regions[i] = p.ID, p.Name, p.RegionID
			sps[i], created[i] = nullIfEmpty(p.SPProjectID), s.createdAt(p.CreatedAt)
		}
		_, err := tx.Exec(ctx, `INSERT INTO projects (id, name, region_id, sp_project_id, created_at, version, next_seq)
			SELECT id, name, region_id, sp, created_at, 1, 1
			FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[]) AS t (id, name, region_id, sp, created_at)`,
			ids, names, regions, sps, created)
		if err != nil {
			// Which project failed is found after the rollback (explain).
			return mapError(err, map[string]*allot.Error{
				"projects_pkey":  allot.Errorf(allot.ECONFLICT, "a project of the batch exists already"),
				"projects_sp_fk": allot.Errorf(allot.EINVALID, "sp_project_id: a service provider of the batch does not exist"),
			})
		}
		ps = ps[n:]
	}
	return nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
