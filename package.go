package allot

import (
	"context"
	"time"
)

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
	// Priority places the package in the burn-down order; nil is 0.
	Priority *int `json:"priority,omitempty"`
}

// AddPackage records a purchase or an administrator allocation. Re-sending
// the same order (or key) returns the first answer; the same order with
// other terms is ECONFLICT.
func (s *Service) AddPackage(ctx context.Context, actor Actor, req PackageRequest) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	op := OpPurchase
	var id idem
	switch req.Source {
	case SourcePurchased:
		if err := ValidateID("order_id", req.OrderID); err != nil {
			return OpResult{}, err
		}
		// A purchase needs no key of its own, but one it carries goes
		// into its ledger entry: it is held to the same rule.
		if req.IdempotencyKey != "" {
			if err := validateKey(req.IdempotencyKey); err != nil {
				return OpResult{}, err
			}
		}
		// An order is a purchase's identity: the order id is its key.
		id = idem{Project: req.ProjectID, Key: "order:" + req.OrderID, Param: "order_id", Shown: req.OrderID}
	case SourceAdminAllocated:
		op = OpAdminGrant
		if err := validateKey(req.IdempotencyKey); err != nil {
			return OpResult{}, err
		}
		// Release 1 kept a grant's key unprefixed, where it could collide
		// with another operation's prefixed key; only a grant's record
		// found there is a grant's.
		id = idem{Project: req.ProjectID, Key: scopedKey("admin_grant", "", req.IdempotencyKey), Shown: req.IdempotencyKey,
			LegacyKey: req.IdempotencyKey, LegacyInScope: func(fp string) bool {
				return legacyField(fp, "resource_source") == string(SourceAdminAllocated)
			}}
	default:
		return OpResult{}, Invalid("resource_source", "must be PURCHASED or ADMIN_ALLOCATED; SP_ALLOCATED packages come from an SP allocation")
	}
	r := Resource{
		ProjectID: req.ProjectID, ResourceID: req.ResourceID, OrderID: req.OrderID, ResourceType: req.ResourceType,
		BusinessType: req.BusinessType, SubResourceType: req.SubResourceType, IsSubResource: req.IsSubResource,
		ChargingMode: req.ChargingMode, Source: req.Source, Unit: req.Unit, Amount: req.Amount, ExpireTime: req.ExpireTime.UTC(),
	}
	if req.Priority != nil {
		r.Priority = *req.Priority
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
	id.Request = req
	var out OpResult
	err := s.update(ctx, []string{req.ProjectID}, func(tx Tx) (err error) {
		out, err = once(tx, id, func() (OpResult, error) {
			r := r
			if err := tx.SaveResource(&r); err != nil {
				return OpResult{}, err
			}
			e, err := appendEntry(tx, LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: actor.ID, Op: op,
				AmountDelta: r.Amount, IdempotencyKey: req.IdempotencyKey, Ref: req.OrderID})
			return OpResult{Resource: r, Entries: []LedgerEntry{e}, Created: true}, err
		})
		return err
	})
	return out, err
}
