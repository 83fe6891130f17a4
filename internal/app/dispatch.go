package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/metrics"
	"github.com/allot-dev/allot/secret"
)

// The webhook dispatcher: it delivers the outbox's events, at least once,
// signed, one event per POST.
//
// Every DispatchInterval of wall time it reads the App's clock and claims
// the deliveries due by that reading (Store.ClaimDeliveries: leased for
// DeliveryLease, so several nodes on one database never hold one delivery
// at once, and a node that dies mid-delivery leaves it to the next claim
// after the lease). Each claimed delivery is POSTed with a per-attempt
// timeout; a 2xx answer delivers it, anything else (another status, a
// timeout, a refused connection, a redirect: none is followed) is retried
// with exponential backoff and jitter (a delay drawn from the upper half)
// from RetryBase, doubling per
// attempt up to an hour between attempts, until RetryFor after the event
// was written; then the delivery is failed, visible in the log and
// redeliverable. The expiry sweep (Service.SweepExpiry) runs in the same
// loop every ExpirySweepInterval, and so does the outbox's pruning
// (Service.PruneOutbox) every OutboxPruneInterval: what was delivered or
// failed more than OutboxRetention ago by the App's clock is deleted, in
// batches of allot.OutboxPruneBatch, each its own transaction.

// Defaults of the dispatcher's settings (Config).
const (
	DefaultDispatchInterval    = 200 * time.Millisecond
	DefaultDeliveryTimeout     = 10 * time.Second
	DefaultDeliveryLease       = time.Minute
	DefaultRetryBase           = 5 * time.Second
	DefaultRetryFor            = 24 * time.Hour
	DefaultExpirySweepInterval = time.Minute
	DefaultOutboxPruneInterval = time.Minute
	maxRetryDelay              = time.Hour
	claimBatch                 = 32
	dispatchWorkers            = 8
)

// SignatureHeader is the header of a webhook request's signature.
const SignatureHeader = "Allot-Signature"

// Sign returns the Allot-Signature value of body sent at t with secret:
// t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>.
func Sign(secretKey []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secretKey)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

type dispatchConfig struct {
	interval, timeout, lease, base, retryFor, sweepEvery time.Duration
	// retention <= 0 keeps the outbox forever.
	retention, pruneEvery time.Duration
}

type dispatcher struct {
	cfg     dispatchConfig
	store   allot.Store
	svc     *allot.Service
	clock   allot.Clock
	keyring *secret.Keyring
	logger  *slog.Logger
	met     *metrics.Metrics
	client  *http.Client
	cancel  context.CancelFunc
	done    chan struct{}
}

