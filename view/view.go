// Package view answers the tenant read APIs from an exact in-memory model of
// each tenant's data, kept in front of any allot.Store.
//
// Why: a list request asks for a filtered page and the total count of
// matches. Asking the database for both costs a query plus a COUNT over the
// tenant's whole history on every request, which for a tenant with 100,000
// matching resources takes milliseconds. Instead each request costs one
// primary-key lookup of the tenant's version, and everything else is memory:
//
//  1. Every committed write that touches a tenant bumps that tenant's version
//     in the same transaction (the store's contract).
//  2. A request reads the version first. If the tenant's snapshot in memory
//     has that version, it is exact: no write the client could have seen
//     acknowledged is missing from it. Concurrent requests of one tenant
//     share reads that started after they arrived (versionGate), so a busy
//     tenant costs far fewer than one read per request. Otherwise the snapshot is refreshed
//     with only the rows whose version is newer (TenantChanges), so a write
//     costs the next reader work in proportion to what changed.
//  3. Within a snapshot, the ordered list of matches of each distinct filter
//     is computed once and kept, so count is its length and any page is a
//     slice of it: a tenant with 100,000 matches is served as fast as one
//     with 100.
//
// Snapshots are immutable once published, so readers never lock against
// each other; a refresh builds a new snapshot and swaps it in. Rows are held
// in a compact form (row.go) and turned into allot.Resource values only for
// the page being answered. Memory is bounded by one budget across tenants
// that counts rows and match lists alike: past it, the least recently used
// match lists are dropped first, then the least recently used tenants, which
// are reloaded on their next request.
package view

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/allot-dev/allot"
)

// DefaultMaxRows is the default budget of resources and assignments held in memory.
const DefaultMaxRows = 4_000_000

// The budget is counted in bytes: a cached row (a resource or an assignment)
// is charged rowBytes, about what its compact form, its id and its place in
// the id index take; an entry of a match list is charged matchEntryBytes.
// So a budget of n rows is n*rowBytes bytes, and a match list of 32 entries
// costs as much as one row.
const (
	rowBytes        = 128
	matchEntryBytes = 4
)

// Reader implements allot.TenantReader over a Store.
type Reader struct {
	store    allot.Store
	maxBytes int64

	mu      sync.RWMutex
	tenants map[string]*tenant
	held    atomic.Int64 // bytes charged by all published snapshots
	clock   atomic.Int64 // logical time for least-recently-used eviction
}

// New returns a Reader over store that holds at most what maxRows rows take
// in memory, match lists included (DefaultMaxRows when maxRows <= 0).
func New(store allot.Store, maxRows int) *Reader {
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	return &Reader{store: store, maxBytes: int64(maxRows) * rowBytes, tenants: make(map[string]*tenant)}
}

type tenant struct {
	gate     versionGate
	refresh  sync.Mutex // one refresh at a time per tenant; readers do not take it
	snap     atomic.Pointer[snapshot]
	lastUsed atomic.Int64
	builds   *buildSlot
}

var _ allot.TenantReader = (*Reader)(nil)

// ListResources implements allot.TenantReader.
func (r *Reader) ListResources(ctx context.Context, projectID string, f *allot.ResourceFilter, p allot.Page) (allot.ResourcePage, error) {
	s, matches, from, to, err := r.page(ctx, projectID, f, p)
	if err != nil {
		return allot.ResourcePage{}, err
	}
	values := make([]allot.Resource, to-from)
	out := make([]*allot.Resource, to-from)
	i := 0
	matches.window(from, to, func(idx int32) {
		s.resourceOf(&s.rows[idx], &values[i])
		out[i] = &values[i]
		i++
	})
	return allot.ResourcePage{Count: matches.count, Resources: out}, nil
}

// VisitResources implements allot.TenantReader. The tenant list API uses
// it: a page of ten resources is 2.5 KB the garbage collector never sees.
func (r *Reader) VisitResources(ctx context.Context, projectID string, f *allot.ResourceFilter, p allot.Page, fn func(*allot.Resource)) (int, error) {
	s, matches, from, to, err := r.page(ctx, projectID, f, p)
	if err != nil {
		return 0, err
	}
	var v allot.Resource
	matches.window(from, to, func(idx int32) {
		s.resourceOf(&s.rows[idx], &v)
		fn(&v)
	})
	return matches.count, nil
}

// page finds the snapshot, the matches of f and the window of p in them.
func (r *Reader) page(ctx context.Context, projectID string, f *allot.ResourceFilter, p allot.Page) (s *snapshot, m *matchList, from, to int, err error) {
	if s, err = r.current(ctx, projectID); err != nil {
		return nil, nil, 0, 0, err
	}
	if m, err = s.matches(ctx, f); err != nil {
		return nil, nil, 0, 0, err
	}
	from, to = p.Window(m.count)
	return s, m, from, to, nil
}

