// Package app is allot's one wiring: it composes a store with the metrics
// timer, the read model, the lifecycle service and both HTTP planes with
// their middleware. `allot serve`, allotbench's server and the end-to-end
// suites all build the server here, so what the tests run is what users run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/console"
	"github.com/allot-dev/allot/metrics"
	"github.com/allot-dev/allot/secret"
	"github.com/allot-dev/allot/view"
)

// Config is what a running allot is made of. Store and Keyring are
// required; everything else has a default.
type Config struct {
	// Store is the opened store (see OpenStore). App never closes it: its
	// opener does, after Close.
	Store   allot.Store
	Keyring *secret.Keyring
	// Logger receives the request log and every warning (discarded if nil).
	Logger *slog.Logger
	// Clock is what every rule reads the time from (the wall clock if nil);
	// open the store with the same clock (OpenStore). Signature dates are
	// always checked against the wall clock.
	Clock allot.Clock

	// Addr is the tenant listener's address ("127.0.0.1:0" for a free port).
	Addr string
	// AdminAddr is the management listener's; "" or "off" disables it.
	AdminAddr string

	LogRequests bool
	// CacheRows bounds the read model (view.DefaultMaxRows if 0).
	CacheRows int
	// RateLimit is requests per second per credential (0: unlimited).
	RateLimit float64
	RateBurst int

	// SweepInterval is how often, in wall time, overdue holds are looked
	// for and released (DefaultSweepInterval if 0).
	SweepInterval time.Duration
	// Seed, when set, is applied at Open (only what the store lacks, so
	// restarts change nothing) and again by a test-mode reset.
	Seed *Seed
	// TestMode adds the /_allot/ routes to the tenant plane (reset, clock,
	// requests, faults; api.TestMode). It needs Clock to be an
	// *allot.ManualClock, the clock the store was opened with.
	TestMode bool
	// RecordedRequests bounds test mode's request ring
	// (api.DefaultRecordedRequests if 0).
	RecordedRequests int

	// The webhook dispatcher (dispatch.go); each is its Default* if 0.
	// DispatchInterval is how often, in wall time, due deliveries are
	// claimed; DeliveryTimeout bounds one attempt; DeliveryLease is how
	// long a claim holds a delivery against other nodes; RetryBase is the
	// first retry's delay, doubling per attempt; RetryFor is how long after
	// its event a delivery is retried before it fails; ExpirySweepInterval
	// is how often, in wall time, expiry events are looked for.
	DispatchInterval    time.Duration
	DeliveryTimeout     time.Duration
	DeliveryLease       time.Duration
	RetryBase           time.Duration
	RetryFor            time.Duration
	ExpirySweepInterval time.Duration
	// OutboxRetention is how long finished deliveries, their attempts and
	// their events are kept (allot.DefaultOutboxRetention if 0; negative:
	// forever); OutboxPruneInterval is how often, in wall time, the
	// dispatcher prunes what is older by the App's clock.
	OutboxRetention     time.Duration
	OutboxPruneInterval time.Duration

	// Tune, when set, adjusts each plane's api.Config after it is built
	// ("tenant" or "admin"): tests use it for clocks and timeouts.
	Tune func(plane string, c *api.Config)
}

// App is a running allot: both planes bound and serving.
type App struct {
	// Store is the store as every component sees it: timed by Metrics.
	Store   allot.Store
	Service *allot.Service
	Clock   allot.Clock
	Reader  *view.Reader
	Metrics *metrics.Metrics
	Tenant  *api.Server
	// Admin is the management plane; nil when it is off.
	Admin *api.Server

	sweeper    *sweeper
	dispatcher *dispatcher
	// TestMode is test mode's state; nil unless Config.TestMode.
	TestMode *api.TestMode

	afterReset atomic.Pointer[func(ctx context.Context) error]

	keyring *secret.Keyring
	seed    *Seed
}

