package view

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/sqlite"
)

// benchFilter is the list benchmark's filter (cmd/allotbench): every source.
var benchFilter = &allot.ResourceFilter{Sources: allot.ResourceSources}

// BenchmarkMemoryPerRow loads every tenant of a store into one Reader with
// the default budget, each with the list benchmark's filter (so its match
// list is held too, as in a server), and reports what the read model holds
// per cached row: heap in use after a GC, and the growth of the process's
// resident set (/proc/self/statm), both divided by the rows loaded.
//
// With ALLOT_VIEW_BENCH_DB set to a file (or postgres:// database) seeded by cmd/allotbench (and
// ALLOT_VIEW_BENCH_PROJECTS to its project count, default 10000), it loads
// that data; otherwise a small store seeded here. Run it once per process:
//
//	go test -run '^$' -bench MemoryPerRow -benchtime 1x ./view
func BenchmarkMemoryPerRow(b *testing.B) {
	ctx := context.Background()
	store, ids := benchStore(b)
	for b.Loop() {
		runtime.GC()
		heap0, rss0 := memNow(b)
		r := New(store, 0)
		rows := 0
		for _, id := range ids {
			page, err := r.ListResources(ctx, id, benchFilter, allot.Page{Limit: 10})
			if err != nil {
				b.Fatal(err)
			}
			rows += page.Count
		}
		runtime.GC()
		heap1, rss1 := memNow(b)
		b.ReportMetric(float64(heap1-heap0)/float64(rows), "heap-B/row")
		b.ReportMetric(float64(rss1-rss0)/float64(rows), "rss-B/row")
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(float64(r.held.Load())/float64(rows), "charged-B/row")
		runtime.KeepAlive(r)
	}
}

func memNow(b *testing.B) (heapInuse, rss int64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(statm))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return int64(ms.HeapInuse), pages * int64(os.Getpagesize())
}

func benchStore(b *testing.B) (allot.Store, []string) {
	b.Helper()
	ctx := context.Background()
	if path := os.Getenv("ALLOT_VIEW_BENCH_DB"); path != "" {
		n := 10_000
		if v := os.Getenv("ALLOT_VIEW_BENCH_PROJECTS"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				b.Fatal(err)
			}
		}
		var s allot.Store
		var err error
		if strings.HasPrefix(path, "postgres://") {
			s, err = postgres.Open(ctx, path)
		} else {
			s, err = sqlite.Open(ctx, path)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("bench-%06d", i)
		}
		return s, ids
	}
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "allot.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var batch allot.ImportBatch
	var ids []string
	for p := range 40 {
		id := fmt.Sprintf("p%03d", p)
		ids = append(ids, id)
		batch.Projects = append(batch.Projects, allot.Project{ID: id, Name: id, RegionID: "r", CreatedAt: time.Unix(0, 0)})
		for j := range 500 {
			batch.Resources = append(batch.Resources, benchResource(id, j))
		}
	}
	if err := s.Import(ctx, batch); err != nil {
		b.Fatal(err)
	}
	return s, ids
}

// benchResource is the j-th resource of cmd/allotbench's seed, in shape:
// six kinds of business, type and unit, every source and charging mode, an
// order id on a third, an expiry time on all, one in fifty frozen.
func benchResource(project string, j int) allot.Resource {
	kinds := []struct {
		business allot.BusinessType
		typ      string
		unit     allot.Unit
	}{
		{"VIDEO_2D", "VIDEO_2D_MIN", "MIN"},
		{"VOICE_CLONE", "VOICE_CLONE_NUM", "NUM"},
		{"LIVE_2D", "Interaction.basic.channel", "CHANNEL"},
		{"SYNTHETICS_SOUND", "TTS_CHARS", "TEN_THOUSAND_WORDS"},
		{"MODELING_2D", "MODELING_2D_NUM", "NUM"},
		{"FLEXUS_2D", "FLEXUS_2D_PACKAGE", "MIN"},
	}
	k := kinds[j%len(kinds)]
	r := allot.Resource{
		ProjectID:    project,
		ResourceID:   fmt.Sprintf("res-%08d", j),
		ResourceType: k.typ,
		BusinessType: k.business,
		ChargingMode: allot.ChargingModes[j%len(allot.ChargingModes)],
		Source:       allot.ResourceSources[j%len(allot.ResourceSources)],
		Unit:         k.unit,
		Amount:       allot.Quantity(int64(100+j%900) * allot.QuantityScale),
		Usage:        allot.Quantity(int64(j%100) * allot.QuantityScale),
		ExpireTime:   time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(j) * time.Hour),
		Seq:          int64(j + 1),
		Version:      1,
	}
	if j%3 == 0 {
		r.OrderID = fmt.Sprintf("order-%08d", j)
	}
	if j%50 == 7 {
		r.Status = allot.StatusFrozen
	}
	return r
}

// benchFilters returns distinct filters of the kind a client walking a big
// tenant sends: each selects a different part of it.
func benchFilters(n int) []*allot.ResourceFilter {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*allot.ResourceFilter, n)
	for i := range out {
		from := base.Add(time.Duration(i*97) * time.Hour)
		to := from.Add(time.Duration(20_000+i) * time.Hour)
		out[i] = &allot.ResourceFilter{
			Sources:     allot.ResourceSources[:1+i%3],
			Businesses:  []allot.BusinessType{allot.BusinessTypes[i%len(allot.BusinessTypes)], "VIDEO_2D", "LIVE_2D"},
			ExpireStart: &from,
			ExpireEnd:   &to,
		}
	}
	return out
}

