package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres/pgtest"
)

// TestConsumeReserve runs the reserve scenario of allotbench consume, with
// its hot reference, on SQLite and on PostgreSQL: pairs complete without
// errors, the store agrees with what the clients saw, and the report sets
// the pairs beside the consumes.
func TestConsumeReserve(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // the benchmark sets its own
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := os.Getenv("ALLOTBENCH_ALLOT")
	if bin == "" {
		var err error
		if bin, err = buildAllot(ctx, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			args := []string{"--allot", bin, "--scenarios", "reserve", "--no-baseline", "--pin=false",
				"--warmup", "200ms", "--duration", "1s", "--conns", "8", "--dir", t.TempDir()}
			if store == "postgres" {
				args = append(args, "--db", pgtest.NewSchemaDSN(t))
			}
			var out, log bytes.Buffer
			if err := runConsumeBench(ctx, args, &out, &log); err != nil {
				t.Fatalf("%v\n%s%s", err, log.String(), out.String())
			}
			t.Logf("\n%s", out.String())
			if store == "postgres" {
				// Each scenario's schema is dropped after it.
				var left int
				if err := pgtest.AdminPool().QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'allotbench\_%'`).Scan(&left); err != nil || left != 0 {
					t.Errorf("%d schemas of the benchmark left in the database (%v)", left, err)
				}
			}
			report := out.String()
			pairs := regexp.MustCompile(`reserve +([0-9]+) pairs/s .* errors ([0-9]+) `).FindStringSubmatch(report)
			if pairs == nil {
				t.Fatalf("no pairs line in\n%s", report)
			}
			if n, _ := strconv.Atoi(pairs[1]); n <= 0 {
				t.Errorf("%s pairs/s", pairs[1])
			}
			if pairs[2] != "0" {
				t.Errorf("%s errors", pairs[2])
			}
			for _, want := range []string{"consumes/s", "pairs/consumes = ", "0 failed; stored", "0 other), usage", "held 0, drift 0: ok"} {
				if !bytes.Contains(out.Bytes(), []byte(want)) {
					t.Errorf("report lacks %q", want)
				}
			}
		})
	}
}

// TestReserveChecks holds the reserve scenario's checks to each way the
// store could disagree with the clients.
func TestReserveChecks(t *testing.T) {
	unit := allot.Quantity(allot.QuantityScale)
	counts := func(reserved, committed, failed int64) *pairCounts {
		var c pairCounts
		c.reserved.Store(reserved)
		c.committed.Store(committed)
		c.failed.Store(failed)
		return &c
	}
	good := reserveChecks{usage: 7 * unit, held: 3 * reserveAmount * unit, all: 10, open: 3, committed: 7}
	for _, c := range []struct {
		name   string
		checks reserveChecks
		counts *pairCounts
		ok     bool
	}{
		{"agrees", good, counts(10, 7, 0), true},
		{"a failed commit that was applied", reserveChecks{usage: 8 * unit, held: 2 * reserveAmount * unit, all: 10, open: 2, committed: 8}, counts(10, 7, 1), true},
		{"a commit lost", good, counts(10, 8, 0), false},
		{"a reserve lost", good, counts(11, 7, 0), false},
		{"a reservation nobody asked for", reserveChecks{usage: 7 * unit, held: 4 * reserveAmount * unit, all: 11, open: 4, committed: 7}, counts(10, 7, 0), false},
		{"usage beside the commits", reserveChecks{usage: 8 * unit, held: 3 * reserveAmount * unit, all: 10, open: 3, committed: 7}, counts(10, 7, 0), false},
		{"a hold unaccounted", reserveChecks{usage: 7 * unit, held: 3*reserveAmount*unit + unit, all: 10, open: 3, committed: 7}, counts(10, 7, 0), false},
		{"a reservation released", reserveChecks{usage: 7 * unit, held: 2 * reserveAmount * unit, all: 10, open: 2, committed: 7, rest: 1}, counts(10, 7, 0), false},
		{"drift", reserveChecks{usage: 7 * unit, held: 3 * reserveAmount * unit, all: 10, open: 3, committed: 7, drift: []allot.Drift{{}}}, counts(10, 7, 0), false},
	} {
		if got := c.checks.ok(c.counts); got != c.ok {
			t.Errorf("%s: ok %v, want %v", c.name, got, c.ok)
		}
	}
}
