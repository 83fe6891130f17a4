package view

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// bytesource turns fuzz input into choices; past its end every choice is 0.
type bytesource []byte

func (b *bytesource) next() int {
	if len(*b) == 0 {
		return 0
	}
	v := int((*b)[0])
	*b = (*b)[1:]
	return v
}

func (b *bytesource) pick(n int) int { return b.next() % n }

func pickOf[T any](b *bytesource, values []T) T { return values[b.pick(len(values))] }

// Values a filter and a resource draw from: the enumerations, the empty
// value, and one value outside them (which no store returns, and which the
// compact form must still answer exactly for).
var (
	fuzzTypes      = []string{"T", "U", "V", "t,u", ""}
	fuzzBusinesses = append(slices.Clone(allot.BusinessTypes), "", "NOT_A_BUSINESS")
	fuzzSources    = append(slices.Clone(allot.ResourceSources), "", "ELSEWHERE")
	fuzzModes      = append(slices.Clone(allot.ChargingModes), "", "MONTHLY")
	fuzzSubs       = append(slices.Clone(allot.SubResourceTypes), "", "other_flexus")
	fuzzUnits      = append(slices.Clone(allot.Units), "", "YEAR")
	fuzzIDs        = []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	fuzzOrders     = []string{"", "o1", "o2"}
	zone           = time.FixedZone("UTC+8", 8*3600)
)

// fuzzTime returns an expiry time: none, whole seconds in UTC as the stores
// return them, or (rarely) one with a fraction or a zone.
func fuzzTime(b *bytesource) time.Time {
	sec := int64(1_700_000_000 + b.pick(8)*1000)
	switch b.pick(8) {
	case 0, 1:
		return time.Time{}
	case 2:
		return time.Unix(sec, int64(b.pick(3))*500_000_000).UTC()
	case 3:
		return time.Unix(sec, 0).In(zone)
	default:
		return time.Unix(sec, 0).UTC()
	}
}

func fuzzResource(b *bytesource, project string, i int) allot.Resource {
	r := allot.Resource{
		ProjectID:       project,
		ResourceID:      fuzzIDs[i%len(fuzzIDs)] + fmt.Sprint(i/len(fuzzIDs)),
		OrderID:         pickOf(b, fuzzOrders),
		ExpireTime:      fuzzTime(b),
		ResourceType:    pickOf(b, fuzzTypes[:4]),
		BusinessType:    pickOf(b, fuzzBusinesses),
		SubResourceType: pickOf(b, fuzzSubs),
		IsSubResource:   b.pick(2) == 1,
		ChargingMode:    pickOf(b, fuzzModes),
		Source:          pickOf(b, fuzzSources),
		Amount:          allot.Quantity(b.next() * 250_000),
		Usage:           allot.Quantity(b.next() * 125_000),
		Status:          allot.ResourceStatus(b.pick(3)),
		Unit:            pickOf(b, fuzzUnits),
		Removed:         b.pick(5) == 0,
		Seq:             int64(i + 1),
		Version:         int64(1 + b.pick(3)),
	}
	if b.pick(4) == 0 {
		r.BoundAsset = &allot.BoundAsset{AssetID: "asset", AssetName: pickOf(b, fuzzOrders)}
	}
	if b.pick(16) == 0 {
		r.ProjectID = "another"
	}
	return r
}

func fuzzFilter(b *bytesource) *allot.ResourceFilter {
	f := &allot.ResourceFilter{}
	for range b.pick(3) {
		f.ResourceTypes = append(f.ResourceTypes, pickOf(b, fuzzTypes))
	}
	for range b.pick(3) {
		f.Businesses = append(f.Businesses, pickOf(b, fuzzBusinesses))
	}
	for range b.pick(4) {
		f.Sources = append(f.Sources, pickOf(b, fuzzSources))
	}
	if b.pick(6) == 0 {
		f.ResourceID = fuzzIDs[b.pick(len(fuzzIDs))] + fmt.Sprint(b.pick(3))
	}
	if b.pick(4) == 0 {
		f.OrderID = pickOf(b, fuzzOrders)
	}
	if b.pick(3) == 0 {
		f.ChargingMode = pickOf(b, fuzzModes)
	}
	if b.pick(3) == 0 {
		f.SubResource = pickOf(b, fuzzSubs)
	}
	if b.pick(3) == 0 {
		s := allot.ResourceStatus(b.pick(3))
		f.Status = &s
	}
	bound := func() *time.Time {
		if b.pick(3) != 0 {
			return nil
		}
		t := time.Unix(int64(1_700_000_000+b.pick(9)*1000-500+b.pick(3)*500), int64(b.pick(3))*1).In(zone)
		return &t
	}
	f.ExpireStart, f.ExpireEnd = bound(), bound()
	return f
}

