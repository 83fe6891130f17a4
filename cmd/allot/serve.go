package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/view"
)

// serveOptions are serve's settings beyond the common ones.
type serveOptions struct {
	addr, adminAddr string
	demo            bool
	logRequests     bool
	cacheRows       int
	shutdown        time.Duration
	rateLimit       float64
	rateBurst       int
}

func (m *Main) serveFlags(c *common) (*flag.FlagSet, *serveOptions) {
	fs := m.flags("serve", c)
	o := &serveOptions{}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address of the tenant API (env ALLOT_ADDR)")
	fs.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:8081", `address of the management API and /metrics; "off" disables it (env ALLOT_ADMIN_ADDR)`)
	fs.BoolVar(&o.demo, "demo", false, "ensure a demo tenant with sample data exists and print its credentials and examples")
	fs.BoolVar(&o.logRequests, "log-requests", true, "write one JSON log line per request (env ALLOT_LOG_REQUESTS)")
	fs.IntVar(&o.cacheRows, "cache-rows", view.DefaultMaxRows, "resources and assignments kept in the in-memory read model (env ALLOT_CACHE_ROWS)")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", 20*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM (env ALLOT_SHUTDOWN_TIMEOUT)")
	fs.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second one credential may make; 0 is unlimited (env ALLOT_RATE_LIMIT)")
	fs.IntVar(&o.rateBurst, "rate-burst", 0, "burst above --rate-limit; default: one second's worth (env ALLOT_RATE_BURST)")
	return fs, o
}

func (m *Main) serve(ctx context.Context, args []string) error {
	ensureServeProcs(m.Getenv)
	var c common
	fs, o := m.serveFlags(&c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(m.Stderr, nil))
	opened, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer opened.Close()
	keyring, err := m.keyring(ctx, &c, opened)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, app.Config{
		Store:       opened,
		Keyring:     keyring,
		Logger:      logger,
		Addr:        o.addr,
		AdminAddr:   o.adminAddr,
		LogRequests: o.logRequests,
		CacheRows:   o.cacheRows,
		RateLimit:   o.rateLimit,
		RateBurst:   o.rateBurst,
	})
	if err != nil {
		return err
	}
	tenantAddr := a.Tenant.Addr()
	logger.Info("listening on "+tenantAddr, slog.String("addr", tenantAddr), slog.String("db", redactDSN(c.db)))
	fmt.Fprintf(m.Stdout, "listening on %s\n", tenantAddr)
	adminBound := ""
	if a.Admin != nil {
		adminBound = a.Admin.Addr()
		logger.Info("management API listening on "+adminBound, slog.String("addr", adminBound))
		fmt.Fprintf(m.Stdout, "management API listening on %s\n", adminBound)
	}
	if o.demo {
		if err := m.demo(ctx, a.Store, keyring, a.TenantURL(), a.AdminURL()); err != nil {
			a.Close(context.Background())
			return err
		}
	}
	if m.Ready != nil {
		m.Ready(tenantAddr, adminBound)
	}

	<-ctx.Done()
	logger.Info("shutting down", slog.Duration("timeout", o.shutdown))
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	return a.Close(sctx)
}
