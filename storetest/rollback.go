package storetest

import (
	"reflect"
	"testing"

	"github.com/allot-dev/allot"
)

// testImportErrors checks that Import is all or nothing: each case is a
// batch that imports cleanly (Control) with one bad item added at its end,
// and the store must then hold exactly what it held before.
func testImportErrors(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("Control", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		seedImport(t, s)
		MustImport(t, s, goodBatch())
		for id, want := range map[string]int64{"old": 3, "sp": 1, "cust": 3, "sp2": 1, "new": 2} {
			if got := MustTenantVersion(t, s, id); got != want {
				t.Errorf("version of %s: got %d, want %d", id, got, want)
			}
		}
	})
	for _, tc := range []struct {
		name   string
		code   allot.ErrorCode
		modify func(b *allot.ImportBatch)
	}{
		{"ErrConflict/ProjectExists", allot.ECONFLICT, func(b *allot.ImportBatch) {
			b.Projects = append(b.Projects, NewProject("old", ""))
		}},
		{"ErrConflict/ResourceExists", allot.ECONFLICT, func(b *allot.ImportBatch) {
			b.Resources = append(b.Resources, NewResource("old", "r-old"))
		}},
		{"ErrConflict/AssignmentExists", allot.ECONFLICT, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-old", "sp", "cust"))
		}},
		{"ErrConflict/AssignmentExistsForAnotherCustomer", allot.ECONFLICT, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-old", "sp", "new"))
		}},
		{"ErrConflict/ProjectTwiceInBatch", allot.ECONFLICT, func(b *allot.ImportBatch) {
			b.Projects = append(b.Projects, NewProject("new", ""))
		}},
		{"ErrConflict/ResourceTwiceInBatch", allot.ECONFLICT, func(b *allot.ImportBatch) {
			b.Resources = append(b.Resources, NewResource("new", "r-1"))
		}},
		{"ErrConflict/AssignmentTwiceInBatch", allot.ECONFLICT, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-new-1", "sp", "cust"))
		}},
		{"ErrInvalid/Project", allot.EINVALID, func(b *allot.ImportBatch) {
			p := NewProject("bad", "")
			p.Name = ""
			b.Projects = append(b.Projects, p)
		}},
		{"ErrInvalid/Resource", allot.EINVALID, func(b *allot.ImportBatch) {
			r := NewResource("new", "r-9")
			r.Usage = r.Amount + 1
			b.Resources = append(b.Resources, r)
		}},
		{"ErrInvalid/Assignment", allot.EINVALID, func(b *allot.ImportBatch) {
			a := NewAssignment("a-9", "sp", "cust")
			a.ChargingMode = "MONTHLY"
			b.Assignments = append(b.Assignments, a)
		}},
		{"ErrInvalid/ProjectOfMissingSP", allot.EINVALID, func(b *allot.ImportBatch) {
			b.Projects = append(b.Projects, NewProject("new-2", "ghost"))
		}},
		{"ErrInvalid/ResourceOfMissingProject", allot.EINVALID, func(b *allot.ImportBatch) {
			b.Resources = append(b.Resources, NewResource("ghost", "r-9"))
		}},
		{"ErrInvalid/AssignmentOfMissingCustomer", allot.EINVALID, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-9", "sp", "ghost"))
		}},
		{"ErrInvalid/AssignmentOfMissingSP", allot.EINVALID, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-9", "ghost", "cust"))
		}},
		{"ErrInvalid/AssignmentToNonCustomer", allot.EINVALID, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-9", "sp", "old"))
		}},
		{"ErrInvalid/AssignmentToAnotherSPsCustomer", allot.EINVALID, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-9", "sp2", "cust"))
		}},
		{"ErrInvalid/AssignmentToItself", allot.EINVALID, func(b *allot.ImportBatch) {
			b.Assignments = append(b.Assignments, NewAssignment("a-9", "sp", "sp"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			seedImport(t, s)
			before := takeSnapshot(t, s)
			b := goodBatch()
			tc.modify(&b)
			wantCode(t, s.Import(t.Context(), b), tc.code)
			if after := takeSnapshot(t, s); !reflect.DeepEqual(after, before) {
				t.Errorf("a failed import changed the store:\nbefore %+v\n after %+v", before, after)
			}
			for _, id := range []string{"new", "new-2", "bad"} {
				_, err := s.FindProject(t.Context(), id)
				wantCode(t, err, allot.ENOTFOUND)
			}
		})
	}
}

// seedImport creates the store state the failing imports run against.
// Versions afterwards: old 2, sp 1, cust 2, sp2 1.
func seedImport(tb testing.TB, s allot.Store) {
	tb.Helper()
	MustImport(tb, s, allot.ImportBatch{
		Projects: []allot.Project{
			NewProject("old", ""), NewProject("sp", ""), NewProject("cust", "sp"), NewProject("sp2", ""),
		},
		Resources:   []allot.Resource{NewResource("old", "r-old")},
		Assignments: []allot.Assignment{NewAssignment("a-old", "sp", "cust")},
	})
}

// goodBatch imports cleanly on top of seedImport: a new project, resources
// of a new and of existing projects, assignments to a new and to an existing
// customer.
func goodBatch() allot.ImportBatch {
	return allot.ImportBatch{
		Projects:    []allot.Project{NewProject("new", "sp")},
		Resources:   []allot.Resource{NewResource("new", "r-1"), NewResource("old", "r-2"), NewResource("cust", "r-3")},
		Assignments: []allot.Assignment{NewAssignment("a-new-1", "sp", "new"), NewAssignment("a-new-2", "sp", "cust")},
	}
}

// snapshot is what a reader can see of the seeded projects.
type snapshot struct {
	Versions map[string]int64
	Changes  map[string]allot.TenantDelta
}

func takeSnapshot(tb testing.TB, s allot.Store) snapshot {
	tb.Helper()
	snap := snapshot{Versions: map[string]int64{}, Changes: map[string]allot.TenantDelta{}}
	for _, id := range []string{"old", "sp", "cust", "sp2"} {
		snap.Versions[id] = MustTenantVersion(tb, s, id)
		snap.Changes[id] = MustTenantChanges(tb, s, id, 0)
	}
	return snap
}
