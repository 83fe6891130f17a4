package view

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot"
)

// maxCachedFilters bounds the match lists kept per snapshot. Clients walk a
// handful of filters at a time; past the bound the lists are dropped and
// rebuilt on demand.
const maxCachedFilters = 64

// snapshot is one tenant's data at one version. Everything but the match
// cache is immutable after construction, so readers share it freely.
type snapshot struct {
	project     allot.Project
	version     int64
	resources   []*allot.Resource // ordered by Seq
	byID        map[string]int    // resource_id -> index in resources
	assignments []*allot.Assignment
	overview    []allot.AssignmentSummary

	mu         sync.RWMutex
	matchCache map[string][]int32               // filter key -> indices into resources, in order
	filters    map[string]*allot.ResourceFilter // filter key -> its filter, re-checked by apply
}

func newSnapshot(d allot.TenantDelta) *snapshot {
	s := &snapshot{project: d.Project, version: d.Version}
	s.resources = make([]*allot.Resource, len(d.Resources))
	for i := range d.Resources {
		s.resources[i] = &d.Resources[i]
	}
	s.assignments = make([]*allot.Assignment, len(d.Assignments))
	for i := range d.Assignments {
		s.assignments[i] = &d.Assignments[i]
	}
	s.finish()
	return s
}

// apply returns a new snapshot: s with the rows of d replacing or adding to
// its own. s is left untouched for the readers still holding it.
//
// The common write is a change to rows the tenant already has (a consume,
// a freeze). For it, apply keeps the old snapshot's index by id, and every
// cached match list whose filter gives each changed row the same answer as
// before: positions do not move, so those lists stay exact. A large tenant
// that is metered while it is read then pays per change, not per row.
func (s *snapshot) apply(d allot.TenantDelta) *snapshot {
	n := &snapshot{project: d.Project, version: d.Version}
	n.resources = slices.Clone(s.resources)
	type change struct{ old, new *allot.Resource }
	var changed []change
	added := false
	for i := range d.Resources {
		r := &d.Resources[i]
		if idx, ok := s.byID[r.ResourceID]; ok {
			changed = append(changed, change{n.resources[idx], r})
			n.resources[idx] = r
		} else {
			n.resources = append(n.resources, r)
			added = true
		}
	}
	byRecord := make(map[string]int, len(s.assignments))
	for i, a := range s.assignments {
		byRecord[a.RecordID] = i
	}
	n.assignments = slices.Clone(s.assignments)
	for i := range d.Assignments {
		a := &d.Assignments[i]
		if idx, ok := byRecord[a.RecordID]; ok {
			n.assignments[idx] = a
		} else {
			n.assignments = append(n.assignments, a)
		}
	}
	if added {
		n.finish()
		return n
	}
	n.byID = s.byID // same ids at the same positions
	n.sumOverview()
	n.matchCache = make(map[string][]int32)
	n.filters = make(map[string]*allot.ResourceFilter)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for key, list := range s.matchCache {
		f := s.filters[key]
		kept := f != nil
		for _, c := range changed {
			if kept && f.Match(c.old) != f.Match(c.new) {
				kept = false
			}
		}
		if kept {
			n.matchCache[key] = list
			n.filters[key] = f
		}
	}
	return n
}

// finish restores Seq order (rows changed concurrently on several nodes may
// arrive out of order), indexes resources by id and sums the overview.
func (s *snapshot) finish() {
	if !slices.IsSortedFunc(s.resources, bySeq[allot.Resource]) {
		slices.SortFunc(s.resources, bySeq[allot.Resource])
	}
	if !slices.IsSortedFunc(s.assignments, bySeq[allot.Assignment]) {
		slices.SortFunc(s.assignments, bySeq[allot.Assignment])
	}
	s.byID = make(map[string]int, len(s.resources))
	for i, r := range s.resources {
		s.byID[r.ResourceID] = i
	}
	s.sumOverview()
	s.matchCache = make(map[string][]int32)
	s.filters = make(map[string]*allot.ResourceFilter)
}

