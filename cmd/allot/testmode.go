package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// testModeOptions are serve's --test-mode and --seed (docs/testing.md).
type testModeOptions struct {
	enabled bool
	seed    string
	// clock is the clock test mode runs on (nil without test mode).
	clock *allot.ManualClock
}

func (o *testModeOptions) flags(fs *flag.FlagSet) {
	fs.BoolVar(&o.enabled, "test-mode", false, "serve /_allot/reset, /_allot/clock, /_allot/requests and /_allot/faults on the tenant API, for tests; never in production (env ALLOT_TEST_MODE)")
	fs.StringVar(&o.seed, "seed", "", "JSON Lines file, or directory of *.jsonl files, applied at start (what is missing only) and by /_allot/reset (env ALLOT_SEED)")
}

// appClock returns the clock the store and the app run on: a movable one
// in test mode, else nil (the wall clock). Every call returns the same one.
func (o *testModeOptions) appClock() allot.Clock {
	if !o.enabled {
		return nil
	}
	if o.clock == nil {
		o.clock = allot.NewManualClock(time.Now())
	}
	return o.clock
}

// openStore opens the store on the clock appClock chose.
func (o *testModeOptions) openStore(ctx context.Context, dsn string) (allot.Store, error) {
	s, err := app.OpenStore(ctx, dsn, o.appClock())
	var unsupported app.ErrUnsupportedDSN
	if errors.As(err, &unsupported) {
		return nil, usageError{err}
	}
	return s, err
}

// loadSeed reads --seed, if given.
func (o *testModeOptions) loadSeed() (*app.Seed, error) {
	if o.seed == "" {
		return nil, nil
	}
	now := time.Now()
	if o.clock != nil {
		now = o.clock.Now()
	}
	seed, err := app.LoadSeed(o.seed, now)
	if err != nil {
		return nil, usageError{err}
	}
	return seed, nil
}

// testModeWarning is logged and printed at start in test mode: anyone who
// can reach the tenant port can then wipe every tenant's data.
const testModeWarning = "TEST MODE: /_allot/reset, /_allot/clock, /_allot/requests and /_allot/faults are served on the tenant API; " +
	"anyone who reaches it can wipe all data and move the clock. Never run --test-mode in production."

func (o *testModeOptions) announce(m *Main, logger *slog.Logger) {
	if !o.enabled {
		return
	}
	logger.Warn(testModeWarning, slog.Bool("test_mode", true))
	fmt.Fprintf(m.Stdout, "*** %s ***\n", testModeWarning)
}
