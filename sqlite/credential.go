package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

const (
	credentialColumns = `access_key, project_id, secret_ciphertext, created_at, expires_at`
	tokenColumns      = `hash, project_id, expires_at, created_at`
)

// CreateCredential adds an access key. EINVALID if the access key or the
// ciphertext is empty: a credential without them could never verify anything.
func (s *Store) CreateCredential(ctx context.Context, c allot.Credential) error {
	if c.AccessKey == "" {
		return allot.Invalid("access_key", "is required")
	}
	if len(c.SecretCiphertext) == 0 {
		return allot.Invalid("secret_ciphertext", "is required")
	}
	created := s.now(c.CreatedAt).Unix()
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO credentials (`+credentialColumns+`) VALUES (?, ?, ?, ?, ?)`,
			c.AccessKey, c.ProjectID, c.SecretCiphertext, created, nullTime(c.ExpiresAt))
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return allot.Errorf(allot.ECONFLICT, "access key %s exists already", c.AccessKey)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return projectNotFound(c.ProjectID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert credential: %w", err)
		}
		return nil
	})
}

// FindCredential returns an access key, expired or not; a revoked one is
// ENOTFOUND.
func (s *Store) FindCredential(ctx context.Context, accessKey string) (allot.Credential, error) {
	ctx, err := lookup(ctx)
	if err != nil {
		return allot.Credential{}, err
	}
	var (
		c       allot.Credential
		created int64
		expires sql.NullInt64
	)
	err = s.credentialStmt.QueryRowContext(ctx, accessKey).Scan(&c.AccessKey, &c.ProjectID, &c.SecretCiphertext, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.Credential{}, allot.Errorf(allot.ENOTFOUND, "access key %s does not exist", accessKey)
	}
	if err != nil {
		return allot.Credential{}, fmt.Errorf("sqlite: find credential: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = fromUnix(created), fromNullUnix(expires)
	return c, nil
}

// CreateToken adds a token by its hash. EINVALID if the hash is not a
// SHA-256 hash; ECONFLICT if a token with this hash exists already.
func (s *Store) CreateToken(ctx context.Context, t allot.Token) error {
	if len(t.Hash) != 32 {
		return allot.Invalid("hash", "must be a SHA-256 hash of 32 bytes")
	}
	created := s.now(t.CreatedAt).Unix()
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?)`,
			t.Hash, t.ProjectID, t.ExpiresAt.Unix(), created)
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// The hash is not echoed: it identifies a bearer token.
			return allot.Errorf(allot.ECONFLICT, "the token exists already")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return projectNotFound(t.ProjectID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert token: %w", err)
		}
		return nil
	})
}

// FindToken returns the token with this hash, expired or not: the caller
// decides what an expired token means.
func (s *Store) FindToken(ctx context.Context, hash []byte) (allot.Token, error) {
	ctx, err := lookup(ctx)
	if err != nil {
		return allot.Token{}, err
	}
	var (
		t                allot.Token
		expires, created int64
	)
	err = s.tokenStmt.QueryRowContext(ctx, hash).Scan(&t.Hash, &t.ProjectID, &expires, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.Token{}, allot.Errorf(allot.ENOTFOUND, "the token does not exist")
	}
	if err != nil {
		return allot.Token{}, fmt.Errorf("sqlite: find token: %w", err)
	}
	t.ExpiresAt, t.CreatedAt = fromUnix(expires), fromUnix(created)
	return t, nil
}

// EachCredential calls fn for every access key; start-up uses it to check
// that the master keys open every sealed secret.
func (s *Store) EachCredential(ctx context.Context, fn func(allot.Credential) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT access_key, project_id, secret_ciphertext FROM credentials`)
	if err != nil {
		return fmt.Errorf("sqlite: list credentials: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c allot.Credential
		if err := rows.Scan(&c.AccessKey, &c.ProjectID, &c.SecretCiphertext); err != nil {
			return fmt.Errorf("sqlite: list credentials: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}
