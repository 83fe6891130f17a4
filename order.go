package allot

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Limits of one order.
const (
	MaxOrderLines      = 20
	MaxSubscriptionNum = 1000
	MaxPeriodMonths    = 1200 // 100 years
	MaxPeriodYears     = 100
	MaxUnsubscribe     = 10 // resource ids per unsubscription, as BSS allows
)

// OrderRequest is a CreateMetaStudioOrders call of a project.
type OrderRequest struct {
	ProjectID string
	Lines     []OrderLine // ResourceIDs are set by CreateOrder
}

// CreateOrder turns each line of an order into PURCHASED packages through
// the spec catalog, in one transaction: a main package of the spec's
// amount times subscription_num, and one package per sub-resource, all
// carrying the new order's id. Period type 2 and 3 make PERIODIC packages
// expiring period_num months or years from now (allot's clock); 6 makes
// ONE_TIME packages expiring the spec's validity_days from now (never, for
// 0), and takes period_num 1 only. A spec code the catalog lacks is
// EINVALID naming the line's resource_spec_code; nothing is written on any
// error. The caller is the project itself (the tenant plane has
// authenticated it for req.ProjectID); actor names its credential in the
// ledger. Every call makes a new order: the request carries no key that
// would tell a retry from a second purchase.
func (s *Service) CreateOrder(ctx context.Context, actor Actor, req OrderRequest) (Order, []Resource, error) {
	if err := ValidateID("project_id", req.ProjectID); err != nil {
		return Order{}, nil, err
	}
	if len(req.Lines) == 0 {
		return Order{}, nil, Invalid("cloud_services", "is required: give at least one line")
	}
	if len(req.Lines) > MaxOrderLines {
		return Order{}, nil, Invalid("cloud_services", "holds more than %d lines", MaxOrderLines)
	}
	for i := range req.Lines {
		if err := req.Lines[i].validate(fmt.Sprintf("cloud_services[%d].", i)); err != nil {
			return Order{}, nil, err
		}
	}
	var (
		order Order
		made  []Resource
	)
	err := s.Store.Update(ctx, []string{req.ProjectID}, func(tx Tx) error {
		order = Order{ProjectID: req.ProjectID, OrderID: newID("order-"), Type: OrderNew, CreatedAt: tx.Now()}
		made = nil
		for i, l := range req.Lines {
			p := fmt.Sprintf("cloud_services[%d].", i)
			spec, err := tx.CatalogSpec(l.SpecCode)
			if ErrorCodeOf(err) == ENOTFOUND {
				return Invalid(p+"resource_spec_code", "%s is not in the spec catalog", l.SpecCode)
			} else if err != nil {
				return err
			}
			if !spec.allows(l.PeriodType) {
				return Invalid(p+"period_type", "spec %s cannot be ordered with period type %d (it takes %v)", spec.SpecCode, l.PeriodType, spec.PeriodTypes)
			}
			rs, err := orderPackages(tx, order, spec, l, p)
			if err != nil {
				return err
			}
			l.ResourceIDs = nil
			for _, r := range rs {
				if err := tx.SaveResource(&r); err != nil {
					return err
				}
				if _, err := appendEntry(tx, LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: actor.ID, Op: OpPurchase,
					AmountDelta: r.Amount, Ref: order.OrderID}); err != nil {
					return err
				}
				l.ResourceIDs = append(l.ResourceIDs, r.ResourceID)
				made = append(made, r)
			}
			order.Lines = append(order.Lines, l)
		}
		return tx.InsertOrder(order)
	})
	if err != nil {
		return Order{}, nil, err
	}
	return order, made, nil
}

func (l *OrderLine) validate(p string) error {
	if err := ValidateID(p+"resource_spec_code", l.SpecCode); err != nil {
		return err
	}
	switch l.PeriodType {
	case PeriodMonth:
		if l.PeriodNum < 1 || l.PeriodNum > MaxPeriodMonths {
			return Invalid(p+"period_num", "must be between 1 and %d months", MaxPeriodMonths)
		}
	case PeriodYear:
		if l.PeriodNum < 1 || l.PeriodNum > MaxPeriodYears {
			return Invalid(p+"period_num", "must be between 1 and %d years", MaxPeriodYears)
		}
	case PeriodOneOff:
		if l.PeriodNum != 1 {
			return Invalid(p+"period_num", "must be 1 for a one-off order (period_type 6)")
		}
	default:
		return Invalid(p+"period_type", "must be 2 (month), 3 (year) or 6 (one-off)")
	}
	if l.SubscriptionNum < 1 || l.SubscriptionNum > MaxSubscriptionNum {
		return Invalid(p+"subscription_num", "must be between 1 and %d", MaxSubscriptionNum)
	}
	if l.IsAutoRenew != 0 && l.IsAutoRenew != 1 {
		return Invalid(p+"is_auto_renew", "must be 0 or 1")
	}
	if l.IsAutoPay != 0 && l.IsAutoPay != 1 {
		return Invalid(p+"is_auto_pay", "must be 0 or 1")
	}
	if len(l.ResourceIDs) != 0 {
		return Invalid(p+"resource_ids", "are chosen by allot")
	}
	return nil
}

