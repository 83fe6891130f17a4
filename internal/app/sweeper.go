package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/allot-dev/allot"
)

// DefaultSweepInterval is how often, in wall time, the sweeper looks for
// overdue holds.
const DefaultSweepInterval = 100 * time.Millisecond

// sweeper releases the holds of reservations nobody settled, by the clock:
// every interval of wall time it reads the App's clock and expires what is
// overdue by that reading. Polling the wall clock rather than sleeping until
// the next expiry keeps it right when a ManualClock is moved: an advance is
// seen within one interval, with no request arriving. The first sweep runs
// at once, so holds that fell due while the process was down are released
// as soon as it is back. Several nodes on one database may sweep at the same
// time: Service.ExpireHolds expires each reservation once.
type sweeper struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startSweeper(svc *allot.Service, clock allot.Clock, logger *slog.Logger, every time.Duration) *sweeper {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sweeper{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		// While the database is down every sweep fails the same way: the
		// failure is logged when it starts or changes, not ten times a
		// second.
		failing := ""
		for {
			n, err := svc.ExpireHolds(ctx, clock.Now())
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				if err.Error() != failing {
					failing = err.Error()
					logger.Warn("expiring overdue holds", slog.String("error", failing))
				}
			default:
				if failing != "" {
					failing = ""
					logger.Info("expiring overdue holds again")
				}
				if n > 0 {
					logger.Info("expired overdue holds", slog.Int("reservations", n))
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sweeper and waits for a sweep in progress.
func (s *sweeper) stop() {
	s.cancel()
	<-s.done
}
