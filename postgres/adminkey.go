package postgres

import (
	"context"
	"errors"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

var _ allot.AdminKeys = (*Store)(nil)

// CreateAdminKey adds a key. EINVALID if it is invalid; ECONFLICT if its ID
// or hash exists; ENOTFOUND if an sp key's project does not exist.
func (s *Store) CreateAdminKey(ctx context.Context, k allot.AdminKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	err := retry(ctx, conflict, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO admin_keys (id, hash, role, sp_project_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, k.Hash, string(k.Role), nullIfEmpty(k.SPProjectID), s.createdAt(k.CreatedAt), unixOrNull(k.ExpiresAt))
		return err
	})
	// The hash is not echoed: it identifies a secret.
	return mapError(err, map[string]*allot.Error{
		"admin_keys_pkey":     allot.Errorf(allot.ECONFLICT, "admin key %s exists already", k.ID),
		"admin_keys_hash_key": allot.Errorf(allot.ECONFLICT, "an admin key with this secret exists already"),
		"admin_keys_sp_fk":    projectNotFound(k.SPProjectID),
		"23505":               allot.Errorf(allot.ECONFLICT, "admin key %s or its secret exists already", k.ID),
		"23503":               projectNotFound(k.SPProjectID),
	})
}

// FindAdminKey returns the key with this hash, expired or not. ENOTFOUND if
// there is none or it is revoked.
func (s *Store) FindAdminKey(ctx context.Context, hash []byte) (allot.AdminKey, error) {
	k := allot.AdminKey{Hash: hash}
	var (
		role    string
		created int64
		expires *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT id, role, COALESCE(sp_project_id, ''), created_at, expires_at
		FROM admin_keys WHERE hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&k.ID, &role, &k.SPProjectID, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.AdminKey{}, allot.Errorf(allot.ENOTFOUND, "the admin key does not exist")
	}
	if err != nil {
		return allot.AdminKey{}, err
	}
	k.Role, k.CreatedAt, k.ExpiresAt = allot.Role(role), fromUnix(created), fromNullUnix(expires)
	return k, nil
}
