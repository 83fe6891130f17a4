package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestExposition(t *testing.T) {
	m := New()
	for range 3 {
		m.ObserveRequest("tenant", "GET /v1/{project_id}/tenants/resources", 200, 2*time.Millisecond)
	}
	m.ObserveRequest("tenant", "", 404, time.Millisecond)
	m.AuthFailure("bad_signature")
	m.ConsumeOutcome("accepted")
	m.ConsumeOutcome("conflict")
	m.DriftFound(2)
	text := scrape(t, m)
	for _, want := range []string{
		`allot_http_requests_total{plane="tenant",route="GET /v1/{project_id}/tenants/resources",status="200"} 3`,
		`allot_http_requests_total{plane="tenant",route="unmatched",status="404"} 1`,
		`allot_http_request_duration_seconds_count{plane="tenant",route="GET /v1/{project_id}/tenants/resources"} 3`,
		`allot_auth_failures_total{reason="bad_signature"} 1`,
		`allot_consume_total{outcome="accepted"} 1`,
		`allot_consume_total{outcome="conflict"} 1`,
		`allot_ledger_drift 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
