package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/allot-dev/allot"
)

// testGroupCommit runs many Updates at once, so that the store groups them
// into shared transactions, and checks that each stayed all or nothing on
// its own: a refused one wrote nothing, not even its version bump, and did
// not take its group down; every applied one bumped each of its projects
// once; the seqs of rows and entries have no gaps and no repeats. Some
// operations hold two projects, named in either order, so a store that
// groups operations must keep them from deadlocking.
func testGroupCommit(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Parallel()
	s := open(t)
	l := mustLedger(t, s)
	projects := []string{"g-a", "g-b", "g-c"}
	for _, p := range projects {
		MustCreateProject(t, s, NewProject(p, ""))
	}
	const n = 240
	type result struct {
		ids     []string
		refused bool
		err     error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		// Ops hold one project, or two in reverse order; every third one
		// is refused after writing, every eleventh names a missing project.
		ids := []string{projects[i%3]}
		if i%4 == 1 {
			ids = []string{projects[(i+1)%3], projects[i%3]}
		}
		refused := i%3 == 2
		if i%11 == 5 {
			ids = append(ids, "ghost")
		}
		results[i] = result{ids: ids, refused: refused}
		wg.Go(func() {
			results[i].err = l.Update(t.Context(), ids, func(tx allot.Tx) error {
				for _, p := range ids {
					if p == "ghost" {
						return fmt.Errorf("fn ran although ghost does not exist")
					}
					if err := saveImported(tx, NewResource(p, fmt.Sprintf("r-%03d", i))); err != nil {
						return err
					}
				}
				if refused {
					return allot.Errorf(allot.ECONFLICT, "refused %d", i)
				}
				return nil
			})
		})
	}
	wg.Wait()

	applied := map[string][]string{} // project -> resource ids
	for i, r := range results {
		switch {
		case slices.Contains(r.ids, "ghost"):
			if allot.ErrorCodeOf(r.err) != allot.ENOTFOUND {
				t.Errorf("op %d on %v: %v, want ENOTFOUND", i, r.ids, r.err)
			}
		case r.refused:
			if allot.ErrorCodeOf(r.err) != allot.ECONFLICT || allot.ErrorMessageOf(r.err) != fmt.Sprintf("refused %d", i) {
				t.Errorf("op %d: %v, want its own refusal", i, r.err)
			}
		case r.err != nil:
			t.Errorf("op %d on %v: %v", i, r.ids, r.err)
		default:
			for _, p := range r.ids {
				applied[p] = append(applied[p], fmt.Sprintf("%s/r-%03d", p, i))
			}
		}
	}
	for _, p := range projects {
		want := applied[p]
		slices.Sort(want)
		d := MustTenantChanges(t, s, p, 0)
		if got := int64(len(want)) + 1; d.Version != got {
			t.Errorf("%s: version %d, want %d (1 + one per applied operation)", p, d.Version, got)
		}
		got := resourceIDs(d.Resources)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: resources %v, want those of the applied operations %v", p, got, want)
		}
		for i, r := range d.Resources {
			if r.Seq != int64(i+1) {
				t.Errorf("%s: resource %s has seq %d, want %d (no gaps)", p, r.ResourceID, r.Seq, i+1)
			}
		}
		entries, count, err := l.LedgerEntries(t.Context(), allot.LedgerQuery{ProjectID: p, Page: allot.Page{Limit: 1000}})
		if err != nil || count != len(want) {
			t.Fatalf("%s: %d entries (%v), want %d", p, count, err, len(want))
		}
		for i, e := range entries {
			if e.Seq != int64(i+1) {
				t.Errorf("%s: entry %d has seq %d (no gaps)", p, i, e.Seq)
			}
		}
	}
	if drift := mustDrift(t, l); len(drift) != 0 {
		t.Errorf("drift after grouped updates: %+v", drift)
	}
}
