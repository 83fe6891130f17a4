package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// SQLite checkpoints a WAL database by itself: the commit that takes the
// WAL past 1,000 pages copies them into the database file and fsyncs it,
// before that commit returns. Under a steady stream of group commits that
// is one group in every few dozen waiting for a checkpoint (a tail of a
// few milliseconds on every answer of the group), and pages that every
// group rewrites (a hot package's row, the index leaves at the end of the
// ledger) are copied again at each one.
//
// So the writer connection does not checkpoint (wal_autocheckpoint=0), and
// a goroutine with a connection of its own does, in PASSIVE mode, which
// takes no lock a writer or a reader waits for: at most once per
// checkpointInterval, and only after a commit. The WAL then holds a few
// seconds of writes (about 40 MB at 10,000 consumes/s). A commit never waits for a checkpoint; durability is
// unchanged (a commit is durable once the WAL is synced, synchronous=FULL).
// Measured with allotbench consume on one CPU: SQLite's own checkpoints
// every 10,000 pages instead of 1,000 gave 5-9% more consumes/s but a p99
// of 15 ms instead of 11-12; checkpoints off the commit path every 3 s gave
// 2-7% more with the p99 of before (1 s: 0-3% more). BENCHMARKS.md has the
// runs.
const checkpointInterval = 3 * time.Second

// checkpointer runs the store's checkpoints.
type checkpointer struct {
	db   *sql.DB // one connection
	wake chan struct{}
	stop chan struct{}
	done sync.WaitGroup
}

// startCheckpointer opens the checkpointer's connection with dsn (the
// database's path and the store's common parameters) and starts it.
func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn+"&_synchronous=FULL")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c, nil
}

// committed tells the checkpointer that a transaction was committed.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer c.done.Done()
	last := time.Now()
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		if wait := checkpointInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-c.stop:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		// A failure (the database is busy with another process's
		// checkpoint, or gone) leaves the frames for the next one.
		var busy, frames, copied int
		c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	}
}

// close stops the checkpointer and closes its connection. The store's last
// connection to close checkpoints what is left.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	close(c.stop)
	c.done.Wait()
	return c.db.Close()
}
