package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

var _ allot.ConsoleStore = (*Store)(nil)

// CreateConsoleSession stores a session. EINVALID if it is invalid;
// ECONFLICT if its hash exists.
func (s *Store) CreateConsoleSession(ctx context.Context, cs allot.ConsoleSession) error {
	if err := cs.Validate(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO console_sessions (hash, kind, credential_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, cs.Hash, string(cs.Kind), cs.CredentialHash, s.createdAt(cs.CreatedAt), cs.ExpiresAt.Unix())
	return mapError(err, map[string]*allot.Error{
		"console_sessions_pkey": allot.Errorf(allot.ECONFLICT, "the session exists already"),
		"23505":                 allot.Errorf(allot.ECONFLICT, "the session exists already"),
	})
}

// FindConsoleSession returns the session with this hash, expired or not.
func (s *Store) FindConsoleSession(ctx context.Context, hash []byte) (allot.ConsoleSession, error) {
	cs := allot.ConsoleSession{Hash: hash}
	var (
		kind             string
		created, expires int64
	)
	err := s.pool.QueryRow(ctx, `SELECT kind, credential_hash, created_at, expires_at FROM console_sessions WHERE hash = $1`, hash).
		Scan(&kind, &cs.CredentialHash, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.ConsoleSession{}, allot.Errorf(allot.ENOTFOUND, "the session does not exist")
	}
	if err != nil {
		return allot.ConsoleSession{}, err
	}
	cs.Kind, cs.CreatedAt, cs.ExpiresAt = allot.SessionKind(kind), fromUnix(created), fromUnix(expires)
	return cs, nil
}

// DeleteConsoleSession removes a session. ENOTFOUND if there is none.
func (s *Store) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return allot.Errorf(allot.ENOTFOUND, "the session does not exist")
	}
	return nil
}

// DeleteExpiredConsoleSessions removes the sessions that have ended at now.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, now.Unix())
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// ListProjects returns one page of projects ordered by id, and the count of
// all that match, from one snapshot.
func (s *Store) ListProjects(ctx context.Context, q allot.ProjectQuery) ([]allot.Project, int, error) {
	where, args := ``, []any{}
	if q.SPProjectID != "" {
		where, args = ` WHERE id = $1 OR sp_project_id = $1`, []any{q.SPProjectID}
	}
	var (
		ps    []allot.Project
		count int
	)
	err := s.withTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		ps, count = nil, 0
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM projects`+where, args...).Scan(&count); err != nil {
			return err
		}
		n := len(args)
		rows, err := tx.Query(ctx, `SELECT id, name, region_id, COALESCE(sp_project_id, ''), created_at FROM projects`+where+
			` ORDER BY id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, max(q.Page.Limit, 0), max(q.Page.Offset, 0))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				p       allot.Project
				created int64
			)
			if err := rows.Scan(&p.ID, &p.Name, &p.RegionID, &p.SPProjectID, &created); err != nil {
				return err
			}
			p.CreatedAt = fromUnix(created)
			ps = append(ps, p)
		}
		return rows.Err()
	})
	return ps, count, err
}
