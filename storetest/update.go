package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// testUpdate checks what Ledger.Update and its Tx promise themselves, apart
// from the lifecycle rules written on top of them.
func testUpdate(t *testing.T, open func(t *testing.T) allot.Store) {
	// Both held, in any order and repeated: each version moves once, the
	// rows carry it, a duplicate id is ECONFLICT and leaves the transaction
	// usable, and one Now stamps everything.
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s, l := openUpdate(t, open)
		ctx := t.Context()
		va, vb := MustTenantVersion(t, s, "p-a"), MustTenantVersion(t, s, "p-b")
		rec := allot.IdempotencyRecord{ProjectID: "p-b", Key: "k", Fingerprint: "f", Result: []byte("{}")}
		before := time.Now().UTC().Truncate(time.Second)
		var now time.Time
		err := l.Update(ctx, []string{"p-b", "p-a", "p-b"}, func(tx allot.Tx) error {
			now = tx.Now()
			if !sameTime(now, now.Truncate(time.Second)) || now.Before(before) || now.After(time.Now()) {
				t.Errorf("Now %v is not the current time in whole seconds, UTC", now)
			}
			if p, err := tx.Project("p-a"); err != nil {
				t.Errorf("Project(p-a): %v", err)
			} else {
				checkProject(t, p, NewProject("p-a", ""))
			}
			if _, err := tx.Project("ghost"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
				t.Errorf("Project(ghost): %v, want ENOTFOUND", err)
			}
			r1, r2 := NewResource("p-b", "r-1"), NewResource("p-b", "r-2")
			if err := tx.SaveResource(&r1); err != nil {
				return err
			}
			dup := NewResource("p-b", "r-1")
			if err := tx.SaveResource(&dup); allot.ErrorCodeOf(err) != allot.ECONFLICT {
				t.Errorf("a second r-1: %v, want ECONFLICT", err)
			}
			if err := tx.SaveResource(&r2); err != nil {
				return err
			}
			if r1.Version != vb+1 || r2.Version != vb+1 || r2.Seq != r1.Seq+1 {
				t.Errorf("r1 %d/%d, r2 %d/%d: want version %d and consecutive seqs", r1.Seq, r1.Version, r2.Seq, r2.Version, vb+1)
			}
			// The first entry is stamped by the caller, the second by the store.
			for i, r := range []*allot.Resource{&r1, &r2} {
				e := allot.LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: "t", Op: allot.OpImport,
					AmountDelta: r.Amount, UsageDelta: r.Usage}
				if i == 0 {
					e.At = tx.Now()
				}
				if err := tx.AppendLedger(&e); err != nil {
					return err
				}
			}
			r1.Usage, r1.Status, r1.BoundAsset, r1.Removed = r1.Amount, allot.StatusFrozen, &allot.BoundAsset{AssetID: "as-1"}, true
			if err := tx.SaveResource(&r1); err != nil {
				return err
			}
			if got, err := tx.Resource("p-b", "r-1"); err != nil {
				t.Errorf("r-1 read back in the transaction: %v", err)
			} else {
				checkResource(t, got, r1)
			}
			if _, err := tx.Resource("p-a", "r-1"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
				t.Errorf("r-1 of the other project: %v, want ENOTFOUND", err)
			}
			if rs, err := tx.ResourcesOfType("p-b", r1.ResourceType); err != nil || len(rs) != 1 || rs[0].ResourceID != "r-2" {
				t.Errorf("ResourcesOfType: %v %v, want only r-2 (r-1 is removed)", rs, err)
			}
			// p-b is no customer of p-a, but Tx leaves that rule to the
			// service: it stores what it is given.
			a := NewAssignment("rec-1", "p-a", "p-b")
			a.SPResourceID = "pool"
			if err := tx.SaveAssignment(&a); err != nil {
				return err
			}
			if a.Seq != r2.Seq+1 || a.Version != vb+1 {
				t.Errorf("assignment seq %d version %d, want %d and %d", a.Seq, a.Version, r2.Seq+1, vb+1)
			}
			a.ResourceUsedNum = a.ResourceNum
			if err := tx.SaveAssignment(&a); err != nil {
				return err
			}
			if got, err := tx.Assignment("p-b", "rec-1"); err != nil {
				t.Errorf("Assignment read back: %v", err)
			} else {
				checkAssignment(t, got, a)
			}
			if _, err := tx.Assignment("p-b", "rec-2"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
				t.Errorf("Assignment(rec-2): %v, want ENOTFOUND", err)
			}
			// The project is part of the query: the record is not found
			// through another project, not even its SP's.
			if _, err := tx.Assignment("p-a", "rec-1"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
				t.Errorf("Assignment(p-a, rec-1): %v, want ENOTFOUND", err)
			}
			if _, ok, err := tx.Idempotency("p-b", "k"); ok || err != nil {
				t.Errorf("Idempotency before saving: %v %v", ok, err)
			}
			if err := tx.SaveIdempotency(rec); err != nil {
				return err
			}
			if err := tx.SaveIdempotency(rec); allot.ErrorCodeOf(err) != allot.ECONFLICT {
				t.Errorf("a second record of one key: %v, want ECONFLICT", err)
			}
			if got, ok, err := tx.Idempotency("p-b", "k"); !ok || err != nil || got.Fingerprint != "f" || string(got.Result) != "{}" ||
				!sameTime(got.CreatedAt, tx.Now()) {
				t.Errorf("Idempotency: %+v %v %v", got, ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := MustTenantVersion(t, s, "p-a"); got != va+1 {
			t.Errorf("p-a version %d, want %d", got, va+1)
		}
		if got := MustTenantVersion(t, s, "p-b"); got != vb+1 {
			t.Errorf("p-b version %d, want %d", got, vb+1)
		}
		d := MustTenantChanges(t, s, "p-b", vb)
		if len(d.Resources) != 2 || !d.Resources[0].Removed || d.Resources[0].Usage != d.Resources[0].Amount || d.Resources[1].Removed {
			t.Fatalf("TenantChanges after the update: %+v", d.Resources)
		}
		if len(d.Assignments) != 1 || d.Assignments[0].SPResourceID != "pool" {
			t.Fatalf("TenantChanges after the update: %+v", d.Assignments)
		}
		// r-1's usage moved without an entry: the ledger says so. The
		// assignment is compared with no package (its id names none).
		if drift := mustDrift(t, l); len(drift) != 1 || drift[0].ResourceID != "r-1" || drift[0].Field != "usage" {
			t.Fatalf("drift %+v, want r-1's usage", drift)
		}
		entries, n, err := l.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-b", Page: allot.Page{Limit: 10}})
		if err != nil || n != 2 || len(entries) != 2 || entries[0].Seq != 1 || entries[1].Seq != 2 ||
			!sameTime(entries[0].At, now) || !sameTime(entries[1].At, now) {
			t.Fatalf("entries %+v (count %d), %v; want seqs 1 and 2 at %v", entries, n, err, now)
		}
	})

	// A missing project is named, and nothing runs.
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s, l := openUpdate(t, open)
		ran := false
		err := l.Update(t.Context(), []string{"p-a", "ghost"}, func(allot.Tx) error { ran = true; return nil })
		if allot.ErrorCodeOf(err) != allot.ENOTFOUND || ran || !strings.Contains(allot.ErrorMessageOf(err), "ghost") {
			t.Fatalf("missing project: %v (fn ran: %v)", err, ran)
		}
		if got := MustTenantVersion(t, s, "p-a"); got != 1 {
			t.Fatalf("p-a version %d after a failed Update, want 1", got)
		}

		// An assignment of a missing service provider.
		err = l.Update(t.Context(), []string{"p-b"}, func(tx allot.Tx) error {
			a := NewAssignment("rec-2", "ghost", "p-b")
			return tx.SaveAssignment(&a)
		})
		wantCode(t, err, allot.ENOTFOUND)
		if d := MustTenantChanges(t, s, "p-b", 0); d.Version != 1 || len(d.Assignments) != 0 {
			t.Fatalf("p-b after a refused assignment: %+v", d)
		}
	})

	// Writing to a project the transaction does not hold is a programming
	// error, and rolls everything back, the writes to held projects too.
	t.Run("ErrNotHeld", func(t *testing.T) {
		t.Parallel()
		s, l := openUpdate(t, open)
		for name, write := range map[string]func(tx allot.Tx) error{
			"SaveResource": func(tx allot.Tx) error {
				r := NewResource("p-b", "r-1")
				return tx.SaveResource(&r)
			},
			"AppendLedger": func(tx allot.Tx) error {
				e := allot.LedgerEntry{ProjectID: "p-b", ResourceID: "r-1", Op: allot.OpConsume}
				return tx.AppendLedger(&e)
			},
			"SaveAssignment": func(tx allot.Tx) error {
				a := NewAssignment("rec-1", "p-a", "p-b")
				return tx.SaveAssignment(&a)
			},
			"SaveIdempotency": func(tx allot.Tx) error {
				return tx.SaveIdempotency(allot.IdempotencyRecord{ProjectID: "p-b", Key: "k", Fingerprint: "f", Result: []byte("{}")})
			},
		} {
			err := l.Update(t.Context(), []string{"p-a"}, func(tx allot.Tx) error {
				held := NewResource("p-a", "r-"+name)
				if err := tx.SaveResource(&held); err != nil {
					return err
				}
				return write(tx)
			})
			if allot.ErrorCodeOf(err) != allot.EINTERNAL {
				t.Errorf("%s on a project not held: %v, want an internal error", name, err)
			}
		}
		for _, p := range []string{"p-a", "p-b"} {
			if d := MustTenantChanges(t, s, p, 0); d.Version != 1 || len(d.Resources) != 0 || len(d.Assignments) != 0 {
				t.Errorf("%s after failed Updates: version %d, %v, %v; want version 1 and nothing",
					p, d.Version, resourceIDs(d.Resources), recordIDs(d.Assignments))
			}
		}
		if _, n, err := l.LedgerEntries(t.Context(), allot.LedgerQuery{ProjectID: "p-b", Page: allot.Page{Limit: 10}}); err != nil || n != 0 {
			t.Errorf("p-b has %d entries after failed Updates (%v), want 0", n, err)
		}
	})

	// A failing fn writes nothing, not even the version, and moves none of
	// the counters: the next row and entry follow on from the last ones.
	t.Run("Rollback", func(t *testing.T) {
		t.Parallel()
		s, l := openUpdate(t, open)
		ctx := t.Context()
		// Committed: resources at seqs 1 and 2, their entries at 1 and 2,
		// an assignment at seq 3.
		err := l.Update(ctx, []string{"p-b"}, func(tx allot.Tx) error {
			for _, id := range []string{"r-1", "r-2"} {
				if err := saveImported(tx, NewResource("p-b", id)); err != nil {
					return err
				}
			}
			a := NewAssignment("rec-0", "p-a", "p-b")
			return tx.SaveAssignment(&a)
		})
		if err != nil {
			t.Fatal(err)
		}
		vb := MustTenantVersion(t, s, "p-b")
		before := MustTenantChanges(t, s, "p-b", 0)

		err = l.Update(ctx, []string{"p-b"}, func(tx allot.Tx) error {
			if err := saveImported(tx, NewResource("p-b", "r-3")); err != nil {
				return err
			}
			a := NewAssignment("rec-1", "p-a", "p-b")
			if err := tx.SaveAssignment(&a); err != nil {
				return err
			}
			if err := tx.SaveIdempotency(allot.IdempotencyRecord{ProjectID: "p-b", Key: "k", Fingerprint: "f", Result: []byte("{}")}); err != nil {
				return err
			}
			return allot.Errorf(allot.ECONFLICT, "changed my mind")
		})
		if allot.ErrorCodeOf(err) != allot.ECONFLICT || allot.ErrorMessageOf(err) != "changed my mind" {
			t.Fatalf("failed fn: got %v, want fn's error", err)
		}
		if got := MustTenantVersion(t, s, "p-b"); got != vb {
			t.Fatalf("version %d after a failed fn, was %d", got, vb)
		}
		after := MustTenantChanges(t, s, "p-b", 0)
		checkResources(t, after.Resources, before.Resources)
		checkAssignments(t, after.Assignments, before.Assignments)
		if _, n, _ := l.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-b", Page: allot.Page{Limit: 10}}); n != 2 {
			t.Fatalf("a failed fn left %d entries, want 2", n)
		}

		err = l.Update(ctx, []string{"p-b"}, func(tx allot.Tx) error {
			if _, ok, err := tx.Idempotency("p-b", "k"); ok || err != nil {
				t.Errorf("the failed fn's idempotency record: %v %v", ok, err)
			}
			if _, err := tx.Assignment("p-b", "rec-1"); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
				t.Errorf("the failed fn's assignment: %v, want ENOTFOUND", err)
			}
			r := NewResource("p-b", "r-4")
			if err := tx.SaveResource(&r); err != nil {
				return err
			}
			e := allot.LedgerEntry{ProjectID: "p-b", ResourceID: "r-4", Actor: "t", Op: allot.OpImport, AmountDelta: r.Amount, UsageDelta: r.Usage}
			if err := tx.AppendLedger(&e); err != nil {
				return err
			}
			if r.Seq != 4 || e.Seq != 3 {
				t.Errorf("after a rollback: resource seq %d, entry seq %d; want 4 and 3", r.Seq, e.Seq)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := MustTenantVersion(t, s, "p-b"); got != vb+1 {
			t.Fatalf("version %d after the next Update, want %d", got, vb+1)
		}
	})
}

