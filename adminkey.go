package allot

import (
	"context"
	"time"
)

// AdminKey is a credential of the management API. Like a token, only its
// SHA-256 hash is kept. Its ID names it in every ledger entry it causes.
type AdminKey struct {
	ID          string
	Hash        []byte
	Role        Role
	SPProjectID string // for RoleSP: the service provider it acts for
	CreatedAt   time.Time
	// ExpiresAt is when the key stops working; zero: never.
	ExpiresAt time.Time
}

// Expired reports whether the key no longer works at now.
func (k AdminKey) Expired(now time.Time) bool { return expired(k.ExpiresAt, now) }

// AdminKeyInfo is what a list shows of an admin key: never its hash.
type AdminKeyInfo struct {
	ID          string    `json:"name"`
	Role        Role      `json:"role"`
	SPProjectID string    `json:"sp_project_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"` // zero: never
	RevokedAt   time.Time `json:"revoked_at,omitzero"` // zero: not revoked
}

// Validate checks the fields a caller supplies.
func (k *AdminKey) Validate() error {
	if err := ValidateID("name", k.ID); err != nil {
		return err
	}
	switch k.Role {
	case RoleAdmin:
		if k.SPProjectID != "" {
			return Invalid("sp_project_id", "is only for an sp key")
		}
	case RoleSP:
		if err := ValidateID("sp_project_id", k.SPProjectID); err != nil {
			return err
		}
	default:
		return Invalid("role", "must be admin or sp")
	}
	if len(k.Hash) == 0 {
		return Invalid("hash", "is required")
	}
	return nil
}

// AdminKeys stores management credentials.
type AdminKeys interface {
	// CreateAdminKey adds a key. ECONFLICT if its ID or hash exists;
	// ENOTFOUND if an sp key's project does not exist.
	CreateAdminKey(ctx context.Context, k AdminKey) error
	// FindAdminKey returns the key with this hash, expired or not: the
	// caller refuses an expired key. ENOTFOUND if there is none or it is
	// revoked.
	FindAdminKey(ctx context.Context, hash []byte) (AdminKey, error)
	// ListAdminKeys returns every admin key, revoked ones included (with
	// RevokedAt set), ordered by ID. It never returns a hash.
	ListAdminKeys(ctx context.Context) ([]AdminKeyInfo, error)
	// RevokeAdminKey revokes the key named id: FindAdminKey no longer
	// returns it. The row stays, so the name, which ledger entries record
	// as their actor, is never given to another key. ENOTFOUND if there is
	// no key of that name or it is revoked already.
	RevokeAdminKey(ctx context.Context, id string) error
}
