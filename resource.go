package allot

import (
	"time"
)

// MaxResourceAmount is the documented upper bound of a resource's amount and usage.
const MaxResourceAmount = Quantity(1_000_000 * QuantityScale)

// BoundAsset is the asset a resource is bound to.
type BoundAsset struct {
	AssetID   string `json:"asset_id"`
	AssetName string `json:"asset_name,omitempty"`
}

// Resource is one resource package held by a project.
type Resource struct {
	ProjectID       string          `json:"project_id"`
	ResourceID      string          `json:"resource_id"`
	OrderID         string          `json:"order_id,omitempty"`
	BoundAsset      *BoundAsset     `json:"bound_asset,omitempty"`
	ExpireTime      time.Time       `json:"resource_expire_time,omitzero"`
	ResourceType    string          `json:"resource_type"`
	BusinessType    BusinessType    `json:"business_type"`
	SubResourceType SubResourceType `json:"sub_resource_type,omitempty"`
	IsSubResource   bool            `json:"is_sub_resource"`
	ChargingMode    ChargingMode    `json:"charging_mode"`
	Source          ResourceSource  `json:"resource_source"`
	Amount          Quantity        `json:"amount"`
	Usage           Quantity        `json:"usage"`
	Status          ResourceStatus  `json:"status"`
	Unit            Unit            `json:"unit"`
	// Priority places the package in the burn-down order (burnsBefore):
	// MinPriority to MaxPriority, higher first.
	Priority int `json:"priority,omitempty"`
	// Held is what open reservations hold of the package: set aside, not
	// yet used. The tenant API's usage shows settled units only.
	Held Quantity `json:"held,omitempty"`

	// Removed marks a package that was cancelled or fully reclaimed: it no
	// longer appears in any list, and its history stays in the ledger.
	Removed bool `json:"removed,omitempty"`

	// Seq orders a project's resources: it grows with every resource the
	// project gains, so pages walk them oldest first and a newly added
	// resource never shifts an earlier page. Assigned by the store.
	Seq int64 `json:"seq"`
	// Version is the project version that last changed this resource.
	// Assigned by the store.
	Version int64 `json:"version"`
}

// Validate checks every field a caller supplies, naming the first bad one.
func (r *Resource) Validate() error {
	if err := ValidateID("project_id", r.ProjectID); err != nil {
		return err
	}
	if err := ValidateID("resource_id", r.ResourceID); err != nil {
		return err
	}
	if r.OrderID != "" {
		if err := ValidateID("order_id", r.OrderID); err != nil {
			return err
		}
	}
	if r.BoundAsset != nil {
		if err := ValidateID("bound_asset.asset_id", r.BoundAsset.AssetID); err != nil {
			return err
		}
		if err := validateName("bound_asset.asset_name", r.BoundAsset.AssetName); err != nil {
			return err
		}
	}
	if err := ValidateID("resource_type", r.ResourceType); err != nil {
		return err
	}
	if _, err := ParseEnum("business_type", string(r.BusinessType), BusinessTypes); err != nil {
		return err
	}
	if r.SubResourceType != "" {
		if _, err := ParseEnum("sub_resource_type", string(r.SubResourceType), SubResourceTypes); err != nil {
			return err
		}
	}
	if _, err := ParseEnum("charging_mode", string(r.ChargingMode), ChargingModes); err != nil {
		return err
	}
	if _, err := ParseEnum("resource_source", string(r.Source), ResourceSources); err != nil {
		return err
	}
	if _, err := ParseEnum("unit", string(r.Unit), Units); err != nil {
		return err
	}
	if r.Amount < 0 || r.Amount > MaxResourceAmount {
		return Invalid("amount", "must be between 0 and 1000000")
	}
	if r.Usage < 0 || r.Usage > r.Amount {
		return Invalid("usage", "must be between 0 and amount (%s)", r.Amount)
	}
	if r.Priority < MinPriority || r.Priority > MaxPriority {
		return Invalid("priority", "must be between %d and %d", MinPriority, MaxPriority)
	}
	if r.Held != 0 {
		return Invalid("held", "is kept by reservations and cannot be set")
	}
	if !r.Status.Valid() {
		return Invalid("status", "must be 0 (normal) or 1 (frozen)")
	}
	if !r.ExpireTime.IsZero() && (r.ExpireTime.Unix() < 0 || r.ExpireTime.Year() > 9999) {
		return Invalid("resource_expire_time", "is out of range")
	}
	return nil
}

// ResourceFilter selects a project's resources. Empty fields do not filter.
// Within a list field the values are alternatives (OR); fields combine with AND.
type ResourceFilter struct {
	ResourceTypes []string
	Businesses    []BusinessType
	Sources       []ResourceSource // the API requires at least one
	ResourceID    string
	OrderID       string
	ChargingMode  ChargingMode
	// ExpireStart and ExpireEnd bound the expiry time t inclusively:
	// ExpireStart <= t <= ExpireEnd. Either may be nil. A resource with no
	// expiry time never matches a filter that has either bound.
	ExpireStart *time.Time
	ExpireEnd   *time.Time
	SubResource SubResourceType
	Status      *ResourceStatus
}

// Match reports whether r passes every condition of f. Removed resources
// match no filter.
func (f *ResourceFilter) Match(r *Resource) bool {
	if r.Removed {
		return false
	}
	if len(f.Sources) > 0 && !contains(f.Sources, r.Source) {
		return false
	}
	if len(f.Businesses) > 0 && !contains(f.Businesses, r.BusinessType) {
		return false
	}
	if len(f.ResourceTypes) > 0 && !contains(f.ResourceTypes, r.ResourceType) {
		return false
	}
	if f.ResourceID != "" && r.ResourceID != f.ResourceID {
		return false
	}
	if f.OrderID != "" && r.OrderID != f.OrderID {
		return false
	}
	if f.ChargingMode != "" && r.ChargingMode != f.ChargingMode {
		return false
	}
	if f.SubResource != "" && r.SubResourceType != f.SubResource {
		return false
	}
	if f.Status != nil && r.Status != *f.Status {
		return false
	}
	if f.ExpireStart != nil || f.ExpireEnd != nil {
		if r.ExpireTime.IsZero() {
			return false
		}
		if f.ExpireStart != nil && r.ExpireTime.Before(*f.ExpireStart) {
			return false
		}
		if f.ExpireEnd != nil && r.ExpireTime.After(*f.ExpireEnd) {
			return false
		}
	}
	return true
}

func contains[T comparable](values []T, v T) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// Page is a window over an ordered result: Limit items from Offset.
type Page struct {
	Limit  int
	Offset int
}

// Window returns the bounds of page p over n items, clamped to [0, n].
func (p Page) Window(n int) (from, to int) {
	from = min(p.Offset, n)
	to = min(from+p.Limit, n)
	return from, to
}

// ResourcePage is one page of a filtered resource list. Count is the number
// of all matches, independent of the page.
type ResourcePage struct {
	Count int
	// Resources point into the reader's immutable snapshot: callers must
	// not modify them.
	Resources []*Resource
}

// Remaining returns the units of r available: neither used nor held by an
// open reservation. Every operation that takes units (consume, reserve,
// allocate, reclaim, cancel) takes at most these, so usage and holds
// together never pass the amount.
func (r *Resource) Remaining() Quantity { return r.Amount - r.Usage - r.Held }

// Expired reports whether r has an expiry time at or before now.
func (r *Resource) Expired(now time.Time) bool {
	return !r.ExpireTime.IsZero() && !r.ExpireTime.After(now)
}
