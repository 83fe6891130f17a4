package view

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
)

func mustStore(t *testing.T) allot.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "allot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func resource(project string, i int) allot.Resource {
	src := allot.ResourceSources[i%3]
	return allot.Resource{ProjectID: project, ResourceID: fmt.Sprintf("r%05d", i), ResourceType: "T", BusinessType: "LIVE_2D",
		ChargingMode: "ONE_TIME", Source: src, Unit: "NUM", Amount: allot.Quantity(i) * allot.QuantityScale}
}

func seed(t *testing.T, s allot.Store, projects, perProject int) {
	t.Helper()
	var b allot.ImportBatch
	for p := range projects {
		id := fmt.Sprintf("p%03d", p)
		b.Projects = append(b.Projects, allot.Project{ID: id, Name: id, RegionID: "r", CreatedAt: time.Unix(0, 0)})
		for i := range perProject {
			b.Resources = append(b.Resources, resource(id, i))
		}
	}
	if err := s.Import(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// purchasedIDs is the oracle for a PURCHASED-only filter over resource(…, i).
func purchasedIDs(n int) []string {
	var ids []string
	for i := range n {
		if i%3 == 0 {
			ids = append(ids, fmt.Sprintf("r%05d", i))
		}
	}
	return ids
}

func TestEvictionKeepsAnswersExact(t *testing.T) {
	s := mustStore(t)
	seed(t, s, 30, 50)
	r := New(s, 120) // room for about two tenants: nearly every read reloads
	want := purchasedIDs(50)
	f := &allot.ResourceFilter{Sources: []allot.ResourceSource{allot.SourcePurchased}}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				project := fmt.Sprintf("p%03d", (g*7+i)%30)
				page, err := r.ListResources(context.Background(), project, f, allot.Page{Limit: 100})
				if err != nil {
					t.Error(err)
					return
				}
				if page.Count != len(want) || len(page.Resources) != len(want) {
					t.Errorf("%s: count %d, %d items; want %d", project, page.Count, len(page.Resources), len(want))
					return
				}
				for j, res := range page.Resources {
					if res.ResourceID != want[j] || res.ProjectID != project {
						t.Errorf("%s item %d: %s/%s, want %s", project, j, res.ProjectID, res.ResourceID, want[j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	// One tenant may exceed the budget alone; otherwise the budget holds.
	if held := r.held.Load(); held > (120+50)*rowBytes+50*matchEntryBytes {
		t.Fatalf("holding %d bytes, budget %d", held, 120*rowBytes)
	}
}

func TestReadsFollowWrites(t *testing.T) {
	s := mustStore(t)
	seed(t, s, 1, 10)
	r := New(s, 0)
	f := &allot.ResourceFilter{Sources: allot.ResourceSources}
	ctx := context.Background()
	var wg sync.WaitGroup
	done := make(chan struct{})
	written := make(chan int, 1000)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 10; i < 60; i++ {
			if err := s.Import(ctx, allot.ImportBatch{Resources: []allot.Resource{resource("p000", i)}}); err != nil {
				t.Error(err)
				return
			}
			written <- i + 1 // acknowledged: i+1 resources exist
		}
	}()
	acknowledged := 10
	for {
		select {
		case n := <-written:
			acknowledged = n
		case <-done:
			for len(written) > 0 {
				acknowledged = <-written
			}
			page, err := r.ListResources(ctx, "p000", f, allot.Page{Limit: 1, Offset: 59})
			if err != nil || acknowledged != 60 || page.Count != 60 || page.Resources[0].ResourceID != "r00059" {
				t.Fatalf("final read after %d acknowledged: %+v %v", acknowledged, page, err)
			}
			wg.Wait()
			return
		default:
		}
		page, err := r.ListResources(ctx, "p000", f, allot.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count < acknowledged {
			t.Fatalf("read saw %d resources after %d were acknowledged", page.Count, acknowledged)
		}
		for j, res := range page.Resources {
			if res.ResourceID != fmt.Sprintf("r%05d", j) {
				t.Fatalf("item %d is %s: order broken", j, res.ResourceID)
			}
		}
	}
}

func TestSnapshotApply(t *testing.T) {
	project := allot.Project{ID: "p"}
	res := func(id string, seq int64, amount int64) allot.Resource {
		r := resource("p", int(seq))
		r.ResourceID, r.Seq, r.Amount = id, seq, allot.Quantity(amount)
		return r
	}
	old := newSnapshot(allot.TenantDelta{Project: project, Version: 2,
		Resources:   []allot.Resource{res("a", 1, 1), res("b", 2, 2), res("c", 3, 3)},
		Assignments: []allot.Assignment{{RecordID: "x", ResourceSpecCode: "s", ResourceNum: 10, ResourceUsedNum: 4, Seq: 1}}})
	f := &allot.ResourceFilter{}
	if got := len(mustMatches(t, old, f)); got != 3 {
		t.Fatalf("old matches %d", got)
	}
	// b changes, d and e are new and arrive out of order.
	next := old.apply(allot.TenantDelta{Project: project, Version: 3,
		Resources:   []allot.Resource{res("e", 5, 5), res("b", 2, 20), res("d", 4, 4)},
		Assignments: []allot.Assignment{{RecordID: "y", ResourceSpecCode: "s", ResourceNum: 5, ResourceUsedNum: 5, Seq: 2}}})
	var order string
	for i := range next.rows {
		r := next.resource(i)
		order += fmt.Sprintf("%s%d ", r.ResourceID, r.Amount)
	}
	if order != "a1 b20 c3 d4 e5 " {
		t.Fatalf("order %q", order)
	}
	if got := len(mustMatches(t, next, f)); got != 5 {
		t.Fatalf("new snapshot matches %d, want 5 (a stale match list leaked)", got)
	}
	if old.resource(1).Amount != 2 || len(old.rows) != 3 {
		t.Fatal("apply changed the old snapshot")
	}
	if i := next.find("d"); i < 0 || next.resource(i).ResourceID != "d" {
		t.Fatal("byID not rebuilt")
	}
	if ov := next.overview; len(ov) != 1 || ov[0].ResourceNum != 15 || ov[0].ResourceUsedNum != 9 || ov[0].RemainingQuota != 6 {
		t.Fatalf("overview %+v", ov)
	}
}

func TestFilterKeyDistinguishes(t *testing.T) {
	status := allot.StatusFrozen
	a := filterKey(&allot.ResourceFilter{ResourceTypes: []string{"a,b"}})
	b := filterKey(&allot.ResourceFilter{ResourceTypes: []string{"a", "b"}})
	c := filterKey(&allot.ResourceFilter{ResourceTypes: []string{"b", "a", "a"}})
	d := filterKey(&allot.ResourceFilter{ResourceTypes: []string{"a", "b"}, Status: &status})
	if a == b || b != c || b == d {
		t.Fatalf("keys: %q %q %q %q", a, b, c, d)
	}
}

// TestApplyKeepsOnlyValidMatchLists: after an in-place change, a cached
// list whose filter answers differently for the changed row is rebuilt, and
// every list stays exact.
func TestApplyKeepsOnlyValidMatchLists(t *testing.T) {
	var rs []allot.Resource
	for i := range 6 {
		r := resource("p", i)
		r.Seq = int64(i + 1)
		rs = append(rs, r)
	}
	old := newSnapshot(allot.TenantDelta{Project: allot.Project{ID: "p"}, Version: 1, Resources: rs})
	frozen := allot.StatusFrozen
	byStatus := &allot.ResourceFilter{Status: &frozen}
	bySource := &allot.ResourceFilter{Sources: []allot.ResourceSource{allot.SourcePurchased}}
	if len(mustMatches(t, old, byStatus)) != 0 || len(mustMatches(t, old, bySource)) != 2 {
		t.Fatal("fixture")
	}
	changed := rs[3] // PURCHASED (3 % 3 == 0): freezing it flips byStatus, not bySource
	changed.Status, changed.Usage = allot.StatusFrozen, 1
	next := old.apply(allot.TenantDelta{Project: allot.Project{ID: "p"}, Version: 2, Resources: []allot.Resource{changed}})
	if _, kept := next.matchCache[filterKey(bySource)]; !kept {
		t.Error("a list the change cannot affect was dropped")
	}
	if _, kept := next.matchCache[filterKey(byStatus)]; kept {
		t.Error("a list the change affects was kept")
	}
	if got := mustMatches(t, next, byStatus); len(got) != 1 || next.resource(int(got[0])).ResourceID != changed.ResourceID {
		t.Fatalf("frozen matches %v", got)
	}
	if got := mustMatches(t, next, bySource); len(got) != 2 || next.resource(int(got[1])).Usage != 1 {
		t.Fatalf("source matches %v do not see the new row", got)
	}
}

func mustMatches(t *testing.T, s *snapshot, f *allot.ResourceFilter) []int32 {
	t.Helper()
	m, err := s.matches(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return m.all()
}

// TestBudgetCountsMatchLists: match lists count against the budget, and the
// least recently used lists are dropped before any tenant is.
func TestBudgetCountsMatchLists(t *testing.T) {
	s := mustStore(t)
	seed(t, s, 2, 1000) // p000 and p001, 1,000 resources each
	ctx := context.Background()
	// Room for both tenants and about ten match lists over 1,000 rows.
	r := New(s, 2010)
	all := &allot.ResourceFilter{}
	for _, p := range []string{"p000", "p001"} {
		if _, err := r.ListResources(ctx, p, all, allot.Page{Limit: 1}); err != nil {
			t.Fatal(err)
		}
	}
	filter := func(i int) *allot.ResourceFilter {
		return &allot.ResourceFilter{ResourceTypes: []string{"T", fmt.Sprint("other-", i)}}
	}
	for i := range 40 {
		page, err := r.ListResources(ctx, "p000", filter(i), allot.Page{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != 1000 {
			t.Fatalf("filter %d: count %d", i, page.Count)
		}
		if held := r.held.Load(); held > r.maxBytes+denseCost(1000) {
			t.Fatalf("after %d filters: holding %d bytes, budget %d", i+1, held, r.maxBytes)
		}
	}
	for _, p := range []string{"p000", "p001"} {
		if r.tenant(p).snap.Load() == nil {
			t.Fatalf("tenant %s was dropped while match lists could go first", p)
		}
	}
	snap := r.tenant("p000").snap.Load()
	snap.mu.Lock()
	_, oldest := snap.matchCache[filterKey(filter(0))]
	_, newest := snap.matchCache[filterKey(filter(39))]
	kept := len(snap.matchCache)
	snap.mu.Unlock()
	if oldest || !newest || kept >= 40 {
		t.Fatalf("kept %d lists; the oldest kept: %v, the newest: %v", kept, oldest, newest)
	}

	// A third tenant does not fit beside the two: once the lists are gone,
	// the least recently used tenant (p001) goes, and answers stay exact.
	seed3 := allot.ImportBatch{Projects: []allot.Project{{ID: "p002", Name: "p002", RegionID: "r", CreatedAt: time.Unix(0, 0)}}}
	for i := range 500 {
		seed3.Resources = append(seed3.Resources, resource("p002", i))
	}
	if err := s.Import(ctx, seed3); err != nil {
		t.Fatal(err)
	}
	if page, err := r.ListResources(ctx, "p002", all, allot.Page{Limit: 1}); err != nil || page.Count != 500 {
		t.Fatalf("p002: %+v %v", page.Count, err)
	}
	if r.tenant("p001").snap.Load() != nil || r.tenant("p000").snap.Load() == nil {
		t.Fatal("eviction did not drop the least recently used tenant")
	}
	if held := r.held.Load(); held > r.maxBytes {
		t.Fatalf("holding %d bytes, budget %d", held, r.maxBytes)
	}
	if page, err := r.ListResources(ctx, "p001", all, allot.Page{Limit: 1, Offset: 999}); err != nil || page.Count != 1000 || page.Resources[0].ResourceID != "r00999" {
		t.Fatalf("p001 after its eviction: %+v %v", page, err)
	}
}

// TestVisitResourcesMatchesList: for every filter and window, the visit sees
// what ListResources returns, in the same order, with the same count, and a
// missing tenant fails both the same way.
func TestVisitResourcesMatchesList(t *testing.T) {
	s := mustStore(t)
	seed(t, s, 2, 70)
	r := New(s, 0)
	ctx := context.Background()
	filters := []*allot.ResourceFilter{
		{},
		{Sources: []allot.ResourceSource{allot.SourcePurchased}},
		{Sources: []allot.ResourceSource{allot.SourceSPAllocated, allot.SourceAdminAllocated}},
		{ResourceID: "r00042"},
		{ResourceID: "nope"},
	}
	for _, f := range filters {
		for _, p := range []allot.Page{{Limit: 10}, {Limit: 7, Offset: 20}, {Limit: 100, Offset: 65}, {Limit: 5, Offset: 500}, {}} {
			want, err := r.ListResources(ctx, "p001", f, p)
			if err != nil {
				t.Fatal(err)
			}
			var got []allot.Resource
			count, err := r.VisitResources(ctx, "p001", f, p, func(res *allot.Resource) { got = append(got, *res) })
			if err != nil {
				t.Fatal(err)
			}
			if count != want.Count || len(got) != len(want.Resources) {
				t.Fatalf("%+v %+v: visit count %d, %d items; list %d, %d items", f, p, count, len(got), want.Count, len(want.Resources))
			}
			for i := range got {
				if got[i] != *want.Resources[i] {
					t.Fatalf("%+v %+v item %d: visit %+v, list %+v", f, p, i, got[i], *want.Resources[i])
				}
			}
		}
	}
	_, listErr := r.ListResources(ctx, "p999", &allot.ResourceFilter{}, allot.Page{})
	_, visitErr := r.VisitResources(ctx, "p999", &allot.ResourceFilter{}, allot.Page{}, func(*allot.Resource) { t.Fatal("visited a resource of a missing tenant") })
	if listErr == nil || visitErr == nil || listErr.Error() != visitErr.Error() {
		t.Fatalf("missing tenant: list %v, visit %v", listErr, visitErr)
	}
}
