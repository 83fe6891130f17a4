package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// streamItems is an import of several chunks: an SP listed after its
// customer, resources of three projects interleaved (more than two of
// ImportStream's chunks, and not a multiple of any bulk statement's rows),
// every optional field set on some, and assignments.
func streamItems() []allot.SourceItem {
	var items []allot.SourceItem
	add := func(it allot.SourceItem) {
		it.Line = int64(len(items) + 1)
		items = append(items, it)
	}
	cust, sp, other := NewProject("s-cust", "s-sp"), NewProject("s-sp", ""), NewProject("s-other", "")
	other.CreatedAt = Epoch.AddDate(0, 0, 1)
	add(allot.SourceItem{Project: &cust})
	for i := range 9000 {
		pid := []string{"s-cust", "s-other", "s-cust", "s-sp"}[i%4]
		r := NewResource(pid, fmt.Sprintf("r-%05d", i))
		r.Amount, r.Usage = allot.Quantity(1000+i), allot.Quantity(i%7)
		switch i % 5 {
		case 0:
			r.BoundAsset = &allot.BoundAsset{AssetID: fmt.Sprintf("asset-%d", i), AssetName: "名 " + fmt.Sprint(i)}
		case 1:
			r.ExpireTime, r.OrderID = Epoch.AddDate(0, 0, i%300), ""
		case 2:
			r.Status, r.IsSubResource, r.SubResourceType = allot.StatusFrozen, true, "voice_clone_flexus"
		case 3:
			r.Source = allot.SourceSPAllocated
		}
		add(allot.SourceItem{Resource: &r})
		if i == 4500 {
			add(allot.SourceItem{Project: &sp})
			add(allot.SourceItem{Project: &other})
		}
		if i%3000 == 1 {
			a := NewAssignment(fmt.Sprintf("s-a-%d", i), "s-sp", "s-cust")
			add(allot.SourceItem{Assignment: &a})
		}
	}
	return items
}

// sourceOf yields items, one at a time, as a file's reader would, and
// counts how often it is read.
func sourceOf(items []allot.SourceItem, reads *int) allot.ImportSource {
	return func(yield func(allot.SourceItem) error) error {
		*reads++
		for _, it := range items {
			// A copy: the item's values may be reused once yield returns.
			c := it
			if it.Resource != nil {
				r := *it.Resource
				c.Resource = &r
			}
			if err := yield(c); err != nil {
				return err
			}
		}
		return nil
	}
}

// batchOf is the same import as one batch.
func batchOf(items []allot.SourceItem) allot.ImportBatch {
	var b allot.ImportBatch
	for _, it := range items {
		switch {
		case it.Project != nil:
			b.Projects = append(b.Projects, *it.Project)
		case it.Resource != nil:
			b.Resources = append(b.Resources, *it.Resource)
		case it.Assignment != nil:
			b.Assignments = append(b.Assignments, *it.Assignment)
		}
	}
	return b
}

