package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"allot/api"
	"allot/view"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("serve", &c)
	addr := fs.String("addr", envOr(m.Getenv, "ALLOT_ADDR", "127.0.0.1:8080"), "address to listen on (env ALLOT_ADDR)")
	demo := fs.Bool("demo", false, "ensure a demo tenant with sample data exists and print its credentials and examples")
	logRequests := fs.Bool("log-requests", true, "write one JSON log line per request")
	cacheRows := fs.Int("cache-rows", view.DefaultMaxRows, "resources and assignments kept in the in-memory read model")
	shutdown := fs.Duration("shutdown-timeout", 20*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM")
	if err := parse(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(m.Stderr, nil))
	keyring, err := m.keyring(&c)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()

	srv := api.NewServer(api.Config{
		Reader:      view.New(store, *cacheRows),
		Store:       store,
		Keyring:     keyring,
		Logger:      logger,
		LogRequests: *logRequests,
	})
	if err := srv.Open(*addr); err != nil {
		return err
	}
	logger.Info("listening on "+srv.Addr(), slog.String("addr", srv.Addr()), slog.String("db", redactDSN(c.db)))
	fmt.Fprintf(m.Stdout, "listening on %s\n", srv.Addr())
	if *demo {
		if err := m.demo(ctx, store, keyring, srv.URL()); err != nil {
			srv.Close(context.Background())
			return err
		}
	}
	if m.Ready != nil {
		m.Ready(srv.Addr())
	}

	<-ctx.Done()
	logger.Info("shutting down", slog.Duration("timeout", *shutdown))
	sctx, cancel := context.WithTimeout(context.Background(), *shutdown)
	defer cancel()
	return srv.Close(sctx)
}
