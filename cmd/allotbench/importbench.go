package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

// runImportBench is 'allotbench import': the time of 'allot import' of
// issue 14's file (importLayout) into a new SQLite file and, with --pg, a
// new PostgreSQL schema, each beside a reference in the same run: for
// SQLite the naive program of the issue (the same resource rows and one
// ledger row each, one transaction, one prepared INSERT per row, the same
// driver), for PostgreSQL the same rows sent by pgx's COPY in one
// transaction. Neither reference parses or validates anything: they are
// what the storage engine costs.
func runImportBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("allotbench import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", filepath.Join(os.TempDir(), "allotbench-import-v1.jsonl"), "the import file; written first if missing")
	dir := fs.String("dir", os.TempDir(), "directory for the SQLite files (removed after each run)")
	pg := fs.String("pg", "", "PostgreSQL DSN: also measure PostgreSQL, each run in a new schema (dropped after)")
	repeat := fs.Int("repeat", 3, "runs of each measurement")
	allotBin := fs.String("allot", "", "allot binary (default: go build allot/cmd/allot)")
	stores := fs.String("stores", "sqlite,postgres", "which stores to measure (postgres needs --pg)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat(*file); errors.Is(err, os.ErrNotExist) {
		start := time.Now()
		n, err := writeImportFile(*file, importLayout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %d lines in %.1f s\n", *file, n, time.Since(start).Seconds())
	}
	lines, err := countLines(*file)
	if err != nil {
		return err
	}
	bin := *allotBin
	if bin == "" {
		tmp, err := os.MkdirTemp("", "allotbench-import-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if bin, err = buildAllot(ctx, tmp); err != nil {
			return err
		}
	}
	resources := importLayout.Resources
	fmt.Fprintf(stdout, "file %s: %d lines (%d projects, %d resources)\n\n", *file, lines, importLayout.Projects, resources)
	fmt.Fprintln(stdout, "| run | store | what | seconds | lines/s (resources/s for references) | max RSS |")
	fmt.Fprintln(stdout, "|---:|---|---|---:|---:|---:|")
	want := strings.Split(*stores, ",")
	for run := 1; run <= *repeat; run++ {
		if slices.Contains(want, "sqlite") {
			db := filepath.Join(*dir, fmt.Sprintf("allotbench-import-ref-%d.db", time.Now().UnixNano()))
			took, err := naiveSQLite(ctx, db)
			removeSQLite(db)
			if err != nil {
				return fmt.Errorf("reference: %w", err)
			}
			fmt.Fprintf(stdout, "| %d | SQLite | reference: prepared INSERT per row, one transaction | %.1f | %.0f | |\n", run, took.Seconds(), float64(resources)/took.Seconds())
			db = filepath.Join(*dir, fmt.Sprintf("allotbench-import-%d.db", time.Now().UnixNano()))
			took, rss, err := allotImport(ctx, bin, db, *file)
			removeSQLite(db)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "| %d | SQLite | allot import | %.1f | %.0f | %d MB |\n", run, took.Seconds(), float64(lines)/took.Seconds(), rss>>20)
		}
		if slices.Contains(want, "postgres") && *pg != "" {
			took, err := withSchema(ctx, *pg, func(dsn string) (time.Duration, error) { return copyPostgres(ctx, dsn) })
			if err != nil {
				return fmt.Errorf("reference: %w", err)
			}
			fmt.Fprintf(stdout, "| %d | PostgreSQL | reference: COPY of the rows, one transaction | %.1f | %.0f | |\n", run, took.Seconds(), float64(resources)/took.Seconds())
			var rss int64
			took, err = withSchema(ctx, *pg, func(dsn string) (time.Duration, error) {
				t, r, err := allotImport(ctx, bin, dsn, *file)
				rss = r
				return t, err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "| %d | PostgreSQL | allot import | %.1f | %.0f | %d MB |\n", run, took.Seconds(), float64(lines)/took.Seconds(), rss>>20)
		}
	}
	return nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, buf := 0, make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func removeSQLite(db string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
}

// allotImport runs 'allot import' and returns its wall time and maximum
// resident set. The maximum is the process's VmHWM, read every 50 ms while
// it runs: getrusage's ru_maxrss would count this process's memory too, as
// Linux carries it across the child's exec.
func allotImport(ctx context.Context, bin, db, file string) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, bin, "import", "--db", db, file)
	cmd.Env = cleanEnv()
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan struct{})
	var rss int64
	go func() {
		defer close(done)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
						var kb int64
						fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
						rss = max(rss, kb<<10)
					}
				}
			} else {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	err := cmd.Wait()
	took := time.Since(start)
	<-done
	if err != nil {
		return 0, 0, fmt.Errorf("allot import: %v: %s", err, out.String())
	}
	return took, rss, nil
}

