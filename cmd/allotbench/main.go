// Command allotbench measures allot's list endpoint under load.
//
// It seeds a SQLite file through the store's Import (1,000,000 resources over
// 10,000 projects by default; a file seeded before is reused), builds and
// starts 'allot serve' on it, and drives GET /v1/{project}/tenants/resources
// with AK/SK-signed requests over keep-alive connections from this process.
// Every scenario is run first against a static net/http handler that returns
// a body of the same size (the same bytes allot returned), then against
// allot, so their ratio is measured on the same machine in the same run.
//
// With two or more CPUs and taskset(1) available, the servers run on one
// CPU (--server-cpu, GOMAXPROCS=1) and the load generator on another
// (--load-cpu, GOMAXPROCS=1).
//
// Usage:
//
//	go run ./cmd/allotbench [flags]
//
// See BENCHMARKS.md for results and how to read them.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/allot-dev/allot/internal/progress"
)

func main() {
	if runChild() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "import" {
		// The import benchmark (importbench.go).
		if err := runImportBench(ctx, os.Args[2:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "allotbench import:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "consume" {
		// The consume benchmark (consume.go).
		if err := runConsumeBench(ctx, os.Args[2:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "allotbench consume:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "allotbench:", err)
		os.Exit(2)
	}
	cfg.Progress = progress.Terminal(os.Stderr)
	rep, err := run(ctx, cfg, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "allotbench:", err)
		os.Exit(1)
	}
	if cfg.Strict && !rep.Pass {
		os.Exit(3)
	}
}

// config is everything a run needs.
type config struct {
	DB         string
	Layout     layout
	Batch      int
	DeepOffset int
	Scenarios  []string
	Load       loadConfig
	Prime      bool
	Allot      string   // prebuilt allot binary; built when empty
	AllotRev   string   // git revision to build allot from, instead of the working tree
	ServerEnv  []string // extra environment of the allot server, e.g. GOGC=200
	Pin        bool
	ServerCPU  int
	LoadCPU    int
	ProfileDir string
	SeedOnly   bool
	Strict     bool
	Retries    int       // extra attempts of a noisy scenario
	Repeat     int       // pairs measured per scenario; the median is reported
	MaxNoise   float64   // CPUs used by other work above which a run is noisy
	Progress   io.Writer // progress bars; nil for none
	Args       []string  // the command line, for the report
}

var allScenarios = []string{"small", "big", "deep", "random"}

// extraScenarios run only when named in --scenarios.
var extraScenarios = []string{"fairness"}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{Args: args}
	fs := flag.NewFlagSet("allotbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", "", "SQLite file or postgres:// DSN (an empty database) to seed or reuse (default: a SQLite file under the temp dir named after the layout, reused by later runs)")
	fs.IntVar(&cfg.Layout.Projects, "projects", 10_000, "projects to seed")
	fs.IntVar(&cfg.Layout.Resources, "resources", 1_000_000, "resources to seed, in total")
	fs.IntVar(&cfg.Layout.Big, "big", 100_000, "resources of the big tenant (all match the benchmark filter)")
	fs.IntVar(&cfg.Layout.Small, "small", 100, "resources of the small tenant")
	fs.IntVar(&cfg.Batch, "batch", 20_000, "resources per Import batch")
	fs.IntVar(&cfg.DeepOffset, "deep-offset", -1, "offset of the deep page of the big tenant (default: half of --big, 50000)")
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "scenarios to run, comma-separated: "+strings.Join(allScenarios, ", ")+
		"; and, only when named, fairness (another tenant's latency beside a client sending the big tenant a new filter per request)")
	fs.IntVar(&cfg.Load.Conns, "conns", 64, "concurrent keep-alive connections")
	fs.DurationVar(&cfg.Load.Warmup, "warmup", 2*time.Second, "warm-up before each measured window")
	fs.DurationVar(&cfg.Load.Duration, "duration", 10*time.Second, "measured window of each run")
	fs.StringVar(&cfg.Load.Client, "client", "raw", "load generator client: raw (pre-serialized requests on keep-alive connections, cheap enough for one CPU to saturate a one-CPU server) or nethttp (net/http's Client)")
	fs.BoolVar(&cfg.Prime, "prime", true, "random scenario: request every tenant once before the warm-up, so the window measures a warm cache (the priming rate is reported)")
	fs.StringVar(&cfg.Allot, "allot", "", "allot binary to run (default: go build allot/cmd/allot)")
	fs.StringVar(&cfg.AllotRev, "allot-rev", "", "build allot from this git revision (e.g. HEAD) instead of the working tree")
	fs.Func("server-env", "KEY=VALUE added to the allot server's environment, e.g. GOGC=200 (repeatable)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		cfg.ServerEnv = append(cfg.ServerEnv, v)
		return nil
	})
	fs.BoolVar(&cfg.Pin, "pin", true, "pin the servers and the load generator to separate CPUs (needs taskset and two CPUs)")
	fs.IntVar(&cfg.ServerCPU, "server-cpu", 0, "CPU for the servers")
	fs.IntVar(&cfg.LoadCPU, "load-cpu", 1, "CPU for the load generator")
	fs.StringVar(&cfg.ProfileDir, "cpuprofile", "", "directory for CPU profiles of the allot server, one per scenario (of its last measured pair); the server then runs as an allotbench child wired like 'allot serve', plus net/http/pprof, instead of the allot binary")
	fs.BoolVar(&cfg.SeedOnly, "seed-only", false, "seed (or check) the database and exit")
	fs.IntVar(&cfg.Repeat, "repeat", 1, "measure each scenario's static/allot pair this many times and report the pair with the median ratio")
	fs.IntVar(&cfg.Retries, "retries", 3, "measure a scenario again, up to this many times, when other work on the machine used more than --max-noise CPUs during it")
	fs.Float64Var(&cfg.MaxNoise, "max-noise", 0.10, "CPUs used by other processes (or stolen by the hypervisor) above which a run counts as noisy")
	fs.BoolVar(&cfg.Strict, "strict", false, "exit with status 3 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(*scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !contains(allScenarios, s) && !contains(extraScenarios, s) {
			return cfg, fmt.Errorf("--scenarios: unknown scenario %q", s)
		}
		cfg.Scenarios = append(cfg.Scenarios, s)
	}
	if cfg.Load.Client != "raw" && cfg.Load.Client != "nethttp" {
		return cfg, fmt.Errorf("--client %q: want raw or nethttp", cfg.Load.Client)
	}
	if cfg.Repeat < 1 {
		return cfg, errors.New("--repeat must be at least 1")
	}
	if cfg.Batch < 1 || cfg.Load.Conns < 1 || cfg.Load.Duration <= 0 || cfg.Load.Warmup < 0 {
		return cfg, errors.New("--batch, --conns and --duration must be positive, --warmup not negative")
	}
	if cfg.DeepOffset == -1 {
		cfg.DeepOffset = cfg.Layout.Big / 2
	}
	if cfg.DeepOffset < 0 || cfg.DeepOffset >= cfg.Layout.Big {
		return cfg, errors.New("--deep-offset must lie within the big tenant")
	}
	return cfg, cfg.Layout.validate()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// filter is the benchmark's filter: every source, the API's required
