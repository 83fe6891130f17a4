package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// testLedgerEntries checks the paging and the time bounds of the ledger
// query against entries stamped at known times.
func testLedgerEntries(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("Window", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		l := mustLedger(t, s)
		MustCreateProject(t, s, NewProject("p", ""))
		MustCreateProject(t, s, NewProject("q", ""))
		// Entry i of each project is r-i's, at minute i; p's has seq i+1.
		base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		minute := func(i int64) time.Time { return base.Add(time.Duration(i) * time.Minute) }
		for i := range int64(10) {
			err := l.Update(t.Context(), []string{"p", "q"}, func(tx allot.Tx) error {
				for _, p := range []string{"p", "q"} {
					r := NewResource(p, fmt.Sprint("r-", i))
					if err := tx.SaveResource(&r); err != nil {
						return err
					}
					e := allot.LedgerEntry{ProjectID: p, ResourceID: r.ResourceID, At: minute(i), Actor: "t", Op: allot.OpImport,
						AmountDelta: r.Amount, UsageDelta: r.Usage}
					if err := tx.AppendLedger(&e); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		at := func(min int, nsec int) *time.Time {
			t := base.Add(time.Duration(min)*time.Minute + time.Duration(nsec))
			return &t
		}
		for _, c := range []struct {
			name     string
			q        allot.LedgerQuery
			count    int
			firstSeq int64
			n        int
		}{
			{"all", allot.LedgerQuery{Page: allot.Page{Limit: 100}}, 10, 1, 10},
			{"page", allot.LedgerQuery{Page: allot.Page{Limit: 3, Offset: 4}}, 10, 5, 3},
			{"last page", allot.LedgerQuery{Page: allot.Page{Limit: 3, Offset: 9}}, 10, 10, 1},
			{"past the end", allot.LedgerQuery{Page: allot.Page{Limit: 3, Offset: 10}}, 10, 0, 0},
			{"no limit", allot.LedgerQuery{}, 10, 0, 0},
			{"inclusive", allot.LedgerQuery{From: at(2, 0), To: at(4, 0), Page: allot.Page{Limit: 100}}, 3, 3, 3},
			{"from between seconds", allot.LedgerQuery{From: at(2, 1), Page: allot.Page{Limit: 100}}, 7, 4, 7},
			{"to between seconds", allot.LedgerQuery{To: at(2, 1), Page: allot.Page{Limit: 100}}, 3, 1, 3},
			{"window and page", allot.LedgerQuery{From: at(2, 0), To: at(7, 0), Page: allot.Page{Limit: 2, Offset: 3}}, 6, 6, 2},
			{"empty window", allot.LedgerQuery{From: at(4, 1), To: at(4, 2), Page: allot.Page{Limit: 100}}, 0, 0, 0},
			{"before everything", allot.LedgerQuery{To: at(-1, 0), Page: allot.Page{Limit: 100}}, 0, 0, 0},
			{"resource", allot.LedgerQuery{ResourceID: "r-7", Page: allot.Page{Limit: 100}}, 1, 8, 1},
			{"resource outside the window", allot.LedgerQuery{ResourceID: "r-7", To: at(6, 0), Page: allot.Page{Limit: 100}}, 0, 0, 0},
		} {
			q := c.q
			q.ProjectID = "p"
			es, n, err := l.LedgerEntries(t.Context(), q)
			if err != nil || n != c.count || len(es) != c.n || len(es) > 0 && es[0].Seq != c.firstSeq {
				t.Errorf("%s: %d of %d entries (%v), want %d of %d from seq %d", c.name, len(es), n, err, c.n, c.count, c.firstSeq)
				continue
			}
			for i, e := range es {
				if want := c.firstSeq + int64(i); e.ProjectID != "p" || e.Seq != want || !sameTime(e.At, minute(want-1)) ||
					e.ResourceID != fmt.Sprint("r-", want-1) {
					t.Errorf("%s: entry %d is %+v, want p's seq %d, of r-%d at %v", c.name, i, e, want, want-1, minute(want-1))
				}
			}
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		l := mustLedger(t, s)
		MustCreateProject(t, s, NewProject("p", ""))
		for _, q := range []allot.LedgerQuery{{}, {Page: allot.Page{Limit: 10}}} {
			if _, _, err := l.LedgerEntries(t.Context(), q); allot.ErrorCodeOf(err) != allot.EINVALID {
				t.Errorf("a ledger query without a project (%+v): %v, want EINVALID", q, err)
			}
		}
	})
}
