package view

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot"
)

// maxCachedFilters bounds the match lists kept per snapshot. Clients walk a
// handful of filters at a time; past the bound the least recently used list
// is dropped and rebuilt on demand. The budget (Reader) bounds their memory
// across tenants.
const maxCachedFilters = 64

// buildYield is how many rows a filter build scans between yields, so that
// a scan of a big tenant does not hold up the short requests of other
// tenants that are ready to run.
const buildYield = 16384

// snapshot is one tenant's data at one version. Everything but the match
// cache is immutable after construction, so readers share it freely.
type snapshot struct {
	project     allot.Project
	version     int64
	rows        []row    // ordered by seq
	text        []byte   // the rows' ids (row.go); append-only, shared with later snapshots
	exts        []rowExt // what few rows have (row.go); append-only like text
	types       *types   // the resource types rows refer to
	byID        []int32  // indices into rows, ordered by resource id; nil when rows are in id order
	assignments []*allot.Assignment
	overview    []allot.AssignmentSummary

	// builds bounds the filter builds of the tenant (builds.go; nil: no bound).
	builds *buildSlot
	// budget is charged for what the snapshot holds while it is published
	// (nil: not charged, as in tests that build snapshots directly).
	budget *Reader

	mu         sync.Mutex
	retired    bool  // no longer published: new lists are not kept
	cost       int64 // bytes charged to the budget: rows and match lists
	matchCache map[string]*matchList
}

