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
	// FindAdminKey returns the key with this hash. ENOTFOUND if there is none.
	FindAdminKey(ctx context.Context, hash []byte) (AdminKey, error)
}
