package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// TestTenantVersionSeesEveryCommit holds TenantVersion, which answers from
// memory between commits, to a fresh query after every kind of commit:
// through the store, through a second store on the same file, through a
// plain connection, and from another process. Each answer must be the
// version the commit left, and between commits the answer must come from
// the cache (the cache is in use, not bypassed).
func TestTenantVersionSeesEveryCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "allot.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.stamp == nil {
		t.Fatal("no WAL-index header read: every TenantVersion queries")
	}
	if err := s.Import(ctx, allot.ImportBatch{Projects: []allot.Project{{ID: "p", Name: "p", RegionID: "r", CreatedAt: time.Unix(0, 0)}}}); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	raw, err := sql.Open("sqlite", path+"?_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	oracle := func() int64 {
		var v int64
		if err := raw.QueryRow(`SELECT version FROM projects WHERE id = 'p'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	bump := func(st *Store) {
		if err := st.Update(ctx, []string{"p"}, func(tx allot.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	writers := []struct {
		name  string
		write func()
	}{
		{"this store", func() { bump(s) }},
		{"a second store", func() { bump(other) }},
		{"a plain connection", func() {
			if _, err := raw.Exec(`UPDATE projects SET version = version + 1 WHERE id = 'p'`); err != nil {
				t.Fatal(err)
			}
		}},
		{"another process", func() {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "ALLOT_VERSION_WRITER_DB="+path)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("writer process: %v\n%s", err, out)
			}
		}},
	}
	for i := range 40 {
		w := writers[i%len(writers)]
		before, err := s.TenantVersion(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		w.write()
		want := oracle()
		if want == before {
			t.Fatalf("%s: the write left the version at %d", w.name, want)
		}
		for range 3 {
			got, err := s.TenantVersion(ctx, "p")
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("after a commit by %s: TenantVersion %d, the database has %d", w.name, got, want)
			}
		}
		var h walHeader
		if !s.stamp.read(&h) {
			t.Fatal("the header's copies differ with no writer")
		}
		if v, ok := s.versions.get(&h, "p"); !ok || v != want {
			t.Fatalf("after a commit by %s: cached %d, %v; want %d from the cache", w.name, v, ok, want)
		}
	}

	// The second store shares the -shm descriptor: closing it leaves the
	// first one's open, and every connection but the first store's gone,
	// the file is still the one SQLite writes.
	if other.stamp != s.stamp {
		t.Fatal("two stores of one file in one process read the header through two descriptors")
	}
	other.Close()
	raw.Close()
	before, _ := s.TenantVersion(ctx, "p")
	writers[3].write() // another process
	if got, err := s.TenantVersion(ctx, "p"); err != nil || got != before+1 {
		t.Fatalf("after the second store closed: TenantVersion %d (%v), want %d", got, err, before+1)
	}
}

// TestMain runs the other process of TestTenantVersionSeesEveryCommit when
// ALLOT_VERSION_WRITER_DB names a database: it raises p's version there and
// exits.
func TestMain(m *testing.M) {
	if path := os.Getenv("ALLOT_VERSION_WRITER_DB"); path != "" {
		db, err := sql.Open("sqlite", path+"?_busy_timeout=10000&_txlock=immediate")
		if err == nil {
			_, err = db.Exec(`UPDATE projects SET version = version + 1 WHERE id = 'p'`)
			db.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
