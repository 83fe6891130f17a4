package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/allot-dev/allot"
)

type ctxKey int

const requestInfoKey ctxKey = iota

// requestInfo travels in the request context: the id every response and log
// line carries, and what the handlers learn (the caller's project, the error
// code) for the request's log line.
type requestInfo struct {
	id        string
	projectID string
	errorCode string

	// What test mode's request ring shows besides (testmode.go).
	operation   string
	auth        string // aksk, token, admin_key, failed
	authReason  string
	authMessage string
	accessKey   string
	fault       bool
	entries     []allot.LedgerEntry
}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey).(*requestInfo)
	if info == nil {
		return &requestInfo{}
	}
	return info
}

func requestIDFrom(ctx context.Context) string { return infoFrom(ctx).id }

// ProjectIDFrom returns the authenticated caller's project id.
func ProjectIDFrom(ctx context.Context) string { return infoFrom(ctx).projectID }

func setErrorCode(ctx context.Context, code string) { infoFrom(ctx).errorCode = code }

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// withRequestContext gives every request an id (the X-Request-Id header of
// every response, errors included), a deadline, a body limit, and one log
// line when it ends. The log line never carries credentials: it names the
// route pattern, not the query, and no header.
func (s *Server) withRequestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: newRequestID()}
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), requestInfoKey, info), s.cfg.RequestTimeout)
		defer cancel()
		w.Header()["X-Request-Id"] = []string{info.id}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		plane := "tenant"
		if s.admin {
			plane = "admin"
		}
		s.cfg.Observer.ObserveRequest(plane, r.Pattern, rec.status, time.Since(start))
		if s.cfg.TestMode != nil {
			s.record(r, info, rec.status, start)
		}
		if s.cfg.LogRequests {
			attrs := []slog.Attr{
				slog.String("request_id", info.id),
				slog.String("method", r.Method),
				slog.String("route", r.Pattern),
				slog.Int("status", rec.status),
				slog.Duration("latency", time.Since(start)),
			}
			if info.projectID != "" {
				attrs = append(attrs, slog.String("project_id", info.projectID))
			}
			if info.errorCode != "" {
				attrs = append(attrs, slog.String("error_code", info.errorCode))
			}
			s.logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}
	})
}

// withRecover turns a panic into a 500 in the documented shape.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, &allot.Error{Code: allot.EINTERNAL, Message: "panic", Err: panicError{v}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + slog.AnyValue(p.v).String() }
