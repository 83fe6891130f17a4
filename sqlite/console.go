package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ allot.ConsoleStore = (*Store)(nil)

// CreateConsoleSession stores a session. EINVALID if it is invalid;
// ECONFLICT if its hash exists.
func (s *Store) CreateConsoleSession(ctx context.Context, cs allot.ConsoleSession) error {
	if err := cs.Validate(); err != nil {
		return err
	}
	created := s.now(cs.CreatedAt).Unix()
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (hash, kind, credential_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			cs.Hash, string(cs.Kind), cs.CredentialHash, created, cs.ExpiresAt.Unix())
		if constraint(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return allot.Errorf(allot.ECONFLICT, "the session exists already")
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert console session: %w", err)
		}
		return nil
	})
}

// FindConsoleSession returns the session with this hash, expired or not.
func (s *Store) FindConsoleSession(ctx context.Context, hash []byte) (allot.ConsoleSession, error) {
	cs := allot.ConsoleSession{Hash: hash}
	var (
		kind             string
		created, expires int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT kind, credential_hash, created_at, expires_at FROM console_sessions WHERE hash = ?`, hash).
		Scan(&kind, &cs.CredentialHash, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.ConsoleSession{}, allot.Errorf(allot.ENOTFOUND, "the session does not exist")
	}
	if err != nil {
		return allot.ConsoleSession{}, fmt.Errorf("sqlite: find console session: %w", err)
	}
	cs.Kind, cs.CreatedAt, cs.ExpiresAt = allot.SessionKind(kind), fromUnix(created), fromUnix(expires)
	return cs, nil
}

// DeleteConsoleSession removes a session. ENOTFOUND if there is none.
func (s *Store) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE hash = ?`, hash)
		if err != nil {
			return fmt.Errorf("sqlite: delete console session: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: delete console session: %w", err)
		} else if n == 0 {
			return allot.Errorf(allot.ENOTFOUND, "the session does not exist")
		}
		return nil
	})
}

// DeleteExpiredConsoleSessions removes the sessions that have ended at now.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= ?`, now.Unix())
		if err != nil {
			return fmt.Errorf("sqlite: delete expired console sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// ListProjects returns one page of projects ordered by id, and the count of
// all that match, from one snapshot.
func (s *Store) ListProjects(ctx context.Context, q allot.ProjectQuery) ([]allot.Project, int, error) {
	where, args := ``, []any{}
	if q.SPProjectID != "" {
		where, args = ` WHERE id = ? OR sp_project_id = ?`, []any{q.SPProjectID, q.SPProjectID}
	}
	var (
		ps    []allot.Project
		count int
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM projects`+where, args...).Scan(&count); err != nil {
			return fmt.Errorf("sqlite: count projects: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+projectColumns+` FROM projects`+where+` ORDER BY id LIMIT ? OFFSET ?`,
			append(args, max(q.Page.Limit, 0), max(q.Page.Offset, 0))...)
		if err != nil {
			return fmt.Errorf("sqlite: list projects: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				p       allot.Project
				created int64
			)
			if err := rows.Scan(&p.ID, &p.Name, &p.RegionID, &p.SPProjectID, &created); err != nil {
				return fmt.Errorf("sqlite: list projects: %w", err)
			}
			p.CreatedAt = fromUnix(created)
			ps = append(ps, p)
		}
		return rows.Err()
	})
	return ps, count, err
}
