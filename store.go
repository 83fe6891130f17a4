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

// Store is allot's durable storage. Every implementation passes the suite in
// package storetest. Methods return *Error values with the codes named here;
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

	// CreateCredential adds an access key. ECONFLICT if the key exists;
	// ENOTFOUND if its project does not exist; EINVALID for an empty key or
	// ciphertext.
	CreateCredential(ctx context.Context, c Credential) error
	// FindCredential returns an access key. ENOTFOUND if it does not exist.
	FindCredential(ctx context.Context, accessKey string) (Credential, error)

	// CreateToken adds a token by its hash. ECONFLICT if the hash exists;
	// ENOTFOUND if its project does not exist; EINVALID unless the hash is
	// 32 bytes (SHA-256).
	CreateToken(ctx context.Context, t Token) error
	// FindToken returns the token with this hash, expired or not.
	// ENOTFOUND if there is none.
	FindToken(ctx context.Context, hash []byte) (Token, error)

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

	// TenantVersion returns a project's current version. ENOTFOUND if the
	// project does not exist.
	TenantVersion(ctx context.Context, projectID string) (int64, error)
	// TenantChanges returns the project and its rows changed after version
	// since (0: all rows), from one snapshot. ENOTFOUND if the project does
	// not exist.
	TenantChanges(ctx context.Context, projectID string, since int64) (TenantDelta, error)

	// Close releases the store's resources.
	Close() error
}

// TenantReader answers the two tenant read APIs. It is always exact: a read
// that starts after a write was acknowledged sees that write.
type TenantReader interface {
	// ListResources returns one page of a project's resources that match f,
	// in Seq order, and the number of all matches.
	ListResources(ctx context.Context, projectID string, f *ResourceFilter, p Page) (ResourcePage, error)
	// AssignmentReport returns one page of the project's allocation records
	// with their count and per-spec overview.
	AssignmentReport(ctx context.Context, projectID string, p Page) (AssignmentReport, error)
}
