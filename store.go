package allot

import "context"

// ImportBatch is a set of new projects, resources and assignments that is
// written all or nothing.
type ImportBatch struct {
	Projects    []Project
	Resources   []Resource
	Assignments []Assignment
}

// TenantDelta is what changed in one project's data after a given version,
// read from one consistent snapshot of the store.
type TenantDelta struct {
	Project Project
	// Version is the project's version in the snapshot. It grows with every
	// committed write that touches the project's resources or assignments.
	Version int64
	// Resources and Assignments are the rows whose Version is greater than
	// the version asked for, ordered by Seq.
	Resources   []Resource
	Assignments []Assignment
}

// Store is allot's durable storage: the whole contract every store
// implements and every wrapper (metrics) forwards. Every implementation
// passes the suite in package storetest. Consumers that need less declare
// the small interface they use (view.Source, LedgerStore); a capability every
// store has belongs here, never behind a run-time type assertion. Methods return *Error values with the codes named here;
// any other error is internal. Times are kept to the second and returned in
// UTC; a zero CreatedAt is set to the store's current time.
//
// Tenant isolation lives here: every method that reads tenant data takes the
// project id and puts it in the query's WHERE clause.
type Store interface {
	// CreateProject adds a project at version 1. ECONFLICT if the id exists;
	// EINVALID if p is invalid or its SP project does not exist.
	CreateProject(ctx context.Context, p Project) error
	// FindProject returns a project. ENOTFOUND if it does not exist.
	FindProject(ctx context.Context, id string) (Project, error)

	// CreateCredential adds an access key (ExpiresAt zero: it never
	// expires). ECONFLICT if the key exists; ENOTFOUND if its project does
	// not exist; EINVALID for an empty key or ciphertext.
	CreateCredential(ctx context.Context, c Credential) error
	// FindCredential returns an access key, expired or not: the caller
	// refuses an expired key. ENOTFOUND if it does not exist or is revoked.
	FindCredential(ctx context.Context, accessKey string) (Credential, error)
	// ListCredentials returns the access keys of a project, or of every
	// project when projectID is empty, revoked ones included (with
	// RevokedAt set), ordered by project and access key. It never returns
	// a secret. ENOTFOUND if the project does not exist.
	ListCredentials(ctx context.Context, projectID string) ([]CredentialInfo, error)
	// RevokeCredential revokes an access key: FindCredential no longer
	// returns it. ENOTFOUND if it does not exist or is revoked already.
	RevokeCredential(ctx context.Context, accessKey string) error

	// CreateToken adds a token by its hash. ECONFLICT if the hash exists;
	// ENOTFOUND if its project does not exist; EINVALID unless the hash is
	// 32 bytes (SHA-256).
	CreateToken(ctx context.Context, t Token) error
	// FindToken returns the token with this hash, expired or not.
	// ENOTFOUND if there is none or it is revoked.
	FindToken(ctx context.Context, hash []byte) (Token, error)
	// ListTokens returns the tokens of a project, or of every project when
	// projectID is empty, by their TokenID, expired and revoked ones
	// included, ordered by project and id. It never returns a token or its
	// hash. ENOTFOUND if the project does not exist.
	ListTokens(ctx context.Context, projectID string) ([]TokenInfo, error)
	// RevokeToken revokes the token whose TokenID is id: FindToken no
	// longer returns it. EINVALID if id is not a token id (ValidateTokenID);
	// ENOTFOUND if no token has it or that token is revoked already;
	// ECONFLICT, revoking nothing, if two tokens share it.
	RevokeToken(ctx context.Context, id string) error

	// Revocations counts the revocations (of access keys, tokens and admin
	// keys) committed through this store value since it was opened. It
	// makes no round trip: a cache of credentials over this value compares
	// it with the count it saw when it filled, and so sees a revocation
	// made through the same value at once. Other store values (other
	// nodes) learn of it only from the database.
	Revocations() uint64

	// Import writes a batch in one transaction. Projects are written first
	// (an SP before its customers, in any batch order), so resources and
	// assignments may refer to projects of the same batch. Each imported
	// resource gets an OpImport ledger entry. EINVALID if an item is invalid
	// or refers to a missing project, or an assignment's customer is not a
	// customer of its SP; ECONFLICT if an id exists already or appears twice
	// in the batch. Error messages name the item. Nothing is written on any
	// error. The rules are the package's Import, written once; a store
	// implements Importer and calls Import over itself.
	Import(ctx context.Context, b ImportBatch) error
	StreamImporter // ImportStream: Import of a source too large to hold (import_stream.go)

	// TenantVersion returns a project's current version. ENOTFOUND if the
	// project does not exist.
	TenantVersion(ctx context.Context, projectID string) (int64, error)
	// TenantChanges returns the project and its rows changed after version
	// since (0: all rows), from one snapshot. ENOTFOUND if the project does
	// not exist.
	TenantChanges(ctx context.Context, projectID string, since int64) (TenantDelta, error)

	// EachCredential calls fn for every access key, in no particular order,
	// and stops at fn's first error, which it returns. It lets start-up
	// check that the loaded master keys open every sealed secret.
	EachCredential(ctx context.Context, fn func(Credential) error) error

	// The write side: lifecycle transactions, the ledger and drift.
	Ledger
	// Management credentials.
	AdminKeys
	// The spec catalog and orders (catalog.go).
	Orders
	// Tenant settings, user quotas and usage reads (tenant_settings.go).
	TenantSettings
	// Notice configurations, webhooks and the outbox (notify.go).
	Notices
	// Console and portal sessions, and the project list.
	ConsoleStore

	// Wipe deletes every row of every table but the schema's own record
	// (schema_migrations), found from the database's catalog so that tables
	// later migrations add are wiped too, in one transaction: test mode's
	// reset. Every credential goes with it, so it counts as a revocation
	// (Revocations grows) and caches over this value refill.
	Wipe(ctx context.Context) error

	// Ping reports whether the store is ready to serve: it answers (within
	// ctx) and its schema is at the version this build expects. A store that
	// is unreachable, or whose schema another build moved, returns an error.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// TenantReader answers the two tenant read APIs. It is always exact: a read
// that starts after a write was acknowledged sees that write.
type TenantReader interface {
	// ListResources returns one page of a project's resources that match f,
	// in Seq order, and the number of all matches.
	ListResources(ctx context.Context, projectID string, f *ResourceFilter, p Page) (ResourcePage, error)
	// VisitResources is ListResources without copies, for a caller that
	// encodes the page at once: it calls fn with each resource of the page
	// in order, through one value it reuses (fn must not keep r), and
	// returns the number of all matches.
	VisitResources(ctx context.Context, projectID string, f *ResourceFilter, p Page, fn func(r *Resource)) (count int, err error)
	// AssignmentReport returns one page of the project's allocation records
	// with their count and per-spec overview.
	AssignmentReport(ctx context.Context, projectID string, p Page) (AssignmentReport, error)
}
