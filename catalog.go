package allot

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// MaxCatalogSpecs bounds the operator's spec catalog.
const MaxCatalogSpecs = 10_000

// MaxSubResources bounds the sub-resources one spec yields.
const MaxSubResources = 16

// MaxValidityDays bounds a one-off spec's validity (100 years).
const MaxValidityDays = 36_500

// The BSS order period types a CreateMetaStudioOrders line names.
const (
	PeriodMonth  int32 = 2 // PERIODIC, expiring period_num months later
	PeriodYear   int32 = 3 // PERIODIC, expiring period_num years later
	PeriodOneOff int32 = 6 // ONE_TIME, expiring the spec's validity_days later
)

// CatalogSpec is one entry of the operator's spec catalog: what one
// subscription of a MetaStudio resource spec code buys. A line of an order
// for it becomes a main package (BusinessType, ResourceType, Unit, Amount
// times the subscriptions) and one package per sub-resource (a Flexus spec
// holds several), all of the line's charging mode and expiry.
type CatalogSpec struct {
	SpecCode     string       `json:"spec_code"`
	BusinessType BusinessType `json:"business_type"`
	ResourceType string       `json:"resource_type"`
	Unit         Unit         `json:"unit"`
	// Amount is what one subscription adds to the main package.
	Amount       Quantity             `json:"amount"`
	SubResources []CatalogSubResource `json:"sub_resources,omitempty"`
	// PeriodTypes lists the period types the spec may be ordered with
	// (PeriodMonth, PeriodYear, PeriodOneOff); empty allows all three.
	PeriodTypes []int32 `json:"period_types,omitempty"`
	// ValidityDays is how long a one-off (ONE_TIME) package lasts from
	// its order; 0: it never expires. Periodic packages expire with
	// their period.
	ValidityDays int `json:"validity_days,omitempty"`
}

// CatalogSubResource is a package a spec yields besides its main one, of
// the spec's business type.
type CatalogSubResource struct {
	ResourceType    string          `json:"resource_type"`
	SubResourceType SubResourceType `json:"sub_resource_type"`
	Unit            Unit            `json:"unit"`
	Amount          Quantity        `json:"amount"` // per subscription
}

// Validate checks a spec, naming the first bad field.
func (c *CatalogSpec) Validate() error {
	if err := ValidateID("spec_code", c.SpecCode); err != nil {
		return err
	}
	if _, err := ParseEnum("business_type", string(c.BusinessType), BusinessTypes); err != nil {
		return err
	}
	if err := ValidateID("resource_type", c.ResourceType); err != nil {
		return err
	}
	if _, err := ParseEnum("unit", string(c.Unit), Units); err != nil {
		return err
	}
	if c.Amount <= 0 || c.Amount > MaxResourceAmount {
		return Invalid("amount", "must be greater than 0 and at most 1000000")
	}
	if len(c.SubResources) > MaxSubResources {
		return Invalid("sub_resources", "holds more than %d entries", MaxSubResources)
	}
	for i, sr := range c.SubResources {
		p := fmt.Sprintf("sub_resources[%d].", i)
		if err := ValidateID(p+"resource_type", sr.ResourceType); err != nil {
			return err
		}
		if _, err := ParseEnum(p+"sub_resource_type", string(sr.SubResourceType), SubResourceTypes); err != nil {
			return err
		}
		if _, err := ParseEnum(p+"unit", string(sr.Unit), Units); err != nil {
			return err
		}
		if sr.Amount <= 0 || sr.Amount > MaxResourceAmount {
			return Invalid(p+"amount", "must be greater than 0 and at most 1000000")
		}
	}
	for i, pt := range c.PeriodTypes {
		if pt != PeriodMonth && pt != PeriodYear && pt != PeriodOneOff {
			return Invalid(fmt.Sprintf("period_types[%d]", i), "must be 2 (month), 3 (year) or 6 (one-off)")
		}
		if slices.Index(c.PeriodTypes, pt) != i {
			return Invalid(fmt.Sprintf("period_types[%d]", i), "repeats %d", pt)
		}
	}
	if c.ValidityDays < 0 || c.ValidityDays > MaxValidityDays {
		return Invalid("validity_days", "must be between 0 (no expiry) and %d", MaxValidityDays)
	}
	return nil
}

