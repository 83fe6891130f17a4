package allot

import (
	"context"
)

// ConsumeRequest meters usage: Amount units of one package, or of the
// project's packages of ResourceType in burn-down order when ResourceID is
// empty.
type ConsumeRequest struct {
	ProjectID    string   `json:"project_id"`
	ResourceID   string   `json:"resource_id,omitempty"`
	ResourceType string   `json:"resource_type,omitempty"`
	Amount       Quantity `json:"amount"`
	// AllowSplit lets a consume by ResourceType that no single package can
	// cover draw from several, in burn-down order, atomically.
	AllowSplit     bool   `json:"allow_split,omitempty"`
	IdempotencyKey string `json:"idempotency_key"`
	Attribution
}

// Consume adds Amount to a package's usage. It is refused, and nothing is
// written, when the package is frozen, expired, cancelled, of another
// project, or would go over what it has left (its amount less its usage and
// its open holds). Without a ResourceID the package is the first of
// ResourceType in burn-down order (burnsBefore) that is usable and has
// Amount left; with AllowSplit, when none has, the amount is split over
// the usable packages in that order, and the entries share one Ref. A retry
// with the same idempotency key counts once and gets the first answer.
func (s *Service) Consume(ctx context.Context, actor Actor, req ConsumeRequest) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	if err := validateDraw(req.ProjectID, req.ResourceID, req.ResourceType, req.AllowSplit); err != nil {
		return OpResult{}, err
	}
	if err := validatePositive("amount", req.Amount); err != nil {
		return OpResult{}, err
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return OpResult{}, err
	}
	if err := req.Attribution.validate(); err != nil {
		return OpResult{}, err
	}
	group := newID("consume-")
	id := idem{Project: req.ProjectID, Key: scopedKey("consume", "", req.IdempotencyKey), Shown: req.IdempotencyKey, Request: req}
	// Most consumes carry a key never seen: the first attempt applies the
	// consume and records its key without looking the key up first. The
	// record's unique key refuses a key recorded already, and any refusal
	// rolls the whole attempt back; the second attempt is the ordinary
	// once, which replays, refuses or applies with the answer it always
	// gave. So an attempt that commits is one whose key was new.
	var out OpResult
	err := s.update(ctx, []string{req.ProjectID}, func(tx Tx) (err error) {
		out, err = onceFresh(tx, id, func() (OpResult, error) { return consume(tx, actor, req, group) }, encodeAnswer)
		return err
	})
	if err == nil || ctx.Err() != nil {
		return out, err
	}
	err = s.update(ctx, []string{req.ProjectID}, func(tx Tx) (err error) {
		out, err = once(tx, id, func() (OpResult, error) {
			return consume(tx, actor, req, group)
		})
		return err
	})
	return out, err
}

// consume applies a validated consume. group links the entries of a split
// consume (their Ref); a consume from one package has no Ref.
func consume(tx Tx, actor Actor, req ConsumeRequest, group string) (OpResult, error) {
	parts, err := burnDown(tx, drawRequest{ProjectID: req.ProjectID, ResourceID: req.ResourceID, ResourceType: req.ResourceType,
		Amount: req.Amount, AllowSplit: req.AllowSplit, Verb: "consume"})
	if err != nil {
		return OpResult{}, err
	}
	if err := checkQuota(tx, req.ProjectID, req.UserID, parts, false); err != nil {
		return OpResult{}, err
	}
	if len(parts) == 1 {
		group = ""
	}
	var out OpResult
	for i, p := range parts {
		one, err := settle(tx, p.Resource, LedgerEntry{ProjectID: p.Resource.ProjectID, ResourceID: p.Resource.ResourceID, Actor: actor.ID,
			Op: OpConsume, UsageDelta: p.Amount, IdempotencyKey: req.IdempotencyKey, Ref: group,
			UserID: req.UserID, AppUserID: req.AppUserID})
		if err != nil {
			return OpResult{}, err
		}
		if i == 0 {
			out = one
			continue
		}
		out.Split = append(out.Split, one.Resource)
		out.Entries = append(out.Entries, one.Entries...)
	}
	return out, nil
}

// addUsage changes a package's usage by delta, keeping the assignment record
// of an SP allocation in step.
func addUsage(tx Tx, actor Actor, r Resource, op Op, delta Quantity, key, reason string) (OpResult, error) {
	return settle(tx, r, LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: actor.ID, Op: op,
		UsageDelta: delta, IdempotencyKey: key, Reason: reason})
}

// settle applies e's usage and held deltas to r and appends e, keeping the
// assignment record of an SP allocation in step with the usage.
func settle(tx Tx, r Resource, e LedgerEntry) (OpResult, error) {
	r.Usage += e.UsageDelta
	r.Held += e.HeldDelta
	if err := tx.SaveResource(&r); err != nil {
		return OpResult{}, err
	}
	e, err := appendEntry(tx, e)
	if err != nil {
		return OpResult{}, err
	}
	out := OpResult{Resource: r, Entries: []LedgerEntry{e}}
	if r.Source == SourceSPAllocated && e.UsageDelta != 0 {
		a, err := tx.Assignment(r.ProjectID, r.ResourceID)
		if err == nil {
			a.ResourceUsedNum += e.UsageDelta
			if err := tx.SaveAssignment(&a); err != nil {
				return OpResult{}, err
			}
			out.Assignment = &a
		} else if ErrorCodeOf(err) != ENOTFOUND {
			return OpResult{}, err
		}
	}
	return out, nil
}
