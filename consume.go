package allot

import (
	"context"
	"time"
)

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
	case req.ResourceType == "":
		return OpResult{}, Invalid("resource_id", "or resource_type is required")
	default:
		if err := ValidateID("resource_type", req.ResourceType); err != nil {
			return OpResult{}, err
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
		out, err = once(tx, idem{Project: req.ProjectID, Key: scopedKey("consume", "", req.IdempotencyKey), Shown: req.IdempotencyKey, Request: req}, func() (OpResult, error) {
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
	e, err := appendEntry(tx, LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: actor.ID, Op: op,
		UsageDelta: delta, IdempotencyKey: key, Reason: reason})
	if err != nil {
		return OpResult{}, err
	}
	out := OpResult{Resource: r, Entries: []LedgerEntry{e}}
	if r.Source == SourceSPAllocated {
		a, err := tx.Assignment(r.ProjectID, r.ResourceID)
		if err == nil {
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
