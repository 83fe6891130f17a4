package allot

import (
	"context"
	"slices"
	"time"
)

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
	if actor.Role != RoleAdmin {
		// An SP learns nothing about projects that are not its customers:
		// a missing project gets the same answer as another SP's.
		c, err := s.Store.FindProject(ctx, req.CustomerProjectID)
		if ErrorCodeOf(err) == ENOTFOUND || err == nil && c.SPProjectID != req.SPProjectID {
			return OpResult{}, notCustomer(req)
		} else if err != nil {
			return OpResult{}, err
		}
	}
	projects := []string{req.SPProjectID, req.CustomerProjectID}
	slices.Sort(projects)
	recordID := newID("assign-")
	var out OpResult
	err := s.update(ctx, projects, func(tx Tx) (err error) {
		out, err = once(tx, idem{Project: req.SPProjectID, Key: scopedKey("allocate", "", req.IdempotencyKey), Shown: req.IdempotencyKey, Request: req}, func() (OpResult, error) {
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
		return OpResult{}, notCustomer(req)
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
	out, err := appendEntry(tx, LedgerEntry{ProjectID: src.ProjectID, ResourceID: src.ResourceID, Actor: actor.ID, Op: OpSPGrantOut,
		UsageDelta: req.Amount, IdempotencyKey: req.IdempotencyKey, Ref: recordID})
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
	in, err := appendEntry(tx, LedgerEntry{ProjectID: granted.ProjectID, ResourceID: granted.ResourceID, Actor: actor.ID, Op: OpSPGrantIn,
		AmountDelta: req.Amount, IdempotencyKey: req.IdempotencyKey, Ref: recordID})
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
	return OpResult{Resource: granted, Assignment: &a, Entries: []LedgerEntry{out, in}, Created: true}, nil
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

func notCustomer(req AllocateRequest) error {
	return Invalid("customer_project_id", "%s is not a customer of service provider %s", req.CustomerProjectID, req.SPProjectID)
}
