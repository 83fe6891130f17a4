package allot

import (
	"context"
	"time"
)

// Op names a kind of ledger entry.
type Op string

const (
	OpImport      Op = "import"       // a resource loaded by allot import: amount and usage as loaded
	OpPurchase    Op = "purchase"     // a purchased package: +amount
	OpAdminGrant  Op = "admin_grant"  // an administrator allocation: +amount
	OpSPGrantOut  Op = "sp_grant_out" // on the SP's package: +usage, the units given away
	OpSPGrantIn   Op = "sp_grant_in"  // on the customer's new package: +amount
	OpReclaim     Op = "reclaim"      // -amount, the unused units taken back
	OpSPReturn    Op = "sp_return"    // on the SP's package: -usage, reclaimed units back in the pool
	OpCancel      Op = "cancel"       // -amount of the unused rest; the package leaves the list
	OpFreeze      Op = "freeze"       // status 1
	OpUnfreeze    Op = "unfreeze"     // status 0
	OpBindAsset   Op = "bind_asset"   // bound_asset set (Ref holds the asset id)
	OpUnbindAsset Op = "unbind_asset" // bound_asset cleared
	OpConsume     Op = "consume"      // +usage
	OpRefund      Op = "refund"       // -usage
	// The steps of a reservation (reservation.go); Ref holds its id.
	OpReserve     Op = "reserve"      // +held
	OpCommit      Op = "commit"       // +usage of what is settled, -held of the whole hold
	OpRelease     Op = "release"      // -held
	OpHoldExpired Op = "hold_expired" // -held, by the sweeper (actor system) after the TTL
)