// parameter, which every seeded resource matches.
const filter = "resource_source=PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED&limit=10"

// scenario is one workload.
type scenario struct {
	name    string
	desc    string
	targets []target
	want    int // expected count in the response, -1 when it varies
}

func scenarios(cfg config) []scenario {
	l := cfg.Layout
	var out []scenario
	for _, name := range cfg.Scenarios {
		switch name {
		case "small":
			out = append(out, scenario{name, fmt.Sprintf("small tenant (%d matches), first page", l.Small), []target{{1, filter}}, l.Small})
		case "big":
			out = append(out, scenario{name, fmt.Sprintf("big tenant (%d matches), first page", l.Big), []target{{0, filter}}, l.Big})
		case "deep":
			out = append(out, scenario{name, fmt.Sprintf("big tenant, offset %d", cfg.DeepOffset), []target{{0, filter + "&offset=" + strconv.Itoa(cfg.DeepOffset)}}, l.Big})
		case "random":
			ts := make([]target, l.Projects)
			for i := range ts {
				ts[i] = target{i, filter}
			}
			out = append(out, scenario{name, fmt.Sprintf("random tenant of %d per request, first page", l.Projects), ts, -1})
		}
	}
	return out
}

// row is one scenario's pair of runs.
type row struct {
	scenario      scenario
	bodyBytes     int
	static, allot result
	prime         *primeResult
	// attempts counts the pairs measured; all but the reported one were
	// discarded (as noisy, or as not the median), but their errors count.
	attempts        int
	discardedErrors int64
	noise           float64   // CPUs other work used during the reported pair, at most
	ratios          []float64 // allot/static of every repetition, sorted
}

