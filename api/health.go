package api

import (
	"context"
	"net/http"
	"time"
)

// Observer receives what the server measures; package metrics implements it
// with Prometheus. A nil Observer in Config observes nothing.
type Observer interface {
	ObserveRequest(plane, route string, status int, d time.Duration)
	AuthFailure(reason string)
	ConsumeOutcome(outcome string)
	DriftFound(n int)
}

type nopObserver struct{}

func (nopObserver) ObserveRequest(string, string, int, time.Duration) {}
func (nopObserver) AuthFailure(string)                                {}
func (nopObserver) ConsumeOutcome(string)                             {}
func (nopObserver) DriftFound(int)                                    {}

// handleHealthz: the process is alive and serving.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	s.writeBody(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// handleReadyz: the store answers (within 2 s) at the expected schema
// version, so a load balancer may send traffic here.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.logger.Warn("not ready", "error", err.Error(), "request_id", requestIDFrom(r.Context()))
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store not ready"})
		return
	}
	s.writeBody(w, http.StatusOK, []byte(`{"status":"ready"}`))
}
