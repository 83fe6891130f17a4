package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The fairness scenario: does a client that sends the big tenant a new
// filter on every request (each one a build of a match list over its
// 100,000 resources) slow down another tenant?
//
// One allot server, two phases in the same run. Both run the victim: the
// small tenant's first page, from victimConns connections, each sending a
// request every victimInterval (an open loop: latency is counted from the
// time a request was due, so a server that falls behind shows it, and the
// victim's own load is the same in both phases and far below what the
// server can do). The second phase adds the heavy client: heavyConns
// connections in a closed loop, each request to the big tenant with an
// expiry window no request before used. The result is the victim's p99 in
// both phases and their ratio (the target: at most 2), and how many answers
// the heavy client got.
const (
	victimConns    = 4
	victimInterval = 2 * time.Millisecond // 500 requests/s per connection
	heavyConns     = 6
	heavyFilters   = 40_000 // distinct filters signed for the heavy client
	targetFairness = 2.0
)

// fairnessPhase is what one phase measured.
type fairnessPhase struct {
	name          string
	victim, heavy loadStats
	serverCPU     float64
	otherCPU      float64 // CPUs used by other work on the machine
}

// loadStats is one client's side of a phase.
type loadStats struct {
	requests, errors int64
	firstErr         string
	rps              float64
	p50, p99, max    time.Duration
}

type fairnessResult struct {
	prime  *primeResult
	phases []fairnessPhase
}

func (f *fairnessResult) ratio() float64 {
	if len(f.phases) < 2 || f.phases[0].victim.p99 == 0 {
		return 0
	}
	return float64(f.phases[1].victim.p99) / float64(f.phases[0].victim.p99)
}

func runFairness(ctx context.Context, cfg config, sd *seedResult, srv *proc, log io.Writer) (*fairnessResult, error) {
	res := &fairnessResult{}
	if cfg.Prime {
		// Every tenant in the read model, as on a server that has served
		// them all: the garbage collector then has the whole model to walk.
		ts := make([]target, cfg.Layout.Projects)
		for i := range ts {
			ts[i] = target{i, filter}
		}
		pool, err := signPool(srv.addr, ts, sd.Secrets, time.Now())
		if err != nil {
			return nil, err
		}
		p, err := prime(ctx, cfg.Load.Conns, pool)
		if err != nil {
			return nil, err
		}
		res.prime = &p
		fmt.Fprintf(log, "fairness prime: %d tenants in %v, %d errors %s\n", p.n, p.took.Round(time.Millisecond), p.errors, p.firstErr)
	}
	victim, err := signWires(srv.addr, []target{{1, filter}}, sd.Secrets)
	if err != nil {
		return nil, err
	}
	heavyTargets := make([]target, heavyFilters)
	for i := range heavyTargets {
		from := seedEpoch.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		heavyTargets[i] = target{0, filter + "&resource_expire_start_time=" + from}
	}
	heavy, err := signWires(srv.addr, heavyTargets, sd.Secrets)
	if err != nil {
		return nil, err
	}
	var next atomic.Int64 // the heavy client's next filter, across both phases
	for _, ph := range []struct {
		name  string
		heavy int
	}{{"victim alone", 0}, {fmt.Sprintf("victim + %d heavy connections", heavyConns), heavyConns}} {
		p, err := fairnessRun(ctx, cfg.Load, srv, victim[0], heavy, &next, ph.heavy)
		if err != nil {
			return nil, err
		}
		p.name = ph.name
		fmt.Fprintf(log, "fairness %s: victim %.0f req/s p50 %v p99 %v errors %d; heavy %.0f req/s p99 %v errors %d; CPU server %.2f other %.2f\n",
			p.name, p.victim.rps, fmtDur(p.victim.p50), fmtDur(p.victim.p99), p.victim.errors,
			p.heavy.rps, fmtDur(p.heavy.p99), p.heavy.errors, p.serverCPU, p.otherCPU)
		res.phases = append(res.phases, p)
	}
	if int(next.Load()) >= len(heavy) {
		fmt.Fprintf(log, "fairness: the heavy client ran out of distinct filters (%d): later requests repeated them\n", len(heavy))
	}
	return res, nil
}

