package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/internal/serveproc"
	"github.com/allot-dev/allot/view"
)

// serveOptions are serve's settings beyond the common ones.
type serveOptions struct {
	addr, adminAddr string
	demo            bool
	ephemeral       bool
	logRequests     bool
	cacheRows       int
	shutdown        time.Duration
	rateLimit       float64
	rateBurst       int
	test            testModeOptions
	webhook         struct{ timeout, lease, retryBase time.Duration }
	outboxRetention time.Duration
}

func (m *Main) serveFlags(c *common) (*flag.FlagSet, *serveOptions) {
	fs := m.flags("serve", c)
	o := &serveOptions{}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address of the tenant API (env ALLOT_ADDR)")
	fs.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:8081", `address of the management API and /metrics; "off" disables it (env ALLOT_ADMIN_ADDR)`)
	fs.BoolVar(&o.demo, "demo", false, "ensure a demo tenant with sample data exists and print its credentials and examples")
	fs.BoolVar(&o.ephemeral, "ephemeral", false, "keep the database (and the master key file, unless ALLOT_MASTER_KEY is set) in a new temporary directory, removed at exit; not with --db")
	fs.BoolVar(&o.logRequests, "log-requests", true, "write one JSON log line per request (env ALLOT_LOG_REQUESTS)")
	fs.IntVar(&o.cacheRows, "cache-rows", view.DefaultMaxRows, "budget of the in-memory read model, in rows: a resource or assignment counts one, match lists what they take (32 entries a row) (env ALLOT_CACHE_ROWS)")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", 20*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM (env ALLOT_SHUTDOWN_TIMEOUT)")
	fs.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second one credential may make; 0 is unlimited (env ALLOT_RATE_LIMIT)")
	fs.IntVar(&o.rateBurst, "rate-burst", 0, "burst above --rate-limit; default: one second's worth (env ALLOT_RATE_BURST)")
	fs.DurationVar(&o.webhook.timeout, "webhook-timeout", app.DefaultDeliveryTimeout, "how long one webhook attempt may take (env ALLOT_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&o.webhook.lease, "webhook-lease", app.DefaultDeliveryLease, "how long a node holds a claimed delivery before another may take it over; longer than --webhook-timeout (env ALLOT_WEBHOOK_LEASE)")
	fs.DurationVar(&o.webhook.retryBase, "webhook-retry-base", app.DefaultRetryBase, "delay before a failed webhook delivery's first retry, doubling per attempt up to an hour (env ALLOT_WEBHOOK_RETRY_BASE)")
	fs.DurationVar(&o.outboxRetention, "outbox-retention", allot.DefaultOutboxRetention, "how long delivered and failed webhook deliveries, their attempts and their events are kept before they are pruned; 0 keeps them forever (env ALLOT_OUTBOX_RETENTION)")
	o.test.flags(fs)
	return fs, o
}

func (m *Main) serve(ctx context.Context, args []string) error {
	defer serveproc.Tune(m.Getenv)()
	var c common
	fs, o := m.serveFlags(&c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if o.webhook.timeout <= 0 || o.webhook.retryBase <= 0 || o.webhook.lease <= o.webhook.timeout {
		return usageError{fmt.Errorf("serve: --webhook-timeout and --webhook-retry-base must be positive and --webhook-lease longer than --webhook-timeout")}
	}
	if o.outboxRetention < 0 {
		return usageError{fmt.Errorf("serve: --outbox-retention must be 0 (keep forever) or positive")}
	}
	retention := o.outboxRetention
	if retention == 0 {
		retention = -1 // app.Config: negative keeps the outbox forever
	}
	var fixed fixedCredential
	if o.demo {
		var err error
		if fixed, err = m.demoCredential(); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewJSONHandler(m.Stderr, nil))
	if o.ephemeral {
		if err := m.refuseWithEphemeral(fs, &c, "db", "it makes a new database in a temporary directory and deletes it at exit, which is not what a database you name should get"); err != nil {
			return err
		}
		if err := m.refuseWithEphemeral(fs, &c, "master-key-file", "it keeps the master key beside its temporary database (or uses ALLOT_MASTER_KEY), so nothing outlives the run"); err != nil {
			return err
		}
		dir, err := m.ephemeralDir()
		if err != nil {
			return err
		}
		// Deferred first, so it runs last: after the store is closed, on
		// every return, start-up failures included.
		defer os.RemoveAll(dir)
		c.ephemeral = true
		c.db, c.masterKeyFile = filepath.Join(dir, "allot.db"), filepath.Join(dir, "allot.key")
		logger.Info("ephemeral store in "+dir+", removed at exit", slog.String("dir", dir))
	}
	opened, err := o.test.openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer opened.Close()
	keyring, err := m.keyring(ctx, &c, opened)
	if err != nil {
		return err
	}
	seed, err := o.test.loadSeed()
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, app.Config{
		Store:           opened,
		Keyring:         keyring,
		Logger:          logger,
		Addr:            o.addr,
		AdminAddr:       o.adminAddr,
		LogRequests:     o.logRequests,
		CacheRows:       o.cacheRows,
		RateLimit:       o.rateLimit,
		RateBurst:       o.rateBurst,
		DeliveryTimeout: o.webhook.timeout,
		DeliveryLease:   o.webhook.lease,
		RetryBase:       o.webhook.retryBase,
		OutboxRetention: retention,
		Clock:           o.test.appClock(),
		Seed:            seed,
		TestMode:        o.test.enabled,
	})
	if err != nil {
		return err
	}
	o.test.announce(m, logger)
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
		if err := m.demo(ctx, a.Store, keyring, fixed, a.TenantURL(), a.AdminURL()); err != nil {
			a.Close(context.Background())
			return err
		}
		// A test-mode reset brings the demo tenant back, with new
		// credentials printed again.
		a.AfterReset(func(ctx context.Context) error {
			return m.demo(ctx, a.Store, keyring, fixed, a.TenantURL(), a.AdminURL())
		})
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
