package main

// The reserve scenario of `allotbench consume`: each connection loops a
// reserve of 2 units of the one hot package (a fresh idempotency key, a
// week's TTL) and a commit of 1 of them, over HTTP like the consumes. It is
// reported in pairs per second beside the hot consume rate of the same run
// (pairs/consumes is the figure), and checked against the store:
// the usage is the committed amounts acknowledged, every open hold is a
// reservation reserved but not committed, no drift.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// The reserve scenario's amounts, in whole units.
const (
	reserveAmount = 2
	commitAmount  = 1
	reserveTTL    = 7 * 24 * 3600
)

// pairCounts are what the reserve scenario's clients saw acknowledged.
type pairCounts struct {
	reserved, committed atomic.Int64 // answered 201, 200
	failed              atomic.Int64 // requests that failed (their effect is unknown)
}

// reservePair sends one reserve and its commit on rc.
type reservePair struct {
	reserveHead, commitHead string
	req, body               []byte
}

func newReservePair(addr, adminKey string) *reservePair {
	auth := "\r\nHost: " + addr + "\r\nAuthorization: Bearer " + adminKey + "\r\nContent-Type: application/json\r\nContent-Length: "
	return &reservePair{reserveHead: "POST /admin/v1/reservations HTTP/1.1" + auth, commitHead: auth}
}

var reservationIDField = []byte(`"reservation_id":"`)

// do reserves and commits with the idempotency key key. It returns after
// the commit, or after the first failure.
func (p *reservePair) do(rc *rawConn, counts *pairCounts, key string) error {
	rc.keepBody = true
	p.body = fmt.Appendf(p.body[:0], `{"project_id":%q,"resource_id":"r-00","amount":%d,"ttl":%d,"idempotency_key":%q}`,
		consumeProject, reserveAmount, reserveTTL, key)
	p.req = append(append(strconv.AppendInt(append(p.req[:0], p.reserveHead...), int64(len(p.body)), 10), "\r\n\r\n"...), p.body...)
	status, _, err := rc.do(p.req, 30*time.Second)
	if err == nil && status != http.StatusCreated {
		err = fmt.Errorf("reserve: status %d: %.200s", status, rc.body)
	}
	if err != nil {
		counts.failed.Add(1)
		return err
	}
	counts.reserved.Add(1)
	_, rest, ok := bytes.Cut(rc.body, reservationIDField)
	id, _, ok2 := bytes.Cut(rest, []byte(`"`))
	if !ok || !ok2 || len(id) == 0 {
		return fmt.Errorf("reserve: no reservation_id in %.200s", rc.body)
	}
	p.body = fmt.Appendf(p.body[:0], `{"amount":%d,"idempotency_key":%q}`, commitAmount, key)
	p.req = fmt.Appendf(p.req[:0], "POST /admin/v1/reservations/%s/commit HTTP/1.1%s%d\r\n\r\n%s", id, p.commitHead, len(p.body), p.body)
	status, _, err = rc.do(p.req, 30*time.Second)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("commit: status %d: %.200s", status, rc.body)
	}
	if err != nil {
		counts.failed.Add(1)
		return err
	}
	counts.committed.Add(1)
	return nil
}

// reserveChecks is what the store holds after the reserve scenario.
type reserveChecks struct {
	usage, held                allot.Quantity
	all, open, committed, rest int // reservations: all, by state
	drift                      []allot.Drift
}

func checkReservations(ctx context.Context, db string) (reserveChecks, error) {
	var c reserveChecks
	store, err := app.OpenStore(ctx, db, nil)
	if err != nil {
		return c, err
	}
	defer store.Close()
	d, err := store.TenantChanges(ctx, consumeProject, 0)
	if err != nil {
		return c, err
	}
	for _, r := range d.Resources {
		c.usage += r.Usage
		c.held += r.Held
	}
	for state, n := range map[allot.ReservationState]*int{"": &c.all, allot.ReservationOpen: &c.open, allot.ReservationCommitted: &c.committed} {
		if _, *n, err = store.Reservations(ctx, allot.ReservationQuery{ProjectID: consumeProject, State: state, Page: allot.Page{Limit: 1}}); err != nil {
			return c, err
		}
	}
	c.rest = c.all - c.open - c.committed
	c.drift, err = store.Drift(ctx)
	return c, err
}

// ok tells whether the store agrees with what the clients saw: every
// acknowledged step is there, at most failed more (a request that failed
// may have been applied), the usage is the commits' and the holds are the
// open reservations', nothing else happened, and no drift.
func (c reserveChecks) ok(counts *pairCounts) bool {
	reserved, committed, slack := counts.reserved.Load(), counts.committed.Load(), counts.failed.Load()
	within := func(n int, low int64) bool { return int64(n) >= low && int64(n) <= low+slack }
	unit := allot.Quantity(allot.QuantityScale)
	return len(c.drift) == 0 && c.rest == 0 &&
		within(c.all, reserved) && within(c.committed, committed) &&
		c.usage == allot.Quantity(c.committed*commitAmount)*unit &&
		c.held == allot.Quantity(c.open*reserveAmount)*unit
}

func reserveScenario(ctx context.Context, cfg consumeConfig, bin, tmp string, pin pinning, hot result) (result, error) {
	b, err := startBench(ctx, cfg, "reserve", bin, tmp, pin, 1)
	if err != nil {
		return result{}, err
	}
	defer b.close(ctx, cfg.DB)
	var counts pairCounts
	res, err := driveOps(ctx, cfg.Load, b.srv, b.profile, func(w int) connOp {
		p := newReservePair(b.srv.addr, b.adminKey)
		return func(rc *rawConn, i int) error {
			return p.do(rc, &counts, fmt.Sprintf("w%d-%d", w, i))
		}
	})
	if err != nil {
		return result{}, err
	}
	b.srv.stop()
	c, err := checkReservations(ctx, b.db)
	if err != nil {
		return result{}, err
	}
	fmt.Fprintf(cfg.Stdout, "%-7s %9.0f pairs/s     p50 %s  p99 %s  max %s  errors %d  server CPU %.2f cores, %s/pair  other CPU %.2f\n",
		"reserve", res.RPS, fmtDur(res.P50), fmtDur(res.P99), fmtDur(res.Max), res.Errors, res.ServerCPU, perOp(res), res.OtherCPU)
	if res.FirstErr != "" {
		fmt.Fprintf(cfg.Stdout, "        first error: %s\n", res.FirstErr)
	}
	if hot.RPS > 0 {
		fmt.Fprintf(cfg.Stdout, "        beside hot %.0f consumes/s, %s/consume: pairs/consumes = %.2f, CPU per pair / per consume = %.2f\n",
			hot.RPS, perOp(hot), res.RPS/hot.RPS, float64(perOp(res))/float64(max(perOp(hot), 1)))
	}
	ok := c.ok(&counts)
	fmt.Fprintf(cfg.Stdout, "        checks: %d reserves answered 201, %d commits 200, %d failed; stored %d reservations (%d open, %d committed, %d other), usage %s, held %s, drift %d: %s\n",
		counts.reserved.Load(), counts.committed.Load(), counts.failed.Load(), c.all, c.open, c.committed, c.rest, c.usage, c.held, len(c.drift),
		map[bool]string{true: "ok", false: "FAILED"}[ok])
	if !ok {
		return result{}, fmt.Errorf("checks failed: %+v", c)
	}
	return res, nil
}
