package allot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
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
	// Replayed is true when the answer comes from an earlier request with
	// the same idempotency key; nothing was changed this time.
	Replayed bool `json:"replayed,omitempty"`
}

// Service holds the lifecycle rules: purchases, allocations, reclaims,
// freezes, consumption and refunds. Each operation is one Ledger.Update:
// checked and written all or nothing, every change a ledger entry.
type Service struct {
	Store LedgerStore
}

// LedgerStore is what the lifecycle rules need of a store.
type LedgerStore interface {
	Ledger
	FindProject(ctx context.Context, id string) (Project, error)
}

// MaxReasonLen bounds the free text of a reason.
const MaxReasonLen = 1024

func forbidden(format string, args ...any) error { return Errorf(EFORBIDDEN, format, args...) }

func (a Actor) requireAdmin() error {
	if a.Role != RoleAdmin {
		return forbidden("this operation needs an admin credential")
	}
	return nil
}

// validateKey checks an idempotency key.
func validateKey(key string) error {
	if key == "" {
		return Invalid("idempotency_key", "is required")
	}
	if len(key) > 128 {
		return Invalid("idempotency_key", "is longer than 128 characters")
	}
	return nil
}

func validateReason(reason string, required bool) error {
	if required && reason == "" {
		return Invalid("reason", "is required")
	}
	if len(reason) > MaxReasonLen {
		return Invalid("reason", "is longer than %d bytes", MaxReasonLen)
	}
	return nil
}

func validatePositive(param string, q Quantity) error {
	if q <= 0 {
		return Invalid(param, "must be greater than 0")
	}
	if q > MaxQuantity {
		return Invalid(param, "is above the maximum 2147483647")
	}
	return nil
}

// once makes op idempotent per (project, key): the first call runs op and
// records its answer; a later call with the same key and the same request
// returns that answer and changes nothing; the same key with another
// request is refused.
func once(tx Tx, projectID, key string, request any, op func() (OpResult, error)) (OpResult, error) {
	fp, err := json.Marshal(request)
	if err != nil {
		return OpResult{}, err
	}
	rec, ok, err := tx.Idempotency(projectID, key)
	if err != nil {
		return OpResult{}, err
	}
	if ok {
		if rec.Fingerprint != string(fp) {
			return OpResult{}, Errorf(ECONFLICT, "idempotency_key %q was used for a different request", key)
		}
		var out OpResult
		if err := json.Unmarshal(rec.Result, &out); err != nil {
			return OpResult{}, fmt.Errorf("stored answer for idempotency key %q: %w", key, err)
		}
		out.Replayed = true
		return out, nil
	}
	out, err := op()
	if err != nil {
		return OpResult{}, err
	}
	result, err := json.Marshal(out)
	if err != nil {
		return OpResult{}, err
	}
	return out, tx.SaveIdempotency(IdempotencyRecord{ProjectID: projectID, Key: key, Fingerprint: string(fp), Result: result, CreatedAt: tx.Now()})
}

// record appends a ledger entry for r and returns it.
func record(tx Tx, actor Actor, r *Resource, op Op, amount, usage Quantity, key, reason, ref string) (LedgerEntry, error) {
	e := LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, At: tx.Now(), Actor: actor.ID, Op: op,
		AmountDelta: amount, UsageDelta: usage, IdempotencyKey: key, Reason: reason, Ref: ref}
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

// PackageRequest adds a package to a project: a purchase (PURCHASED, keyed by
// OrderID) or an administrator allocation (ADMIN_ALLOCATED, keyed by
// IdempotencyKey).
type PackageRequest struct {
	ProjectID       string          `json:"project_id"`
	ResourceID      string          `json:"resource_id,omitempty"` // generated when empty
	Source          ResourceSource  `json:"resource_source"`
	OrderID         string          `json:"order_id,omitempty"`
	ResourceType    string          `json:"resource_type"`
	BusinessType    BusinessType    `json:"business_type"`
	SubResourceType SubResourceType `json:"sub_resource_type,omitempty"`
	IsSubResource   bool            `json:"is_sub_resource,omitempty"`
	ChargingMode    ChargingMode    `json:"charging_mode"`
	Unit            Unit            `json:"unit"`
	Amount          Quantity        `json:"amount"`
	ExpireTime      time.Time       `json:"resource_expire_time,omitzero"`
	IdempotencyKey  string          `json:"idempotency_key,omitempty"`
}

