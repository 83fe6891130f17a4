package storetest

import (
	"testing"

	"github.com/allot-dev/allot"
)

func testTenantVersion(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("New", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("created", ""))
		MustImport(t, s, allot.ImportBatch{Projects: []allot.Project{NewProject("imported", "")}})
		for _, id := range []string{"created", "imported"} {
			if got, want := MustTenantVersion(t, s, id), int64(1); got != want {
				t.Errorf("version of %s: got %d, want %d", id, got, want)
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateProject(t, s, NewProject("p-1", ""))
		_, err := s.TenantVersion(t.Context(), "p-2")
		wantCode(t, err, allot.ENOTFOUND)
	})

	t.Run("Bump", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, p := range []allot.Project{NewProject("p-1", ""), NewProject("p-2", ""), NewProject("sp", ""), NewProject("cust", "sp")} {
			MustCreateProject(t, s, p)
		}
		want := map[string]int64{"p-1": 1, "p-2": 1, "sp": 1, "cust": 1}
		check := func(step string) {
			t.Helper()
			for id, v := range want {
				if got := MustTenantVersion(t, s, id); got != v {
					t.Errorf("%s: version of %s: got %d, want %d", step, id, got, v)
				}
			}
		}

		// Three rows of one project: one bump.
		MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{
			NewResource("p-1", "r-1"), NewResource("p-1", "r-2"), NewResource("p-1", "r-3"),
		}})
		want["p-1"] = 2
		check("resources of p-1")

		// An assignment bumps its customer, not its service provider; a
		// resource and an assignment of the same project bump it once.
		MustImport(t, s, allot.ImportBatch{
			Resources: []allot.Resource{NewResource("p-1", "r-4"), NewResource("cust", "r-1")},
			Assignments: []allot.Assignment{
				NewAssignment("a-1", "sp", "cust"), NewAssignment("a-2", "sp", "cust"),
			},
		})
		want["p-1"], want["cust"] = 3, 2
		check("assignments to cust")

		// A project created by an import starts at 1 and is bumped by its rows.
		MustImport(t, s, allot.ImportBatch{
			Projects:  []allot.Project{NewProject("new", "")},
			Resources: []allot.Resource{NewResource("new", "r-1")},
		})
		want["new"] = 2
		check("new project with rows")

		// A failed import bumps nothing.
		err := s.Import(t.Context(), allot.ImportBatch{
			Resources: []allot.Resource{NewResource("p-2", "r-1"), NewResource("p-1", "r-1")},
		})
		wantCode(t, err, allot.ECONFLICT)
		check("failed import")
	})
}

