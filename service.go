package allot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Role is what a management credential may do.
type Role string

const (
	// RoleAdmin may do everything, on every project.
	RoleAdmin Role = "admin"
	// RoleSP acts for one service provider project: it allocates from its
	// own packages to its own customers and reclaims or cancels what it
	// allocated.
	RoleSP Role = "sp"
)

// Actor is the management credential behind an operation; its ID goes into
// every ledger entry the operation writes.
type Actor struct {
	ID          string
	Role        Role
	SPProjectID string // for RoleSP
}

// OpResult is the answer to a lifecycle operation. It is what a retry with
// the same idempotency key gets back.
type OpResult struct {
	Resource   Resource      `json:"resource"`
	Assignment *Assignment   `json:"assignment,omitempty"`
	Entries    []LedgerEntry `json:"entries"`
	// Split holds the other packages of a split consume, in burn-down
	// order after Resource.
	Split []Resource `json:"split,omitempty"`
	// Replayed is true when the answer comes from an earlier request with
	// the same idempotency key; nothing was changed this time.
	Replayed bool `json:"replayed,omitempty"`
	// Created is true when this call made a new package (a purchase, a
	// grant or an allocation); false for every other operation and for a
	// replay, which made nothing. The management API answers 201 for it.
	Created bool `json:"-"`
}

// Service holds the lifecycle rules: purchases, allocations, reclaims,
// freezes, consumption and refunds. Each operation is one Ledger.Update:
// checked and written all or nothing, every change a ledger entry.
type Service struct {
	Store LedgerStore

	// reservations is the project of the reservations this Service made or
	// looked up lately.
	reservations projectCache
}

// LedgerStore is what the lifecycle rules need of a store.
type LedgerStore interface {
	Ledger
	FindProject(ctx context.Context, id string) (Project, error)
	Notices
}

func forbidden(format string, args ...any) error { return Errorf(EFORBIDDEN, format, args...) }

func (a Actor) requireAdmin() error {
	if a.Role != RoleAdmin {
		return forbidden("this operation needs an admin credential")
	}
	return nil
}

// appendEntry stamps e with the operation's time, appends it and returns it
// with its Seq. Callers build e as a literal, so every field is named.
func appendEntry(tx Tx, e LedgerEntry) (LedgerEntry, error) {
	e.At = tx.Now()
	err := tx.AppendLedger(&e)
	return e, err
}

// newID returns prefix and 16 random hex digits: ids that spread evenly
// across the key space of a distributed database.
func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ResourceRef names one resource of one project.
type ResourceRef struct {
	ProjectID  string `json:"project_id"`
	ResourceID string `json:"resource_id"`
}

func (ref ResourceRef) validate() error {
	if err := ValidateID("project_id", ref.ProjectID); err != nil {
		return err
	}
	return ValidateID("resource_id", ref.ResourceID)
}

// liveResource loads a resource that has not been removed.
func liveResource(tx Tx, ref ResourceRef) (Resource, error) {
	r, err := tx.Resource(ref.ProjectID, ref.ResourceID)
	if err != nil {
		return Resource{}, err
	}
	if r.Removed {
		return Resource{}, removedErr(ref)
	}
	return r, nil
}

func removedErr(ref ResourceRef) error {
	return Errorf(ENOTFOUND, "resource %s of project %s was cancelled or fully reclaimed", ref.ResourceID, ref.ProjectID)
}

// projectsOf returns the projects an operation on r may touch: r's own and,
// for a resource an SP allocated, the SP's (whose pool gets units back).
// The SP is found from the customer's project record, before the
// transaction, so both can be locked in order.
//
// An SP may only act on its customers' projects: any other project, and one
// that does not exist, is EFORBIDDEN before a resource is looked at, so the
// answer never tells whether the resource exists.
func (s *Service) projectsOf(ctx context.Context, actor Actor, ref ResourceRef) ([]string, error) {
	p, err := s.Store.FindProject(ctx, ref.ProjectID)
	if actor.Role != RoleAdmin && (ErrorCodeOf(err) == ENOTFOUND || err == nil && (actor.Role != RoleSP || p.SPProjectID != actor.SPProjectID)) {
		return nil, forbidden("this credential cannot manage resource %s of project %s", ref.ResourceID, ref.ProjectID)
	}
	if err != nil || p.SPProjectID == "" {
		return []string{ref.ProjectID}, err
	}
	sp := p.SPProjectID
	if sp < ref.ProjectID {
		return []string{sp, ref.ProjectID}, nil
	}
	return []string{ref.ProjectID, sp}, nil
}