func startDispatcher(d *dispatcher) *dispatcher {
	d.client = &http.Client{
		Timeout: d.cfg.timeout,
		// allot follows no redirect: the operator's URL is the receiver.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done = cancel, make(chan struct{})
	go d.run(ctx)
	return d
}

func (d *dispatcher) stop() {
	d.cancel()
	<-d.done
}

func (d *dispatcher) run(ctx context.Context) {
	defer close(d.done)
	tick := time.NewTicker(d.cfg.interval)
	defer tick.Stop()
	var lastSweep, lastStats, lastPrune time.Time
	seen := map[string]bool{}
	failing := ""
	report := func(what string, err error) {
		if err != nil && ctx.Err() == nil && err.Error() != failing {
			failing = err.Error()
			d.logger.Warn(what, slog.String("error", failing))
		}
	}
	for {
		now := d.clock.Now()
		if wall := time.Now(); wall.Sub(lastSweep) >= d.cfg.sweepEvery {
			lastSweep = wall
			if len(seen) > 100_000 {
				clear(seen)
			}
			n, err := d.svc.SweepExpiry(ctx, now, seen)
			report("expiry sweep", err)
			if n > 0 {
				d.logger.Info("expiry events written", slog.Int("events", n))
			}
		}
		if wall := time.Now(); d.cfg.retention > 0 && wall.Sub(lastPrune) >= d.cfg.pruneEvery {
			lastPrune = wall
			n, err := d.svc.PruneOutbox(ctx, d.clock.Now(), d.cfg.retention)
			report("pruning the outbox", err)
			d.met.OutboxPruned(n)
			if n != (allot.OutboxPruned{}) {
				d.logger.Info("outbox pruned", slog.Int("deliveries", n.Deliveries), slog.Int("attempts", n.Attempts),
					slog.Int("events", n.Events), slog.Duration("retention", d.cfg.retention))
			}
		}
		for ctx.Err() == nil {
			claims, err := d.store.ClaimDeliveries(ctx, d.clock.Now(), d.cfg.lease, claimBatch)
			report("claiming webhook deliveries", err)
			if err != nil || len(claims) == 0 {
				break
			}
			d.deliverAll(ctx, claims)
			if len(claims) < claimBatch {
				break
			}
		}
		if wall := time.Now(); wall.Sub(lastStats) >= time.Second {
			lastStats = wall
			if st, err := d.store.OutboxStats(ctx); err == nil {
				d.met.Outbox(st, d.clock.Now())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (d *dispatcher) deliverAll(ctx context.Context, claims []allot.Claim) {
	work := make(chan allot.Claim)
	var wg sync.WaitGroup
	for range min(dispatchWorkers, len(claims)) {
		wg.Go(func() {
			for c := range work {
				d.deliver(ctx, c)
			}
		})
	}
	for _, c := range claims {
		work <- c
	}
	close(work)
	wg.Wait()
}

// deliver makes one attempt and records it.
func (d *dispatcher) deliver(ctx context.Context, c allot.Claim) {
	start := time.Now()
	status, err := d.post(ctx, c)
	o := allot.AttemptOutcome{Attempt: allot.Attempt{At: d.clock.Now(), StatusCode: status, LatencyMS: time.Since(start).Milliseconds()}}
	outcome := "delivered"
	switch {
	case err == nil && status >= 200 && status < 300:
		o.State = allot.DeliveryDelivered
	default:
		if err != nil {
			o.Error = err.Error()
		} else {
			o.Error = "status " + strconv.Itoa(status)
		}
		next := o.At.Add(backoff(d.cfg.base, c.Attempts+1))
		if next.Sub(c.CreatedAt) > d.cfg.retryFor {
			o.State, outcome = allot.DeliveryFailed, "failed"
		} else {
			o.State, o.NextAt, outcome = allot.DeliveryPending, next, "retry"
		}
	}
	// The attempt is recorded even when the dispatcher is stopping: the
	// receiver may have the event already.
	ok, rerr := d.store.RecordAttempt(context.WithoutCancel(ctx), c, o)
	if rerr != nil {
		d.logger.Warn("recording a webhook attempt", slog.String("delivery", c.DeliveryID), slog.String("error", rerr.Error()))
		return
	}
	if !ok {
		outcome = "lost"
	}
	d.met.DeliveryOutcome(outcome)
}

// post sends the event once. The error never holds the secret or the
// signature.
func (d *dispatcher) post(ctx context.Context, c allot.Claim) (int, error) {
	key, err := api.OpenWebhookSecret(d.keyring, c.WebhookID, c.SecretCiphertext)
	if err != nil {
		return 0, errors.New("the webhook's secret cannot be opened with the loaded master keys")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "allot-webhook")
	req.Header.Set("Allot-Event-Id", c.EventID)
	req.Header.Set("Allot-Delivery-Id", c.DeliveryID)
	req.Header.Set(SignatureHeader, Sign(key, time.Now(), c.Body)) // the wall clock, as receivers check it
	resp, err := d.client.Do(req)
	if err != nil {
		var uerr interface{ Timeout() bool }
		if errors.As(err, &uerr) && uerr.Timeout() {
			return 0, errors.New("timed out")
		}
		if cause := errors.Unwrap(err); cause != nil {
			return 0, cause // the url.Error's cause, without repeating the URL
		}
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// backoff is the delay before attempt n+1 after n failed attempts: drawn
// evenly from the upper half of base*2^(n-1), which is at most
// maxRetryDelay, so nodes that failed together do not retry together.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, maxRetryDelay)
	return d/2 + rand.N(d/2+1)
}