// Open builds allot over cfg.Store and binds its listeners. A taken port
// fails here, at once, and nothing is left listening.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Store == nil || cfg.Keyring == nil {
		return nil, errors.New("app: a store and a keyring are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = allot.WallClock{}
	}
	if cfg.CacheRows == 0 {
		cfg.CacheRows = view.DefaultMaxRows
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	clock, manual := cfg.Clock.(*allot.ManualClock)
	if cfg.TestMode && !manual {
		return nil, errors.New("app: test mode needs an *allot.ManualClock as Config.Clock")
	}
	met := metrics.New()
	store := met.Wrap(cfg.Store)
	reader := view.New(store, cfg.CacheRows)
	a := &App{Store: store, Service: &allot.Service{Store: store}, Reader: reader, Metrics: met, Clock: cfg.Clock, keyring: cfg.Keyring, seed: cfg.Seed}
	if err := cfg.Seed.Apply(ctx, store, cfg.Keyring, cfg.Clock.Now()); err != nil {
		return nil, err
	}

	base := api.Config{
		Reader:      reader,
		Summaries:   reader,
		Store:       store,
		Keyring:     cfg.Keyring,
		Logger:      cfg.Logger,
		Now:         cfg.Clock.Now,
		LogRequests: cfg.LogRequests,
		RateLimit:   cfg.RateLimit,
		RateBurst:   cfg.RateBurst,
		Observer:    met,
		Metrics:     met.Handler(),
		Service:     a.Service,
		Tenants:     &allot.Tenants{Store: store, Reader: reader},
	}
	if cfg.TestMode {
		a.TestMode = api.NewTestMode(a.resetData, clock, cfg.RecordedRequests)
		base.TestMode = a.TestMode
	}
	tenantCfg := base
	tenantCfg.Pages = map[string]http.Handler{"/portal/": console.NewPortal(a.consoleConfig(cfg))}
	if cfg.Tune != nil {
		cfg.Tune("tenant", &tenantCfg)
	}
	a.Tenant = api.NewServer(tenantCfg)
	if err := a.Tenant.Open(cfg.Addr); err != nil {
		return nil, fmt.Errorf("tenant API: %w", err)
	}
	if cfg.AdminAddr != "" && cfg.AdminAddr != "off" {
		adminCfg := base
		adminCfg.Pages = map[string]http.Handler{"/console/": console.New(a.consoleConfig(cfg))}
		if cfg.Tune != nil {
			cfg.Tune("admin", &adminCfg)
		}
		a.Admin = api.NewAdminServer(adminCfg)
		if err := a.Admin.Open(cfg.AdminAddr); err != nil {
			a.Tenant.Close(context.Background())
			return nil, fmt.Errorf("management API: %w", err)
		}
	}
	a.sweeper = startSweeper(a.Service, cfg.Clock, cfg.Logger, cfg.SweepInterval)
	a.dispatcher = startDispatcher(&dispatcher{cfg: dispatchConfig{
		interval: or(cfg.DispatchInterval, DefaultDispatchInterval), timeout: or(cfg.DeliveryTimeout, DefaultDeliveryTimeout),
		lease: or(cfg.DeliveryLease, DefaultDeliveryLease), base: or(cfg.RetryBase, DefaultRetryBase),
		retryFor: or(cfg.RetryFor, DefaultRetryFor), sweepEvery: or(cfg.ExpirySweepInterval, DefaultExpirySweepInterval),
		retention: or(cfg.OutboxRetention, allot.DefaultOutboxRetention), pruneEvery: or(cfg.OutboxPruneInterval, DefaultOutboxPruneInterval),
	}, store: store, svc: a.Service, clock: cfg.Clock, keyring: cfg.Keyring, logger: cfg.Logger, met: met})
	return a, nil
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// TenantURL is the tenant API's base URL.
func (a *App) TenantURL() string { return a.Tenant.URL() }

// AdminURL is the management API's base URL, "" when it is off.
func (a *App) AdminURL() string {
	if a.Admin == nil {
		return ""
	}
	return a.Admin.URL()
}

// Close drains both planes together: both stop accepting connections at
// once, then requests in flight on either finish until ctx ends. Draining
// one after the other would leave the second accepting new work while the
// first drains.
func (a *App) Close(ctx context.Context) error {
	servers := []*api.Server{a.Tenant}
	if a.Admin != nil {
		servers = append(servers, a.Admin)
	}
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for _, s := range servers {
		s.StopAccepting()
	}
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Close(ctx)
		}()
	}
	wg.Wait()
	// After the planes: a request in flight may still commit a hold the
	// sweeper would otherwise expire.
	a.sweeper.stop()
	a.dispatcher.stop()
	return errors.Join(errs...)
}

// Reset puts a test-mode allot back to its seed state: the store wiped and
// re-seeded, every snapshot of the read model dropped, the recorded
// requests and fault rules forgotten. The clock stays where it is. It is
// what POST /_allot/reset does.
func (a *App) Reset(ctx context.Context) error {
	if a.TestMode == nil {
		return errors.New("app: reset needs test mode")
	}
	if err := a.resetData(ctx); err != nil {
		return err
	}
	a.TestMode.Clear()
	return nil
}

// AfterReset makes fn run after every reset has re-applied the seed:
// serve --demo puts its demo tenant back with it. It may be set while
// serving.
func (a *App) AfterReset(fn func(ctx context.Context) error) { a.afterReset.Store(&fn) }

// resetData wipes and re-seeds the store. The read model is invalidated
// after the wipe and again after the seed, so a request that refreshed a
// snapshot in between cannot keep rows of neither state.
func (a *App) resetData(ctx context.Context) error {
	if err := a.Store.Wipe(ctx); err != nil {
		return err
	}
	a.Reader.Invalidate()
	err := a.seed.Apply(ctx, a.Store, a.keyring, a.Clock.Now())
	if fn := a.afterReset.Load(); err == nil && fn != nil {
		err = (*fn)(ctx)
	}
	a.Reader.Invalidate()
	return err
}
