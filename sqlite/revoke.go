package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/allot-dev/allot"
)

// Listing and revoking credentials. A revocation sets revoked_at and keeps
// the row (see migrations/0003_revocation.sql); the lookups skip such rows.

// ListCredentials returns a project's access keys (every project's when
// projectID is empty), never their secrets.
func (s *Store) ListCredentials(ctx context.Context, projectID string) ([]allot.CredentialInfo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT access_key, project_id, created_at, expires_at, revoked_at
		FROM credentials`+byProject(projectID)+` ORDER BY project_id, access_key`, projectArgs(projectID)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list credentials: %w", err)
	}
	defer rows.Close()
	var out []allot.CredentialInfo
	for rows.Next() {
		var (
			c                allot.CredentialInfo
			created          int64
			expires, revoked sql.NullInt64
		)
		if err := rows.Scan(&c.AccessKey, &c.ProjectID, &created, &expires, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: list credentials: %w", err)
		}
		c.CreatedAt, c.ExpiresAt, c.RevokedAt = fromUnix(created), fromNullUnix(expires), fromNullUnix(revoked)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list credentials: %w", err)
	}
	return out, s.projectOfEmptyList(ctx, projectID, len(out))
}

// RevokeCredential marks an access key revoked.
func (s *Store) RevokeCredential(ctx context.Context, accessKey string) error {
	return s.revoke(ctx, `UPDATE credentials SET revoked_at = ? WHERE access_key = ? AND revoked_at IS NULL`, accessKey,
		allot.Errorf(allot.ENOTFOUND, "access key %s does not exist or is revoked already", accessKey))
}

// ListTokens returns a project's tokens (every project's when projectID is
// empty) by their ids; the hash is read only to derive the id.
func (s *Store) ListTokens(ctx context.Context, projectID string) ([]allot.TokenInfo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT hash, project_id, created_at, expires_at, revoked_at
		FROM tokens`+byProject(projectID)+` ORDER BY project_id, hash`, projectArgs(projectID)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	defer rows.Close()
	var out []allot.TokenInfo
	for rows.Next() {
		var (
			t                allot.TokenInfo
			hash             []byte
			created, expires int64
			revoked          sql.NullInt64
		)
		if err := rows.Scan(&hash, &t.ProjectID, &created, &expires, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: list tokens: %w", err)
		}
		t.ID, t.CreatedAt, t.ExpiresAt, t.RevokedAt = allot.TokenID(hash), fromUnix(created), fromUnix(expires), fromNullUnix(revoked)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	return out, s.projectOfEmptyList(ctx, projectID, len(out))
}

// RevokeToken marks the token with this id revoked. The id is a prefix of
// the hash, so the tokens it may name are one range of the primary key.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if err := allot.ValidateTokenID("id", id); err != nil {
		return err
	}
	lo, hi := allot.TokenHashRange(id)
	now := s.Now().Unix()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE hash BETWEEN ? AND ? AND revoked_at IS NULL`, lo, hi).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: revoke token: %w", err)
		}
		switch {
		case n == 0:
			return allot.Errorf(allot.ENOTFOUND, "token %s does not exist or is revoked already", id)
		case n > 1:
			return allot.Errorf(allot.ECONFLICT, "%d tokens have the id %s: revoke them by project", n, id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE hash BETWEEN ? AND ? AND revoked_at IS NULL`, now, lo, hi); err != nil {
			return fmt.Errorf("sqlite: revoke token: %w", err)
		}
		return nil
	})
	if err == nil {
		s.revocations.Add(1)
	}
	return err
}

// ListAdminKeys returns every admin key, never a hash.
func (s *Store) ListAdminKeys(ctx context.Context) ([]allot.AdminKeyInfo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, role, COALESCE(sp_project_id, ''), created_at, expires_at, revoked_at
		FROM admin_keys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list admin keys: %w", err)
	}
	defer rows.Close()
	var out []allot.AdminKeyInfo
	for rows.Next() {
		var (
			k                allot.AdminKeyInfo
			role             string
			created          int64
			expires, revoked sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &role, &k.SPProjectID, &created, &expires, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: list admin keys: %w", err)
		}
		k.Role, k.CreatedAt, k.ExpiresAt, k.RevokedAt = allot.Role(role), fromUnix(created), fromNullUnix(expires), fromNullUnix(revoked)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list admin keys: %w", err)
	}
	return out, nil
}

// RevokeAdminKey marks the admin key named id revoked.
func (s *Store) RevokeAdminKey(ctx context.Context, id string) error {
	return s.revoke(ctx, `UPDATE admin_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, id,
		allot.Errorf(allot.ENOTFOUND, "admin key %s does not exist or is revoked already", id))
}

// Revocations counts the revocations committed through s.
func (s *Store) Revocations() uint64 { return s.revocations.Load() }

// revoke runs an UPDATE that marks one row revoked, answering notFound when
// it marks none.
func (s *Store) revoke(ctx context.Context, update, key string, notFound error) error {
	now := s.Now().Unix()
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, update, now, key)
		if err != nil {
			return fmt.Errorf("sqlite: revoke: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: revoke: %w", err)
		} else if n == 0 {
			return notFound
		}
		return nil
	})
	if err == nil {
		s.revocations.Add(1)
	}
	return err
}

// byProject is the WHERE clause of a list of one project's rows (none for
// every project's), so that the project index serves it; projectArgs are
// its arguments.
func byProject(projectID string) string {
	if projectID == "" {
		return ""
	}
	return ` WHERE project_id = ?`
}

func projectArgs(projectID string) []any {
	if projectID == "" {
		return nil
	}
	return []any{projectID}
}

// projectOfEmptyList tells an empty list of an existing project (nil) from
// a project that does not exist (ENOTFOUND); a list with rows needs no check.
func (s *Store) projectOfEmptyList(ctx context.Context, projectID string, n int) error {
	if projectID == "" || n > 0 {
		return nil
	}
	_, err := s.TenantVersion(ctx, projectID)
	return err
}

// nullTime stores an optional time (zero: none) as NULL.
func nullTime(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.Unix(), Valid: !t.IsZero()}
}

func fromNullUnix(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromUnix(v.Int64)
}
