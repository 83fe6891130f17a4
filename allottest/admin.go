package allottest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/allot-dev/allot"
)

// Admin makes management calls as an administrator, in process, through
// the same lifecycle service the management API calls: every change is a
// ledger entry and shows in the next SDK read. Fields a test leaves empty
// get defaults: the project is the server's ProjectID, an order id or
// idempotency key a fresh one, a package's expiry a year from the clock's
// now, a reservation's TTL an hour.
type Admin struct {
	s     *Server
	actor allot.Actor
}

// Admin returns the server's management helpers.
func (s *Server) Admin() *Admin {
	return &Admin{s: s, actor: allot.Actor{ID: "allottest", Role: allot.RoleAdmin}}
}

// Units is n whole units as a Quantity.
func Units(n int64) allot.Quantity { return allot.Quantity(n * allot.QuantityScale) }

func (a *Admin) svc() *allot.Service { return a.s.app.Service }

func (a *Admin) project(p *string) {
	if *p == "" {
		*p = a.s.ProjectID
	}
}

func fresh(prefix string, v *string) {
	if *v == "" {
		b := make([]byte, 8)
		rand.Read(b)
		*v = prefix + hex.EncodeToString(b)
	}
}

func (a *Admin) pkg(req *allot.PackageRequest, source allot.ResourceSource) {
	a.project(&req.ProjectID)
	req.Source = source
	if req.ExpireTime.IsZero() {
		req.ExpireTime = a.s.clock.Now().Add(365 * 24 * time.Hour).UTC().Truncate(time.Second)
	}
}

// Purchase records a purchased package (PURCHASED, keyed by its order id).
func (a *Admin) Purchase(req allot.PackageRequest) (allot.OpResult, error) {
	a.pkg(&req, allot.SourcePurchased)
	fresh("order-", &req.OrderID)
	return a.svc().AddPackage(context.Background(), a.actor, req)
}

// Grant records an administrator's allocation (ADMIN_ALLOCATED).
func (a *Admin) Grant(req allot.PackageRequest) (allot.OpResult, error) {
	a.pkg(&req, allot.SourceAdminAllocated)
	fresh("grant-", &req.IdempotencyKey)
	return a.svc().AddPackage(context.Background(), a.actor, req)
}

// Allocate moves units of an SP's package to its customer (SP_ALLOCATED);
// the customer defaults to the server's project.
func (a *Admin) Allocate(req allot.AllocateRequest) (allot.OpResult, error) {
	a.project(&req.CustomerProjectID)
	fresh("allocate-", &req.IdempotencyKey)
	return a.svc().Allocate(context.Background(), a.actor, req)
}

// Consume meters usage of a package.
func (a *Admin) Consume(req allot.ConsumeRequest) (allot.OpResult, error) {
	a.project(&req.ProjectID)
	fresh("consume-", &req.IdempotencyKey)
	return a.svc().Consume(context.Background(), a.actor, req)
}

// Freeze freezes a package of the server's project.
func (a *Admin) Freeze(resourceID, reason string) (allot.OpResult, error) {
	return a.svc().SetStatus(context.Background(), a.actor, a.ref(resourceID), allot.StatusFrozen, reason)
}

// Unfreeze lifts a freeze.
func (a *Admin) Unfreeze(resourceID, reason string) (allot.OpResult, error) {
	return a.svc().SetStatus(context.Background(), a.actor, a.ref(resourceID), allot.StatusNormal, reason)
}

// Refund takes metered usage off a package.
func (a *Admin) Refund(req allot.RefundRequest) (allot.OpResult, error) {
	a.project(&req.ProjectID)
	fresh("refund-", &req.IdempotencyKey)
	return a.svc().Refund(context.Background(), a.actor, req)
}

// Reclaim takes back unused units (all of them when req.Amount is nil).
func (a *Admin) Reclaim(req allot.ReclaimRequest) (allot.OpResult, error) {
	a.project(&req.ProjectID)
	fresh("reclaim-", &req.IdempotencyKey)
	req.Cancel = false
	return a.svc().Reclaim(context.Background(), a.actor, req)
}

// Cancel takes back the unused rest of a package and removes it from every
// list.
func (a *Admin) Cancel(resourceID, reason string) (allot.OpResult, error) {
	req := allot.ReclaimRequest{ResourceRef: a.ref(resourceID), Reason: reason, Cancel: true}
	fresh("cancel-", &req.IdempotencyKey)
	return a.svc().Reclaim(context.Background(), a.actor, req)
}

// Reserve holds units for a job whose cost is known only when it ends; the
// hold expires by the server's clock after req.TTL seconds.
func (a *Admin) Reserve(req allot.ReserveRequest) (allot.ReservationResult, error) {
	a.project(&req.ProjectID)
	fresh("reserve-", &req.IdempotencyKey)
	if req.TTL == 0 {
		req.TTL = 3600
	}
	return a.svc().Reserve(context.Background(), a.actor, req)
}

// Commit settles amount of a reservation's holds and gives the rest back.
func (a *Admin) Commit(reservationID string, amount allot.Quantity) (allot.ReservationResult, error) {
	req := allot.CommitRequest{ReservationID: reservationID, Amount: amount}
	fresh("commit-", &req.IdempotencyKey)
	return a.svc().Commit(context.Background(), a.actor, req)
}

// Release gives all of a reservation's holds back.
func (a *Admin) Release(reservationID string) (allot.ReservationResult, error) {
	return a.svc().Release(context.Background(), a.actor, allot.ReleaseRequest{ReservationID: reservationID})
}

// Ledger returns the ledger entries of the server's project, oldest first.
func (a *Admin) Ledger() ([]allot.LedgerEntry, error) {
	entries, _, err := a.svc().LedgerEntries(context.Background(), a.actor, allot.LedgerQuery{ProjectID: a.s.ProjectID, Page: allot.Page{Limit: 1000}})
	return entries, err
}

func (a *Admin) ref(resourceID string) allot.ResourceRef {
	return allot.ResourceRef{ProjectID: a.s.ProjectID, ResourceID: resourceID}
}