// oracle is the straightforward scan: ResourceFilter.Match over every
// allot.Resource, in Seq order.
func oracle(rs []allot.Resource, f *allot.ResourceFilter) []string {
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b allot.Resource) int { return int(a.Seq - b.Seq) })
	ids := []string{}
	for i := range sorted {
		if f.Match(&sorted[i]) {
			ids = append(ids, sorted[i].ResourceID)
		}
	}
	return ids
}

func idsOf(t *testing.T, s *snapshot, f *allot.ResourceFilter) []string {
	t.Helper()
	ids := []string{}
	for _, idx := range mustMatches(t, s, f) {
		ids = append(ids, s.resource(int(idx)).ResourceID)
	}
	return ids
}

// FuzzFilterIndex holds the compact rows and compiled filters to the
// domain's definition: for resources and filters drawn from the input, a
// snapshot (built whole, or brought forward by apply with its kept match
// lists) selects exactly the resources ResourceFilter.Match selects, and
// gives back every resource field for field.
func FuzzFilterIndex(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x05\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add([]byte("filters and resources drawn from these bytes, more or less at random"))
	f.Add([]byte{9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 3, 3, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := bytesource(data)
		n := b.pick(24)
		rs := make([]allot.Resource, n)
		for i := range rs {
			rs[i] = fuzzResource(&b, "p", i)
		}
		// Rows may arrive out of Seq order (several nodes).
		if n > 1 && b.pick(2) == 0 {
			i, j := b.pick(n), b.pick(n)
			rs[i], rs[j] = rs[j], rs[i]
		}
		s := newSnapshot(allot.TenantDelta{Project: allot.Project{ID: "p"}, Version: 3, Resources: slices.Clone(rs)})
		checkRoundTrip(t, s, rs)
		var filters []*allot.ResourceFilter
		for range 1 + b.pick(4) {
			filter := fuzzFilter(&b)
			filters = append(filters, filter)
			if got, want := idsOf(t, s, filter), oracle(rs, filter); !slices.Equal(got, want) {
				t.Fatalf("filter %+v: got %v, want %v", filter, got, want)
			}
		}

		// A write: some rows change in place, maybe one is added; the new
		// snapshot keeps the lists it may keep and must answer as a scan.
		var delta []allot.Resource
		next := slices.Clone(rs)
		for range b.pick(4) {
			if n == 0 {
				break
			}
			i := b.pick(n)
			c := fuzzResource(&b, "p", i)
			c.ResourceID, c.Seq = next[i].ResourceID, next[i].Seq
			next[i] = c
			delta = append(delta, c)
		}
		if b.pick(3) == 0 {
			c := fuzzResource(&b, "p", n)
			next = append(next, c)
			delta = append(delta, c)
		}
		s2 := s.apply(allot.TenantDelta{Project: allot.Project{ID: "p"}, Version: 4, Resources: delta})
		checkRoundTrip(t, s2, next)
		checkRoundTrip(t, s, rs) // apply leaves the old snapshot as it was
		for _, filter := range filters {
			if got, want := idsOf(t, s2, filter), oracle(next, filter); !slices.Equal(got, want) {
				t.Fatalf("after apply, filter %+v: got %v, want %v", filter, got, want)
			}
		}
	})
}

// checkRoundTrip: the snapshot gives back exactly the resources it was built
// from, in Seq order, every field equal (times included: ==, not Equal).
func checkRoundTrip(t *testing.T, s *snapshot, rs []allot.Resource) {
	t.Helper()
	want := slices.Clone(rs)
	slices.SortStableFunc(want, func(a, b allot.Resource) int { return int(a.Seq - b.Seq) })
	if len(s.rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(s.rows), len(want))
	}
	for i := range want {
		got := s.resource(i)
		if !reflect.DeepEqual(*got, want[i]) || got.ExpireTime != want[i].ExpireTime {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, *got, want[i])
		}
		if j := s.find(want[i].ResourceID); j != i {
			t.Fatalf("find(%s) = %d, want %d", want[i].ResourceID, j, i)
		}
	}
}

