package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
	"github.com/allot-dev/allot/storetest"
)

// MustOpen opens a store on path and closes it when the test ends.
func MustOpen(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) allot.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	})
}

func TestLedger(t *testing.T) {
	storetest.RunLedger(t, func(t *testing.T) allot.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	})
}

func TestReservations(t *testing.T) {
	storetest.RunReservations(t, func(t *testing.T, clock allot.Clock) allot.Store {
		s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
		s.Now = clock.Now
		return s
	})
}

// TestShared opens two stores on one file, as two processes would, each
// with its own writer and readers. SQLite's file lock serialises the
// writers; with BEGIN IMMEDIATE, the busy timeout and the retries of a busy
// transaction they wait for it instead of failing.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (allot.Store, allot.Store) {
		path := filepath.Join(t.TempDir(), "allot.db")
		return MustOpen(t, path), MustOpen(t, path)
	})
}

func TestOpen(t *testing.T) {
	t.Run("Reopen", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "allot.db")
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustCreateProject(t, s, storetest.NewProject("p-1", ""))
		storetest.MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{storetest.NewResource("p-1", "r-1")}})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := storetest.MustTenantVersion(t, s, "p-1"), int64(2); got != want {
				t.Fatalf("version after reopen: got %d, want %d", got, want)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
		want, err := sqlite.SchemaVersion()
		if err != nil {
			t.Fatal(err)
		}
		if got := countMigrations(t, path); got != want {
			t.Fatalf("schema_migrations has %d rows, want %d", got, want)
		}
	})

	t.Run("NewerSchema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "allot.db")
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		db := rawDB(t, path)
		if _, err := db.Exec(`INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlite.Open(t.Context(), path); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("opening a newer schema: got %v, want an error", err)
		}
	})

	t.Run("ErrPath", func(t *testing.T) {
		for _, path := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "a.db?mode=ro")} {
			if s, err := sqlite.Open(t.Context(), path); err == nil {
				s.Close()
				t.Errorf("Open(%q) succeeded", path)
			}
		}
	})
}

// rawDB opens the file without the store, for looking under the hood.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func countMigrations(tb testing.TB, path string) int {
	tb.Helper()
	var n int
	if err := rawDB(tb, path).QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestNow checks that Store.Now is the store's clock, kept to whole
// seconds in UTC: it sets a CreatedAt left zero, of a project and of an
// admin key, and it is Tx.Now, so every entry of an operation carries it.
func TestNow(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 999_000_000, time.FixedZone("X", 3600))
	want := now.Truncate(time.Second).UTC()
	s.Now = func() time.Time { return now }

	p := storetest.NewProject("p-1", "")
	p.CreatedAt = time.Time{}
	storetest.MustCreateProject(t, s, p)
	got, err := s.FindProject(ctx, "p-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != want {
		t.Fatalf("project CreatedAt: got %v, want %v", got.CreatedAt, want)
	}

	k := storetest.NewAdminKey("root", "root-secret", "")
	k.CreatedAt = time.Time{}
	if err := s.CreateAdminKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindAdminKey(ctx, k.Hash); err != nil || got.CreatedAt != want {
		t.Fatalf("admin key CreatedAt: got %v (%v), want %v", got.CreatedAt, err, want)
	}

	err = s.Update(ctx, []string{"p-1"}, func(tx allot.Tx) error {
		if tx.Now() != want {
			t.Errorf("Tx.Now: got %v, want %v", tx.Now(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := MustOp(t)((&allot.Service{Store: s}).AddPackage(ctx, admin, purchase("p-1", "r-1", 1)))
	es, _, err := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: "p-1", Page: allot.Page{Limit: 10}})
	if err != nil || len(es) != 1 || es[0].At != want || out.Entries[0].At != want {
		t.Fatalf("a purchase's entry: %+v (%v), answered %+v; want it at %v", es, err, out.Entries, want)
	}
}

// An import error names the item it is about.
func TestImportErrorMessage(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	storetest.MustCreateProject(t, s, storetest.NewProject("p-1", ""))
	storetest.MustImport(t, s, allot.ImportBatch{Resources: []allot.Resource{storetest.NewResource("p-1", "r-1")}})
	bad := storetest.NewResource("p-1", "r-2")
	bad.Unit = "LITRE"
	for _, tc := range []struct {
		b    allot.ImportBatch
		want string
	}{
		{allot.ImportBatch{Resources: []allot.Resource{bad}}, "resource p-1/r-2: unit: "},
		{allot.ImportBatch{Resources: []allot.Resource{storetest.NewResource("p-1", "r-1")}}, "resource p-1/r-1 exists"},
		{allot.ImportBatch{Resources: []allot.Resource{storetest.NewResource("p-9", "r-1")}}, "resource p-9/r-1: project_id: project p-9 does not exist"},
		{allot.ImportBatch{Assignments: []allot.Assignment{storetest.NewAssignment("a-1", "sp", "p-1")}}, "assignment a-1: customer_project_id: project p-1 is not a customer of sp"},
		{allot.ImportBatch{Projects: []allot.Project{storetest.NewProject("x", "y"), storetest.NewProject("y", "x")}}, "cycle"},
	} {
		err := s.Import(t.Context(), tc.b)
		if msg := allot.ErrorMessageOf(err); !strings.Contains(msg, tc.want) {
			t.Errorf("got message %q, want it to contain %q", msg, tc.want)
		}
		var e *allot.Error
		if !errors.As(err, &e) {
			t.Errorf("got %T, want *allot.Error", err)
		}
	}
}

// Readers running while imports commit always see a consistent snapshot: a
// version and exactly the rows written up to it.
func TestConcurrentReadersWhileWriting(t *testing.T) {
	s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
	storetest.MustCreateProject(t, s, storetest.NewProject("p-1", ""))
	const batches, rows, readers = 40, 25, 6

	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, readers+1)
	for range readers {
		wg.Go(func() {
			var last int64
			for {
				select {
				case <-done:
					return
				default:
				}
				d, err := s.TenantChanges(t.Context(), "p-1", 0)
				if err != nil {
					errs <- err
					return
				}
				if got, want := int64(len(d.Resources)), (d.Version-1)*rows; got != want {
					errs <- fmt.Errorf("version %d with %d rows, want %d", d.Version, got, want)
					return
				}
				if d.Version < last {
					errs <- fmt.Errorf("version went back from %d to %d", last, d.Version)
					return
				}
				last = d.Version
				if _, err := s.TenantVersion(t.Context(), "p-1"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for b := range batches {
		var batch allot.ImportBatch
		for i := range rows {
			batch.Resources = append(batch.Resources, storetest.NewResource("p-1", fmt.Sprintf("r-%d-%d", b, i)))
		}
		if err := s.Import(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		// A write that was acknowledged is seen by the next read.
		if got, want := storetest.MustTenantVersion(t, s, "p-1"), int64(b+2); got != want {
			t.Fatalf("version after import %d: got %d, want %d", b, got, want)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestFilesAreOwnerOnly: the database and the WAL and shared-memory files
// SQLite creates beside it are readable by their owner only, whatever the
// umask, like the master key file.
func TestFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "allot.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write makes sure the WAL exists.
	if err := s.CreateProject(context.Background(), allot.Project{ID: "p1", Name: "P", RegionID: "r"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(name), got)
		}
	}
}

func TestNotify(t *testing.T) {
	storetest.RunNotify(t, func(t *testing.T, clock allot.Clock) allot.Store {
		s := MustOpen(t, filepath.Join(t.TempDir(), "allot.db"))
		s.Now = clock.Now
		return s
	})
}
