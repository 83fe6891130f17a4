package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

// Listing and revoking credentials. A revocation sets revoked_at and keeps
// the row (see migrations/0004_revocation.sql); the lookups skip such rows.

// ListCredentials returns a project's access keys (every project's when
// projectID is empty), never their secrets.
func (s *Store) ListCredentials(ctx context.Context, projectID string) ([]allot.CredentialInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT access_key, project_id, created_at, expires_at, revoked_at
		FROM credentials`+byProject(projectID)+` ORDER BY project_id, access_key`, projectArgs(projectID)...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (allot.CredentialInfo, error) {
		var (
			c                allot.CredentialInfo
			created          int64
			expires, revoked *int64
		)
		err := row.Scan(&c.AccessKey, &c.ProjectID, &created, &expires, &revoked)
		c.CreatedAt, c.ExpiresAt, c.RevokedAt = fromUnix(created), fromNullUnix(expires), fromNullUnix(revoked)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list credentials: %w", err)
	}
	return out, s.projectOfEmptyList(ctx, projectID, len(out))
}

// RevokeCredential marks an access key revoked.
func (s *Store) RevokeCredential(ctx context.Context, accessKey string) error {
	return s.revoke(ctx, `UPDATE credentials SET revoked_at = $1 WHERE access_key = $2 AND revoked_at IS NULL`, accessKey,
		allot.Errorf(allot.ENOTFOUND, "access key %s does not exist or is revoked already", accessKey))
}

// ListTokens returns a project's tokens (every project's when projectID is
// empty) by their ids; the hash is read only to derive the id.
func (s *Store) ListTokens(ctx context.Context, projectID string) ([]allot.TokenInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT hash, project_id, created_at, expires_at, revoked_at
		FROM tokens`+byProject(projectID)+` ORDER BY project_id, hash`, projectArgs(projectID)...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (allot.TokenInfo, error) {
		var (
			t                allot.TokenInfo
			hash             []byte
			created, expires int64
			revoked          *int64
		)
		err := row.Scan(&hash, &t.ProjectID, &created, &expires, &revoked)
		t.ID, t.CreatedAt, t.ExpiresAt, t.RevokedAt = allot.TokenID(hash), fromUnix(created), fromUnix(expires), fromNullUnix(revoked)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	return out, s.projectOfEmptyList(ctx, projectID, len(out))
}

// RevokeToken marks the token with this id revoked. The id is a prefix of
// the hash, so the tokens it may name are one range of the primary key. One
// statement counts and revokes them, so two tokens sharing the id are both
// left alone.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if err := allot.ValidateTokenID("id", id); err != nil {
		return err
	}
	lo, hi := allot.TokenHashRange(id)
	var matched, revoked int
	err := retry(ctx, conflict, func() error {
		return s.pool.QueryRow(ctx, `WITH m AS (
				SELECT hash FROM tokens WHERE hash BETWEEN $2 AND $3 AND revoked_at IS NULL
			), u AS (
				UPDATE tokens SET revoked_at = $1 WHERE hash IN (SELECT hash FROM m) AND (SELECT count(*) FROM m) = 1
				RETURNING 1
			)
			SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM u)`, s.Now().Unix(), lo, hi).Scan(&matched, &revoked)
	})
	switch {
	case err != nil:
		return fmt.Errorf("postgres: revoke token: %w", err)
	case matched == 0:
		return allot.Errorf(allot.ENOTFOUND, "token %s does not exist or is revoked already", id)
	case revoked != 1:
		return allot.Errorf(allot.ECONFLICT, "%d tokens have the id %s: revoke them by project", matched, id)
	}
	s.revocations.Add(1)
	return nil
}

// ListAdminKeys returns every admin key, never a hash.
func (s *Store) ListAdminKeys(ctx context.Context) ([]allot.AdminKeyInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, role, COALESCE(sp_project_id, ''), created_at, expires_at, revoked_at
		FROM admin_keys ORDER BY id`)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (allot.AdminKeyInfo, error) {
		var (
			k                allot.AdminKeyInfo
			role             string
			created          int64
			expires, revoked *int64
		)
		err := row.Scan(&k.ID, &role, &k.SPProjectID, &created, &expires, &revoked)
		k.Role, k.CreatedAt, k.ExpiresAt, k.RevokedAt = allot.Role(role), fromUnix(created), fromNullUnix(expires), fromNullUnix(revoked)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list admin keys: %w", err)
	}
	return out, nil
}

// RevokeAdminKey marks the admin key named id revoked.
func (s *Store) RevokeAdminKey(ctx context.Context, id string) error {
	return s.revoke(ctx, `UPDATE admin_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, id,
		allot.Errorf(allot.ENOTFOUND, "admin key %s does not exist or is revoked already", id))
}

// Revocations counts the revocations committed through s.
func (s *Store) Revocations() uint64 { return s.revocations.Load() }

// revoke runs an UPDATE that marks one row revoked, answering notFound when
// it marks none.
func (s *Store) revoke(ctx context.Context, update, key string, notFound error) error {
	var n int64
	err := retry(ctx, conflict, func() error {
		tag, err := s.pool.Exec(ctx, update, s.Now().Unix(), key)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke: %w", err)
	}
	if n == 0 {
		return notFound
	}
	s.revocations.Add(1)
	return nil
}

// byProject is the WHERE clause of a list of one project's rows (none for
// every project's), so that the project index serves it; projectArgs are
// its arguments.
func byProject(projectID string) string {
	if projectID == "" {
		return ""
	}
	return ` WHERE project_id = $1`
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

func fromNullUnix(sec *int64) time.Time {
	if sec == nil {
		return time.Time{}
	}
	return fromUnix(*sec)
}
