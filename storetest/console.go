package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// NewConsoleSession returns a valid session whose hash is the SHA-256 of id,
// opened with the credential whose hash is the SHA-256 of credential, ending
// at expires.
func NewConsoleSession(id, credential string, kind allot.SessionKind, expires time.Time) allot.ConsoleSession {
	return allot.ConsoleSession{Hash: hash(id), Kind: kind, CredentialHash: hash(credential), CreatedAt: Epoch, ExpiresAt: expires}
}

func testConsoleSessions(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := NewConsoleSession("session-1", "allot-admin-key", allot.SessionAdmin, Epoch.Add(time.Hour))
		if err := s.CreateConsoleSession(t.Context(), want); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindConsoleSession(t.Context(), hash("session-1"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Hash, want.Hash) || got.Kind != want.Kind || !bytes.Equal(got.CredentialHash, want.CredentialHash) ||
			!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if got.ExpiresAt.Location() != time.UTC {
			t.Errorf("ExpiresAt is in %v, want UTC", got.ExpiresAt.Location())
		}
		_, err = s.FindConsoleSession(t.Context(), hash("session-2"))
		wantCode(t, err, allot.ENOTFOUND)
	})
	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		cs := NewConsoleSession("session-1", "tok", allot.SessionToken, Epoch.Add(time.Hour))
		if err := s.CreateConsoleSession(t.Context(), cs); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.CreateConsoleSession(t.Context(), cs), allot.ECONFLICT)
	})
	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for name, mutate := range map[string]func(*allot.ConsoleSession){
			"short hash":            func(cs *allot.ConsoleSession) { cs.Hash = cs.Hash[:16] },
			"short credential hash": func(cs *allot.ConsoleSession) { cs.CredentialHash = nil },
			"unknown kind":          func(cs *allot.ConsoleSession) { cs.Kind = "root" },
			"no expiry":             func(cs *allot.ConsoleSession) { cs.ExpiresAt = time.Time{} },
		} {
			cs := NewConsoleSession("s-"+name, "k", allot.SessionAdmin, Epoch.Add(time.Hour))
			mutate(&cs)
			if err := s.CreateConsoleSession(t.Context(), cs); allot.ErrorCodeOf(err) != allot.EINVALID {
				t.Errorf("%s: got %v, want %s", name, err, allot.EINVALID)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, id := range []string{"a", "b"} {
			if err := s.CreateConsoleSession(t.Context(), NewConsoleSession(id, "k", allot.SessionAdmin, Epoch.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteConsoleSession(t.Context(), hash("a")); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindConsoleSession(t.Context(), hash("a"))
		wantCode(t, err, allot.ENOTFOUND)
		wantCode(t, s.DeleteConsoleSession(t.Context(), hash("a")), allot.ENOTFOUND)
		if _, err := s.FindConsoleSession(t.Context(), hash("b")); err != nil {
			t.Errorf("the other session: %v", err)
		}
	})
	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// Ended before, exactly at, and after the cut.
		for id, end := range map[string]time.Time{"old": Epoch.Add(-time.Second), "now": Epoch, "live": Epoch.Add(time.Second)} {
			if err := s.CreateConsoleSession(t.Context(), NewConsoleSession(id, "k", allot.SessionAdmin, end)); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpiredConsoleSessions(t.Context(), Epoch)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("removed %d sessions, want 2", n)
		}
		for id, want := range map[string]allot.ErrorCode{"old": allot.ENOTFOUND, "now": allot.ENOTFOUND, "live": ""} {
			if _, err := s.FindConsoleSession(t.Context(), hash(id)); allot.ErrorCodeOf(err) != want {
				t.Errorf("session %s: got %v, want code %q", id, err, want)
			}
		}
	})
	t.Run("Wiped", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if err := s.CreateConsoleSession(t.Context(), NewConsoleSession("a", "k", allot.SessionAdmin, Epoch.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if err := s.Wipe(t.Context()); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindConsoleSession(t.Context(), hash("a"))
		wantCode(t, err, allot.ENOTFOUND)
	})
}

func testListProjects(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Parallel()
	s := open(t)
	// Two SPs with customers, and a project of neither; created out of
	// order, so the order by id is the store's doing.
	for _, p := range []allot.Project{
		NewProject("sp-b", ""), NewProject("sp-a", ""), NewProject("solo", ""),
		NewProject("c-3", "sp-a"), NewProject("c-1", "sp-a"), NewProject("c-2", "sp-b"), NewProject("c-4", "sp-a"),
	} {
		MustCreateProject(t, s, p)
	}
	ids := func(ps []allot.Project) string {
		out := ""
		for _, p := range ps {
			out += p.ID + " "
		}
		return out
	}
	for _, tc := range []struct {
		q     allot.ProjectQuery
		want  string
		count int
	}{
		{allot.ProjectQuery{Page: allot.Page{Limit: 100}}, "c-1 c-2 c-3 c-4 solo sp-a sp-b ", 7},
		{allot.ProjectQuery{Page: allot.Page{Limit: 2, Offset: 2}}, "c-3 c-4 ", 7},
		{allot.ProjectQuery{Page: allot.Page{Limit: 2, Offset: 7}}, "", 7},
		{allot.ProjectQuery{SPProjectID: "sp-a", Page: allot.Page{Limit: 100}}, "c-1 c-3 c-4 sp-a ", 4},
		{allot.ProjectQuery{SPProjectID: "sp-a", Page: allot.Page{Limit: 1, Offset: 1}}, "c-3 ", 4},
		{allot.ProjectQuery{SPProjectID: "sp-b", Page: allot.Page{Limit: 100}}, "c-2 sp-b ", 2},
		{allot.ProjectQuery{SPProjectID: "nobody", Page: allot.Page{Limit: 100}}, "", 0},
	} {
		ps, n, err := s.ListProjects(t.Context(), tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(ps); got != tc.want || n != tc.count {
			t.Errorf("%+v: got %q (count %d), want %q (count %d)", tc.q, got, n, tc.want, tc.count)
		}
	}
	ps, _, err := s.ListProjects(t.Context(), allot.ProjectQuery{SPProjectID: "sp-a", Page: allot.Page{Limit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%+v", ps[0]), fmt.Sprintf("%+v", NewProject("c-1", "sp-a")); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// testLedgerOpFilter checks the ledger query's operation filter, alone and
// with the resource filter, and that it keeps to the project asked for.
func testLedgerOpFilter(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Parallel()
	s := open(t)
	MustCreateProject(t, s, NewProject("p", ""))
	MustCreateProject(t, s, NewProject("q", ""))
	// p: r-0 import, r-0 freeze, r-1 import, r-1 freeze, r-2 import; q the same.
	err := s.Update(t.Context(), []string{"p", "q"}, func(tx allot.Tx) error {
		for _, p := range []string{"p", "q"} {
			for i := range 3 {
				r := NewResource(p, fmt.Sprint("r-", i))
				if err := tx.SaveResource(&r); err != nil {
					return err
				}
				ops := []allot.Op{allot.OpImport, allot.OpFreeze}
				if i == 2 {
					ops = ops[:1]
				}
				for _, op := range ops {
					e := allot.LedgerEntry{ProjectID: p, ResourceID: r.ResourceID, At: Epoch, Actor: "t", Op: op}
					if op == allot.OpImport {
						e.AmountDelta, e.UsageDelta = r.Amount, r.Usage
					}
					if err := tx.AppendLedger(&e); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    allot.LedgerQuery
		want []int64 // seqs
	}{
		{allot.LedgerQuery{Op: allot.OpFreeze}, []int64{2, 4}},
		{allot.LedgerQuery{Op: allot.OpImport}, []int64{1, 3, 5}},
		{allot.LedgerQuery{Op: allot.OpImport, ResourceID: "r-1"}, []int64{3}},
		{allot.LedgerQuery{Op: allot.OpConsume}, nil},
		{allot.LedgerQuery{Op: allot.OpImport, Page: allot.Page{Offset: 1}}, []int64{3, 5}},
	} {
		q := c.q
		q.ProjectID, q.Page.Limit = "p", 100
		es, n, err := s.LedgerEntries(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range es {
			if e.ProjectID != "p" || e.Op != c.q.Op {
				t.Errorf("%+v: entry %+v is not p's %s", c.q, e, c.q.Op)
			}
			got = append(got, e.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) || n != len(c.want)+c.q.Page.Offset {
			t.Errorf("%+v: seqs %v (count %d), want %v (count %d)", c.q, got, n, c.want, len(c.want)+c.q.Page.Offset)
		}
	}
}