// AddPackage records a purchase or an administrator allocation. Re-sending
// the same order (or key) returns the first answer; the same order with
// other terms is ECONFLICT.
func (s *Service) AddPackage(ctx context.Context, actor Actor, req PackageRequest) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	op, key := OpPurchase, req.IdempotencyKey
	switch req.Source {
	case SourcePurchased:
		if err := ValidateID("order_id", req.OrderID); err != nil {
			return OpResult{}, err
		}
		key = "order:" + req.OrderID
	case SourceAdminAllocated:
		op = OpAdminGrant
		if err := validateKey(key); err != nil {
			return OpResult{}, err
		}
	default:
		return OpResult{}, Invalid("resource_source", "must be PURCHASED or ADMIN_ALLOCATED; SP_ALLOCATED packages come from an SP allocation")
	}
	r := Resource{
		ProjectID: req.ProjectID, ResourceID: req.ResourceID, OrderID: req.OrderID, ResourceType: req.ResourceType,
		BusinessType: req.BusinessType, SubResourceType: req.SubResourceType, IsSubResource: req.IsSubResource,
		ChargingMode: req.ChargingMode, Source: req.Source, Unit: req.Unit, Amount: req.Amount, ExpireTime: req.ExpireTime.UTC(),
	}
	if r.ResourceID == "" {
		r.ResourceID = newID("res-")
	}
	if err := r.Validate(); err != nil {
		return OpResult{}, err
	}
	if err := validatePositive("amount", r.Amount); err != nil {
		return OpResult{}, err
	}
	// The generated id is not part of the request: a retry would draw another.
	fingerprint := req
	var out OpResult
	err := s.Store.Update(ctx, []string{req.ProjectID}, func(tx Tx) (err error) {
		out, err = once(tx, req.ProjectID, key, fingerprint, func() (OpResult, error) {
			r := r
			if err := tx.SaveResource(&r); err != nil {
				return OpResult{}, err
			}
			e, err := record(tx, actor, &r, op, r.Amount, 0, req.IdempotencyKey, "", req.OrderID)
			return OpResult{Resource: r, Entries: []LedgerEntry{e}}, err
		})
		return err
	})
	return out, err
}

// AllocateRequest asks a service provider to give Amount units of a resource
// spec from one of its packages to one of its customers.
type AllocateRequest struct {
	SPProjectID       string   `json:"sp_project_id"`
	CustomerProjectID string   `json:"customer_project_id"`
	ResourceSpecCode  string   `json:"resource_spec_code"`
	Amount            Quantity `json:"amount"`
	// SPResourceID names the SP package to draw from; when empty, the SP's
	// package of this type that expires first and has enough left is used.
	SPResourceID string `json:"sp_resource_id,omitempty"`
	// ExpireTime of the customer's package; defaults to, and may not be
	// later than, the SP package's.
	ExpireTime     time.Time `json:"resource_expire_time,omitzero"`
	IdempotencyKey string    `json:"idempotency_key"`
}

// Allocate moves units from an SP's package to a new SP_ALLOCATED package of
// its customer, with an assignment record, atomically. An SP cannot give
// more than its package has left, nor give to a project that is not its
// customer.
func (s *Service) Allocate(ctx context.Context, actor Actor, req AllocateRequest) (OpResult, error) {
	switch {
	case actor.Role == RoleAdmin:
	case actor.Role == RoleSP && actor.SPProjectID == req.SPProjectID:
	default:
		return OpResult{}, forbidden("this credential cannot allocate for service provider %s", req.SPProjectID)
	}
	for _, c := range []struct{ param, id string }{{"sp_project_id", req.SPProjectID}, {"customer_project_id", req.CustomerProjectID}, {"resource_spec_code", req.ResourceSpecCode}} {
		if err := ValidateID(c.param, c.id); err != nil {
			return OpResult{}, err
		}
	}
	if req.SPResourceID != "" {
		if err := ValidateID("sp_resource_id", req.SPResourceID); err != nil {
			return OpResult{}, err
		}
	}
	if err := validatePositive("amount", req.Amount); err != nil {
		return OpResult{}, err
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return OpResult{}, err
	}
	projects := []string{req.SPProjectID, req.CustomerProjectID}
	slices.Sort(projects)
	recordID := newID("assign-")
	var out OpResult
	err := s.Store.Update(ctx, projects, func(tx Tx) (err error) {
		out, err = once(tx, req.SPProjectID, "allocate:"+req.IdempotencyKey, req, func() (OpResult, error) {
			return allocate(tx, actor, req, recordID)
		})
		return err
	})
	return out, err
}

