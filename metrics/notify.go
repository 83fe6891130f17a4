package metrics

import (
	"context"
	"time"

	"github.com/allot-dev/allot"
	"github.com/prometheus/client_golang/prometheus"
)

// notifyMetrics are the webhook dispatcher's collectors.
type notifyMetrics struct {
	deliveries *prometheus.CounterVec
	depth      prometheus.Gauge
	oldest     prometheus.Gauge
	pruned     *prometheus.CounterVec
}

func newNotifyMetrics(r *prometheus.Registry) *notifyMetrics {
	n := &notifyMetrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allot_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome: delivered, retry (failed, will be tried again), failed (given up), lost (the claim lapsed).",
		}, []string{"outcome"}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "allot_outbox_pending", Help: "Deliveries in the outbox that are not delivered or failed yet.",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "allot_outbox_oldest_pending_age_seconds", Help: "Age of the oldest undelivered event's delivery (0 when none).",
		}),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allot_outbox_pruned_total",
			Help: "Rows pruned from the outbox past its retention, by table: deliveries, delivery_attempts, events.",
		}, []string{"table"}),
	}
	r.MustRegister(n.deliveries, n.depth, n.oldest, n.pruned)
	return n
}

func (m *Metrics) notify() *notifyMetrics {
	m.notifyOnce.Do(func() { m.notifyM = newNotifyMetrics(m.registry) })
	return m.notifyM
}

// DeliveryOutcome counts one webhook delivery attempt.
func (m *Metrics) DeliveryOutcome(outcome string) {
	m.notify().deliveries.WithLabelValues(outcome).Inc()
}

// OutboxPruned counts the rows one prune of the outbox deleted.
func (m *Metrics) OutboxPruned(p allot.OutboxPruned) {
	n := m.notify()
	n.pruned.WithLabelValues("deliveries").Add(float64(p.Deliveries))
	n.pruned.WithLabelValues("delivery_attempts").Add(float64(p.Attempts))
	n.pruned.WithLabelValues("events").Add(float64(p.Events))
}

// Outbox sets the outbox gauges from st, ages measured at now.
func (m *Metrics) Outbox(st allot.OutboxStats, now time.Time) {
	n := m.notify()
	n.depth.Set(float64(st.Pending))
	age := 0.0
	if !st.Oldest.IsZero() {
		age = max(now.Sub(st.Oldest).Seconds(), 0)
	}
	n.oldest.Set(age)
}

// The store calls of notifications, timed.

func (t *timedStore) SetNoticeConfig(ctx context.Context, c allot.NoticeConfig) error {
	defer t.m.observeStore("set_notice_config", time.Now())
	return t.Store.SetNoticeConfig(ctx, c)
}

func (t *timedStore) FindNoticeConfig(ctx context.Context, projectID string, typ allot.NoticeType) (allot.NoticeConfig, error) {
	defer t.m.observeStore("find_notice_config", time.Now())
	return t.Store.FindNoticeConfig(ctx, projectID, typ)
}

func (t *timedStore) ExpiryCandidates(ctx context.Context, from, to time.Time) ([]allot.ExpiryCandidate, error) {
	defer t.m.observeStore("expiry_candidates", time.Now())
	return t.Store.ExpiryCandidates(ctx, from, to)
}

func (t *timedStore) CreateWebhook(ctx context.Context, w allot.Webhook) error {
	defer t.m.observeStore("create_webhook", time.Now())
	return t.Store.CreateWebhook(ctx, w)
}

func (t *timedStore) FindWebhook(ctx context.Context, id string) (allot.Webhook, error) {
	defer t.m.observeStore("find_webhook", time.Now())
	return t.Store.FindWebhook(ctx, id)
}

func (t *timedStore) ListWebhooks(ctx context.Context, sp string, all bool) ([]allot.Webhook, error) {
	defer t.m.observeStore("list_webhooks", time.Now())
	return t.Store.ListWebhooks(ctx, sp, all)
}

func (t *timedStore) DeleteWebhook(ctx context.Context, id string) error {
	defer t.m.observeStore("delete_webhook", time.Now())
	return t.Store.DeleteWebhook(ctx, id)
}

func (t *timedStore) Deliveries(ctx context.Context, webhookID string, limit int) ([]allot.Delivery, error) {
	defer t.m.observeStore("deliveries", time.Now())
	return t.Store.Deliveries(ctx, webhookID, limit)
}

func (t *timedStore) Redeliver(ctx context.Context, webhookID, deliveryID string, now time.Time) error {
	defer t.m.observeStore("redeliver", time.Now())
	return t.Store.Redeliver(ctx, webhookID, deliveryID, now)
}

func (t *timedStore) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]allot.Claim, error) {
	defer t.m.observeStore("claim_deliveries", time.Now())
	return t.Store.ClaimDeliveries(ctx, now, lease, limit)
}

func (t *timedStore) RecordAttempt(ctx context.Context, c allot.Claim, o allot.AttemptOutcome) (bool, error) {
	defer t.m.observeStore("record_attempt", time.Now())
	return t.Store.RecordAttempt(ctx, c, o)
}

func (t *timedStore) OutboxStats(ctx context.Context) (allot.OutboxStats, error) {
	defer t.m.observeStore("outbox_stats", time.Now())
	return t.Store.OutboxStats(ctx)
}

func (t *timedStore) FailedDeliveries(ctx context.Context, sp string, all bool, p allot.Page) ([]allot.FailedDelivery, int, error) {
	defer t.m.observeStore("failed_deliveries", time.Now())
	return t.Store.FailedDeliveries(ctx, sp, all, p)
}

func (t *timedStore) PruneOutbox(ctx context.Context, before, now time.Time, limit int) (allot.OutboxPruned, error) {
	defer t.m.observeStore("prune_outbox", time.Now())
	return t.Store.PruneOutbox(ctx, before, now, limit)
}
