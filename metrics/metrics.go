// Package metrics exposes allot's Prometheus metrics: requests by plane,
// route and status with their latency, authentication failures by reason,
// store call latency, consume outcomes and ledger drift.
//
// It implements api.Observer and wraps a store to time its calls, so the
// domain, the stores and the HTTP layer stay free of the metrics library.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds allot's collectors in their own registry.
type Metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	storeLatency *prometheus.HistogramVec
	consumes     *prometheus.CounterVec
	drift        prometheus.Gauge

	// series caches the request series by their labels: resolving label
	// values hashes them on every call, which the request path need not pay.
	series sync.Map // requestLabels -> requestSeries

	notifyOnce sync.Once // notify.go
	notifyM    *notifyMetrics
}

type requestLabels struct {
	plane, route string
	status       int
}

type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// New registers allot's metrics and the Go runtime's in a new registry.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allot_http_requests_total", Help: "HTTP requests by plane (tenant, admin), route pattern and status.",
		}, []string{"plane", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "allot_http_request_duration_seconds", Help: "HTTP request latency by plane and route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"plane", "route"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allot_auth_failures_total", Help: "Refused authentications by reason.",
		}, []string{"reason"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "allot_store_query_duration_seconds", Help: "Store call latency by operation.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
		}, []string{"op"}),
		consumes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allot_consume_total", Help: "Consume calls by outcome: accepted, replayed, or the refusal's error code.",
		}, []string{"outcome"}),
		drift: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "allot_ledger_drift", Help: "Differences between balances and the ledger found by the last verification.",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.authFailures, m.storeLatency, m.consumes, m.drift,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRequest implements api.Observer.
func (m *Metrics) ObserveRequest(plane, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched" // keeps label cardinality bounded: never the raw path
	}
	key := requestLabels{plane, route, status}
	v, ok := m.series.Load(key)
	if !ok {
		v, _ = m.series.LoadOrStore(key, requestSeries{
			count:   m.requests.WithLabelValues(plane, route, strconv.Itoa(status)),
			latency: m.latency.WithLabelValues(plane, route),
		})
	}
	s := v.(requestSeries)
	s.count.Inc()
	s.latency.Observe(d.Seconds())
}

// AuthFailure implements api.Observer.
func (m *Metrics) AuthFailure(reason string) { m.authFailures.WithLabelValues(reason).Inc() }

// ConsumeOutcome implements api.Observer.
func (m *Metrics) ConsumeOutcome(outcome string) { m.consumes.WithLabelValues(outcome).Inc() }

// DriftFound implements api.Observer.
func (m *Metrics) DriftFound(n int) { m.drift.Set(float64(n)) }

func (m *Metrics) observeStore(op string, start time.Time) {
	m.storeLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}