// LedgerEntry is one append-only record of a change to a resource. A
// resource's amount and usage are always the sums of its entries' deltas;
// allot verify recomputes them to prove it.
type LedgerEntry struct {
	ProjectID  string    `json:"project_id"`
	Seq        int64     `json:"seq"` // orders a project's entries; assigned by the store
	ResourceID string    `json:"resource_id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"` // the credential that made the change
	Op         Op        `json:"op"`
	// AmountDelta and UsageDelta are the changes to the resource's amount
	// and usage; zero for entries that change neither (freeze, bind).
	AmountDelta Quantity `json:"amount_delta"`
	UsageDelta  Quantity `json:"usage_delta"`
	// HeldDelta is the change to the units the resource holds for open
	// reservations: a resource's held total is the sum of its entries'.
	HeldDelta      Quantity `json:"held_delta,omitempty"`
	IdempotencyKey string   `json:"idempotency_key,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	// Ref links related records: the assignment record of an SP
	// allocation, an order id, a bound asset id.
	Ref string `json:"ref,omitempty"`
	// UserID and AppUserID attribute a consume or a reservation's steps to
	// the platform's user, as the request gave them.
	UserID    string `json:"user_id,omitempty"`
	AppUserID string `json:"app_user_id,omitempty"`
}

// LedgerQuery selects ledger entries of one project, oldest first.
type LedgerQuery struct {
	ProjectID  string
	ResourceID string     // optional
	Op         Op         // optional: entries of this operation only
	From, To   *time.Time // optional, inclusive bounds on At
	Page       Page
}

// IdempotencyRecord remembers the answer to a request made with an
// idempotency key, so a retry gets the first answer and changes nothing.
type IdempotencyRecord struct {
	ProjectID   string
	Key         string
	Fingerprint string // what was asked; the same key with another request is refused
	Result      []byte // the first answer, as JSON
	CreatedAt   time.Time
}

// Drift is a difference between what a resource or an assignment holds and
// what the ledger says it should hold.
type Drift struct {
	ProjectID  string `json:"project_id"`
	ResourceID string `json:"resource_id"`
	// Field is amount, usage, held (against the ledger), held_open
	// (against the open reservations' holds), resource_num or
	// resource_used_num.
	Field  string   `json:"field"`
	Stored Quantity `json:"stored"`
	Ledger Quantity `json:"ledger"`
}

// Tx is one write transaction of a Ledger store, holding a set of projects.
// The lifecycle rules in this package are written once against it; each
// store implements it with its own SQL.
type Tx interface {
	// Now is the time of the whole operation: every row and entry it writes
	// shares it.
	Now() time.Time
	// Project returns a project. ENOTFOUND if it does not exist.
	Project(id string) (Project, error)
	// Resource returns a resource, removed or not. ENOTFOUND if there is none.
	Resource(projectID, resourceID string) (Resource, error)
	// ResourcesOfType returns a project's resources of one type that are
	// not removed, in Seq order.
	ResourcesOfType(projectID, resourceType string) ([]Resource, error)
	// SaveResource inserts r when r.Seq is 0 (assigning Seq) and updates it
	// otherwise; it stamps r.Version. The project must be held by the
	// transaction. ECONFLICT if a new resource's id exists.
	SaveResource(r *Resource) error
	// Assignment returns an allocation record of a customer project, read
	// with the project in the query. ENOTFOUND if there is none.
	Assignment(customerProjectID, recordID string) (Assignment, error)
	// AllocatedFrom returns the units an SP package has given away and its
	// customers still hold: the sum of resource_num over the assignments
	// drawn from it (0 when there are none).
	AllocatedFrom(spProjectID, spResourceID string) (Quantity, error)
	// SaveAssignment inserts or updates like SaveResource; the customer
	// project must be held.
	SaveAssignment(a *Assignment) error
	// AppendLedger appends e, assigning e.Seq. The project must be held.
	AppendLedger(e *LedgerEntry) error
	// Idempotency returns the record of an earlier request with this key.
	Idempotency(projectID, key string) (IdempotencyRecord, bool, error)
	// SaveIdempotency records the answer to a request. The project must be
	// held: its lock is what makes a key safe when two nodes see the same
	// retry at once (the second waits, then finds the first's record).
	SaveIdempotency(rec IdempotencyRecord) error
	// Reservation returns a reservation of a project with its holds.
	// ENOTFOUND if the project has none with this id.
	Reservation(projectID, id string) (Reservation, error)
	// InsertReservation adds a reservation and its holds. The project must
	// be held. ECONFLICT if the id exists.
	InsertReservation(v Reservation) error
	// UpdateReservation writes a reservation's state, committed total,
	// settle time and each hold's committed units. The project must be
	// held. ENOTFOUND if it does not exist.
	UpdateReservation(v Reservation) error

	// The spec catalog and orders (catalog.go, order.go).

	// CatalogSpec returns a spec of the catalog. ENOTFOUND if there is none.
	CatalogSpec(code string) (CatalogSpec, error)
	// Order returns an order of a project. ENOTFOUND if it has none with
	// this id.
	Order(projectID, orderID string) (Order, error)
	// InsertOrder records an order. The project must be held. ECONFLICT if
	// the id exists.
	InsertOrder(o Order) error
	// Tenant settings and user charges (tenant_settings.go, quota.go).

	// Setting returns a tenant setting as the transaction sees it; ok is
	// false if there is none.
	Setting(projectID string, kind SettingKind, name string) (s Setting, ok bool, err error)
	// UserCharges is TenantSettings.UserCharges inside the transaction.
	UserCharges(projectID, userID string) ([]ChargeRow, error)
	// LiveResources returns a project's resources that are not removed, in
	// Seq order.
	LiveResources(projectID string) ([]Resource, error)
	// Notifications (notify.go): notice configurations and the outbox.
	NoticeTx
}

// Ledger is the write side of a store: every lifecycle operation runs in
// Update, and every change it makes is a ledger entry.
type Ledger interface {
	// Update runs fn in one write transaction that holds projectIDs (locked
	// in sorted order, so two updates never deadlock) and bumps the version
	// of each exactly once if fn succeeds. Nothing is written if fn fails.
	// fn may run more than once when the database asks for a retry
	// (serialization failures), so it must not have effects outside tx.
	// ENOTFOUND if a project does not exist.
	Update(ctx context.Context, projectIDs []string, fn func(Tx) error) error
	// LedgerEntries returns one page of entries and the count of all that match.
	LedgerEntries(ctx context.Context, q LedgerQuery) ([]LedgerEntry, int, error)
	// Drift recomputes every resource's amount, usage and held units and
	// every assignment's numbers from the ledger, and every resource's held
	// units from its open reservations, and returns each difference.
	Drift(ctx context.Context) ([]Drift, error)

	// FindReservation returns a reservation by its id, which is unique
	// across projects. ENOTFOUND if there is none.
	FindReservation(ctx context.Context, id string) (Reservation, error)
	// Reservations returns one page of a project's reservations, newest
	// first, optionally of one state, and the count of all that match.
	// EINVALID if the query names no project.
	Reservations(ctx context.Context, q ReservationQuery) ([]Reservation, int, error)
	// DueReservations returns up to limit open reservations of any project
	// whose expiry is at or before now, the most overdue first.
	DueReservations(ctx context.Context, now time.Time, limit int) ([]Reservation, error)
}

// AppendDrift appends to ds a Drift for each of a row's two balances that
// differs from what the ledger says: the amount (reported as amountField)
// and the usage (usageField). Stores call it for every row their drift
// queries return.
func AppendDrift(ds []Drift, projectID, id, amountField, usageField string, amount, usage, ledgerAmount, ledgerUsage Quantity) []Drift {
	if amount != ledgerAmount {
		ds = append(ds, Drift{ProjectID: projectID, ResourceID: id, Field: amountField, Stored: amount, Ledger: ledgerAmount})
	}
	if usage != ledgerUsage {
		ds = append(ds, Drift{ProjectID: projectID, ResourceID: id, Field: usageField, Stored: usage, Ledger: ledgerUsage})
	}
	return ds
}