// openUpdate returns a new store with two projects, p-a and p-b, at
// version 1, and its Ledger.
func openUpdate(t *testing.T, open func(t *testing.T) allot.Store) (allot.Store, allot.LedgerStore) {
	t.Helper()
	s := open(t)
	l := mustLedger(t, s)
	MustCreateProject(t, s, NewProject("p-a", ""))
	MustCreateProject(t, s, NewProject("p-b", ""))
	return s, l
}

// saveImported saves a new resource with its import entry, as Import would.
func saveImported(tx allot.Tx, r allot.Resource) error {
	if err := tx.SaveResource(&r); err != nil {
		return err
	}
	e := allot.LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: "t", Op: allot.OpImport,
		AmountDelta: r.Amount, UsageDelta: r.Usage}
	return tx.AppendLedger(&e)
}

// mustLedger returns s as a LedgerStore, failing the test if it is none.
func mustLedger(tb testing.TB, s allot.Store) allot.LedgerStore {
	tb.Helper()
	l, ok := s.(allot.LedgerStore)
	if !ok {
		tb.Fatalf("%T does not implement allot.LedgerStore", s)
	}
	return l
}

// mustDrift returns what Drift finds.
func mustDrift(tb testing.TB, l allot.Ledger) []allot.Drift {
	tb.Helper()
	d, err := l.Drift(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
