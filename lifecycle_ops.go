package allot

import (
	"context"
	"time"
)

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

// mayManage checks that actor may reclaim or cancel r: an admin always, an
// SP only for what it allocated (the assignment names it).
func mayManage(tx Tx, actor Actor, r *Resource) (*Assignment, error) {
	var a *Assignment
	if r.Source == SourceSPAllocated {
		rec, err := tx.Assignment(r.ResourceID)
		switch ErrorCodeOf(err) {
		case "":
			if rec.CustomerProjectID == r.ProjectID {
				a = &rec
			}
		case ENOTFOUND:
		default:
			return nil, err
		}
	}
	if actor.Role == RoleAdmin {
		return a, nil
	}
	if actor.Role == RoleSP && a != nil && a.SPProjectID == actor.SPProjectID {
		return a, nil
	}
	return nil, forbidden("this credential cannot manage resource %s of project %s", r.ResourceID, r.ProjectID)
}

// liveResource loads a resource that has not been removed.
func liveResource(tx Tx, ref ResourceRef) (Resource, error) {
	r, err := tx.Resource(ref.ProjectID, ref.ResourceID)
	if err != nil {
		return Resource{}, err
	}
	if r.Removed {
		return Resource{}, Errorf(ENOTFOUND, "resource %s of project %s was cancelled or fully reclaimed", ref.ResourceID, ref.ProjectID)
	}
	return r, nil
}

// projectsOf returns the projects an operation on r may touch: r's own and,
// for a resource an SP allocated, the SP's (whose pool gets units back).
// The SP is found from the customer's project record, before the
// transaction, so both can be locked in order.
func (s *Service) projectsOf(ctx context.Context, ref ResourceRef) ([]string, error) {
	p, err := s.Store.FindProject(ctx, ref.ProjectID)
	if err != nil || p.SPProjectID == "" {
		return []string{ref.ProjectID}, err
	}
	sp := p.SPProjectID
	if sp < ref.ProjectID {
		return []string{sp, ref.ProjectID}, nil
	}
	return []string{ref.ProjectID, sp}, nil
}