// allows reports whether the spec may be ordered with period type pt.
func (c *CatalogSpec) allows(pt int32) bool {
	return len(c.PeriodTypes) == 0 || slices.Contains(c.PeriodTypes, pt)
}

// ValidateCatalog checks a whole catalog: every spec valid, no spec code
// twice, at most MaxCatalogSpecs. An error names the spec by its position
// (specs[i]) and the field.
func ValidateCatalog(specs []CatalogSpec) error {
	if len(specs) > MaxCatalogSpecs {
		return Invalid("catalog", "holds more than %d specs", MaxCatalogSpecs)
	}
	seen := make(map[string]int, len(specs))
	for i := range specs {
		if err := specs[i].Validate(); err != nil {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("specs[%d]: %s", i, ErrorMessageOf(err))}
		}
		if j, ok := seen[specs[i].SpecCode]; ok {
			return Invalid(fmt.Sprintf("specs[%d].spec_code", i), "%s is given twice (also specs[%d])", specs[i].SpecCode, j)
		}
		seen[specs[i].SpecCode] = i
	}
	return nil
}

// Orders is the store of the spec catalog and of orders.
type Orders interface {
	// PutCatalog replaces the whole catalog with specs in one transaction.
	// EINVALID (ValidateCatalog) if a spec is invalid or a code repeats;
	// nothing is written on any error.
	PutCatalog(ctx context.Context, specs []CatalogSpec) error
	// Catalog returns every spec, ordered by spec code.
	Catalog(ctx context.Context) ([]CatalogSpec, error)
	// FindOrder returns an order of a project. ENOTFOUND if the project
	// has no order with this id.
	FindOrder(ctx context.Context, projectID, orderID string) (Order, error)
	// OrderResources returns a project's packages that carry an order id,
	// removed ones too, in Seq order: those of q.OrderID when it is set,
	// and only those of q.ResourceIDs when it is not empty.
	OrderResources(ctx context.Context, q OrderResourceQuery) ([]Resource, error)
	// OrderResourcesPage returns page p of what OrderResources returns, in
	// the same order, and how many there are in all: the page is read in
	// the store, not cut from the whole list.
	OrderResourcesPage(ctx context.Context, q OrderResourceQuery, p Page) ([]Resource, int, error)
}

// OrderResourceQuery selects a project's ordered packages.
type OrderResourceQuery struct {
	ProjectID   string
	OrderID     string   // optional
	ResourceIDs []string // optional
}

// OrderType is a BSS order type.
type OrderType int32

const (
	OrderNew         OrderType = 1 // a purchase (CreateMetaStudioOrders)
	OrderUnsubscribe OrderType = 4 // an unsubscription
)

// Order is a purchase made through CreateMetaStudioOrders, or an
// unsubscription. Its id is allot's, unique across projects.
type Order struct {
	ProjectID string      `json:"project_id"`
	OrderID   string      `json:"order_id"`
	Type      OrderType   `json:"order_type"`
	CreatedAt time.Time   `json:"create_time"`
	Lines     []OrderLine `json:"lines"`
}

// OrderLine is one cloud_services line of an order and the packages it
// made, or, in an unsubscription, the packages it cancelled. Orders are
// kept as the JSON of their lines: these field names are a stored format.
type OrderLine struct {
	SpecCode        string `json:"resource_spec_code,omitempty"`
	PeriodType      int32  `json:"period_type,omitempty"`
	PeriodNum       int32  `json:"period_num,omitempty"`
	SubscriptionNum int32  `json:"subscription_num,omitempty"`
	IsAutoRenew     int32  `json:"is_auto_renew,omitempty"`
	IsAutoPay       int32  `json:"is_auto_pay,omitempty"`
	// ResourceIDs are the line's packages: the main one first, then one
	// per sub-resource of the spec.
	ResourceIDs []string `json:"resource_ids"`
}
