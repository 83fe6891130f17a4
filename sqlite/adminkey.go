package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

const adminKeyColumns = `id, hash, role, COALESCE(sp_project_id, ''), created_at, expires_at`

// CreateAdminKey adds a key. EINVALID if it is invalid; ECONFLICT if its ID
// or hash exists; ENOTFOUND if an sp key's project does not exist.
func (s *Store) CreateAdminKey(ctx context.Context, k allot.AdminKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	created := s.now(k.CreatedAt).Unix()
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO admin_keys (id, hash, role, sp_project_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.Hash, string(k.Role), nullString(k.SPProjectID), created, nullTime(k.ExpiresAt))
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return allot.Errorf(allot.ECONFLICT, "admin key %s exists already", k.ID)
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			// The hash is not echoed: it identifies a secret.
			return allot.Errorf(allot.ECONFLICT, "an admin key with this secret exists already")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return projectNotFound(k.SPProjectID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert admin key %s: %w", k.ID, err)
		}
		return nil
	})
}

// FindAdminKey returns the key with this hash, expired or not. ENOTFOUND if
// there is none or it is revoked.
// Every management request makes it, so it is a prepared lookup like
// FindCredential.
func (s *Store) FindAdminKey(ctx context.Context, hash []byte) (allot.AdminKey, error) {
	ctx, err := lookup(ctx)
	if err != nil {
		return allot.AdminKey{}, err
	}
	var (
		k       allot.AdminKey
		role    string
		created int64
		expires sql.NullInt64
	)
	err = s.adminKeyStmt.QueryRowContext(ctx, hash).Scan(&k.ID, &k.Hash, &role, &k.SPProjectID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.AdminKey{}, allot.Errorf(allot.ENOTFOUND, "the admin key does not exist")
	}
	if err != nil {
		return allot.AdminKey{}, fmt.Errorf("sqlite: find admin key: %w", err)
	}
	k.Role, k.CreatedAt, k.ExpiresAt = allot.Role(role), fromUnix(created), fromNullUnix(expires)
	return k, nil
}
