package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

const projectColumns = `id, name, region_id, COALESCE(sp_project_id, ''), created_at`

// CreateProject adds a project at version 1.
func (s *Store) CreateProject(ctx context.Context, p allot.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.CreatedAt = s.now(p.CreatedAt)
	return s.write(ctx, func(tx *sql.Tx) error { return insertProject(ctx, tx, &p) })
}

// insertProject inserts a validated project. Its SP must exist already.
func insertProject(ctx context.Context, tx *sql.Tx, p *allot.Project) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO projects (id, name, region_id, sp_project_id, created_at, version, next_seq)
		VALUES (?, ?, ?, ?, ?, 1, 1)`,
		p.ID, p.Name, p.RegionID, nullString(p.SPProjectID), p.CreatedAt.Unix())
	switch constraint(err) {
	case 0:
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return allot.Errorf(allot.ECONFLICT, "project %s exists already", p.ID)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return spNotFound(p.ID, p.SPProjectID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert project %s: %w", p.ID, err)
	}
	return nil
}

func spNotFound(id, spID string) error {
	return allot.Errorf(allot.EINVALID, "project %s: sp_project_id: project %s does not exist", id, spID)
}

// FindProject returns a project.
func (s *Store) FindProject(ctx context.Context, id string) (allot.Project, error) {
	ctx, err := lookup(ctx)
	if err != nil {
		return allot.Project{}, err
	}
	row, err := findProject(ctx, s.projectStmt, id)
	return row.Project, err
}

// TenantVersion returns a project's version. It is the one query every tenant
// request makes, so it is a single primary-key lookup on a prepared
// statement, and between two commits of any process it is answered from the
// versions read since the last one (walstamp.go).
func (s *Store) TenantVersion(ctx context.Context, projectID string) (int64, error) {
	ctx, err := lookup(ctx)
	if err != nil {
		return 0, err
	}
	var h walHeader
	stamped := s.stamp != nil && s.stamp.read(&h)
	if stamped {
		if v, ok := s.versions.get(&h, projectID); ok {
			return v, nil
		}
	}
	var v int64
	err = s.versionStmt.QueryRowContext(ctx, projectID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, projectNotFound(projectID)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: tenant version %s: %w", projectID, err)
	}
	if stamped {
		s.versions.put(&h, projectID, v)
	}
	return v, nil
}

// projectRow is a project with the counters the store keeps on it.
type projectRow struct {
	allot.Project
	version int64
	nextSeq int64
}

// findProject runs the prepared project query.
func findProject(ctx context.Context, stmt *sql.Stmt, id string) (projectRow, error) {
	var (
		row     projectRow
		created int64
	)
	err := stmt.QueryRowContext(ctx, id).Scan(&row.ID, &row.Name, &row.RegionID, &row.SPProjectID, &created, &row.version, &row.nextSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return projectRow{}, projectNotFound(id)
	}
	if err != nil {
		return projectRow{}, fmt.Errorf("sqlite: find project %s: %w", id, err)
	}
	row.CreatedAt = fromUnix(created)
	return row, nil
}

func projectNotFound(id string) error {
	return allot.Errorf(allot.ENOTFOUND, "project %s does not exist", id)
}
