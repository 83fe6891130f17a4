package storetest

import (
	"testing"

	"github.com/allot-dev/allot"
)

func testCreateProject(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		sp := MustCreateProject(t, s, NewProject("sp-1", ""))
		customer := MustCreateProject(t, s, NewProject("customer-1", "sp-1"))
		for _, want := range []allot.Project{sp, customer} {
			got, err := s.FindProject(t.Context(), want.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkProject(t, got, want)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := MustCreateProject(t, s, NewProject("p-1", ""))
		again := NewProject("p-1", "")
		again.Name = "Another name"
		wantCode(t, s.CreateProject(t.Context(), again), allot.ECONFLICT)
		got, err := s.FindProject(t.Context(), "p-1")
		if err != nil {
			t.Fatal(err)
		}
		checkProject(t, got, want)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, tc := range []struct {
			name   string
			modify func(p *allot.Project)
		}{
			{"EmptyID", func(p *allot.Project) { p.ID = "" }},
			{"IDWithSlash", func(p *allot.Project) { p.ID = "a/b" }},
			{"EmptyName", func(p *allot.Project) { p.Name = "" }},
			{"EmptyRegion", func(p *allot.Project) { p.RegionID = "" }},
			{"OwnSP", func(p *allot.Project) { p.SPProjectID = p.ID }},
		} {
			p := NewProject("p-1", "")
			tc.modify(&p)
			if err := s.CreateProject(t.Context(), p); allot.ErrorCodeOf(err) != allot.EINVALID {
				t.Errorf("%s: got error %v, want code %q", tc.name, err, allot.EINVALID)
			}
		}
		_, err := s.FindProject(t.Context(), "p-1")
		wantCode(t, err, allot.ENOTFOUND)
	})

	t.Run("ErrInvalidMissingSP", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		wantCode(t, s.CreateProject(t.Context(), NewProject("customer-1", "no-such-sp")), allot.EINVALID)
		_, err := s.FindProject(t.Context(), "customer-1")
		wantCode(t, err, allot.ENOTFOUND)
	})
}

func testFindProject(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := NewProject("p-1", "")
		want.Name = "名前 with spaces, 'quotes' and \"double quotes\""
		want.CreatedAt = Epoch.AddDate(-10, 0, 0)
		MustCreateProject(t, s, want)
		MustCreateProject(t, s, NewProject("p-2", ""))
		got, err := s.FindProject(t.Context(), "p-1")
		if err != nil {
			t.Fatal(err)
		}
		checkProject(t, got, want)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		for _, id := range []string{"p-2", "P-1", "p-1 ", ""} {
			_, err := s.FindProject(t.Context(), id)
			wantCode(t, err, allot.ENOTFOUND)
		}
	})
}
