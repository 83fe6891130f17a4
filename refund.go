package allot

import (
	"context"
)

// RefundRequest corrects metered usage downwards.
type RefundRequest struct {
	ResourceRef
	Amount         Quantity `json:"amount"`
	Reason         string   `json:"reason"`
	IdempotencyKey string   `json:"idempotency_key"`
}

// Refund takes Amount off a package's usage, with a reason. It cannot take
// off more than was metered: for an SP's package, the units its customers
// hold are usage it did not meter and cannot be refunded (they come back by
// a reclaim).
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
	err := s.update(ctx, []string{req.ProjectID}, func(tx Tx) (err error) {
		id := idem{Project: req.ProjectID, Key: scopedKey("refund", req.ResourceID, req.IdempotencyKey), Shown: req.IdempotencyKey, Request: req,
			LegacyKey: "refund:" + req.IdempotencyKey, LegacyInScope: func(fp string) bool { return legacyField(fp, "resource_id") == req.ResourceID }}
		out, err = once(tx, id, func() (OpResult, error) {
			r, err := liveResource(tx, req.ResourceRef)
			if err != nil {
				return OpResult{}, err
			}
			// An SP package's usage also counts the units its customers
			// hold; only what it metered itself can be refunded, or a later
			// reclaim of those units would drive its usage below 0.
			given, err := tx.AllocatedFrom(r.ProjectID, r.ResourceID)
			if err != nil {
				return OpResult{}, err
			}
			if metered := r.Usage - given; req.Amount > metered {
				if given > 0 {
					return OpResult{}, Errorf(ECONFLICT, "resource %s has metered %s of its own (of %s used, %s are allocated to customers), less than the %s to refund",
						r.ResourceID, metered, r.Usage, given, req.Amount)
				}
				return OpResult{}, Errorf(ECONFLICT, "resource %s has used %s, less than the %s to refund", r.ResourceID, r.Usage, req.Amount)
			}
			return addUsage(tx, actor, r, OpRefund, -req.Amount, req.IdempotencyKey, req.Reason)
		})
		return err
	})
	return out, err
}