// ReclaimRequest takes back unused units of a package.
type ReclaimRequest struct {
	ResourceRef
	// Amount to take back; nil takes back everything unused.
	Amount         *Quantity `json:"amount,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	// Cancel removes the package from every list after taking back the
	// unused rest (Amount must be nil).
	Cancel bool `json:"cancel,omitempty"`
}

// Reclaim takes back unused units (or, with Cancel, cancels the package).
// Units of an SP allocation go back to the SP's package and the assignment
// record shrinks with them. A package whose amount reaches 0, or that is
// cancelled, leaves the tenant's list; its history stays in the ledger.
func (s *Service) Reclaim(ctx context.Context, actor Actor, req ReclaimRequest) (OpResult, error) {
	if err := req.validate(); err != nil {
		return OpResult{}, err
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return OpResult{}, err
	}
	if err := validateReason(req.Reason, false); err != nil {
		return OpResult{}, err
	}
	if req.Amount != nil {
		if req.Cancel {
			return OpResult{}, Invalid("amount", "cannot be given with cancel: a cancel takes back all that is unused")
		}
		if err := validatePositive("amount", *req.Amount); err != nil {
			return OpResult{}, err
		}
	}
	projects, err := s.projectsOf(ctx, req.ResourceRef)
	if err != nil {
		return OpResult{}, err
	}
	var out OpResult
	err = s.Store.Update(ctx, projects, func(tx Tx) (err error) {
		out, err = once(tx, req.ProjectID, "reclaim:"+req.IdempotencyKey, req, func() (OpResult, error) {
			return reclaim(tx, actor, req)
		})
		return err
	})
	return out, err
}

func reclaim(tx Tx, actor Actor, req ReclaimRequest) (OpResult, error) {
	r, err := liveResource(tx, req.ResourceRef)
	if err != nil {
		return OpResult{}, err
	}
	a, err := mayManage(tx, actor, &r)
	if err != nil {
		return OpResult{}, err
	}
	take := r.Remaining()
	if req.Amount != nil {
		if *req.Amount > take {
			return OpResult{}, Errorf(ECONFLICT, "resource %s has %s unused, fewer than the %s to reclaim", r.ResourceID, take, *req.Amount)
		}
		take = *req.Amount
	}
	op := OpReclaim
	if req.Cancel {
		op = OpCancel
	}
	if take == 0 && !req.Cancel {
		return OpResult{}, Errorf(ECONFLICT, "resource %s has nothing unused to reclaim", r.ResourceID)
	}
	r.Amount -= take
	r.Removed = req.Cancel || r.Amount == 0
	if err := tx.SaveResource(&r); err != nil {
		return OpResult{}, err
	}
	ref := ""
	if a != nil {
		ref = a.RecordID
	}
	e, err := record(tx, actor, &r, op, -take, 0, req.IdempotencyKey, req.Reason, ref)
	if err != nil {
		return OpResult{}, err
	}
	out := OpResult{Resource: r, Entries: []LedgerEntry{e}}
	if a != nil {
		a.ResourceNum -= take
		if err := tx.SaveAssignment(a); err != nil {
			return OpResult{}, err
		}
		out.Assignment = a
		if a.SPResourceID != "" && take > 0 {
			src, err := tx.Resource(a.SPProjectID, a.SPResourceID)
			if err != nil {
				return OpResult{}, err
			}
			src.Usage -= take
			if err := tx.SaveResource(&src); err != nil {
				return OpResult{}, err
			}
			back, err := record(tx, actor, &src, OpSPReturn, 0, -take, req.IdempotencyKey, req.Reason, a.RecordID)
			if err != nil {
				return OpResult{}, err
			}
			out.Entries = append(out.Entries, back)
		}
	}
	return out, nil
}

// SetStatus freezes (StatusFrozen) or unfreezes (StatusNormal) a package.
// A frozen package cannot be consumed. Setting the status it already has
// changes nothing and writes no entry.
func (s *Service) SetStatus(ctx context.Context, actor Actor, ref ResourceRef, status ResourceStatus, reason string) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	if err := ref.validate(); err != nil {
		return OpResult{}, err
	}
	if !status.Valid() {
		return OpResult{}, Invalid("status", "must be 0 (normal) or 1 (frozen)")
	}
	if err := validateReason(reason, false); err != nil {
		return OpResult{}, err
	}
	return s.change(ctx, ref, func(tx Tx, r *Resource) (Op, string, bool) {
		if r.Status == status {
			return "", "", false
		}
		r.Status = status
		if status == StatusFrozen {
			return OpFreeze, "", true
		}
		return OpUnfreeze, "", true
	}, actor, reason)
}

// BindAsset binds a package to an asset, or unbinds it when asset is nil.
func (s *Service) BindAsset(ctx context.Context, actor Actor, ref ResourceRef, asset *BoundAsset) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	if err := ref.validate(); err != nil {
		return OpResult{}, err
	}
	if asset != nil {
		if err := ValidateID("asset_id", asset.AssetID); err != nil {
			return OpResult{}, err
		}
		if len(asset.AssetName) > 255 {
			return OpResult{}, Invalid("asset_name", "is longer than 255 bytes")
		}
	}
	return s.change(ctx, ref, func(tx Tx, r *Resource) (Op, string, bool) {
		if asset == nil {
			if r.BoundAsset == nil {
				return "", "", false
			}
			old := r.BoundAsset.AssetID
			r.BoundAsset = nil
			return OpUnbindAsset, old, true
		}
		if r.BoundAsset != nil && *r.BoundAsset == *asset {
			return "", "", false
		}
		r.BoundAsset = &BoundAsset{AssetID: asset.AssetID, AssetName: asset.AssetName}
		return OpBindAsset, asset.AssetID, true
	}, actor, "")
}

// change applies an attribute change that moves no units.
func (s *Service) change(ctx context.Context, ref ResourceRef, fn func(Tx, *Resource) (Op, string, bool), actor Actor, reason string) (OpResult, error) {
	var out OpResult
	err := s.Store.Update(ctx, []string{ref.ProjectID}, func(tx Tx) error {
		r, err := liveResource(tx, ref)
		if err != nil {
			return err
		}
		out = OpResult{Resource: r, Entries: []LedgerEntry{}}
		op, entryRef, changed := fn(tx, &r)
		if !changed {
			return nil
		}
		if err := tx.SaveResource(&r); err != nil {
			return err
		}
		e, err := record(tx, actor, &r, op, 0, 0, "", reason, entryRef)
		out = OpResult{Resource: r, Entries: []LedgerEntry{e}}
		return err
	})
	return out, err
}

// ConsumeRequest meters usage: Amount units of one package, or of the
// project's best package of ResourceType when ResourceID is empty.
type ConsumeRequest struct {
	ProjectID      string   `json:"project_id"`
	ResourceID     string   `json:"resource_id,omitempty"`
	ResourceType   string   `json:"resource_type,omitempty"`
	Amount         Quantity `json:"amount"`
	IdempotencyKey string   `json:"idempotency_key"`
}

// Consume adds Amount to a package's usage. It is refused, and nothing is
// written, when the package is frozen, expired, cancelled, of another
// project, or would go over its amount. Without a ResourceID the package is
// the project's best match of ResourceType: among those not frozen, not
// expired and with at least Amount left, the one that expires first (one
// without expiry last; ties go to the older package). A retry with the same
// idempotency key counts once and gets the first answer.
func (s *Service) Consume(ctx context.Context, actor Actor, req ConsumeRequest) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	if err := ValidateID("project_id", req.ProjectID); err != nil {
		return OpResult{}, err
	}
	switch {
	case req.ResourceID != "" && req.ResourceType != "":
		return OpResult{}, Invalid("resource_id", "give resource_id or resource_type, not both")
	case req.ResourceID != "":
		if err := ValidateID("resource_id", req.ResourceID); err != nil {
			return OpResult{}, err
		}
	default:
		if err := ValidateID("resource_type", req.ResourceType); err != nil {
			return OpResult{}, Invalid("resource_id", "or resource_type is required")
		}
	}
	if err := validatePositive("amount", req.Amount); err != nil {
		return OpResult{}, err
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return OpResult{}, err
	}
	var out OpResult
	err := s.Store.Update(ctx, []string{req.ProjectID}, func(tx Tx) (err error) {
		out, err = once(tx, req.ProjectID, "consume:"+req.IdempotencyKey, req, func() (OpResult, error) {
			return consume(tx, actor, req)
		})
		return err
	})
	return out, err
}

func consume(tx Tx, actor Actor, req ConsumeRequest) (OpResult, error) {
	now := tx.Now()
	consumable := func(r *Resource) error {
		switch {
		case r.Status == StatusFrozen:
			return Errorf(ECONFLICT, "resource %s is frozen", r.ResourceID)
		case r.Expired(now):
			return Errorf(ECONFLICT, "resource %s expired at %s", r.ResourceID, r.ExpireTime.Format(time.RFC3339))
		case r.Remaining() < req.Amount:
			return Errorf(ECONFLICT, "resource %s has %s left, fewer than the %s to consume", r.ResourceID, r.Remaining(), req.Amount)
		}
		return nil
	}
	var r Resource
	if req.ResourceID != "" {
		var err error
		if r, err = liveResource(tx, ResourceRef{req.ProjectID, req.ResourceID}); err != nil {
			return OpResult{}, err
		}
		if err := consumable(&r); err != nil {
			return OpResult{}, err
		}
	} else {
		candidates, err := tx.ResourcesOfType(req.ProjectID, req.ResourceType)
		if err != nil {
			return OpResult{}, err
		}
		var ok bool
		if r, ok = earliestExpiring(candidates, func(r *Resource) bool { return consumable(r) == nil }); !ok {
			return OpResult{}, Errorf(ECONFLICT, "project %s has no usable package of %s with %s left", req.ProjectID, req.ResourceType, req.Amount)
		}
	}
	return addUsage(tx, actor, r, OpConsume, req.Amount, req.IdempotencyKey, "")
}

// addUsage changes a package's usage by delta, keeping the assignment record
// of an SP allocation in step.
func addUsage(tx Tx, actor Actor, r Resource, op Op, delta Quantity, key, reason string) (OpResult, error) {
	r.Usage += delta
	if err := tx.SaveResource(&r); err != nil {
		return OpResult{}, err
	}
	e, err := record(tx, actor, &r, op, 0, delta, key, reason, "")
	if err != nil {
		return OpResult{}, err
	}
	out := OpResult{Resource: r, Entries: []LedgerEntry{e}}
	if r.Source == SourceSPAllocated {
		a, err := tx.Assignment(r.ResourceID)
		if err == nil && a.CustomerProjectID == r.ProjectID {
			a.ResourceUsedNum += delta
			if err := tx.SaveAssignment(&a); err != nil {
				return OpResult{}, err
			}
			out.Assignment = &a
		} else if err != nil && ErrorCodeOf(err) != ENOTFOUND {
			return OpResult{}, err
		}
	}
	return out, nil
}

// RefundRequest corrects metered usage downwards.
type RefundRequest struct {
	ResourceRef
	Amount         Quantity `json:"amount"`
	Reason         string   `json:"reason"`
	IdempotencyKey string   `json:"idempotency_key"`
}

// Refund takes Amount off a package's usage, with a reason. It cannot take
// off more than was used.
func (s *Service) Refund(ctx context.Context, actor Actor, req RefundRequest) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	if err := req.validate(); err != nil {
		return OpResult{}, err
	}
	if err := validatePositive("amount", req.Amount); err != nil {
		return OpResult{}, err
	}
	if err := validateReason(req.Reason, true); err != nil {
		return OpResult{}, err
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return OpResult{}, err
	}
	var out OpResult
	err := s.Store.Update(ctx, []string{req.ProjectID}, func(tx Tx) (err error) {
		out, err = once(tx, req.ProjectID, "refund:"+req.IdempotencyKey, req, func() (OpResult, error) {
			r, err := liveResource(tx, req.ResourceRef)
			if err != nil {
				return OpResult{}, err
			}
			if req.Amount > r.Usage {
				return OpResult{}, Errorf(ECONFLICT, "resource %s has used %s, less than the %s to refund", r.ResourceID, r.Usage, req.Amount)
			}
			return addUsage(tx, actor, r, OpRefund, -req.Amount, req.IdempotencyKey, req.Reason)
		})
		return err
	})
	return out, err
}