// testImportStream: ImportStream writes exactly what Import of the same
// items as one batch writes (projects, versions, rows with their seqs, the
// ledger's entries), on a second store; it refuses what Import refuses,
// naming the line, and writes nothing then, even when the failure comes
// after chunks were written.
func testImportStream(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("SameAsImport", func(t *testing.T) {
		t.Parallel()
		items := streamItems()
		batch, streamed := open(t), open(t)
		MustImport(t, batch, batchOf(items))
		reads := 0
		if err := streamed.ImportStream(t.Context(), sourceOf(items, &reads)); err != nil {
			t.Fatalf("ImportStream: %v", err)
		}
		if reads < 2 {
			t.Errorf("source read %d times: the items must be checked before the transaction writes", reads)
		}
		// The oracle of the source alone: each project's rows in source
		// order, seqs from 1, all at version 2 (created at 1, one import).
		want := map[string][]string{}
		for _, it := range items {
			if it.Resource != nil {
				want[it.Resource.ProjectID] = append(want[it.Resource.ProjectID], it.Resource.ResourceID)
			}
		}
		for _, p := range []string{"s-sp", "s-cust", "s-other"} {
			a, b := MustTenantChanges(t, batch, p, 0), MustTenantChanges(t, streamed, p, 0)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: Import and ImportStream differ:\nImport       version %d, %d resources, %d assignments, project %+v\nImportStream version %d, %d resources, %d assignments, project %+v",
					p, a.Version, len(a.Resources), len(a.Assignments), a.Project, b.Version, len(b.Resources), len(b.Assignments), b.Project)
			}
			if b.Version != 2 || len(b.Resources) != len(want[p]) {
				t.Fatalf("%s: version %d, %d resources; want 2 and %d", p, b.Version, len(b.Resources), len(want[p]))
			}
			for i, r := range b.Resources {
				if r.ResourceID != want[p][i] || r.Seq != int64(i+1) || r.Version != 2 {
					t.Fatalf("%s: row %d is %s seq %d version %d; want %s seq %d version 2", p, i, r.ResourceID, r.Seq, r.Version, want[p][i], i+1)
				}
			}
			ea, eb := allEntries(t, batch, p), allEntries(t, streamed, p)
			if len(eb) != len(want[p]) {
				t.Fatalf("%s: %d ledger entries, want %d", p, len(eb), len(want[p]))
			}
			for i := range eb {
				if eb[i].At.IsZero() || eb[i].Op != allot.OpImport || eb[i].ResourceID != want[p][i] {
					t.Fatalf("%s: entry %d: %+v", p, i, eb[i])
				}
				ea[i].At, eb[i].At = Epoch, Epoch // each import's own time
			}
			if !reflect.DeepEqual(ea, eb) {
				t.Fatalf("%s: the ledgers differ", p)
			}
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustImport(t, s, allot.ImportBatch{Projects: []allot.Project{NewProject("s-cust", "")},
			Resources: []allot.Resource{NewResource("s-cust", "r-08999")}})
		base := []allot.SourceItem{}
		for i := range 9000 {
			r := NewResource("s-cust", fmt.Sprintf("r-%05d", i))
			base = append(base, allot.SourceItem{Line: int64(i + 1), Resource: &r})
		}
		repeat := func(line int) []allot.SourceItem {
			items := append([]allot.SourceItem(nil), base[:7000]...)
			r := *base[line-1].Resource
			return append(items, allot.SourceItem{Line: 7001, Resource: &r})
		}
		invalid := append([]allot.SourceItem(nil), base[:6000]...)
		bad := NewResource("s-cust", "r-bad")
		bad.Unit = "FURLONG"
		invalid = append(invalid, allot.SourceItem{Line: 6001, Resource: &bad})
		missing := append([]allot.SourceItem(nil), base[:10]...)
		lost := NewResource("s-nobody", "r-1")
		missing = append(missing, allot.SourceItem{Line: 11, Resource: &lost})
		wrongSP := NewAssignment("s-a", "s-elsewhere", "s-cust")
		notCustomer := append(append([]allot.SourceItem(nil), base[:5000]...), allot.SourceItem{Line: 5001, Assignment: &wrongSP})
		for _, c := range []struct {
			name  string
			items []allot.SourceItem
			code  allot.ErrorCode
			msg   string
		}{
			{"Repeat", repeat(12), allot.ECONFLICT, "line 7001: resource s-cust/r-00011 is already on line 12"},
			{"Invalid", invalid, allot.EINVALID, "line 6001: resource s-cust/r-bad: unit"},
			{"MissingProject", missing, allot.EINVALID, "line 11: resource s-nobody/r-1: project_id: project s-nobody does not exist"},
			{"NotACustomer", notCustomer, allot.EINVALID, "line 5001: assignment s-a: customer_project_id: project s-cust is not a customer of s-elsewhere"},
			// Found by the database after two chunks were written.
			{"Exists", base, allot.ECONFLICT, "resource s-cust/r-08999 exists already"},
		} {
			reads := 0
			err := s.ImportStream(t.Context(), sourceOf(c.items, &reads))
			if allot.ErrorCodeOf(err) != c.code || !strings.Contains(allot.ErrorMessageOf(err), c.msg) {
				t.Errorf("%s: %v (%s), want %s %q", c.name, err, allot.ErrorCodeOf(err), c.code, c.msg)
			}
			d := MustTenantChanges(t, s, "s-cust", 0)
			if d.Version != 2 || len(d.Resources) != 1 || len(d.Assignments) != 0 {
				t.Fatalf("%s: after the refusal: version %d, %d resources, %d assignments; want nothing written", c.name, d.Version, len(d.Resources), len(d.Assignments))
			}
			if n := len(allEntries(t, s, "s-cust")); n != 1 {
				t.Fatalf("%s: %d ledger entries after the refusal, want 1", c.name, n)
			}
		}
	})
}

// allEntries reads every ledger entry of a project, oldest first.
func allEntries(t *testing.T, s allot.Store, project string) []allot.LedgerEntry {
	t.Helper()
	var all []allot.LedgerEntry
	for {
		page, n, err := s.LedgerEntries(t.Context(), allot.LedgerQuery{ProjectID: project, Page: allot.Page{Limit: 1000, Offset: len(all)}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) == 0 || len(all) >= n {
			return all
		}
	}
}
