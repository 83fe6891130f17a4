package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/postgres/pgtest"
)

// TestMain lets the test binary stand in for allotbench when the benchmark
// re-invokes itself as the static server.
func TestMain(m *testing.M) {
	if runChild() {
		return
	}
	pgtest.Main(m) // a database for the PostgreSQL runs of the consume benchmark

}

// TestEndToEnd runs a tiny benchmark with the real subprocesses: seeding,
// 'allot serve' built from source, the static server, signed load on every
// scenario.
func TestEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bench.db")
	args := []string{
		"--db", db, "--projects", "20", "--resources", "2000", "--big", "500", "--small", "20",
		"--deep-offset", "250", "--warmup", "200ms", "--duration", "1s", "--conns", "16", "--retries", "0",
	}
	// By default allot is built from the working tree; ALLOTBENCH_ALLOT
	// names a prebuilt binary instead.
	if bin := os.Getenv("ALLOTBENCH_ALLOT"); bin != "" {
		args = append(args, "--allot", bin)
	}
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	rep, err := run(ctx, cfg, &out, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	t.Logf("\n%s%s", log.String(), out.String())
	if rep.Seed.Reused {
		t.Error("a fresh file was reported as reused")
	}
	if len(rep.Rows) != len(allScenarios) {
		t.Fatalf("%d scenarios measured, want %d", len(rep.Rows), len(allScenarios))
	}
	for _, r := range rep.Rows {
		for side, res := range map[string]result{"static": r.static, "allot": r.allot} {
			if res.Errors != 0 {
				t.Errorf("%s/%s: %d errors, first: %s", r.scenario.name, side, res.Errors, res.FirstErr)
			}
			if res.Requests == 0 || res.RPS <= 0 {
				t.Errorf("%s/%s: no requests completed", r.scenario.name, side)
			}
			if res.P50 <= 0 || res.P99 < res.P50 {
				t.Errorf("%s/%s: p50 %v, p99 %v", r.scenario.name, side, res.P50, res.P99)
			}
			if want := int64(r.bodyBytes) * res.Requests; res.Bytes != want && r.scenario.name != "random" {
				t.Errorf("%s/%s: %d body bytes received, want %d", r.scenario.name, side, res.Bytes, want)
			}
		}
		if r.prime != nil && r.prime.errors != 0 {
			t.Errorf("priming: %d errors, first: %s", r.prime.errors, r.prime.firstErr)
		}
	}
	for _, want := range []string{"| scenario |", "big/small tenant req/s", "errors, all runs | 0 | 0 | met"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	// A second run finds the file seeded and reuses it.
	again, err := seed(ctx, db, cfg.Layout, cfg.Batch, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || len(again.Secrets) != cfg.Layout.Projects || again.Secrets[3] != rep.Seed.Secrets[3] {
		t.Errorf("reuse: reused %v, %d secrets", again.Reused, len(again.Secrets))
	}
	// A file seeded with another layout is refused, not silently reused.
	other := cfg.Layout
	other.Small++
	if _, err := seed(ctx, db, other, cfg.Batch, nil, io.Discard); err == nil {
		t.Error("a file seeded with another layout was reused")
	}
}

func TestLayoutCounts(t *testing.T) {
	for _, l := range []layout{
		{Projects: 10_000, Resources: 1_000_000, Big: 100_000, Small: 100},
		{Projects: 20, Resources: 2000, Big: 500, Small: 20},
		{Projects: 7, Resources: 123, Big: 50, Small: 3},
	} {
		total := 0
		for i := range l.Projects {
			n := l.count(i)
			if n < 1 {
				t.Errorf("%+v: project %d has %d resources", l, i, n)
			}
			total += n
		}
		if total != l.Resources || l.count(0) != l.Big || l.count(1) != l.Small {
			t.Errorf("%+v: %d resources in all, big %d, small %d", l, total, l.count(0), l.count(1))
		}
	}
}

// TestFairnessScenario runs the fairness scenario on a tiny layout: both
// phases measure the victim, the second also the heavy client, without
// errors, and the report shows both beside the ratio.
func TestFairnessScenario(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bench.db")
	args := []string{
		"--db", db, "--projects", "10", "--resources", "1000", "--big", "500", "--small", "20",
		"--warmup", "200ms", "--duration", "1s", "--conns", "8", "--scenarios", "fairness",
	}
	if bin := os.Getenv("ALLOTBENCH_ALLOT"); bin != "" {
		args = append(args, "--allot", bin)
	}
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	rep, err := run(ctx, cfg, &out, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	t.Logf("\n%s%s", log.String(), out.String())
	f := rep.Fairness
	if f == nil || len(f.phases) != 2 {
		t.Fatalf("fairness result %+v", f)
	}
	for i, p := range f.phases {
		if p.victim.requests == 0 || p.victim.p99 < p.victim.p50 || p.victim.p50 <= 0 {
			t.Errorf("%s: victim %+v", p.name, p.victim)
		}
		if p.victim.errors+p.heavy.errors != 0 {
			t.Errorf("%s: errors, first: %s%s", p.name, p.victim.firstErr, p.heavy.firstErr)
		}
		if heavy := p.heavy.requests > 0; heavy != (i == 1) {
			t.Errorf("%s: %d heavy requests", p.name, p.heavy.requests)
		}
	}
	if f.prime == nil || f.prime.n != cfg.Layout.Projects || f.prime.errors != 0 {
		t.Errorf("priming %+v", f.prime)
	}
	for _, want := range []string{"Fairness:", "| victim alone |", "fairness: victim p99 beside the heavy client / alone", "errors, all runs | 0 | 0 | met"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
