package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot/sign"
)

// target is one request the load generator may send: a tenant's page.
type target struct {
	project int    // index of the project
	query   string // raw query string
}

// signPool builds and signs one request per target against addr, the way an
// SDK client does (X-Project-Id, X-Sdk-Date, Authorization). Requests are
// signed once, before the run, and replayed: the server verifies each one
// in full whatever its origin, and a signature stays valid for the server's
// 15-minute clock skew, far longer than a run. Signing cost thus stays out
// of the load generator's loop.
func signPool(addr string, targets []target, secrets []string, now time.Time) ([]*http.Request, error) {
	pool := make([]*http.Request, len(targets))
	for i, t := range targets {
		pid := projectID(t.project)
		r, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/"+pid+"/tenants/resources?"+t.query, nil)
		if err != nil {
			return nil, err
		}
		r.Header.Set("X-Project-Id", pid)
		if err := sign.Sign(r, nil, accessKey(t.project), []byte(secrets[t.project]), now); err != nil {
			return nil, err
		}
		pool[i] = r
	}
	return pool, nil
}

// loadConfig is how hard and how long to drive a server.
type loadConfig struct {
	Conns    int
	Warmup   time.Duration
	Duration time.Duration
	// Client is "raw" (pre-serialized requests on plain keep-alive
	// connections) or "nethttp" (net/http's Client and Transport).
	Client string
}

// result is one measured run.
type result struct {
	Requests  int64         // completed in the measured window
	Errors    int64         // failed or non-200, warm-up included
	FirstErr  string        // the first failure, for the report
	Window    time.Duration // measured window
	RPS       float64
	P50, P99  time.Duration
	Max       time.Duration
	ServerCPU float64 // cores the server used during the window (1.0 = one core busy)
	ClientCPU float64 // cores this process used during the window
	// OtherCPU is the CPU time the rest of the machine used during the
	// window, in cores, and Steal what the hypervisor took: anything well
	// above zero means the run shared its CPUs and its numbers are noisy.
	OtherCPU, Steal float64
	Bytes           int64 // response bytes received in the window
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
		Timeout: 10 * time.Second,
	}
}

// drive sends requests from pool over cfg.Conns keep-alive connections,
// each connection's worker waiting for its response before the next
// request: a warm-up, then the measured window, then it stops. server, if
// not nil, is the process whose CPU time is measured; profile, if not
// empty, receives a CPU profile of the window from the server's pprof
// listener.
func drive(ctx context.Context, cfg loadConfig, pool []*http.Request, server *proc, profile string) (result, error) {
	client := newClient(cfg.Conns)
	defer client.CloseIdleConnections()

	var (
		measuring atomic.Bool
		stop      atomic.Bool
		errs      atomic.Int64
		firstErr  atomic.Pointer[string]
		wg        sync.WaitGroup
	)
	type workerStats struct {
		lat   []time.Duration
		bytes int64
	}
	var wires [][]byte
	if cfg.Client == "raw" {
		wires = make([][]byte, len(pool))
		for i, r := range pool {
			var err error
			if wires[i], err = wire(r); err != nil {
				return result{}, err
			}
		}
	}
	stats := make([]workerStats, cfg.Conns)
	expect := int(float64(cfg.Duration.Seconds())*30000/float64(cfg.Conns)) + 64
	for w := range cfg.Conns {
		stats[w].lat = make([]time.Duration, 0, expect)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			st := &stats[w]
			rc := &rawConn{addr: pool[0].URL.Host}
			defer rc.close()
			for !stop.Load() && ctx.Err() == nil {
				i := 0
				if len(pool) > 1 {
					i = rng.IntN(len(pool))
				}
				var (
					n   int64
					err error
				)
				t0 := time.Now()
				if wires != nil {
					var status int
					status, n, err = rc.do(wires[i], 10*time.Second)
					if err == nil && status != http.StatusOK {
						err = fmt.Errorf("status %d", status)
					}
				} else {
					req := new(http.Request)
					*req = *pool[i] // shares URL and Header, which the client only reads
					var resp *http.Response
					resp, err = client.Do(req)
					if err == nil {
						n, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err == nil && resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %s", resp.Status)
						}
					}
				}
				el := time.Since(t0)
				if err != nil {
					if stop.Load() {
						return // cut off by the end of the run
					}
					errs.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					continue
				}
				if measuring.Load() {
					st.lat = append(st.lat, el)
					st.bytes += n
				}
			}
		}(w)
	}

	wait := func(d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	finish := func() {
		stop.Store(true)
		wg.Wait()
	}
	if err := wait(cfg.Warmup); err != nil {
		finish()
		return result{}, err
	}

	var profErr chan error
	if profile != "" && server != nil && server.pprofAddr != "" {
		profErr = make(chan error, 1)
		go func() { profErr <- fetchProfile(server.pprofAddr, cfg.Duration, profile) }()
	}
	var srvCPU0 time.Duration
	if server != nil {
		srvCPU0, _ = server.cpuTime()
	}
	cpu0 := selfCPUTime()
	busy0, steal0 := machineCPU()
	start := time.Now()
	measuring.Store(true)
	err := wait(cfg.Duration)
	measuring.Store(false)
	window := time.Since(start)
	cpu1 := selfCPUTime()
	busy1, steal1 := machineCPU()
	var srvCPU1 time.Duration
	if server != nil {
		srvCPU1, _ = server.cpuTime()
	}
	finish()
	if err != nil {
		return result{}, err
	}
	if profErr != nil {
		if err := <-profErr; err != nil {
			return result{}, fmt.Errorf("cpu profile: %w", err)
		}
	}

	var all []time.Duration
	res := result{Window: window, Errors: errs.Load()}
	for _, st := range stats {
		all = append(all, st.lat...)
		res.Bytes += st.bytes
	}
	if p := firstErr.Load(); p != nil {
		res.FirstErr = *p
	}
	slices.Sort(all)
	res.Requests = int64(len(all))
	res.RPS = float64(len(all)) / window.Seconds()
	if len(all) > 0 {
		res.P50 = quantile(all, 0.50)
		res.P99 = quantile(all, 0.99)
		res.Max = all[len(all)-1]
	}
	res.ClientCPU = float64(cpu1-cpu0) / float64(window)
	if server != nil {
		res.ServerCPU = float64(srvCPU1-srvCPU0) / float64(window)
	}
	res.OtherCPU = max(0, float64(busy1-busy0)/float64(window)-res.ServerCPU-res.ClientCPU)
	res.Steal = float64(steal1-steal0) / float64(window)
	return res, nil
}

// quantile returns the q-quantile of sorted samples (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func fetchProfile(pprofAddr string, d time.Duration, path string) error {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