// AssignmentReport implements allot.TenantReader.
func (r *Reader) AssignmentReport(ctx context.Context, projectID string, p allot.Page) (allot.AssignmentReport, error) {
	s, err := r.current(ctx, projectID)
	if err != nil {
		return allot.AssignmentReport{}, err
	}
	from, to := p.Window(len(s.assignments))
	records := make([]allot.Assignment, to-from)
	for i, a := range s.assignments[from:to] {
		records[i] = *a
	}
	return allot.AssignmentReport{
		Project:  s.project,
		Count:    len(s.assignments),
		Records:  records,
		Overview: s.overview,
	}, nil
}

// current returns a snapshot of the tenant at least as new as the version the
// store reports now.
func (r *Reader) current(ctx context.Context, projectID string) (*snapshot, error) {
	t := r.tenant(projectID)
	version, err := t.gate.read(ctx, func(ctx context.Context) (int64, error) {
		return r.store.TenantVersion(ctx, projectID)
	})
	if err != nil {
		return nil, err
	}
	t.lastUsed.Store(r.tick())
	if s := t.snap.Load(); s != nil && s.version == version {
		return s, nil
	}

	t.refresh.Lock()
	defer t.refresh.Unlock()
	old := t.snap.Load()
	if old != nil && old.version >= version {
		// Another request refreshed while this one waited.
		return old, nil
	}
	since := int64(0)
	if old != nil {
		since = old.version
	}
	delta, err := r.store.TenantChanges(ctx, projectID, since)
	if err != nil {
		return nil, err
	}
	var s *snapshot
	if old == nil || delta.Version < old.version {
		// First load, or the database went back in time (a restore):
		// start over from a full read.
		if old != nil {
			if delta, err = r.store.TenantChanges(ctx, projectID, 0); err != nil {
				return nil, err
			}
		}
		s = newSnapshot(delta)
	} else {
		s = old.apply(delta)
	}
	s.builds, s.budget = t.builds, r
	// s is not published yet, so its cost cannot move under this read;
	// old, once retired, keeps no new lists, so its cost is final.
	r.held.Add(s.cost)
	t.snap.Store(s)
	r.held.Add(-old.retire())
	r.evict(projectID)
	return s, nil
}

// tick returns the next logical time of the least-recently-used order.
func (r *Reader) tick() int64 {
	if r == nil {
		return 0
	}
	return r.clock.Add(1)
}

// charge adds n bytes to what the snapshots of tenant projectID hold and
// evicts past the budget.
func (r *Reader) charge(n int64, projectID string) {
	if r == nil {
		return
	}
	r.held.Add(n)
	r.evict(projectID)
}

func (r *Reader) tenant(projectID string) *tenant {
	r.mu.RLock()
	t := r.tenants[projectID]
	r.mu.RUnlock()
	if t != nil {
		return t
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t = r.tenants[projectID]; t == nil {
		t = &tenant{builds: new(buildSlot)}
		r.tenants[projectID] = t
	}
	return t
}

// evict brings what is held back under the budget (with 10% headroom so
// that eviction does not run on every load): first it drops the least
// recently used match lists of every tenant, which a request rebuilds from
// the rows it has, and then, only if the rows alone exceed the budget, the
// least recently used tenants, which a request reloads from the store. The
// most recently used list stays, so a tenant too big for the budget still
// answers its current filter from memory; the tenant keep (just loaded or
// used) is not dropped even if it alone exceeds the budget.
func (r *Reader) evict(keep string) {
	if r.held.Load() <= r.maxBytes {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held.Load() <= r.maxBytes {
		return // another eviction made room meanwhile
	}
	target := r.maxBytes * 9 / 10

	type list struct {
		s    *snapshot
		key  string
		used int64
	}
	var lists []list
	for _, t := range r.tenants {
		s := t.snap.Load()
		if s == nil {
			continue
		}
		s.mu.Lock()
		for key, m := range s.matchCache {
			lists = append(lists, list{s, key, m.used.Load()})
		}
		s.mu.Unlock()
	}
	sortBy(lists, func(l list) int64 { return l.used })
	for _, l := range lists[:max(0, len(lists)-1)] {
		if r.held.Load() <= target {
			return
		}
		l.s.mu.Lock()
		if m := l.s.matchCache[l.key]; m != nil && !l.s.retired {
			delete(l.s.matchCache, l.key)
			l.s.cost -= m.cost()
			r.held.Add(-m.cost())
		}
		l.s.mu.Unlock()
	}
	if r.held.Load() <= r.maxBytes {
		return // the lists made room enough
	}

	type aged struct {
		id   string
		used int64
	}
	var all []aged
	for id, t := range r.tenants {
		if id != keep && t.snap.Load() != nil {
			all = append(all, aged{id, t.lastUsed.Load()})
		}
	}
	sortBy(all, func(a aged) int64 { return a.used })
	for _, a := range all {
		if r.held.Load() <= target {
			break
		}
		t := r.tenants[a.id]
		// Take the refresh lock so a concurrent refresh does not publish a
		// snapshot whose cost is then not counted.
		if !t.refresh.TryLock() {
			continue
		}
		r.held.Add(-t.snap.Swap(nil).retire())
		// The tenant entry stays: a request holding it may refresh it again,
		// and its rows are then counted like any other load.
		t.refresh.Unlock()
	}
}
