package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/metrics"
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
	var c common
	fs, o := m.serveFlags(&c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(m.Stderr, nil))
	keyring, err := m.keyring(&c)
	if err != nil {
		return err
	}
	opened, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer opened.Close()
	ls, err := asLedgerStore(opened)
	if err != nil {
		return err
	}
	met := metrics.New()
	store := met.Wrap(ls)

	reader := view.New(store, o.cacheRows)
	cfg := api.Config{
		Reader:      reader,
		Summaries:   reader,
		Store:       store,
		Keyring:     keyring,
		Logger:      logger,
		LogRequests: o.logRequests,
		RateLimit:   o.rateLimit,
		RateBurst:   o.rateBurst,
		Observer:    met,
		Metrics:     met.Handler(),
	}
	srv := api.NewServer(cfg)
	if err := srv.Open(o.addr); err != nil {
		return err
	}
	servers := []*api.Server{srv}
	closeAll := func(ctx context.Context) error {
		var errs []error
		for _, s := range servers {
			errs = append(errs, s.Close(ctx))
		}
		return errors.Join(errs...)
	}
	logger.Info("listening on "+srv.Addr(), slog.String("addr", srv.Addr()), slog.String("db", redactDSN(c.db)))
	fmt.Fprintf(m.Stdout, "listening on %s\n", srv.Addr())
	adminBound := ""
	if o.adminAddr != "off" && o.adminAddr != "" {
		admin := api.NewAdminServer(adminConfig(store, cfg))
		if err := admin.Open(o.adminAddr); err != nil {
			closeAll(context.Background())
			return fmt.Errorf("management API: %w", err)
		}
		servers = append(servers, admin)
		adminBound = admin.Addr()
		logger.Info("management API listening on "+adminBound, slog.String("addr", adminBound))
		fmt.Fprintf(m.Stdout, "management API listening on %s\n", adminBound)
	}
	if o.demo {
		adminURL := ""
		if adminBound != "" {
			adminURL = "http://" + adminBound
		}
		if err := m.demo(ctx, store, keyring, srv.URL(), adminURL); err != nil {
			closeAll(context.Background())
			return err
		}
	}
	if m.Ready != nil {
		m.Ready(srv.Addr(), adminBound)
	}

	<-ctx.Done()
	logger.Info("shutting down", slog.Duration("timeout", o.shutdown))
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	return closeAll(sctx)
}