func testTenantChanges(t *testing.T, open func(t *testing.T) allot.Store) {
	// seed imports two batches into p-1 (versions 2 and 3) and one into p-2.
	seed := func(t *testing.T, s allot.Store) (first, second []allot.Resource, assignments []allot.Assignment) {
		t.Helper()
		MustCreateProject(t, s, NewProject("sp", ""))
		MustCreateProject(t, s, NewProject("p-1", "sp"))
		MustCreateProject(t, s, NewProject("p-2", "sp"))
		// Not in id order: seq follows the batch, not the ids.
		first = []allot.Resource{NewResource("p-1", "r-b"), NewResource("p-1", "r-c"), NewResource("p-1", "r-a")}
		second = []allot.Resource{NewResource("p-1", "r-0"), NewResource("p-1", "r-z")}
		assignments = []allot.Assignment{NewAssignment("a-9", "sp", "p-1"), NewAssignment("a-1", "sp", "p-1")}
		MustImport(t, s, allot.ImportBatch{Resources: first})
		MustImport(t, s, allot.ImportBatch{Resources: second, Assignments: assignments})
		MustImport(t, s, allot.ImportBatch{Resources: otherResources(), Assignments: otherAssignments()})
		return first, second, assignments
	}

	t.Run("All", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		first, second, assignments := seed(t, s)
		d := MustTenantChanges(t, s, "p-1", 0)
		checkProject(t, d.Project, NewProject("p-1", "sp"))
		if got, want := d.Version, MustTenantVersion(t, s, "p-1"); got != want || got != 3 {
			t.Errorf("version: got %d, want %d (TenantVersion) and 3", got, want)
		}
		checkResources(t, d.Resources, append(append([]allot.Resource(nil), first...), second...))
		checkAssignments(t, d.Assignments, assignments)
		checkSeqs(t, d)
		for i, r := range d.Resources {
			if want := int64(2 + i/len(first)); r.Version != want {
				t.Errorf("resource %s: version %d, want %d", r.ResourceID, r.Version, want)
			}
		}
		for _, a := range d.Assignments {
			if a.Version != 3 {
				t.Errorf("assignment %s: version %d, want 3", a.RecordID, a.Version)
			}
		}
	})

	t.Run("Since", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		first, second, assignments := seed(t, s)
		for _, tc := range []struct {
			since       int64
			resources   []allot.Resource
			assignments []allot.Assignment
		}{
			{1, append(append([]allot.Resource(nil), first...), second...), assignments},
			{2, second, assignments},
			{3, nil, nil},
			{4, nil, nil},
		} {
			d := MustTenantChanges(t, s, "p-1", tc.since)
			if d.Version != 3 {
				t.Errorf("since %d: version %d, want 3", tc.since, d.Version)
			}
			checkProject(t, d.Project, NewProject("p-1", "sp"))
			checkResources(t, d.Resources, tc.resources)
			checkAssignments(t, d.Assignments, tc.assignments)
			for _, r := range d.Resources {
				if r.Version <= tc.since {
					t.Errorf("since %d: resource %s has version %d", tc.since, r.ResourceID, r.Version)
				}
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		seed(t, s)
		_, err := s.TenantChanges(t.Context(), "p-3", 0)
		wantCode(t, err, allot.ENOTFOUND)
	})

	// A project's changes never hold another project's rows, even where ids
	// are the same, and allocation records are seen by the customer only.
	t.Run("Isolation", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		seed(t, s)
		d := MustTenantChanges(t, s, "p-2", 0)
		checkProject(t, d.Project, NewProject("p-2", "sp"))
		checkResources(t, d.Resources, otherResources())
		checkAssignments(t, d.Assignments, otherAssignments())
		if d.Version != 2 {
			t.Errorf("version of p-2: got %d, want 2", d.Version)
		}

		d = MustTenantChanges(t, s, "sp", 0)
		if len(d.Resources) != 0 || len(d.Assignments) != 0 || d.Version != 1 {
			t.Errorf("the SP sees %v and %v at version %d, want nothing at version 1",
				resourceIDs(d.Resources), recordIDs(d.Assignments), d.Version)
		}
		for _, id := range []string{"p-1", "p-2"} {
			d := MustTenantChanges(t, s, id, 0)
			for _, r := range d.Resources {
				if r.ProjectID != id {
					t.Errorf("changes of %s hold resource %s/%s", id, r.ProjectID, r.ResourceID)
				}
			}
			for _, a := range d.Assignments {
				if a.CustomerProjectID != id {
					t.Errorf("changes of %s hold assignment %s of %s", id, a.RecordID, a.CustomerProjectID)
				}
			}
		}
	})
}

// otherResources are p-2's rows in the TenantChanges tests: one shares its
// id with a row of p-1, and every field that can differs from p-1's rows, so
// a row read under the wrong project cannot pass for the right one.
func otherResources() []allot.Resource {
	rs := []allot.Resource{NewResource("p-2", "r-b"), NewResource("p-2", "r-x")}
	for i := range rs {
		rs[i].OrderID = "order-of-p-2"
		rs[i].Amount, rs[i].Usage = 7*allot.QuantityScale, allot.QuantityScale
		rs[i].Unit = "HOUR"
	}
	return rs
}

func otherAssignments() []allot.Assignment {
	a := NewAssignment("a-2", "sp", "p-2")
	a.ResourceSpecCode = "spec-of-p-2"
	return []allot.Assignment{a}
}
