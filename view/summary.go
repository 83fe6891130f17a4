package view

import (
	"cmp"
	"context"
	"slices"

	"github.com/allot-dev/allot"
)

var _ allot.SummaryReader = (*Reader)(nil)

// CountResources implements allot.SummaryReader. It scans the tenant's
// matches once; the match list itself is cached like a list request's.
func (r *Reader) CountResources(ctx context.Context, projectID string, f *allot.ResourceFilter) ([]allot.ResourceCount, error) {
	s, err := r.current(ctx, projectID)
	if err != nil {
		return nil, err
	}
	type key struct {
		b allot.BusinessType
		c allot.ChargingMode
		s allot.ResourceSource
	}
	counts := map[key]int{}
	matches, err := s.matches(ctx, f)
	if err != nil {
		return nil, err
	}
	var res allot.Resource
	matches.window(0, matches.count, func(idx int32) {
		s.resourceOf(&s.rows[idx], &res)
		counts[key{res.BusinessType, res.ChargingMode, res.Source}]++
	})
	out := make([]allot.ResourceCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, allot.ResourceCount{BusinessType: k.b, ChargingMode: k.c, Source: k.s, Count: n})
	}
	slices.SortFunc(out, func(a, b allot.ResourceCount) int {
		return cmp.Or(cmp.Compare(a.BusinessType, b.BusinessType), cmp.Compare(a.ChargingMode, b.ChargingMode), cmp.Compare(a.Source, b.Source))
	})
	return out, nil
}

// ResourceUsage implements allot.SummaryReader.
func (r *Reader) ResourceUsage(ctx context.Context, projectID string, f *allot.ResourceFilter) ([]allot.UsageSummary, error) {
	s, err := r.current(ctx, projectID)
	if err != nil {
		return nil, err
	}
	sums := map[allot.UsageSummary]*allot.UsageSummary{}
	var out []allot.UsageSummary
	matches, err := s.matches(ctx, f)
	if err != nil {
		return nil, err
	}
	var res allot.Resource
	matches.window(0, matches.count, func(idx int32) {
		s.resourceOf(&s.rows[idx], &res)
		k := allot.UsageSummary{ResourceType: res.ResourceType, BusinessType: res.BusinessType, SubResourceType: res.SubResourceType,
			IsSubResource: res.IsSubResource, ChargingMode: res.ChargingMode, Source: res.Source, Unit: res.Unit}
		sum := sums[k]
		if sum == nil {
			sum = new(allot.UsageSummary)
			*sum = k
			sums[k] = sum
		}
		sum.Amount += res.Amount
		sum.Usage += res.Usage
	})
	out = make([]allot.UsageSummary, 0, len(sums))
	for _, sum := range sums {
		out = append(out, *sum)
	}
	slices.SortFunc(out, func(a, b allot.UsageSummary) int {
		return cmp.Or(cmp.Compare(a.ResourceType, b.ResourceType), cmp.Compare(a.BusinessType, b.BusinessType),
			cmp.Compare(a.SubResourceType, b.SubResourceType), cmp.Compare(boolInt(a.IsSubResource), boolInt(b.IsSubResource)),
			cmp.Compare(a.ChargingMode, b.ChargingMode), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Unit, b.Unit))
	})
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