// sumOverview sums the assignments per resource spec.
func (s *snapshot) sumOverview() {
	sums := make(map[string]*allot.AssignmentSummary)
	for _, a := range s.assignments {
		sum := sums[a.ResourceSpecCode]
		if sum == nil {
			sum = &allot.AssignmentSummary{ResourceSpecCode: a.ResourceSpecCode}
			sums[a.ResourceSpecCode] = sum
		}
		sum.ResourceNum += a.ResourceNum
		sum.ResourceUsedNum += a.ResourceUsedNum
	}
	s.overview = make([]allot.AssignmentSummary, 0, len(sums))
	for _, sum := range sums {
		sum.RemainingQuota = sum.ResourceNum - sum.ResourceUsedNum
		s.overview = append(s.overview, *sum)
	}
	slices.SortFunc(s.overview, func(a, b allot.AssignmentSummary) int {
		return strings.Compare(a.ResourceSpecCode, b.ResourceSpecCode)
	})
}

type sequenced interface {
	allot.Resource | allot.Assignment
}

func bySeq[T sequenced](a, b *T) int { return cmp.Compare(seqOf(a), seqOf(b)) }

func seqOf[T sequenced](v *T) int64 {
	switch v := any(v).(type) {
	case *allot.Resource:
		return v.Seq
	case *allot.Assignment:
		return v.Seq
	}
	panic("unreachable")
}

func (s *snapshot) rows() int {
	if s == nil {
		return 0
	}
	return len(s.resources) + len(s.assignments)
}

// matches returns the indices of the resources that pass f, in order,
// computing them once per snapshot and filter.
func (s *snapshot) matches(f *allot.ResourceFilter) []int32 {
	key := filterKey(f)
	s.mu.RLock()
	m, ok := s.matchCache[key]
	s.mu.RUnlock()
	if ok {
		return m
	}
	m = []int32{}
	if f.ResourceID != "" {
		// Resource ids are unique within a project: no scan needed.
		if idx, ok := s.byID[f.ResourceID]; ok && f.Match(s.resources[idx]) {
			m = append(m, int32(idx))
		}
	} else {
		for i, r := range s.resources {
			if f.Match(r) {
				m = append(m, int32(i))
			}
		}
	}
	s.mu.Lock()
	if len(s.matchCache) >= maxCachedFilters {
		clear(s.matchCache)
		clear(s.filters)
	}
	s.matchCache[key] = m
	fc := *f
	s.filters[key] = &fc
	s.mu.Unlock()
	return m
}

// filterKey identifies the set of resources f selects: lists are sorted and
// deduplicated, so "a,b" and "b,a,a" share a cache entry. Every value is
// length-prefixed, so no value can forge another filter's key.
func filterKey(f *allot.ResourceFilter) string {
	var b strings.Builder
	field := func(v string) {
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	list := func(values []string) {
		values = slices.Clone(values)
		slices.Sort(values)
		values = slices.Compact(values)
		b.WriteString(strconv.Itoa(len(values)))
		b.WriteByte('[')
		for _, v := range values {
			field(v)
		}
	}
	list(f.ResourceTypes)
	list(toStrings(f.Businesses))
	list(toStrings(f.Sources))
	field(f.ResourceID)
	field(f.OrderID)
	field(string(f.ChargingMode))
	field(string(f.SubResource))
	for _, t := range []*time.Time{f.ExpireStart, f.ExpireEnd} {
		if t != nil {
			field(strconv.FormatInt(t.UnixNano(), 10))
		} else {
			field("-")
		}
	}
	if f.Status != nil {
		field(strconv.Itoa(int(*f.Status)))
	} else {
		field("-")
	}
	return b.String()
}

func toStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func sortBy[T any](s []T, key func(T) int64) {
	slices.SortFunc(s, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}
