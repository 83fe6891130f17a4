package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // served only by the profiling child, on its own listener
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/internal/serveproc"
	"github.com/allot-dev/allot/secret"
	"github.com/allot-dev/allot/sqlite"
)

// childEnv selects what a re-invoked allotbench (or test binary) runs.
const childEnv = "ALLOTBENCH_CHILD"

// runChild runs the child mode named by ALLOTBENCH_CHILD, if any, and
// reports whether it did.
func runChild() bool {
	var err error
	switch os.Getenv(childEnv) {
	case "":
		return false
	case "static":
		err = serveStatic(os.Args[1:])
	case "allot-pprof":
		err = serveAllotProfiled(os.Args[1:])
	case "allot-admin-pprof":
		err = serveAdminProfiled(os.Args[1:])
	default:
		err = fmt.Errorf("unknown %s=%q", childEnv, os.Getenv(childEnv))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "allotbench child:", err)
		os.Exit(1)
	}
	return true
}

// staticRequestID stands in for the per-request id allot sends, same length.
const staticRequestID = "00000000000000000000000000000000"

// serveStatic is the baseline: net/http serving one fixed body, as
// application/json with an X-Request-Id, for any request.
func serveStatic(args []string) error {
	fs := flag.NewFlagSet("static", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	bodyFile := fs.String("body", "", "file holding the response body")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ctype := []string{"application/json;charset=UTF-8"}
	rid := []string{staticRequestID}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = ctype
		hd["X-Request-Id"] = rid
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Printf("listening on %s\n", ln.Addr())
	return serveUntilSignal(srv, ln)
}

// serveAllotProfiled serves the tenant API through the wiring 'allot serve'
// uses (internal/app, over the SQLite store; the keyring from
// ALLOT_MASTER_KEY; no request log, no rate limit, no management listener), plus
// net/http/pprof on a second listener, so a CPU profile can be taken of the
// server under load. allot itself carries no profiling endpoint.
func serveAllotProfiled(args []string) error {
	fs := flag.NewFlagSet("allot-pprof", flag.ContinueOnError)
	db := fs.String("db", "", "SQLite file")
	addr := fs.String("addr", "127.0.0.1:0", "API listen address")
	pprofAddr := fs.String("pprof-addr", "127.0.0.1:0", "pprof listen address")
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
	opened, err := sqlite.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer opened.Close()
	a, err := app.Open(ctx, app.Config{Store: opened, Keyring: keyring, Addr: *addr})
	if err != nil {
		return err
	}
	srv := a.Tenant
	pln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		return err
	}
	go http.Serve(pln, http.DefaultServeMux)
	fmt.Printf("listening on %s pprof %s\n", srv.Addr(), pln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return a.Close(sctx)
}

func serveUntilSignal(srv *http.Server, ln net.Listener) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// proc is a server subprocess.
type proc struct {
	name      string
	cmd       *exec.Cmd
	addr      string // API address
	pprofAddr string // profiling child only
	stderr    *tailBuffer
	done      chan struct{}
	waitErr   error
}

// pinning describes how subprocesses and this process are placed on CPUs.
type pinning struct {
	taskset   string // path of taskset, "" when not pinning
	serverCPU int
	loadCPU   int
}

// start runs argv (pinned to the server CPU when pinning, GOMAXPROCS=1
// always) and waits until it prints "listening on ADDR" and ADDR accepts a
// connection, or the deadline passes.
func start(ctx context.Context, name string, pin pinning, env []string, argv ...string) (*proc, error) {
	if pin.taskset != "" {
		argv = append([]string{pin.taskset, "-c", strconv.Itoa(pin.serverCPU)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cleanEnv(), append([]string{"GOMAXPROCS=1"}, env...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, stderr: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()

	type ready struct{ addr, pprof string }
	readyc := make(chan ready, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "listening on "); ok && !sent {
				f := strings.Fields(rest)
				r := ready{addr: f[0]}
				if len(f) == 3 && f[1] == "pprof" {
					r.pprof = f[2]
				}
				readyc <- r
				sent = true
			}
		}
		io.Copy(io.Discard, stdout)
	}()

	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	select {
	case r := <-readyc:
		p.addr, p.pprofAddr = r.addr, r.pprof
	case <-p.done:
		return nil, fmt.Errorf("%s exited before listening (%v): %s", name, p.waitErr, p.stderr)
	case <-deadline.C:
		p.stop()
		return nil, fmt.Errorf("%s did not report its address within 30s: %s", name, p.stderr)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
	if err := waitAccepting(ctx, p.addr, 10*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// waitAccepting polls addr with connection attempts until one succeeds.
func waitAccepting(ctx context.Context, addr string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var d net.Dialer
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not accept connections: %w", addr, err)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits; after five seconds it kills.
func (p *proc) stop() error {
	if p == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	var exit *exec.ExitError
	if errors.As(p.waitErr, &exit) && exit.Exited() && exit.ExitCode() != 0 {
		return fmt.Errorf("%s exited with %v: %s", p.name, p.waitErr, p.stderr)
	}
	return nil
}

// cpuTime returns the CPU time the process has used so far (user + system).
func (p *proc) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// selfCPUTime returns this process's CPU time so far.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pinSelf restricts every thread of this process to cpu. Threads the runtime
// starts later inherit the mask from the thread that creates them.
func pinSelf(cpu int) error {
	var mask [16]uint64
	mask[cpu/64] |= 1 << (cpu % 64)
	for pass := 0; pass < 2; pass++ {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
			if errno != 0 && errno != syscall.ESRCH {
				return fmt.Errorf("sched_setaffinity: %w", errno)
			}
		}
	}
	return nil
}

// buildAllot builds the allot command into dir.
func buildAllot(ctx context.Context, dir string) (string, error) {
	gobin, err := goBinary()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "allot")
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, "github.com/allot-dev/allot/cmd/allot")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build allot/cmd/allot: %v\n%s", err, b)
	}
	return out, nil
}

// buildAllotRev builds allot/cmd/allot as committed at git revision rev,
// from a copy of that tree exported into dir.
func buildAllotRev(ctx context.Context, dir, rev string) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	root, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse: %w", err)
	}
	archive := exec.CommandContext(ctx, "git", "-C", strings.TrimSpace(string(root)), "archive", "--format=tar", rev)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var stderr bytes.Buffer
	archive.Stderr, untar.Stderr = &stderr, &stderr
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		untar.Wait()
		return "", fmt.Errorf("git archive %s: %v: %s", rev, err, stderr.String())
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("tar: %v: %s", err, stderr.String())
	}
	gobin, err := goBinary()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "allot")
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, "./cmd/allot")
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/allot at %s: %v\n%s", rev, err, b)
	}
	return out, nil
}

