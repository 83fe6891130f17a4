package allot

import (
	"context"
	"slices"
	"time"
)

// SessionKind tells what a console session was opened with.
type SessionKind string

const (
	// SessionAdmin is an operator console session, opened with an admin
	// key or an SP key.
	SessionAdmin SessionKind = "admin"
	// SessionToken is a tenant portal session, opened with a tenant token.
	SessionToken SessionKind = "token"
)

// ConsoleSession is a signed-in browser of the operator console or the
// tenant portal. Neither the session id nor the credential it was opened
// with is stored: only their SHA-256 hashes. The credential's hash is what
// the management API and the tenant API look the credential up by
// (FindAdminKey, FindToken), so every request of the session checks, with
// the same lookup, that the credential is still valid: a revoked or expired
// key ends its sessions at once.
type ConsoleSession struct {
	Hash           []byte // SHA-256 of the session id in the cookie
	Kind           SessionKind
	CredentialHash []byte // SHA-256 of the admin key or the token
	CreatedAt      time.Time
	// ExpiresAt is when the session ends, on allot's clock.
	ExpiresAt time.Time
}

// Expired reports whether the session has ended at now.
func (s ConsoleSession) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// Validate checks a session before it is stored.
func (s *ConsoleSession) Validate() error {
	if len(s.Hash) != 32 {
		return Invalid("hash", "must be a SHA-256 hash (32 bytes)")
	}
	if len(s.CredentialHash) != 32 {
		return Invalid("credential_hash", "must be a SHA-256 hash (32 bytes)")
	}
	if s.Kind != SessionAdmin && s.Kind != SessionToken {
		return Invalid("kind", "must be admin or token")
	}
	if s.ExpiresAt.IsZero() {
		return Invalid("expires_at", "is required")
	}
	return nil
}

// ProjectQuery selects a page of projects, ordered by id.
type ProjectQuery struct {
	// SPProjectID, when set, limits the list to that service provider's
	// own project and its customers.
	SPProjectID string
	Page        Page
}

// ConsoleStore is what the operator console and the tenant portal need of a
// store beyond the rest of the contract: their sessions, and the list of
// projects the overview pages through.
type ConsoleStore interface {
	// CreateConsoleSession stores a session. EINVALID if it is invalid;
	// ECONFLICT if its hash exists.
	CreateConsoleSession(ctx context.Context, s ConsoleSession) error
	// FindConsoleSession returns the session with this hash, expired or
	// not: the caller refuses an expired one. ENOTFOUND if there is none.
	FindConsoleSession(ctx context.Context, hash []byte) (ConsoleSession, error)
	// DeleteConsoleSession removes a session (sign-out). ENOTFOUND if there
	// is none.
	DeleteConsoleSession(ctx context.Context, hash []byte) error
	// DeleteExpiredConsoleSessions removes every session that has ended at
	// now and returns how many it removed.
	DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int, error)
	// ListProjects returns one page of projects ordered by id and the count
	// of all that match. With q.SPProjectID set, only that project and its
	// customers match (the SP in the query's WHERE clause).
	ListProjects(ctx context.Context, q ProjectQuery) ([]Project, int, error)
}

// MayRead reports whether actor may look at project projectID's packages,
// allocation records, reservations and ledger: an admin any project's, an
// SP its own and its customers'. A project the actor may not read, existing
// or not, is EFORBIDDEN. It is the ledger's read rule (LedgerEntries).
func (s *Service) MayRead(ctx context.Context, actor Actor, projectID string) error {
	if err := ValidateID("project_id", projectID); err != nil {
		return err
	}
	return s.mayReadLedger(ctx, actor, projectID)
}

// ProjectScope is the SP project an actor's project lists are limited to:
// "" (every project) for an admin.
func (a Actor) ProjectScope() string {
	if a.Role == RoleAdmin {
		return ""
	}
	return a.SPProjectID
}

// Ops lists every ledger operation, in the order a filter offers them.
var Ops = []Op{OpImport, OpPurchase, OpAdminGrant, OpSPGrantOut, OpSPGrantIn, OpReclaim, OpSPReturn, OpCancel,
	OpFreeze, OpUnfreeze, OpBindAsset, OpUnbindAsset, OpConsume, OpRefund, OpReserve, OpCommit, OpRelease, OpHoldExpired}

// validateOp checks an optional operation filter.
func validateOp(op Op) error {
	if op == "" || slices.Contains(Ops, op) {
		return nil
	}
	return Invalid("op", "must be one of the ledger's operations (import, purchase, consume, ...)")
}