func (r row) ratio() float64 {
	if r.static.RPS == 0 {
		return 0
	}
	return r.allot.RPS / r.static.RPS
}

// report is what a run measured.
type report struct {
	Allot    string // where the allot binary came from
	Seed     *seedResult
	Pinned   bool
	Rows     []row
	Fairness *fairnessResult
	Checks   []check
	Pass     bool
}

type check struct {
	what   string
	got    string
	target string
	ok     bool
}

func defaultDB(l layout) string {
	return filepath.Join(os.TempDir(), "allotbench", fmt.Sprintf("seed-v%d-%dp-%dr-%db-%ds.db", seedVersion, l.Projects, l.Resources, l.Big, l.Small))
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (*report, error) {
	if cfg.DB == "" {
		cfg.DB = defaultDB(cfg.Layout)
	}
	rep := &report{}
	sd, err := seed(ctx, cfg.DB, cfg.Layout, cfg.Batch, cfg.Progress, stderr)
	if err != nil {
		return nil, err
	}
	rep.Seed = sd
	if cfg.SeedOnly {
		return rep, nil
	}

	tmp, err := os.MkdirTemp("", "allotbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	allotBin := cfg.Allot
	rep.Allot = "binary " + allotBin
	switch {
	case cfg.ProfileDir != "":
		rep.Allot = "an allotbench child wired like cmd/allot/serve.go, built from the working tree, profiled"
	case allotBin != "":
	case cfg.AllotRev != "":
		rep.Allot = "built from git revision " + cfg.AllotRev
		if id, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", cfg.AllotRev).Output(); err == nil {
			rep.Allot += " (" + strings.TrimSpace(string(id)) + ")"
		}
		fmt.Fprintf(stderr, "building allot/cmd/allot at %s\n", cfg.AllotRev)
		if allotBin, err = buildAllotRev(ctx, tmp, cfg.AllotRev); err != nil {
			return nil, err
		}
	default:
		rep.Allot = "built from the working tree"
		fmt.Fprintln(stderr, "building allot/cmd/allot")
		if allotBin, err = buildAllot(ctx, tmp); err != nil {
			return nil, err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}

	var pin pinning
	if cfg.Pin {
		ts, lerr := exec.LookPath("taskset")
		switch {
		case lerr != nil:
			fmt.Fprintln(stderr, "taskset not found: running unpinned")
		case cfg.ServerCPU == cfg.LoadCPU:
			fmt.Fprintln(stderr, "--server-cpu equals --load-cpu: running unpinned")
		default:
			if err := pinSelf(cfg.LoadCPU); err != nil {
				fmt.Fprintf(stderr, "cannot pin the load generator to CPU %d (%v): running unpinned\n", cfg.LoadCPU, err)
			} else {
				pin = pinning{taskset: ts, serverCPU: cfg.ServerCPU, loadCPU: cfg.LoadCPU}
				rep.Pinned = true
			}
		}
	}
	runtime.GOMAXPROCS(1)

	env := append([]string{masterKeyEnv(sd.MasterKey)}, cfg.ServerEnv...)
	var srv *proc
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
		srv, err = start(ctx, "allot (profiled)", pin, append(env, childEnv+"=allot-pprof"), self, "--db", cfg.DB)
	} else {
		srv, err = start(ctx, "allot serve", pin, env, append([]string{allotBin}, serveArgs(ctx, allotBin, cfg.DB)...)...)
	}
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	for _, sc := range scenarios(cfg) {
		r, err := runScenario(ctx, cfg, sd, sc, srv, pin, self, tmp, stderr)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		rep.Rows = append(rep.Rows, r)
	}
	if contains(cfg.Scenarios, "fairness") {
		if rep.Fairness, err = runFairness(ctx, cfg, sd, srv, stderr); err != nil {
			return nil, fmt.Errorf("scenario fairness: %w", err)
		}
	}
	if err := srv.stop(); err != nil {
		return nil, err
	}
	srv = nil
	rep.evaluate(cfg)
	rep.print(stdout, cfg)
	return rep, nil
}

func runScenario(ctx context.Context, cfg config, sd *seedResult, sc scenario, srv *proc, pin pinning, self, tmp string, log io.Writer) (row, error) {
	r := row{scenario: sc}
	// One request to allot gives the body the static handler will serve
	// and checks the answer.
	sample, err := signPool(srv.addr, sc.targets[:1], sd.Secrets, time.Now())
	if err != nil {
		return r, err
	}
	body, err := fetch(ctx, sample[0], sc.want)
	if err != nil {
		return r, err
	}
	r.bodyBytes = len(body)
	bodyFile := filepath.Join(tmp, sc.name+".json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return r, err
	}

	pool, err := signPool(srv.addr, sc.targets, sd.Secrets, time.Now())
	if err != nil {
		return r, err
	}
	if sc.name == "random" && cfg.Prime {
		p, err := prime(ctx, cfg.Load.Conns, pool)
		if err != nil {
			return r, err
		}
		r.prime = &p
		fmt.Fprintf(log, "%-7s prime:  %d tenants in %v (%.0f/s), %d errors %s\n", sc.name, p.n, p.took.Round(time.Millisecond), float64(p.n)/p.took.Seconds(), p.errors, p.firstErr)
	}
	profile := ""
	if cfg.ProfileDir != "" {
		profile = filepath.Join(cfg.ProfileDir, "allot-"+sc.name+".pprof")
	}

	// Each repetition measures a static/allot pair, again while the
	// machine was busy with other work; the pair with the median ratio is
	// reported.
	var pairs []pair
	for rep := 1; rep <= cfg.Repeat; rep++ {
		var best *pair
		for attempt := 1; ; attempt++ {
			p, err := measurePair(ctx, cfg, sd, sc, srv, pin, self, bodyFile, profile, log)
			if err != nil {
				return r, err
			}
			r.attempts++
			if best == nil || p.noise < best.noise {
				if best != nil {
					r.discardedErrors += best.static.Errors + best.allot.Errors
				}
				best = &p
			} else {
				r.discardedErrors += p.static.Errors + p.allot.Errors
			}
			if p.noise <= cfg.MaxNoise || attempt > cfg.Retries {
				break
			}
			fmt.Fprintf(log, "%-7s the machine was busy with other work (%.2f CPUs): measuring again\n", sc.name, p.noise)
		}
		pairs = append(pairs, *best)
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.ratio(), b.ratio()) })
	med := pairs[(len(pairs)-1)/2]
	for _, p := range pairs {
		r.ratios = append(r.ratios, p.ratio())
		if p != med {
			r.discardedErrors += p.static.Errors + p.allot.Errors
		}
	}
	r.static, r.allot, r.noise = med.static, med.allot, med.noise
	return r, nil
}

