package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
	"github.com/allot-dev/allot/storetest"
)

// TestImportForeignKeys: an import runs without foreign key checks (its
// own lookups stand in for them), so it must write no dangling reference,
// refuse a missing project or SP as before, and leave the writer's
// connection with its foreign keys on, whether it succeeded or failed.
func TestImportForeignKeys(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	w := sqlite.WriterOf(s)
	fkOn := func(when string) {
		t.Helper()
		var on int
		if err := w.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&on); err != nil || on != 1 {
			t.Fatalf("%s: foreign_keys = %d, %v; want 1", when, on, err)
		}
	}
	storetest.MustImport(t, s, allot.ImportBatch{
		Projects:    []allot.Project{storetest.NewProject("c", "sp"), storetest.NewProject("sp", "")},
		Resources:   []allot.Resource{storetest.NewResource("sp", "r-1"), storetest.NewResource("c", "r-2")},
		Assignments: []allot.Assignment{storetest.NewAssignment("a-1", "sp", "c")},
	})
	fkOn("after an import")
	rows, err := w.QueryContext(t.Context(), `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, parent string
		var rowid, fk any
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			t.Fatal(err)
		}
		t.Errorf("dangling reference: %s row %v to %s", table, rowid, parent)
	}
	rows.Close()

	for _, c := range []struct {
		batch allot.ImportBatch
		want  string
	}{
		{allot.ImportBatch{Projects: []allot.Project{storetest.NewProject("c2", "ghost")}}, "project c2: sp_project_id: project ghost does not exist"},
		{allot.ImportBatch{Resources: []allot.Resource{storetest.NewResource("nobody", "r-9")}}, "resource nobody/r-9: project_id: project nobody does not exist"},
	} {
		err := s.Import(t.Context(), c.batch)
		if allot.ErrorCodeOf(err) != allot.EINVALID || allot.ErrorMessageOf(err) != c.want {
			t.Errorf("got %v, want %s", err, c.want)
		}
		fkOn("after a refused import")
	}
	// A write outside an import still has its foreign keys checked.
	if _, err := w.ExecContext(t.Context(), `INSERT INTO projects (id, name, region_id, sp_project_id, created_at, version, next_seq)
		VALUES ('c3', 'c3', 'r', 'ghost', 0, 1, 1)`); err == nil {
		t.Error("a project of a missing SP was written outside an import")
	}
}