// wideFilters returns distinct filters that each select nearly all of a
// tenant, as the fairness scenario of cmd/allotbench sends: every source,
// an expiry window starting a few seconds later each time.
func wideFilters(n int) []*allot.ResourceFilter {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*allot.ResourceFilter, n)
	for i := range out {
		from := base.Add(time.Duration(i) * time.Second)
		out[i] = &allot.ResourceFilter{Sources: allot.ResourceSources, ExpireStart: &from}
	}
	return out
}

// BenchmarkFilterBuild measures building one match list over a tenant of
// 100,000 resources, a distinct filter each time (what a client sending
// new filters costs), for filters that select about 5% of it (narrow) and
// nearly all of it (wide): "compact" is the read model's build over its
// rows, "resources" the straightforward scan of ResourceFilter.Match over
// allot.Resource values into a list of indices (the read model before the
// compact rows).
func BenchmarkFilterBuild(b *testing.B) {
	const n = 100_000
	rs := make([]allot.Resource, n)
	for j := range rs {
		rs[j] = benchResource("big", j)
	}
	s := newSnapshot(allot.TenantDelta{Project: allot.Project{ID: "big"}, Version: 1, Resources: rs})
	ptrs := make([]*allot.Resource, n)
	for j := range rs {
		ptrs[j] = &rs[j]
	}
	for _, kind := range []struct {
		name    string
		filters []*allot.ResourceFilter
	}{{"narrow", benchFilters(256)}, {"wide", wideFilters(256)}} {
		b.Run(kind.name+"/compact", func(b *testing.B) {
			b.ReportAllocs()
			i, total := 0, 0
			for b.Loop() {
				total += s.build(kind.filters[i%len(kind.filters)]).count
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
			b.ReportMetric(float64(total)/float64(b.N), "matches")
		})
		b.Run(kind.name+"/resources", func(b *testing.B) {
			b.ReportAllocs()
			i, total := 0, 0
			for b.Loop() {
				f := kind.filters[i%len(kind.filters)]
				m := []int32{}
				for j, r := range ptrs {
					if f.Match(r) {
						m = append(m, int32(j))
					}
				}
				total += len(m)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
			b.ReportMetric(float64(total)/float64(b.N), "matches")
		})
	}
}

// BenchmarkListPage measures answering a cached first page of 10 from a
// 100,000-row tenant's snapshot: the match list lookup and the conversion
// of the page's rows to allot.Resource values.
func BenchmarkListPage(b *testing.B) {
	rs := make([]allot.Resource, 100_000)
	for j := range rs {
		rs[j] = benchResource("big", j)
	}
	s := newSnapshot(allot.TenantDelta{Project: allot.Project{ID: "big"}, Version: 1, Resources: rs})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := s.matches(ctx, benchFilter)
		if err != nil {
			b.Fatal(err)
		}
		values := make([]allot.Resource, 10)
		out := make([]*allot.Resource, 10)
		i := 0
		m.window(0, 10, func(idx int32) {
			s.resourceOf(&s.rows[idx], &values[i])
			out[i] = &values[i]
			i++
		})
	}
}

// BenchmarkNewSnapshot measures building the snapshot of a 100,000-row
// tenant from its rows: what a cold tenant pays after the store's read.
func BenchmarkNewSnapshot(b *testing.B) {
	rs := make([]allot.Resource, 100_000)
	for j := range rs {
		rs[j] = benchResource("big", j)
	}
	b.ReportAllocs()
	for b.Loop() {
		newSnapshot(allot.TenantDelta{Project: allot.Project{ID: "big"}, Version: 1, Resources: rs})
	}
}

// BenchmarkColdTenant measures the first request for the biggest tenant of
// the store (the first of ALLOT_VIEW_BENCH_DB's, bench-000000 with its
// 100,000 resources; here a seeded 20,000-row tenant otherwise) with a
// fresh Reader each time: the store's full read, the snapshot and the
// first match list, as after a restart or an eviction.
//
//	ALLOT_VIEW_BENCH_DB=/path/seed.db go test -run '^$' -bench ColdTenant -benchtime 10x ./view
func BenchmarkColdTenant(b *testing.B) {
	ctx := context.Background()
	store, ids := benchStore(b)
	if os.Getenv("ALLOT_VIEW_BENCH_DB") == "" {
		// The seeded store has 40 tenants of 500: make one big.
		var batch allot.ImportBatch
		batch.Projects = []allot.Project{{ID: "big", Name: "big", RegionID: "r", CreatedAt: time.Unix(0, 0)}}
		for j := range 20_000 {
			batch.Resources = append(batch.Resources, benchResource("big", j))
		}
		if err := store.Import(ctx, batch); err != nil {
			b.Fatal(err)
		}
		ids = []string{"big"}
	}
	rows := 0
	for b.Loop() {
		r := New(store, 0)
		page, err := r.ListResources(ctx, ids[0], benchFilter, allot.Page{Limit: 10})
		if err != nil {
			b.Fatal(err)
		}
		rows = page.Count
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/first-request")
	b.ReportMetric(float64(rows), "rows")
}
