package storetest

import (
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// testImportMessages: an import error names the item it is about, with the
// same code and message on every store, and writes nothing.
func testImportMessages(t *testing.T, open func(t *testing.T) allot.Store) {
	s := open(t)
	MustCreateProject(t, s, NewProject("p-1", ""))
	MustCreateProject(t, s, NewProject("sp", ""))
	MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{NewResource("p-1", "r-1")}, Assignments: []allot.Assignment{}})
	bad := NewResource("p-1", "r-2")
	bad.Unit = "LITRE"
	v := MustTenantVersion(t, s, "p-1")
	for _, tc := range []struct {
		b    allot.ImportBatch
		code allot.ErrorCode
		want string
	}{
		{allot.ImportBatch{Resources: []allot.Resource{bad}}, allot.EINVALID, "resource p-1/r-2: unit: "},
		{allot.ImportBatch{Resources: []allot.Resource{NewResource("p-1", "r-1")}}, allot.ECONFLICT, "resource p-1/r-1 exists already"},
		{allot.ImportBatch{Resources: []allot.Resource{NewResource("p-1", "r-3"), NewResource("p-1", "r-3")}}, allot.ECONFLICT, "resource p-1/r-3 appears twice in the batch"},
		{allot.ImportBatch{Resources: []allot.Resource{NewResource("p-9", "r-1")}}, allot.EINVALID, "resource p-9/r-1: project_id: project p-9 does not exist"},
		{allot.ImportBatch{Assignments: []allot.Assignment{NewAssignment("a-1", "sp", "p-1")}}, allot.EINVALID, "assignment a-1: customer_project_id: project p-1 is not a customer of sp"},
		{allot.ImportBatch{Assignments: []allot.Assignment{NewAssignment("a-1", "sp", "p-8")}}, allot.EINVALID, "assignment a-1: customer_project_id: project p-8 does not exist"},
		{allot.ImportBatch{Projects: []allot.Project{NewProject("x", "y"), NewProject("y", "x")}}, allot.EINVALID, "project x: sp_project_id: service providers form a cycle"},
		{allot.ImportBatch{Projects: []allot.Project{NewProject("p-1", "")}}, allot.ECONFLICT, "project p-1 exists already"},
		{allot.ImportBatch{Projects: []allot.Project{NewProject("n", ""), NewProject("n", "")}}, allot.ECONFLICT, "project n appears twice in the batch"},
		{allot.ImportBatch{Projects: []allot.Project{NewProject("c", "ghost")}}, allot.EINVALID, "project c: sp_project_id: project ghost does not exist"},
	} {
		err := s.Import(t.Context(), tc.b)
		if got, msg := allot.ErrorCodeOf(err), allot.ErrorMessageOf(err); got != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("import %+v: %s %q, want %s containing %q", tc.b, got, msg, tc.code, tc.want)
		}
	}
	if got := MustTenantVersion(t, s, "p-1"); got != v {
		t.Fatalf("refused imports moved p-1's version from %d to %d", v, got)
	}
	for _, id := range []string{"x", "y", "n", "c"} {
		if _, err := s.FindProject(t.Context(), id); allot.ErrorCodeOf(err) != allot.ENOTFOUND {
			t.Errorf("project %s of a refused import: %v", id, err)
		}
	}
}
