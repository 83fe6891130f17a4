package allot

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// UsageGroup is the width of a usage bucket.
type UsageGroup string

const (
	GroupDay  UsageGroup = "day"  // UTC calendar days
	GroupHour UsageGroup = "hour" // UTC hours
)

// UsageFilter selects the usage to aggregate: the consume, commit and
// refund entries of one project in [From, To), optionally of one user, one
// app user, one resource type (a package's resource type or its quota
// field, as the SDK documents video_time_2d_model) and one business type.
type UsageFilter struct {
	ProjectID    string
	From, To     *time.Time
	UserID       string
	AppUserID    string
	ResourceType string
	BusinessType string
	Group        UsageGroup
}

// UsageKey is what a bucket's usage is summed over: packages alike in
// every attribute but their id.
type UsageKey struct {
	ResourceType    string
	BusinessType    BusinessType
	SubResourceType SubResourceType
	IsSubResource   bool
	ChargingMode    ChargingMode
	Source          ResourceSource
	Unit            Unit
}

// UsageBucket is the usage of one kind of package in one bucket: the net
// usage (consumes and commits less refunds) and the number of consume and
// commit entries that made it.
type UsageBucket struct {
	Start time.Time
	UsageKey
	Usage  Quantity
	Number int
}

// UsageSource is what aggregation reads.
type UsageSource interface {
	UsageEntries(ctx context.Context, q UsageQuery) ([]UsageEntry, error)
}

// usagePage is how many entries aggregation reads at a time.
const usagePage = 1000

// AggregateUsage sums the usage entries f selects into buckets of f.Group
// (UTC days when unset), reading the ledger a page at a time: memory grows
// with the buckets, never with the entries. Buckets come ordered by start,
// then by their key. It is the one aggregation behind the data-analysis
// APIs and the management API's usage export.
func AggregateUsage(ctx context.Context, src UsageSource, f UsageFilter) ([]UsageBucket, error) {
	if err := ValidateID("project_id", f.ProjectID); err != nil {
		return nil, err
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return nil, Invalid("end_time", "must be after the start time")
	}
	width := 24 * time.Hour
	switch f.Group {
	case GroupHour:
		width = time.Hour
	case GroupDay, "":
	default:
		return nil, Invalid("group_by", "must be day or hour")
	}
	type bucketKey struct {
		start int64
		UsageKey
	}
	sums := make(map[bucketKey]*UsageBucket)
	q := UsageQuery{ProjectID: f.ProjectID, From: f.From, To: f.To, UserID: f.UserID, Limit: usagePage}
	for {
		page, err := src.UsageEntries(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if f.AppUserID != "" && e.AppUserID != f.AppUserID ||
				f.BusinessType != "" && string(e.BusinessType) != f.BusinessType ||
				f.ResourceType != "" && e.ResourceType != f.ResourceType && QuotaField(e.ResourceType, e.BusinessType, e.SubResourceType) != f.ResourceType {
				continue
			}
			k := bucketKey{e.At.UTC().Truncate(width).Unix(), UsageKey{e.ResourceType, e.BusinessType, e.SubResourceType, e.IsSubResource, e.ChargingMode, e.Source, e.Unit}}
			b := sums[k]
			if b == nil {
				b = &UsageBucket{Start: time.Unix(k.start, 0).UTC(), UsageKey: k.UsageKey}
				sums[k] = b
			}
			b.Usage += e.UsageDelta
			if e.Op != OpRefund {
				b.Number++
			}
		}
		if len(page) < q.Limit {
			break
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
	out := make([]UsageBucket, 0, len(sums))
	for _, b := range sums {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b UsageBucket) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ResourceType, b.ResourceType), cmp.Compare(a.BusinessType, b.BusinessType),
			cmp.Compare(a.SubResourceType, b.SubResourceType), cmpBool(a.IsSubResource, b.IsSubResource),
			cmp.Compare(a.ChargingMode, b.ChargingMode), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Unit, b.Unit))
	})
	return out, nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// InUnit returns a usage counted in unit from as a number of unit to: a
// duration in minutes as hours is exactly minutes/60, and hours as minutes
// hours*60. Any other pair keeps the number and the unit it has.
func InUnit(q Quantity, from Unit, to string) (float64, Unit) {
	v := float64(q) / QuantityScale
	switch {
	case from == "MIN" && to == "HOUR":
		return float64(q) / (60 * QuantityScale), "HOUR"
	case from == "HOUR" && to == "MIN":
		return v * 60, "MIN"
	}
	return v, from
}