// pair is one static run and the allot run after it.
type pair struct {
	static, allot result
	noise         float64 // CPUs other work used during the busier of the two
}

func (p pair) ratio() float64 {
	if p.static.RPS == 0 {
		return 0
	}
	return p.allot.RPS / p.static.RPS
}

func measurePair(ctx context.Context, cfg config, sd *seedResult, sc scenario, srv *proc, pin pinning, self, bodyFile, profile string, log io.Writer) (pair, error) {
	var p pair
	static, err := start(ctx, "static", pin, []string{childEnv + "=static"}, self, "--addr", "127.0.0.1:0", "--body", bodyFile)
	if err != nil {
		return p, err
	}
	spool, err := signPool(static.addr, sc.targets, sd.Secrets, time.Now())
	if err != nil {
		static.stop()
		return p, err
	}
	fmt.Fprintf(log, "%-7s static: ", sc.name)
	p.static, err = drive(ctx, cfg.Load, spool, static, "")
	if serr := static.stop(); err == nil {
		err = serr
	}
	if err != nil {
		return p, err
	}
	fmt.Fprintln(log, summary(p.static))

	// Signed afresh for every run, so the dates stay recent however long
	// the repetitions take.
	pool, err := signPool(srv.addr, sc.targets, sd.Secrets, time.Now())
	if err != nil {
		return p, err
	}
	fmt.Fprintf(log, "%-7s allot:  ", sc.name)
	if p.allot, err = drive(ctx, cfg.Load, pool, srv, profile); err != nil {
		return p, err
	}
	fmt.Fprintf(log, "%s; ratio %.2f\n", summary(p.allot), p.ratio())
	p.noise = max(p.static.OtherCPU+p.static.Steal, p.allot.OtherCPU+p.allot.Steal)
	return p, nil
}

