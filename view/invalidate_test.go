package view

import (
	"context"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// TestInvalidateAfterWipe: a store wiped and re-seeded with other rows
// reaches the version the cached snapshot has; only Invalidate keeps the
// answer exact.
func TestInvalidateAfterWipe(t *testing.T) {
	ctx := context.Background()
	s := mustStore(t)
	seed(t, s, 1, 6)
	r := New(s, 0)
	page, err := r.ListResources(ctx, "p000", &allot.ResourceFilter{}, allot.Page{Limit: 100})
	if err != nil || page.Count != 6 {
		t.Fatalf("before: count %d, %v; want 6", page.Count, err)
	}
	before, _ := s.TenantVersion(ctx, "p000")

	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	b := allot.ImportBatch{Projects: []allot.Project{{ID: "p000", Name: "p000", RegionID: "r", CreatedAt: time.Unix(0, 0)}}}
	for i := 10; i < 12; i++ {
		b.Resources = append(b.Resources, resource("p000", i))
	}
	if err := s.Import(ctx, b); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.TenantVersion(ctx, "p000"); after != before {
		t.Fatalf("version after re-seed %d, before %d: the test needs them equal to show a stale snapshot", after, before)
	}

	r.Invalidate()
	page, err = r.ListResources(ctx, "p000", &allot.ResourceFilter{}, allot.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, res := range page.Resources {
		ids = append(ids, res.ResourceID)
	}
	if got, want := len(ids), 2; got != want || ids[0] != "r00010" || ids[1] != "r00011" {
		t.Fatalf("after Invalidate: %v, want [r00010 r00011]", ids)
	}
	if got, want := r.held.Load(), r.tenants["p000"].snap.Load().cost; got != want {
		t.Errorf("bytes held = %d, want %d, the new snapshot's cost alone (the dropped one uncounted)", got, want)
	}
}