// signWires signs one request per target and returns their bytes.
func signWires(addr string, ts []target, secrets []string) ([][]byte, error) {
	pool, err := signPool(addr, ts, secrets, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(pool))
	for i, r := range pool {
		if out[i], err = wire(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fairnessRun runs the victim, and heavyN heavy connections, for a warm-up
// and a measured window.
func fairnessRun(ctx context.Context, lc loadConfig, srv *proc, victim []byte, heavy [][]byte, next *atomic.Int64, heavyN int) (fairnessPhase, error) {
	var (
		measuring, stop atomic.Bool
		wg              sync.WaitGroup
		mu              sync.Mutex
		victimLat       []time.Duration
		heavyLat        []time.Duration
		victimErr       errCount
		heavyErr        errCount
	)
	record := func(dst *[]time.Duration, lat []time.Duration) {
		mu.Lock()
		*dst = append(*dst, lat...)
		mu.Unlock()
	}
	for w := range victimConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := &rawConn{addr: srv.addr}
			defer rc.close()
			var lat []time.Duration
			// Connections start spread over one interval.
			due := time.Now().Add(time.Duration(w) * victimInterval / victimConns)
			for !stop.Load() && ctx.Err() == nil {
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				status, _, err := rc.do(victim, 10*time.Second)
				el := time.Since(due)
				due = due.Add(victimInterval)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("status %d", status)
				}
				if err != nil {
					if !stop.Load() {
						victimErr.add(err)
					}
					continue
				}
				if measuring.Load() {
					lat = append(lat, el)
				}
			}
			record(&victimLat, lat)
		}()
	}
	for range heavyN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := &rawConn{addr: srv.addr}
			defer rc.close()
			var lat []time.Duration
			for !stop.Load() && ctx.Err() == nil {
				req := heavy[int(next.Add(1)-1)%len(heavy)]
				t0 := time.Now()
				status, _, err := rc.do(req, 30*time.Second)
				el := time.Since(t0)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("status %d", status)
				}
				if err != nil {
					if !stop.Load() {
						heavyErr.add(err)
					}
					continue
				}
				if measuring.Load() {
					lat = append(lat, el)
				}
			}
			record(&heavyLat, lat)
		}()
	}
	sleep := func(d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := sleep(lc.Warmup)
	srvCPU0, _ := srv.cpuTime()
	cpu0 := selfCPUTime()
	busy0, steal0 := machineCPU()
	start := time.Now()
	measuring.Store(true)
	if err == nil {
		err = sleep(lc.Duration)
	}
	measuring.Store(false)
	window := time.Since(start)
	srvCPU1, _ := srv.cpuTime()
	cpu1 := selfCPUTime()
	busy1, steal1 := machineCPU()
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return fairnessPhase{}, err
	}
	p := fairnessPhase{
		victim:    stats(victimLat, &victimErr, window),
		heavy:     stats(heavyLat, &heavyErr, window),
		serverCPU: float64(srvCPU1-srvCPU0) / float64(window),
	}
	clientCPU := float64(cpu1-cpu0) / float64(window)
	p.otherCPU = max(0, float64(busy1-busy0)/float64(window)-p.serverCPU-clientCPU) + float64(steal1-steal0)/float64(window)
	return p, nil
}

type errCount struct {
	n     atomic.Int64
	first atomic.Pointer[string]
}

func (e *errCount) add(err error) {
	e.n.Add(1)
	msg := err.Error()
	e.first.CompareAndSwap(nil, &msg)
}

func stats(lat []time.Duration, errs *errCount, window time.Duration) loadStats {
	slices.Sort(lat)
	s := loadStats{requests: int64(len(lat)), errors: errs.n.Load(), rps: float64(len(lat)) / window.Seconds()}
	if m := errs.first.Load(); m != nil {
		s.firstErr = *m
	}
	if len(lat) > 0 {
		s.p50, s.p99, s.max = quantile(lat, 0.50), quantile(lat, 0.99), lat[len(lat)-1]
	}
	return s
}

func (f *fairnessResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nFairness: the small tenant's first page from %d connections at %d requests/s each (open loop), alone and beside %d connections sending the big tenant a new filter per request\n\n",
		victimConns, int(time.Second/victimInterval), heavyConns)
	fmt.Fprintln(w, "| phase | victim req/s | victim p50 | victim p99 | victim max | heavy req/s | heavy p50 | heavy p99 | errors | CPU server / other |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, p := range f.phases {
		heavy := [3]string{"-", "-", "-"}
		if p.heavy.requests > 0 || p.heavy.errors > 0 {
			heavy = [3]string{strconv.FormatFloat(p.heavy.rps, 'f', 0, 64), fmtDur(p.heavy.p50), fmtDur(p.heavy.p99)}
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %d | %.2f / %.2f |\n", p.name, p.victim.rps, fmtDur(p.victim.p50), fmtDur(p.victim.p99), fmtDur(p.victim.max),
			heavy[0], heavy[1], heavy[2], p.victim.errors+p.heavy.errors, p.serverCPU, p.otherCPU)
	}
	if f.prime != nil {
		fmt.Fprintf(w, "\n- Before the phases every tenant was loaded (%d in %v).\n", f.prime.n, f.prime.took.Round(time.Millisecond))
	}
	for _, p := range f.phases {
		if e := p.victim.firstErr + p.heavy.firstErr; e != "" {
			fmt.Fprintf(w, "- %s: first error: %s\n", p.name, e)
		}
	}
}