// orderPackages returns the packages one line of an order makes of spec.
func orderPackages(tx Tx, o Order, spec CatalogSpec, l OrderLine, p string) ([]Resource, error) {
	mode, expire := ChargingMode("PERIODIC"), o.CreatedAt
	switch l.PeriodType {
	case PeriodMonth:
		expire = expire.AddDate(0, int(l.PeriodNum), 0)
	case PeriodYear:
		expire = expire.AddDate(int(l.PeriodNum), 0, 0)
	default:
		mode = "ONE_TIME"
		if spec.ValidityDays == 0 {
			expire = time.Time{}
		} else {
			expire = expire.AddDate(0, 0, spec.ValidityDays)
		}
	}
	n := Quantity(l.SubscriptionNum)
	pkg := func(rtype string, sub SubResourceType, unit Unit, amount Quantity) (Resource, error) {
		if amount > MaxResourceAmount/n {
			return Resource{}, Invalid(p+"subscription_num", "%d subscriptions of %s pass the largest amount a package holds (1000000)", l.SubscriptionNum, spec.SpecCode)
		}
		r := Resource{ProjectID: o.ProjectID, ResourceID: newID("res-"), OrderID: o.OrderID, ExpireTime: expire,
			ResourceType: rtype, BusinessType: spec.BusinessType, SubResourceType: sub, IsSubResource: sub != "",
			ChargingMode: mode, Source: SourcePurchased, Amount: amount * n, Unit: unit}
		return r, r.Validate()
	}
	main, err := pkg(spec.ResourceType, "", spec.Unit, spec.Amount)
	if err != nil {
		return nil, err
	}
	out := []Resource{main}
	for _, sr := range spec.SubResources {
		r, err := pkg(sr.ResourceType, sr.SubResourceType, sr.Unit, sr.Amount)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Line returns the line of the order that made (or cancelled) a package,
// and whether the package is the line's main one.
func (o *Order) Line(resourceID string) (line *OrderLine, main bool) {
	for i := range o.Lines {
		if j := slices.Index(o.Lines[i].ResourceIDs, resourceID); j >= 0 {
			return &o.Lines[i], j == 0
		}
	}
	return nil, false
}

// UnsubscribeRequest is a BSS unsubscription of a project's resources.
type UnsubscribeRequest struct {
	ProjectID   string
	ResourceIDs []string
	// Type is 1: the resources and their renewed periods. (2, only the
	// renewed periods, has nothing to act on: allot renews nothing.)
	Type   int32
	Reason string
}

// Unsubscribe cancels the main packages named and the sub-resource
// packages of their order lines, in one transaction, through the cancel
// rule (an OpCancel entry taking back each unused rest), and records an
// unsubscription order whose id each entry carries as its idempotency key.
// Only a PERIODIC main package made by CreateOrder can be named. A package
// cancelled already is left as it is, so unsubscribing again changes
// nothing; when nothing is left to cancel, no order is made and the
// returned Order has no id.
func (s *Service) Unsubscribe(ctx context.Context, actor Actor, req UnsubscribeRequest) (Order, error) {
	if err := ValidateID("project_id", req.ProjectID); err != nil {
		return Order{}, err
	}
	if len(req.ResourceIDs) == 0 || len(req.ResourceIDs) > MaxUnsubscribe {
		return Order{}, Invalid("resource_ids", "must hold 1 to %d resource ids", MaxUnsubscribe)
	}
	for i, id := range req.ResourceIDs {
		if err := ValidateID(fmt.Sprintf("resource_ids[%d]", i), id); err != nil {
			return Order{}, err
		}
		if slices.Index(req.ResourceIDs, id) != i {
			return Order{}, Invalid(fmt.Sprintf("resource_ids[%d]", i), "repeats %s", id)
		}
	}
	if req.Type != 1 {
		return Order{}, Invalid("unsubscribe_type", "must be 1 (the resources and their renewals): allot renews nothing, so 2 has nothing to unsubscribe")
	}
	if err := validateReason(req.Reason, false); err != nil {
		return Order{}, Invalid("unsubscribe_reason", "%s", ErrorMessageOf(err))
	}
	var out Order
	err := s.Store.Update(ctx, []string{req.ProjectID}, func(tx Tx) error {
		out = Order{ProjectID: req.ProjectID, OrderID: newID("order-"), Type: OrderUnsubscribe, CreatedAt: tx.Now()}
		var cancelled []string
		for i, id := range req.ResourceIDs {
			p := fmt.Sprintf("resource_ids[%d]", i)
			r, err := tx.Resource(req.ProjectID, id)
			if ErrorCodeOf(err) == ENOTFOUND {
				return Errorf(ENOTFOUND, "%s: resource %s does not exist", p, id)
			} else if err != nil {
				return err
			}
			if r.Source != SourcePurchased || r.OrderID == "" {
				return Invalid(p, "resource %s is not a package of an order", id)
			}
			o, err := tx.Order(req.ProjectID, r.OrderID)
			if ErrorCodeOf(err) == ENOTFOUND {
				return Invalid(p, "resource %s was not ordered through CreateMetaStudioOrders", id)
			} else if err != nil {
				return err
			}
			line, main := o.Line(id)
			if line == nil || !main {
				return Invalid(p, "resource %s is a sub-resource: unsubscribe its main resource", id)
			}
			if r.ChargingMode != "PERIODIC" {
				return Invalid(p, "resource %s is a one-off (%s) package, which cannot be unsubscribed", id, r.ChargingMode)
			}
			for _, rid := range line.ResourceIDs {
				pr, err := tx.Resource(req.ProjectID, rid)
				if err != nil {
					return err
				}
				if pr.Removed {
					continue
				}
				rr := ReclaimRequest{ResourceRef: ResourceRef{ProjectID: req.ProjectID, ResourceID: rid}, Cancel: true,
					IdempotencyKey: out.OrderID, Reason: req.Reason}
				if _, err := reclaim(tx, actor, rr, pr, nil); err != nil {
					return err
				}
				cancelled = append(cancelled, rid)
			}
		}
		if len(cancelled) == 0 {
			out = Order{}
			return nil
		}
		out.Lines = []OrderLine{{ResourceIDs: cancelled}}
		return tx.InsertOrder(out)
	})
	if err != nil {
		return Order{}, err
	}
	return out, nil
}