func newSnapshot(d allot.TenantDelta) *snapshot {
	s := &snapshot{project: d.Project, version: d.Version, types: newTypes()}
	n := 0
	for i := range d.Resources {
		n += len(d.Resources[i].ResourceID) + len(d.Resources[i].OrderID)
	}
	s.text = make([]byte, 0, n)
	s.rows = make([]row, len(d.Resources))
	for i := range d.Resources {
		s.rows[i] = s.compact(&d.Resources[i], nil)
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
	n := &snapshot{project: d.Project, version: d.Version, types: s.types, builds: s.builds, budget: s.budget}
	n.rows = slices.Clone(s.rows)
	// Clipped: appending copies the arena rather than writing into spare
	// capacity that another snapshot of s might also write into.
	n.text, n.exts = slices.Clip(s.text), slices.Clip(s.exts)
	var changed []int
	added, ownTypes := false, false
	for i := range d.Resources {
		r := &d.Resources[i]
		if _, known := n.types.lookup(r.ResourceType); !known && !ownTypes {
			// The table is shared with s: grow a copy.
			n.types, ownTypes = n.types.clone(), true
		}
		if idx := s.find(r.ResourceID); idx >= 0 {
			changed = append(changed, idx)
			n.rows[idx] = n.compact(r, &n.rows[idx])
		} else {
			n.rows = append(n.rows, n.compact(r, nil))
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
	n.matchCache = make(map[string]*matchList)
	n.cost = n.rowCost()
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, m := range s.matchCache {
		// Compiled against n's table, which extends s's: the old rows'
		// codes mean the same in it.
		c := n.compile(m.f)
		kept := true
		for _, idx := range changed {
			if c.match(s, &s.rows[idx]) != c.match(n, &n.rows[idx]) {
				kept = false
				break
			}
		}
		if kept {
			k := &matchList{f: m.f, count: m.count, idx: m.idx, bits: m.bits, rank: m.rank}
			k.used.Store(m.used.Load())
			n.matchCache[key] = k
			n.cost += k.cost()
		}
	}
	return n
}

// finish restores Seq order (rows changed concurrently on several nodes may
// arrive out of order), indexes rows by id and sums the overview.
func (s *snapshot) finish() {
	bySeq := func(a, b row) int { return cmp.Compare(a.seq, b.seq) }
	if !slices.IsSortedFunc(s.rows, bySeq) {
		slices.SortStableFunc(s.rows, bySeq)
	}
	if !slices.IsSortedFunc(s.assignments, byAssignmentSeq) {
		slices.SortFunc(s.assignments, byAssignmentSeq)
	}
	s.byID = nil
	inOrder := true
	for i := 1; i < len(s.rows) && inOrder; i++ {
		inOrder = s.id(&s.rows[i-1]) < s.id(&s.rows[i])
	}
	if !inOrder {
		// Ids usually grow with seq, and then rows need no index.
		s.byID = make([]int32, len(s.rows))
		for i := range s.byID {
			s.byID[i] = int32(i)
		}
		slices.SortFunc(s.byID, func(a, b int32) int { return strings.Compare(s.id(&s.rows[a]), s.id(&s.rows[b])) })
	}
	s.sumOverview()
	s.matchCache = make(map[string]*matchList)
	s.cost = s.rowCost()
}

// find returns the index of the row with resource id id, or -1.
func (s *snapshot) find(id string) int {
	at := func(k int) int {
		if s.byID == nil {
			return k
		}
		return int(s.byID[k])
	}
	k, ok := sort.Find(len(s.rows), func(k int) int { return strings.Compare(id, s.id(&s.rows[at(k)])) })
	if !ok {
		return -1
	}
	return at(k)
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

func byAssignmentSeq(a, b *allot.Assignment) int { return cmp.Compare(a.Seq, b.Seq) }

// rowCost is what the snapshot's rows are charged, match lists aside.
func (s *snapshot) rowCost() int64 {
	return int64(len(s.rows)+len(s.assignments)) * rowBytes
}

// retire marks s as no longer published and returns what it was charged.
// From then on it keeps no new match lists, so nothing is charged for it
// after this.
func (s *snapshot) retire() int64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retired = true
	return s.cost
}

func (s *snapshot) cached(key string) *matchList {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.matchCache[key]
}

// matches returns the rows that pass f, in order, computing them once per
// snapshot and filter. Builds of one tenant take turns (builds.go): a
// client sending many distinct filters to a big tenant waits for its own
// earlier builds, not other tenants for it; ctx bounds the wait.
func (s *snapshot) matches(ctx context.Context, f *allot.ResourceFilter) (*matchList, error) {
	key := filterKey(f)
	now := s.budget.tick()
	if m := s.cached(key); m != nil {
		m.used.Store(now)
		return m, nil
	}
	if s.builds != nil {
		start, err := s.builds.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer s.builds.release(start)
		// The build this one waited for may have been for the same filter.
		if m := s.cached(key); m != nil {
			m.used.Store(now)
			return m, nil
		}
	}
	fc := *f
	m := s.build(&fc)
	m.used.Store(now)
	s.mu.Lock()
	if s.retired {
		s.mu.Unlock()
		return m, nil
	}
	var freed int64
	if len(s.matchCache) >= maxCachedFilters {
		oldest := ""
		for k, l := range s.matchCache {
			if oldest == "" || l.used.Load() < s.matchCache[oldest].used.Load() {
				oldest = k
			}
		}
		freed = s.matchCache[oldest].cost()
		delete(s.matchCache, oldest)
	}
	s.matchCache[key] = m
	s.cost += m.cost() - freed
	s.mu.Unlock()
	s.budget.charge(m.cost()-freed, s.project.ID)
	return m, nil
}

// build scans the rows for f.
func (s *snapshot) build(f *allot.ResourceFilter) *matchList {
	c := s.compile(f)
	set := make([]uint64, (len(s.rows)+63)/64)
	count := 0
	if f.ResourceID != "" {
		// Resource ids are unique within a project: no scan needed.
		if idx := s.find(f.ResourceID); idx >= 0 && c.match(s, &s.rows[idx]) {
			return &matchList{f: f, count: 1, idx: []int32{int32(idx)}}
		}
		return &matchList{f: f, idx: []int32{}}
	}
	for i := range s.rows {
		if c.match(s, &s.rows[i]) {
			set[i/64] |= 1 << (i % 64)
			count++
		}
		if i%buildYield == buildYield-1 {
			// Let requests that are ready run between stretches.
			runtime.Gosched()
		}
	}
	return newMatchList(f, set, count)
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