func summary(r result) string {
	s := fmt.Sprintf("%.0f req/s, p50 %v, p99 %v, %d errors, CPU: server %.2f, client %.2f, other %.2f, steal %.2f",
		r.RPS, fmtDur(r.P50), fmtDur(r.P99), r.Errors, r.ServerCPU, r.ClientCPU, r.OtherCPU, r.Steal)
	if r.FirstErr != "" {
		s += " (first error: " + r.FirstErr + ")"
	}
	return s
}

// fetch sends one request and checks it answers 200 with the expected count.
func fetch(ctx context.Context, req *http.Request, want int) ([]byte, error) {
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", req.URL.Path, resp.Status, body)
	}
	var page struct {
		Count     int               `json:"count"`
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("%s: %w", req.URL.Path, err)
	}
	if want >= 0 && page.Count != want {
		return nil, fmt.Errorf("%s: count %d, want %d", req.URL.Path, page.Count, want)
	}
	if len(page.Resources) == 0 {
		return nil, fmt.Errorf("%s: empty page", req.URL.Path)
	}
	return body, nil
}

type primeResult struct {
	n, errors int
	firstErr  string
	took      time.Duration
}

// prime requests every entry of pool once over conns connections.
func prime(ctx context.Context, conns int, pool []*http.Request) (primeResult, error) {
	client := newClient(conns)
	defer client.CloseIdleConnections()
	start := time.Now()
	var (
		next     atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Pointer[string]
		wg       sync.WaitGroup
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(pool)) {
					return
				}
				req := new(http.Request)
				*req = *pool[i]
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = errors.New(resp.Status)
					}
				}
				if err != nil {
					errs.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
				}
			}
		}()
	}
	wg.Wait()
	p := primeResult{n: len(pool), errors: int(errs.Load()), took: time.Since(start)}
	if m := firstErr.Load(); m != nil {
		p.firstErr = *m
	}
	return p, ctx.Err()
}

// Targets from the issue.
const (
	targetRatio    = 0.30
	targetP99      = 50 * time.Millisecond
	targetBigSmall = 0.5
)

func (rep *report) evaluate(cfg config) {
	byName := map[string]row{}
	for _, r := range rep.Rows {
		byName[r.scenario.name] = r
	}
	add := func(what, got, target string, ok bool) {
		rep.Checks = append(rep.Checks, check{what, got, target, ok})
	}
	for _, name := range []string{"small", "big"} {
		r, ok := byName[name]
		if !ok {
			continue
		}
		add(name+" first page: allot/static req/s", fmt.Sprintf("%.2f", r.ratio()), fmt.Sprintf(">= %.2f", targetRatio), r.ratio() >= targetRatio)
		add(fmt.Sprintf("%s first page: p99 at %d connections", name, cfg.Load.Conns), fmtDur(r.allot.P99), "< "+fmtDur(targetP99), r.allot.P99 < targetP99)
	}
	errs := int64(0)
	for _, r := range rep.Rows {
		errs += r.allot.Errors + r.static.Errors + r.discardedErrors
		if r.prime != nil {
			errs += int64(r.prime.errors)
		}
	}
	if f := rep.Fairness; f != nil {
		for _, p := range f.phases {
			errs += p.victim.errors + p.heavy.errors
		}
		add("fairness: victim p99 beside the heavy client / alone", fmt.Sprintf("%.2f", f.ratio()), fmt.Sprintf("<= %.2f", targetFairness), f.ratio() > 0 && f.ratio() <= targetFairness)
		heavy := f.phases[len(f.phases)-1].heavy
		add("fairness: heavy client's answers/s", fmt.Sprintf("%.0f", heavy.rps), "> 0", heavy.rps > 0)
	}
	add("errors, all runs", strconv.FormatInt(errs, 10), "0", errs == 0)
	if b, ok := byName["big"]; ok {
		if s, ok := byName["small"]; ok && s.allot.RPS > 0 {
			x := b.allot.RPS / s.allot.RPS
			add("big/small tenant req/s (allot)", fmt.Sprintf("%.2f", x), fmt.Sprintf(">= %.2f", targetBigSmall), x >= targetBigSmall)
		}
	}
	rep.Pass = true
	for _, c := range rep.Checks {
		rep.Pass = rep.Pass && c.ok
	}
}