// serveArgs returns the arguments of 'allot serve' for the benchmark:
// the database, a free port, no request log, and, where the binary has
// them, the management API off and no rate limit.
func serveArgs(ctx context.Context, allotBin, db string) []string {
	args := []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--log-requests=false"}
	help, _ := exec.CommandContext(ctx, allotBin, "serve", "-h").CombinedOutput()
	if bytes.Contains(help, []byte("-admin-addr")) {
		args = append(args, "--admin-addr", "off")
	}
	if bytes.Contains(help, []byte("-rate-limit")) {
		args = append(args, "--rate-limit", "0")
	}
	return args
}

// cleanEnv is this process's environment without ALLOT_* settings, so the
// servers run with the benchmark's configuration only.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALLOT_") && !strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	return env
}

func masterKeyEnv(key []byte) string {
	return "ALLOT_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// machineCPU returns the CPU time all CPUs spent busy, and stolen by the
// hypervisor, since boot (from /proc/stat).
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	var ticks [8]int64
	for i := range ticks {
		ticks[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	b0 := ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
	return time.Duration(b0) * time.Second / clockTicks, time.Duration(ticks[7]) * time.Second / clockTicks
}

// goBinary finds the go command: on PATH, else in $GOROOT/bin.
func goBinary() (string, error) {
	if gobin, err := exec.LookPath("go"); err == nil {
		return gobin, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go"), nil
	}
	return "", errors.New("the go command is not on PATH and GOROOT is not set")
}
