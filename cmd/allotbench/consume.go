package main

// The consume benchmark: `allotbench consume [flags]` measures durable
// consumes over HTTP (POST /admin/v1/consume on the management listener),
// each with its own idempotency key, from --conns keep-alive connections,
// with the server pinned to one CPU and the load generator on the other.
//
// Scenarios: hot (every consume on one package) and spread (round robin
// over the --packages packages of one tenant). Each runs on a fresh
// database: a SQLite file under --dir, or a fresh schema of the PostgreSQL
// database --db names. Beside each, in the same run, a baseline of what the
// storage can do: for SQLite an fsync loop (write 4 KiB, fdatasync) on a
// file in the same directory; for PostgreSQL `pgbench -N` (16 clients), when
// pgbench is installed. Results are reported as ratios to it, with the
// server's CPU time per consume, and checked: no drift (allot verify's
// check), usage equal to the consumes applied (no overspend, nothing lost).

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/internal/serveproc"
	"github.com/allot-dev/allot/secret"
)

type consumeConfig struct {
	DB, Dir            string
	Scenarios          []string
	Packages           int
	Load               loadConfig
	Allot              string
	Pin                bool
	ServerCPU, LoadCPU int
	ProfileDir         string
	PGBenchClients     int
	PGBenchScale       int
	SkipBaseline       bool
	ServerProcs        int
	Stdout, Stderr     io.Writer
}

func runConsumeBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := consumeConfig{Stdout: stdout, Stderr: stderr}
	fs := flag.NewFlagSet("allotbench consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", "", "postgres:// DSN of a database to create fresh schemas in (default: SQLite files under --dir)")
	fs.StringVar(&cfg.Dir, "dir", os.TempDir(), "directory of the SQLite files and of the fsync baseline's file")
	scen := fs.String("scenarios", "hot,spread", "scenarios: hot, spread, reserve (reserve+commit pairs, beside hot)")
	fs.IntVar(&cfg.Packages, "packages", 10, "packages of the spread scenario's tenant")
	fs.IntVar(&cfg.Load.Conns, "conns", 64, "concurrent keep-alive connections")
	fs.DurationVar(&cfg.Load.Warmup, "warmup", 2*time.Second, "warm-up before the measured window")
	fs.DurationVar(&cfg.Load.Duration, "duration", 10*time.Second, "measured window")
	fs.StringVar(&cfg.Allot, "allot", "", "allot binary (default: go build allot/cmd/allot)")
	fs.BoolVar(&cfg.Pin, "pin", true, "pin the server and the load generator to separate CPUs (taskset)")
	fs.IntVar(&cfg.ServerCPU, "server-cpu", 0, "CPU of the server")
	fs.IntVar(&cfg.LoadCPU, "load-cpu", 1, "CPU of the load generator (and of the baseline)")
	fs.StringVar(&cfg.ProfileDir, "cpuprofile", "", "directory for a CPU profile of the server per scenario: the server then runs as an allotbench child wired like 'allot serve' plus net/http/pprof")
	fs.IntVar(&cfg.PGBenchClients, "pgbench-clients", 16, "clients of the pgbench baseline")
	fs.IntVar(&cfg.PGBenchScale, "pgbench-scale", 10, "scale of the pgbench baseline's database")
	fs.BoolVar(&cfg.SkipBaseline, "no-baseline", false, "skip the baseline")
	fs.IntVar(&cfg.ServerProcs, "server-procs", 0, "GOMAXPROCS of the server (default: its own choice)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*scen, ",") {
		if s = strings.TrimSpace(s); s != "hot" && s != "spread" && s != "reserve" {
			return fmt.Errorf("--scenarios: unknown scenario %q", s)
		}
		cfg.Scenarios = append(cfg.Scenarios, strings.TrimSpace(s))
	}
	if cfg.Load.Client == "" {
		cfg.Load.Client = "raw"
	}
	tmp, err := os.MkdirTemp(cfg.Dir, "allotbench-consume-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.Allot
	if bin == "" {
		fmt.Fprintln(stderr, "building allot/cmd/allot")
		if bin, err = buildAllot(ctx, tmp); err != nil {
			return err
		}
	}
	var pin pinning
	if cfg.Pin {
		if ts, err := exec.LookPath("taskset"); err == nil && pinSelf(cfg.LoadCPU) == nil {
			pin = pinning{taskset: ts, serverCPU: cfg.ServerCPU, loadCPU: cfg.LoadCPU}
		} else {
			fmt.Fprintln(stderr, "cannot pin: running unpinned")
		}
	}
	runtime.GOMAXPROCS(1) // the load generator runs on one CPU
	store := "SQLite (WAL, synchronous=FULL) in " + cfg.Dir
	if cfg.DB != "" {
		store = "PostgreSQL " + redact(cfg.DB)
	}
	fmt.Fprintf(stdout, "consume benchmark: %s; %d connections, %v window after %v warm-up; pinned: %v\n",
		store, cfg.Load.Conns, cfg.Load.Duration, cfg.Load.Warmup, pin.taskset != "")
	// The reserve scenario reports its pairs beside the hot consume rate
	// of the same run: measured before it unless hot ran already.
	var hot *result
	for _, sc := range cfg.Scenarios {
		var err error
		if sc == "reserve" {
			if hot == nil {
				var r result
				if r, err = consumeScenario(ctx, cfg, "hot", bin, tmp, pin); err != nil {
					return fmt.Errorf("hot: %w", err)
				}
				hot = &r
			}
			_, err = reserveScenario(ctx, cfg, bin, tmp, pin, *hot)
		} else {
			var r result
			r, err = consumeScenario(ctx, cfg, sc, bin, tmp, pin)
			if sc == "hot" {
				hot = &r
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", sc, err)
		}
	}
	return nil
}

// bench is one scenario's server on its fresh database.
type bench struct {
	db, adminKey, profile string
	srv                   *proc
}

// startBench seeds a fresh database with packages packages and starts the
// server on it.
func startBench(ctx context.Context, cfg consumeConfig, sc, bin, tmp string, pin pinning, packages int) (*bench, error) {
	b := &bench{db: filepath.Join(tmp, "consume-"+sc+".db")}
	if cfg.DB != "" {
		var err error
		if b.db, err = freshSchema(ctx, cfg.DB, "allotbench_"+sc); err != nil {
			return nil, err
		}
	}
	key, _, err := secret.LoadOrCreateKeyFile(filepath.Join(tmp, sc+".key"))
	if err != nil {
		return nil, err
	}
	if b.adminKey, err = seedConsume(ctx, b.db, packages); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	env := []string{masterKeyEnv(key)}
	if cfg.ServerProcs > 0 {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", cfg.ServerProcs))
	}
	if cfg.ProfileDir != "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		if b.srv, err = startAdmin(ctx, "allot (profiled)", pin, append(env, childEnv+"=allot-admin-pprof"), self, "--db", b.db); err != nil {
			return nil, err
		}
		os.MkdirAll(cfg.ProfileDir, 0o755)
		b.profile = filepath.Join(cfg.ProfileDir, "consume-"+sc+".pprof")
	} else {
		b.srv, err = startAdmin(ctx, "allot serve", pin, env, bin, "serve", "--db", b.db, "--addr", "127.0.0.1:0",
			"--admin-addr", "127.0.0.1:0", "--log-requests=false", "--rate-limit", "0")
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// close stops the server and drops the scenario's PostgreSQL schema, if it
// has one: a run leaves nothing in the database it was given (the SQLite
// files go with the run's directory).
func (b *bench) close(ctx context.Context, adminDSN string) {
	b.srv.stop()
	if adminDSN != "" {
		dropSchema(ctx, adminDSN, b.db)
	}
}

// perOp is the server's CPU time per operation of res.
func perOp(res result) time.Duration {
	if res.Requests == 0 {
		return 0
	}
	return time.Duration(res.ServerCPU * float64(res.Window) / float64(res.Requests)).Round(time.Microsecond)
}

func consumeScenario(ctx context.Context, cfg consumeConfig, sc, bin, tmp string, pin pinning) (result, error) {
	packages := 1
	if sc == "spread" {
		packages = cfg.Packages
	}
	b, err := startBench(ctx, cfg, sc, bin, tmp, pin, packages)
	if err != nil {
		return result{}, err
	}
	defer b.close(ctx, cfg.DB)
	res, applied, err := driveConsumes(ctx, cfg.Load, b.srv, b.adminKey, packages, b.profile)
	if err != nil {
		return result{}, err
	}
	b.srv.stop()

	// Checks: what the store holds against what was answered.
	usage, drift, err := consumeChecks(ctx, b.db)
	if err != nil {
		return result{}, err
	}
	var base string
	var baseRate float64
	if !cfg.SkipBaseline {
		if cfg.DB == "" {
			baseRate, err = fsyncLoop(tmp, cfg.Load.Duration)
			base = "fsync loop (4 KiB write + fdatasync)"
		} else {
			baseRate, err = pgbenchN(ctx, cfg, pin)
			base = fmt.Sprintf("pgbench -N -c %d", cfg.PGBenchClients)
		}
		if err != nil {
			fmt.Fprintf(cfg.Stderr, "baseline: %v\n", err)
			base, baseRate = "", 0
		}
	}
	fmt.Fprintf(cfg.Stdout, "%-7s %9.0f consumes/s  p50 %s  p99 %s  max %s  errors %d  server CPU %.2f cores, %s/consume  other CPU %.2f\n",
		sc, res.RPS, fmtDur(res.P50), fmtDur(res.P99), fmtDur(res.Max), res.Errors, res.ServerCPU, perOp(res), res.OtherCPU)
	if res.FirstErr != "" {
		fmt.Fprintf(cfg.Stdout, "        first error: %s\n", res.FirstErr)
	}
	if base != "" {
		fmt.Fprintf(cfg.Stdout, "        baseline %s: %.0f/s; consumes/baseline = %.2f\n", base, baseRate, res.RPS/baseRate)
	}
	ok := len(drift) == 0 && usage >= allot.Quantity(applied)*allot.QuantityScale &&
		usage <= allot.Quantity(applied+int64(cfg.Load.Conns))*allot.QuantityScale
	fmt.Fprintf(cfg.Stdout, "        checks: %d consumes answered 200, usage %s, drift %d: %s\n", applied, usage, len(drift), map[bool]string{true: "ok", false: "FAILED"}[ok])
	if !ok {
		return result{}, fmt.Errorf("checks failed: usage %s for %d answered consumes, drift %v", usage, applied, drift)
	}
	return res, nil
}

// dropSchema drops the schema of scoped (a DSN freshSchema returned) from
// the database of dsn, whatever became of ctx.
func dropSchema(ctx context.Context, dsn, scoped string) {
	ctx = context.WithoutCancel(ctx)
	if conn, err := pgx.Connect(ctx, dsn); err == nil {
		conn.Exec(ctx, "DROP SCHEMA "+schemaOf(scoped)+" CASCADE")
		conn.Close(ctx)
	}
}

// freshSchema creates a new schema in the database of dsn and returns a
// DSN that uses it.
func freshSchema(ctx context.Context, dsn, prefix string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

const consumeProject = "bench-meter"

// seedConsume creates the tenant, its packages r-00... (no expiry, the
// largest amount) and an admin key, and returns the key.
func seedConsume(ctx context.Context, db string, packages int) (string, error) {
	store, err := app.OpenStore(ctx, db, nil)
	if err != nil {
		return "", err
	}
	defer store.Close()
	if err := store.CreateProject(ctx, allot.Project{ID: consumeProject, Name: "Bench meter", RegionID: "cn-north-4"}); err != nil {
		return "", err
	}
	svc := &allot.Service{Store: store}
	cli := allot.Actor{ID: "bench", Role: allot.RoleAdmin}
	for i := range packages {
		_, err := svc.AddPackage(ctx, cli, allot.PackageRequest{ProjectID: consumeProject, ResourceID: fmt.Sprintf("r-%02d", i),
			Source: allot.SourcePurchased, OrderID: fmt.Sprintf("order-%02d", i), ResourceType: "MIN", BusinessType: "VIDEO_2D",
			ChargingMode: "ONE_TIME", Unit: "MIN", Amount: allot.MaxResourceAmount})
		if err != nil {
			return "", err
		}
	}
	raw := make([]byte, 24)
	for i := range raw {
		raw[i] = byte('a' + rand.IntN(26))
	}
	key := "allot-admin-bench-" + string(raw)
	hash := sha256.Sum256([]byte(key))
	return key, store.CreateAdminKey(ctx, allot.AdminKey{ID: "bench", Hash: hash[:], Role: allot.RoleAdmin, CreatedAt: time.Now().UTC().Truncate(time.Second)})
}

// consumeChecks returns the tenant's total usage and the store's drift.
func consumeChecks(ctx context.Context, db string) (allot.Quantity, []allot.Drift, error) {
	store, err := app.OpenStore(ctx, db, nil)
	if err != nil {
		return 0, nil, err
	}
	defer store.Close()
	d, err := store.TenantChanges(ctx, consumeProject, 0)
	if err != nil {
		return 0, nil, err
	}
	var usage allot.Quantity
	for _, r := range d.Resources {
		usage += r.Usage
	}
	drift, err := store.Drift(ctx)
	return usage, drift, err
}

// startAdmin runs a server like start does, but waits for its management
// listener ("management API listening on ADDR").
func startAdmin(ctx context.Context, name string, pin pinning, env []string, argv ...string) (*proc, error) {
	if pin.taskset != "" {
		argv = append([]string{pin.taskset, "-c", strconv.Itoa(pin.serverCPU)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	// Pinned by taskset, the server sees one CPU and picks its own
	// GOMAXPROCS (allot serve keeps two Ps even on one CPU: see
	// internal/serveproc), unless --server-procs sets it.
	cmd.Env = append(cleanEnv(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, stderr: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	type ready struct{ addr, pprof string }
	readyc := make(chan ready, 1)
	go func() {
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 1024)
		sent := false
		for {
			n, err := stdout.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for !sent {
				i := strings.IndexByte(string(buf), '\n')
				if i < 0 {
					break
				}
				line := string(buf[:i])
				buf = buf[i+1:]
				if rest, ok := strings.CutPrefix(line, "management API listening on "); ok {
					f := strings.Fields(rest)
					r := ready{addr: f[0]}
					if len(f) == 3 && f[1] == "pprof" {
						r.pprof = f[2]
					}
					readyc <- r
					sent = true
				}
			}
			if sent {
				buf = buf[:0]
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case r := <-readyc:
		p.addr, p.pprofAddr = r.addr, r.pprof
	case <-p.done:
		return nil, fmt.Errorf("%s exited before listening (%v): %s", name, p.waitErr, p.stderr)
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not start: %s", name, p.stderr)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
	return p, waitAccepting(ctx, p.addr, 10*time.Second)
}

// driveConsumes sends consumes with fresh keys over cfg.Conns connections
// and measures the window; applied counts every consume answered 200, the
// warm-up included.
func driveConsumes(ctx context.Context, cfg loadConfig, srv *proc, adminKey string, packages int, profile string) (result, int64, error) {
	head := "POST /admin/v1/consume HTTP/1.1\r\nHost: " + srv.addr + "\r\nAuthorization: Bearer " + adminKey +
		"\r\nContent-Type: application/json\r\nContent-Length: "
	var applied atomic.Int64
	res, err := driveOps(ctx, cfg, srv, profile, func(w int) connOp {
		var req, body []byte
		return func(rc *rawConn, i int) error {
			body = fmt.Appendf(body[:0], `{"project_id":%q,"resource_id":"r-%02d","amount":1,"idempotency_key":"w%d-%d"}`,
				consumeProject, (w+i)%packages, w, i)
			req = append(append(strconv.AppendInt(append(req[:0], head...), int64(len(body)), 10), "\r\n\r\n"...), body...)
			status, _, err := rc.do(req, 30*time.Second)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("status %d", status)
			}
			if err == nil {
				applied.Add(1)
			}
			return err
		}
	})
	return res, applied.Load(), err
}

// connOp is one operation of a connection's loop: its i-th.
type connOp func(rc *rawConn, i int) error

// driveOps runs, on each of cfg.Conns connections, the operations newOp
// makes for it, back to back, and measures the window: the latency of each
// operation that completed in it, the server's CPU. A connection stops
// between operations, so an operation begun is finished.
func driveOps(ctx context.Context, cfg loadConfig, srv *proc, profile string, newOp func(w int) connOp) (result, error) {
	var (
		measuring, stop atomic.Bool
		errs            atomic.Int64
		firstErr        atomic.Pointer[string]
		wg              sync.WaitGroup
	)
	lats := make([][]time.Duration, cfg.Conns)
	for w := range cfg.Conns {
		wg.Go(func() {
			rc := &rawConn{addr: srv.addr}
			defer rc.close()
			op := newOp(w)
			for i := 0; !stop.Load() && ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := op(rc, i)
				el := time.Since(t0)
				if err != nil {
					if stop.Load() {
						return
					}
					errs.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					continue
				}
				if measuring.Load() {
					lats[w] = append(lats[w], el)
				}
			}
		})
	}
	sleep := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	sleep(cfg.Warmup)
	var profErr chan error
	if profile != "" && srv.pprofAddr != "" {
		profErr = make(chan error, 1)
		go func() { profErr <- fetchProfile(srv.pprofAddr, cfg.Duration, profile) }()
	}
	srv0, _ := srv.cpuTime()
	cpu0 := selfCPUTime()
	busy0, _ := machineCPU()
	start := time.Now()
	measuring.Store(true)
	sleep(cfg.Duration)
	measuring.Store(false)
	window := time.Since(start)
	srv1, _ := srv.cpuTime()
	cpu1 := selfCPUTime()
	busy1, _ := machineCPU()
	stop.Store(true)
	wg.Wait()
	if profErr != nil {
		if err := <-profErr; err != nil {
			return result{}, err
		}
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	res := result{Window: window, Errors: errs.Load(), Requests: int64(len(all)), RPS: float64(len(all)) / window.Seconds()}
	if p := firstErr.Load(); p != nil {
		res.FirstErr = *p
	}
	if len(all) > 0 {
		res.P50, res.P99, res.Max = quantile(all, 0.5), quantile(all, 0.99), all[len(all)-1]
	}
	res.ServerCPU = float64(srv1-srv0) / float64(window)
	res.ClientCPU = float64(cpu1-cpu0) / float64(window)
	res.OtherCPU = max(0, float64(busy1-busy0)/float64(window)-res.ServerCPU-res.ClientCPU)
	return res, ctx.Err()
}

// fsyncLoop is SQLite's baseline: how many durable 4 KiB writes one
// thread makes per second on the disk of dir.
func fsyncLoop(dir string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.WriteAt(buf, int64(n%256)*4096); err != nil {
			return 0, err
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchN is PostgreSQL's baseline: pgbench -N (the simple-update script)
// on a database of its own, allotbench_pgbench, created at the first run.
func pgbenchN(ctx context.Context, cfg consumeConfig, pin pinning) (float64, error) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return 0, fmt.Errorf("pgbench not installed")
	}
	u, err := url.Parse(cfg.DB)
	if err != nil {
		return 0, err
	}
	const dbname = "allotbench_pgbench"
	conn, err := pgx.Connect(ctx, cfg.DB)
	if err != nil {
		return 0, err
	}
	var exists bool
	conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, dbname).Scan(&exists)
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+dbname); err != nil {
			conn.Close(ctx)
			return 0, err
		}
	}
	conn.Close(ctx)
	env := append(os.Environ(), "PGHOST="+u.Hostname(), "PGUSER="+u.User.Username())
	if p := u.Port(); p != "" {
		env = append(env, "PGPORT="+p)
	}
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
	}
	if !exists {
		init := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", strconv.Itoa(cfg.PGBenchScale), dbname)
		init.Env = env
		if out, err := init.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("pgbench -i: %v: %s", err, out)
		}
	}
	argv := []string{"pgbench", "-N", "-n", "-c", strconv.Itoa(cfg.PGBenchClients), "-j", "1",
		"-T", strconv.Itoa(max(1, int(cfg.Load.Duration.Seconds()))), dbname}
	if pin.taskset != "" {
		argv = append([]string{pin.taskset, "-c", strconv.Itoa(pin.loadCPU)}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// serveAdminProfiled is allot serve's wiring (internal/app) with the
// management listener on, no request log and no rate limit, plus
// net/http/pprof on a second listener: the consume benchmark's profiled
// server.
func serveAdminProfiled(args []string) error {
	fs := flag.NewFlagSet("allot-admin-pprof", flag.ContinueOnError)
	db := fs.String("db", "", "SQLite file or postgres:// DSN")
	if err := fs.Parse(args); err != nil {
		return err
	}
	defer serveproc.Tune(os.Getenv)() // as allot serve does
	key, err := secret.ParseKey(os.Getenv("ALLOT_MASTER_KEY"))
	if err != nil {
		return err
	}
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		return err
	}
	ctx := context.Background()
	opened, err := app.OpenStore(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer opened.Close()
	a, err := app.Open(ctx, app.Config{Store: opened, Keyring: keyring, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(pln, http.DefaultServeMux)
	fmt.Printf("management API listening on %s pprof %s\n", a.Admin.Addr(), pln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return a.Close(sctx)
}