func (rep *report) print(w io.Writer, cfg config) {
	fmt.Fprintf(w, "\nallotbench %s\n", strings.Join(cfg.Args, " "))
	fmt.Fprintf(w, "%s %s/%s, %d CPUs; ", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if rep.Pinned {
		fmt.Fprintf(w, "servers on CPU %d, load generator on CPU %d, GOMAXPROCS=1 each\n", cfg.ServerCPU, cfg.LoadCPU)
	} else {
		fmt.Fprintln(w, "unpinned, GOMAXPROCS=1 each")
	}
	fmt.Fprintf(w, "allot: %s", rep.Allot)
	if len(cfg.ServerEnv) > 0 {
		fmt.Fprintf(w, ", server environment %s", strings.Join(cfg.ServerEnv, " "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "data: %d projects, %d resources (big tenant %d, small %d) in %s", cfg.Layout.Projects, cfg.Layout.Resources, cfg.Layout.Big, cfg.Layout.Small, cfg.DB)
	if rep.Seed.Reused {
		fmt.Fprintln(w, ", reused")
	} else {
		fmt.Fprintf(w, ", seeded in %v (resources %v, %.0f rows/s; %d credentials %v)\n",
			rep.Seed.Took.Round(time.Millisecond), rep.Seed.RowsTook.Round(time.Millisecond),
			float64(cfg.Layout.Resources)/rep.Seed.RowsTook.Seconds(), cfg.Layout.Projects, rep.Seed.CredsTook.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "load: %d connections (%s client), %v warm-up + %v measured per run, requests pre-signed (SDK-HMAC-SHA256)\n\n",
		cfg.Load.Conns, cfg.Load.Client, cfg.Load.Warmup, cfg.Load.Duration)

	fmt.Fprintln(w, "| scenario | server | req/s | p50 | p99 | max | errors | CPU server / client / other | body bytes | allot/static |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Rows {
		for _, side := range []struct {
			name string
			res  result
		}{{"static", r.static}, {"allot", r.allot}} {
			ratio := ""
			if side.name == "allot" {
				ratio = fmt.Sprintf("%.2f", r.ratio())
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %s | %d | %.2f / %.2f / %.2f | %d | %s |\n",
				r.scenario.desc, side.name, side.res.RPS, fmtDur(side.res.P50), fmtDur(side.res.P99), fmtDur(side.res.Max),
				side.res.Errors, side.res.ServerCPU, side.res.ClientCPU, side.res.OtherCPU+side.res.Steal, r.bodyBytes, ratio)
		}
	}
	var notes []string
	for _, r := range rep.Rows {
		if len(r.ratios) > 1 {
			rs := make([]string, len(r.ratios))
			for i, x := range r.ratios {
				rs[i] = fmt.Sprintf("%.2f", x)
			}
			notes = append(notes, fmt.Sprintf("%s: the pair with the median ratio of %d is shown; all ratios: %s.", r.scenario.name, len(r.ratios), strings.Join(rs, ", ")))
		}
		if r.attempts > len(r.ratios) {
			notes = append(notes, fmt.Sprintf("%s: %d pairs measured, %d discarded because other work shared the CPUs (the shown pair: %.2f CPUs of other work).", r.scenario.name, r.attempts, r.attempts-len(r.ratios), r.noise))
		}
		if r.prime != nil {
			notes = append(notes, fmt.Sprintf("%s: before its runs, every tenant was requested once (cold loads into the read model): %d tenants in %v, %.0f tenants/s, %d errors.",
				r.scenario.name, r.prime.n, r.prime.took.Round(time.Millisecond), float64(r.prime.n)/r.prime.took.Seconds(), r.prime.errors))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range notes {
		fmt.Fprintln(w, "- "+n)
	}
	if rep.Fairness != nil {
		rep.Fairness.print(w)
	}
	fmt.Fprintln(w, "\n| target | measured | wanted | |")
	fmt.Fprintln(w, "|---|---:|---:|---|")
	for _, c := range rep.Checks {
		mark := "met"
		if !c.ok {
			mark = "MISSED"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c.what, c.got, c.target, mark)
	}
}

// fmtDur prints a latency in milliseconds with two decimals.
func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}
