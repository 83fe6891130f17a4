package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// TestMain gives the run a database of its own and drops it at the end.
func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T) allot.Store { return pgtest.MustOpen(t) }

// TestStore runs the conformance suite that every store passes; each of its
// tests gets a store on a schema of its own.
func TestStore(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.Run(t, open)
}

// TestLedger runs the lifecycle suite: allot.Service over this store's Update.
func TestLedger(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunLedger(t, open)
}

// TestReservations runs the suite of reservations and burn-down on a
// store whose clock the suite moves.
func TestReservations(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunReservations(t, func(t *testing.T, clock allot.Clock) allot.Store {
		s := pgtest.MustOpen(t)
		s.Now = clock.Now
		return s
	})
}

// TestShared opens two stores on one schema, each with its own pool, as
// two allot nodes on one database would. Their writers serialise on the
// projects' row locks.
func TestShared(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunShared(t, func(t *testing.T) (allot.Store, allot.Store) {
		dsn := pgtest.NewSchemaDSN(t)
		return pgtest.MustOpenDSN(t, dsn), pgtest.MustOpenDSN(t, dsn)
	})
}

// TestMigrateRace starts four stores on the same empty schema at the same
// moment, as the nodes of a deployment would: all must come up, and every
// migration must be recorded exactly once.
func TestMigrateRace(t *testing.T) {
	for round := range 5 {
		dsn := pgtest.NewSchemaDSN(t)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				<-start
				s, err := postgres.Open(t.Context(), dsn)
				if err == nil {
					s.Close()
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: Open %d: %v", round, i, err)
			}
		}
		rows, err := pgtest.AdminPool().Query(t.Context(), fmt.Sprintf(
			`SELECT version, count(*) FROM %s.schema_migrations GROUP BY version ORDER BY version`, pgtest.SchemaOf(t, dsn)))
		if err != nil {
			t.Fatal(err)
		}
		var versions []int64
		for rows.Next() {
			var v, n int64
			if err := rows.Scan(&v, &n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("round %d: migration %d recorded %d times", round, v, n)
			}
			versions = append(versions, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(versions) == 0 || versions[0] != 1 {
			t.Fatalf("round %d: recorded migrations %v, want 1 first", round, versions)
		}
	}
}

// TestMigrateAgain checks that opening a migrated schema again changes
// nothing, and that a build refuses a schema newer than its migrations: it
// does not open on one, and a store already open stops being ready.
func TestMigrateAgain(t *testing.T) {
	dsn := pgtest.NewSchemaDSN(t)
	for range 2 {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	running := pgtest.MustOpenDSN(t, dsn)
	if err := running.Ping(t.Context()); err != nil {
		t.Fatalf("Ping before a newer build migrated: %v", err)
	}
	schema := pgtest.SchemaOf(t, dsn)
	var n, latest int64
	err := pgtest.AdminPool().QueryRow(t.Context(), `SELECT count(*), max(version) FROM `+schema+`.schema_migrations`).Scan(&n, &latest)
	if err != nil {
		t.Fatal(err)
	}
	if n != latest {
		t.Fatalf("schema_migrations has %d rows for versions up to %d", n, latest)
	}
	_, err = pgtest.AdminPool().Exec(t.Context(),
		`INSERT INTO `+schema+`.schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(t.Context(), dsn); err == nil {
		s.Close()
		t.Fatal("Open succeeded on a schema newer than the build")
	}
	if err := running.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("Ping on a newer schema: %v, want an error naming the version", err)
	}
}

// TestConcurrentImports has writers import into the same two projects at
// once, each batch naming them in a different order. Every batch must get
// its own version of each project, its rows contiguous seqs, and no row may
// be lost; the id-ordered version bumps must keep them from deadlocking.
func TestConcurrentImports(t *testing.T) {
	s := pgtest.MustOpen(t)
	ctx := t.Context()
	storetest.MustCreateProject(t, s, storetest.NewProject("p-a", ""))
	storetest.MustCreateProject(t, s, storetest.NewProject("p-b", ""))
	const writers, rows = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			order := []string{"p-a", "p-b"}
			if w%2 == 1 {
				order = []string{"p-b", "p-a"}
			}
			var b allot.ImportBatch
			for i := range rows {
				for _, p := range order {
					b.Resources = append(b.Resources, storetest.NewResource(p, fmt.Sprintf("r-%d-%d", w, i)))
				}
			}
			errs <- s.Import(ctx, b)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"p-a", "p-b"} {
		d := storetest.MustTenantChanges(t, s, p, 0)
		if got, want := d.Version, int64(1+writers); got != want {
			t.Errorf("%s: version %d, want %d", p, got, want)
		}
		if got, want := len(d.Resources), writers*rows; got != want {
			t.Fatalf("%s: %d resources, want %d", p, got, want)
		}
		writerOf := make(map[int64]string) // version -> the writer that got it
		for i, r := range d.Resources {
			if got, want := r.Seq, int64(i+1); got != want {
				t.Fatalf("%s: resource %d has seq %d, want %d (no gaps, no repeats)", p, i, got, want)
			}
			if r.Version < 2 || r.Version > 1+writers {
				t.Fatalf("%s: resource %s has version %d", p, r.ResourceID, r.Version)
			}
			var w, n int
			fmt.Sscanf(r.ResourceID, "r-%d-%d", &w, &n)
			if prev, ok := writerOf[r.Version]; ok && prev != fmt.Sprint(w) {
				t.Fatalf("%s: version %d went to writers %s and %d", p, r.Version, prev, w)
			}
			writerOf[r.Version] = fmt.Sprint(w)
		}
		if got := len(writerOf); got != writers {
			t.Errorf("%s: %d distinct versions, want %d", p, got, writers)
		}
		// A reader that caught up at any version sees exactly the later rows.
		for v := int64(1); v <= 1+writers; v++ {
			later := storetest.MustTenantChanges(t, s, p, v)
			if got, want := len(later.Resources), int(1+writers-v)*rows; got != want {
				t.Errorf("%s: %d resources after version %d, want %d", p, got, v, want)
			}
		}
	}
}

// TestImportErrorsNameTheItem checks that a batch failing on a unique or
// foreign key, which a multi-row insert reports only by constraint, still
// tells the caller which item it was.
func TestImportErrorsNameTheItem(t *testing.T) {
	s := pgtest.MustOpen(t)
	storetest.MustImport(t, s, allot.ImportBatch{
		Projects:    []allot.Project{storetest.NewProject("sp", ""), storetest.NewProject("cust", "sp")},
		Resources:   []allot.Resource{storetest.NewResource("cust", "r-old")},
		Assignments: []allot.Assignment{storetest.NewAssignment("a-old", "sp", "cust")},
	})
	for _, tc := range []struct {
		batch allot.ImportBatch
		code  allot.ErrorCode
		names []string
	}{
		{allot.ImportBatch{Projects: []allot.Project{storetest.NewProject("p-new", ""), storetest.NewProject("cust", "")}},
			allot.ECONFLICT, []string{"cust"}},
		{allot.ImportBatch{Projects: []allot.Project{storetest.NewProject("p-new", "sp"), storetest.NewProject("p-2", "ghost")}},
			allot.EINVALID, []string{"p-2", "ghost"}},
		{allot.ImportBatch{Resources: []allot.Resource{storetest.NewResource("cust", "r-new"), storetest.NewResource("cust", "r-old")}},
			allot.ECONFLICT, []string{"cust/r-old"}},
		{allot.ImportBatch{Assignments: []allot.Assignment{storetest.NewAssignment("a-new", "sp", "cust"), storetest.NewAssignment("a-old", "sp", "cust")}},
			allot.ECONFLICT, []string{"a-old"}},
		{allot.ImportBatch{Resources: []allot.Resource{storetest.NewResource("ghost", "r-1")}},
			allot.EINVALID, []string{"ghost", "r-1"}},
	} {
		err := s.Import(t.Context(), tc.batch)
		if got := allot.ErrorCodeOf(err); got != tc.code {
			t.Errorf("got %v (code %q), want code %q", err, got, tc.code)
			continue
		}
		msg := allot.ErrorMessageOf(err)
		for _, name := range tc.names {
			if !strings.Contains(msg, name) {
				t.Errorf("message %q does not name %q", msg, name)
			}
		}
	}
}

// TestWithTxRetries makes two serializable transactions read the same row
// and then both update it: PostgreSQL aborts the second with 40001, and
// withTx must run it again so that both increments count.
func TestWithTxRetries(t *testing.T) {
	s := pgtest.MustOpen(t)
	ctx := context.Background()
	if _, err := postgres.PoolOf(s).Exec(ctx, `CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	var (
		calls  atomic.Int64
		bothIn sync.WaitGroup
		done   sync.WaitGroup
		errs   = make(chan error, 2)
	)
	bothIn.Add(2)
	for range 2 {
		done.Go(func() {
			errs <- postgres.WithTx(ctx, s, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
				var n int64
				if err := tx.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
					return err
				}
				if calls.Add(1) <= 2 { // the first try of each: both have read before either writes
					bothIn.Done()
					bothIn.Wait()
				}
				_, err := tx.Exec(ctx, `UPDATE counter SET n = $1`, n+1)
				return err
			})
		})
	}
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	if err := postgres.PoolOf(s).QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if got, want := n, int64(2); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
	if got := calls.Load(); got < 3 {
		t.Fatalf("the transaction function ran %d times, want a retry (at least 3)", got)
	}
}

// TestNotify runs the suite of notifications on a store whose clock the
// suite moves.
func TestNotify(t *testing.T) {
	pgtest.NeedDB(t)
	storetest.RunNotify(t, func(t *testing.T, clock allot.Clock) allot.Store {
		s := pgtest.MustOpen(t)
		s.Now = clock.Now
		return s
	})
}
