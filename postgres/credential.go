package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

// Credentials and tokens are found by their key alone, before the caller's
// project is known: these are the only lookups not scoped by a project id,
// and they return the project id that scopes everything after them.

// CreateCredential adds an access key. ECONFLICT if the key exists;
// ENOTFOUND if its project does not exist; EINVALID if the access key or the
// ciphertext is empty: such a credential could never verify anything.
func (s *Store) CreateCredential(ctx context.Context, c allot.Credential) error {
	if c.AccessKey == "" {
		return allot.Invalid("access_key", "is required")
	}
	if len(c.SecretCiphertext) == 0 {
		return allot.Invalid("secret_ciphertext", "is required")
	}
	err := retry(ctx, conflict, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO credentials (access_key, project_id, secret_ciphertext, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, c.AccessKey, c.ProjectID, c.SecretCiphertext, s.createdAt(c.CreatedAt), unixOrNull(c.ExpiresAt))
		return err
	})
	exists := allot.Errorf(allot.ECONFLICT, "access key %s exists already", c.AccessKey)
	return mapError(err, map[string]*allot.Error{
		"credentials_pkey": exists, "credentials_project_fk": projectNotFound(c.ProjectID),
		"23505": exists, "23503": projectNotFound(c.ProjectID),
	})
}

// FindCredential returns an access key, expired or not. ENOTFOUND if it
// does not exist or is revoked.
func (s *Store) FindCredential(ctx context.Context, accessKey string) (allot.Credential, error) {
	c := allot.Credential{AccessKey: accessKey}
	var (
		created int64
		expires *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT project_id, secret_ciphertext, created_at, expires_at
		FROM credentials WHERE access_key = $1 AND revoked_at IS NULL`, accessKey).Scan(&c.ProjectID, &c.SecretCiphertext, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.Credential{}, allot.Errorf(allot.ENOTFOUND, "access key %s does not exist", accessKey)
	}
	if err != nil {
		return allot.Credential{}, err
	}
	c.CreatedAt, c.ExpiresAt = fromUnix(created), fromNullUnix(expires)
	return c, nil
}

// CreateToken adds a token by its hash. ENOTFOUND if its project does not
// exist; EINVALID if the hash is not a SHA-256 hash; ECONFLICT if a token
// with this hash exists already.
func (s *Store) CreateToken(ctx context.Context, t allot.Token) error {
	if len(t.Hash) != sha256.Size {
		return allot.Invalid("hash", "must be a SHA-256 hash of 32 bytes")
	}
	err := retry(ctx, conflict, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO tokens (hash, project_id, expires_at, created_at)
			VALUES ($1, $2, $3, $4)`, t.Hash, t.ProjectID, t.ExpiresAt.Unix(), s.createdAt(t.CreatedAt))
		return err
	})
	// The hash is not echoed: it identifies a bearer token.
	exists := allot.Errorf(allot.ECONFLICT, "the token exists already")
	return mapError(err, map[string]*allot.Error{
		"tokens_pkey": exists, "tokens_project_fk": projectNotFound(t.ProjectID),
		"23505": exists, "23503": projectNotFound(t.ProjectID),
	})
}

// FindToken returns the token with this hash, expired or not.
// ENOTFOUND if there is none or it is revoked.
func (s *Store) FindToken(ctx context.Context, hash []byte) (allot.Token, error) {
	t := allot.Token{Hash: hash}
	var expires, created int64
	err := s.pool.QueryRow(ctx, `SELECT project_id, expires_at, created_at FROM tokens WHERE hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&t.ProjectID, &expires, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.Token{}, allot.Errorf(allot.ENOTFOUND, "the token does not exist")
	}
	if err != nil {
		return allot.Token{}, err
	}
	t.ExpiresAt, t.CreatedAt = fromUnix(expires), fromUnix(created)
	return t, nil
}

// EachCredential calls fn for every access key; start-up uses it to check
// that the master keys open every sealed secret.
func (s *Store) EachCredential(ctx context.Context, fn func(allot.Credential) error) error {
	rows, err := s.pool.Query(ctx, `SELECT access_key, project_id, secret_ciphertext FROM credentials`)
	if err != nil {
		return fmt.Errorf("postgres: list credentials: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c allot.Credential
		if err := rows.Scan(&c.AccessKey, &c.ProjectID, &c.SecretCiphertext); err != nil {
			return fmt.Errorf("postgres: list credentials: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}