// TestInterningRoundTrips: every documented value of every enumeration, and
// resources as the stores return them, survive the compact form exactly and
// are held compactly (no copy of the original).
func TestInterningRoundTrips(t *testing.T) {
	var rs []allot.Resource
	i := 0
	add := func(r allot.Resource) {
		r.ProjectID, r.ResourceID, r.Seq = "p", fmt.Sprintf("r%04d", i), int64(i+1)
		rs = append(rs, r)
		i++
	}
	base := allot.Resource{ResourceType: "T", BusinessType: "LIVE_2D", ChargingMode: "ONE_TIME", Source: allot.SourcePurchased, Unit: "NUM"}
	for _, v := range allot.BusinessTypes {
		r := base
		r.BusinessType = v
		add(r)
	}
	for _, v := range allot.SubResourceTypes {
		r := base
		r.SubResourceType, r.IsSubResource = v, true
		add(r)
	}
	for _, v := range allot.ChargingModes {
		r := base
		r.ChargingMode = v
		add(r)
	}
	for _, v := range allot.ResourceSources {
		r := base
		r.Source = v
		add(r)
	}
	for _, v := range allot.Units {
		r := base
		r.Unit = v
		add(r)
	}
	for _, typ := range []string{"a", "b", "a", "c"} {
		r := base
		r.ResourceType = typ
		add(r)
	}
	r := base
	r.OrderID, r.BoundAsset = "order-1", &allot.BoundAsset{AssetID: "asset-1", AssetName: "name"}
	r.ExpireTime = time.Unix(2147483647, 0).UTC()
	r.Amount, r.Usage, r.Status, r.Removed, r.Version = allot.MaxResourceAmount, 1, allot.StatusFrozen, true, 7
	add(r)
	r.ExpireTime = time.Unix(0, 0).UTC()
	add(r)

	s := newSnapshot(allot.TenantDelta{Project: allot.Project{ID: "p"}, Version: 7, Resources: slices.Clone(rs)})
	checkRoundTrip(t, s, rs)
	for i := range s.rows {
		if s.full(&s.rows[i]) != nil {
			t.Errorf("row %d (%+v) is held as a full copy", i, rs[i])
		}
	}
	if got, want := len(s.types.names), 4; got != want {
		t.Errorf("%d resource types interned, want %d (T, a, b, c)", got, want)
	}
}

// TestFilterBuildsWaitPerTenant: a build waits while another build of its
// tenant runs, or while the tenant's last build is too recent, and gives up
// with its context; once the slot is free it builds.
func TestFilterBuildsWaitPerTenant(t *testing.T) {
	s := newSnapshot(allot.TenantDelta{Project: allot.Project{ID: "p"}, Version: 1,
		Resources: []allot.Resource{resource("p", 0), resource("p", 1)}})
	s.builds = new(buildSlot)
	start, err := s.builds.acquire(context.Background()) // a build of this tenant is running
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.matches(ctx, &allot.ResourceFilter{}); err == nil {
		t.Fatal("a build waiting for another of its tenant ignored its context")
	}
	s.builds.release(start)
	if got := mustMatches(t, s, &allot.ResourceFilter{}); len(got) != 2 {
		t.Fatalf("matches %v", got)
	}
	if s.builds.busy.Load() {
		t.Fatal("a finished build kept the slot")
	}
	// A build that took d keeps the next one waiting about d after it ends.
	s.builds.next.Store(since() + int64(time.Hour))
	if _, err := s.builds.acquire(ctx); err == nil {
		t.Fatal("a build started before its tenant's turn")
	}
}

// TestMatchListForms: both forms of a match list give every window of the
// same matches, whatever their density, at every boundary of the running
// count.
func TestMatchListForms(t *testing.T) {
	for _, rows := range []int{0, 1, 63, 64, 65, rankWords * 64, rankWords*64*3 + 5} {
		for _, every := range []int{1, 2, 7, 40, 1000} {
			set := make([]uint64, (rows+63)/64)
			var want []int32
			for i := 0; i < rows; i += every {
				set[i/64] |= 1 << (i % 64)
				want = append(want, int32(i))
			}
			m := newMatchList(nil, slices.Clone(set), len(want))
			form := "dense"
			if m.idx != nil {
				form = "sparse"
			}
			for from := 0; from <= len(want); from += 1 + len(want)/17 {
				for _, n := range []int{0, 1, 10, len(want)} {
					to := min(from+n, len(want))
					var got []int32
					m.window(from, to, func(i int32) { got = append(got, i) })
					if !slices.Equal(got, want[from:to]) {
						t.Fatalf("%d rows, every %d (%s): window [%d, %d) = %v, want %v", rows, every, form, from, to, got, want[from:to])
					}
				}
			}
			if m.cost() > sparseCost(len(want)) {
				t.Errorf("%d rows, every %d: the %s form costs %d, more than the sparse %d", rows, every, form, m.cost(), sparseCost(len(want)))
			}
		}
	}
}
