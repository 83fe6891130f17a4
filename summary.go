package allot

import "context"

// ResourceCount is the number of a project's resources of one service type,
// billing mode and source (CountTenantResources).
type ResourceCount struct {
	BusinessType BusinessType
	ChargingMode ChargingMode
	Source       ResourceSource
	Count        int
}

// UsageSummary sums the amount and usage of a project's resources that share
// every descriptive field (ShowResourceUsage).
type UsageSummary struct {
	ResourceType    string
	BusinessType    BusinessType
	SubResourceType SubResourceType
	IsSubResource   bool
	ChargingMode    ChargingMode
	Source          ResourceSource
	Unit            Unit
	Amount          Quantity
	Usage           Quantity
}

// SummaryReader answers the sibling read APIs of the tenant family. Like
// TenantReader it is exact after every acknowledged write; removed
// resources are not counted. Results are ordered by their grouping fields.
type SummaryReader interface {
	CountResources(ctx context.Context, projectID string, f *ResourceFilter) ([]ResourceCount, error)
	ResourceUsage(ctx context.Context, projectID string, f *ResourceFilter) ([]UsageSummary, error)
}