func allocate(tx Tx, actor Actor, req AllocateRequest, recordID string) (OpResult, error) {
	customer, err := tx.Project(req.CustomerProjectID)
	if err != nil {
		return OpResult{}, err
	}
	if customer.SPProjectID != req.SPProjectID {
		return OpResult{}, Invalid("customer_project_id", "%s is not a customer of service provider %s", req.CustomerProjectID, req.SPProjectID)
	}
	src, err := spPackage(tx, req)
	if err != nil {
		return OpResult{}, err
	}
	expire := src.ExpireTime
	if !req.ExpireTime.IsZero() {
		if !src.ExpireTime.IsZero() && req.ExpireTime.After(src.ExpireTime) {
			return OpResult{}, Invalid("resource_expire_time", "is later than the SP package's expiry %s", src.ExpireTime.Format(time.RFC3339))
		}
		expire = req.ExpireTime.UTC()
	}
	src.Usage += req.Amount
	if err := tx.SaveResource(&src); err != nil {
		return OpResult{}, err
	}
	out, err := record(tx, actor, &src, OpSPGrantOut, 0, req.Amount, req.IdempotencyKey, "", recordID)
	if err != nil {
		return OpResult{}, err
	}
	granted := Resource{
		ProjectID: req.CustomerProjectID, ResourceID: recordID, ResourceType: src.ResourceType, BusinessType: src.BusinessType,
		SubResourceType: src.SubResourceType, IsSubResource: src.IsSubResource, ChargingMode: src.ChargingMode,
		Source: SourceSPAllocated, Unit: src.Unit, Amount: req.Amount, ExpireTime: expire,
	}
	if err := tx.SaveResource(&granted); err != nil {
		return OpResult{}, err
	}
	in, err := record(tx, actor, &granted, OpSPGrantIn, req.Amount, 0, req.IdempotencyKey, "", recordID)
	if err != nil {
		return OpResult{}, err
	}
	expireUnix := expire
	if expireUnix.IsZero() {
		expireUnix = time.Unix(MaxUnixSeconds, 0).UTC()
	}
	a := Assignment{
		RecordID: recordID, SPProjectID: req.SPProjectID, CustomerProjectID: req.CustomerProjectID,
		ResourceSpecCode: req.ResourceSpecCode, ChargingMode: src.ChargingMode, ResourceNum: req.Amount,
		AllocateTime: tx.Now(), ExpireTime: expireUnix, SPResourceID: src.ResourceID,
	}
	if err := tx.SaveAssignment(&a); err != nil {
		return OpResult{}, err
	}
	return OpResult{Resource: granted, Assignment: &a, Entries: []LedgerEntry{out, in}}, nil
}

// spPackage picks the SP package an allocation draws from.
func spPackage(tx Tx, req AllocateRequest) (Resource, error) {
	usable := func(r *Resource) error {
		switch {
		case r.ResourceType != req.ResourceSpecCode:
			// A request error, so it is reported before the package's state.
			return Invalid("sp_resource_id", "%s is of type %s, not %s", r.ResourceID, r.ResourceType, req.ResourceSpecCode)
		case r.Removed:
			return Errorf(ENOTFOUND, "SP package %s was cancelled", r.ResourceID)
		case r.Status == StatusFrozen:
			return Errorf(ECONFLICT, "SP package %s is frozen", r.ResourceID)
		case r.Expired(tx.Now()):
			return Errorf(ECONFLICT, "SP package %s expired at %s", r.ResourceID, r.ExpireTime.Format(time.RFC3339))
		case r.Remaining() < req.Amount:
			return Errorf(ECONFLICT, "SP package %s has %s left, fewer than the %s asked for", r.ResourceID, r.Remaining(), req.Amount)
		}
		return nil
	}
	if req.SPResourceID != "" {
		r, err := tx.Resource(req.SPProjectID, req.SPResourceID)
		if err != nil {
			return Resource{}, err
		}
		return r, usable(&r)
	}
	candidates, err := tx.ResourcesOfType(req.SPProjectID, req.ResourceSpecCode)
	if err != nil {
		return Resource{}, err
	}
	if best, ok := earliestExpiring(candidates, func(r *Resource) bool { return usable(r) == nil }); ok {
		return best, nil
	}
	return Resource{}, Errorf(ECONFLICT, "service provider %s has no usable package of %s with %s left", req.SPProjectID, req.ResourceSpecCode, req.Amount)
}

// earliestExpiring returns the candidate that expires first (one without
// expiry last; ties by Seq, i.e. the older package first).
func earliestExpiring(rs []Resource, ok func(*Resource) bool) (Resource, bool) {
	var best *Resource
	for i := range rs {
		r := &rs[i]
		if !ok(r) {
			continue
		}
		if best == nil || expiresBefore(r, best) {
			best = r
		}
	}
	if best == nil {
		return Resource{}, false
	}
	return *best, true
}

func expiresBefore(a, b *Resource) bool {
	switch {
	case a.ExpireTime.IsZero() != b.ExpireTime.IsZero():
		return !a.ExpireTime.IsZero()
	case !a.ExpireTime.Equal(b.ExpireTime):
		return a.ExpireTime.Before(b.ExpireTime)
	}
	return a.Seq < b.Seq
}