// createProjects makes a new database's schema and projects through the
// store, as the import would, so the references time only the rows.
func createProjects(ctx context.Context, db string) error {
	s, err := app.OpenStore(ctx, db, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	ps := make([]allot.Project, importLayout.Projects)
	for i := range ps {
		ps[i] = allot.Project{ID: projectID(i), Name: fmt.Sprintf("bench tenant %d", i), RegionID: "cn-north-4"}
	}
	return s.Import(ctx, allot.ImportBatch{Projects: ps})
}

// naiveSQLite is the reference program.
func naiveSQLite(ctx context.Context, path string) (time.Duration, error) {
	if err := createProjects(ctx, path); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", path+"?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.PrepareContext(ctx, `INSERT INTO resources (project_id, seq, resource_id, version, order_id,
		asset_id, asset_name, expire_time, resource_type, business_type, sub_resource_type, is_sub_resource,
		charging_mode, resource_source, amount, usage, status, unit, removed, held, priority)
		VALUES (?, ?, ?, ?, ?, NULL, '', ?, ?, ?, '', 0, ?, ?, ?, ?, ?, ?, 0, 0, 0)`)
	if err != nil {
		return 0, err
	}
	led, err := tx.PrepareContext(ctx, `INSERT INTO ledger (project_id, seq, resource_id, at, actor, op,
		amount_delta, usage_delta, idempotency_key, reason, ref, held_delta, user_id, app_user_id)
		VALUES (?, ?, ?, ?, 'import', 'import', ?, ?, '', '', '', 0, '', '')`)
	if err != nil {
		return 0, err
	}
	now := time.Now().Unix()
	for i := range importLayout.Projects {
		pid := projectID(i)
		for j := range importLayout.count(i) {
			r := resource(pid, j)
			if _, err := res.ExecContext(ctx, pid, j+1, r.ResourceID, 2, r.OrderID, r.ExpireTime.Unix(), r.ResourceType,
				string(r.BusinessType), string(r.ChargingMode), string(r.Source), int64(r.Amount), int64(r.Usage),
				int64(r.Status), string(r.Unit)); err != nil {
				return 0, err
			}
			if _, err := led.ExecContext(ctx, pid, j+1, r.ResourceID, now, int64(r.Amount), int64(r.Usage)); err != nil {
				return 0, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// withSchema runs fn on a new schema of the database dsn names, and drops
// the schema afterwards.
func withSchema(ctx context.Context, dsn string, fn func(dsn string) (time.Duration, error)) (time.Duration, error) {
	scoped, err := freshSchema(ctx, dsn, "allotbench_import")
	if err != nil {
		return 0, err
	}
	defer dropSchema(ctx, dsn, scoped)
	return fn(scoped)
}

func schemaOf(dsn string) string {
	_, q, _ := strings.Cut(dsn, "search_path=")
	s, _, _ := strings.Cut(q, "&")
	return s
}

// copyPostgres is the PostgreSQL reference: the rows by COPY, no parsing.
func copyPostgres(ctx context.Context, dsn string) (time.Duration, error) {
	if err := createProjects(ctx, dsn); err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	now := time.Now().Unix()
	var rows, entries [][]any
	flush := func() error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"resources"}, []string{"project_id", "seq", "resource_id", "version", "order_id",
			"asset_name", "expire_time", "resource_type", "business_type", "sub_resource_type", "is_sub_resource", "charging_mode",
			"resource_source", "amount", "usage", "status", "unit", "removed", "held", "priority"},
			pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger"}, []string{"project_id", "seq", "resource_id", "at", "actor", "op",
			"amount_delta", "usage_delta", "idempotency_key", "reason", "ref", "held_delta", "user_id", "app_user_id"}, pgx.CopyFromRows(entries)); err != nil {
			return err
		}
		rows, entries = rows[:0], entries[:0]
		return nil
	}
	for i := range importLayout.Projects {
		pid := projectID(i)
		for j := range importLayout.count(i) {
			r := resource(pid, j)
			rows = append(rows, []any{pid, int64(j + 1), r.ResourceID, int64(2), r.OrderID, "", r.ExpireTime.Unix(), r.ResourceType,
				string(r.BusinessType), "", false, string(r.ChargingMode), string(r.Source), int64(r.Amount), int64(r.Usage), int32(r.Status),
				string(r.Unit), false, int64(0), int32(0)})
			entries = append(entries, []any{pid, int64(j + 1), r.ResourceID, now, "import", "import", int64(r.Amount), int64(r.Usage),
				"", "", "", int64(0), "", ""})
			if len(rows) == 4096 {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
