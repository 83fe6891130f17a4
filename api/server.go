// Package api serves allot's MetaStudio-compatible tenant API over HTTP:
// routing, authentication (AK/SK signatures and tokens), parameter parsing,
// the JSON wire shapes and the error mapping. It holds no business logic: a
// handler parses, validates, makes one call to the domain and writes the
// result or the error.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
)

// Config is what a Server needs.
type Config struct {
	Reader    allot.TenantReader
	Summaries allot.SummaryReader
	// Store is the whole store: credentials, tokens, admin keys, projects,
	// the ledger and readiness.
	Store   allot.Store
	Keyring *secret.Keyring
	Logger  *slog.Logger
	// Now is allot's clock (allot.Clock's Now): token, access key and admin
	// key expiry and credential cache ages (time.Now if nil).
	Now func() time.Time
	// WallNow is the real time, against which X-Sdk-Date is checked and
	// lockouts run, whatever Now says (time.Now if nil).
	WallNow func() time.Time
	// MaxClockSkew bounds |X-Sdk-Date - now| (15 minutes if zero).
	MaxClockSkew time.Duration
	// RequestTimeout bounds the work of one request (10 s if zero).
	RequestTimeout time.Duration
	// LogRequests writes one log line per request.
	LogRequests bool

	// RateLimit is the number of requests per second one credential may
	// make (0: unlimited), with bursts up to RateBurst.
	RateLimit float64
	RateBurst int

	// Observer receives request, authentication and consume measurements.
	Observer Observer
	// Metrics, when set, is served at /metrics on the management plane.
	Metrics http.Handler

	// Service holds the lifecycle rules the management plane calls
	// (NewAdminServer).
	Service *allot.Service
	// Tenants holds the rules of the tenant-side configuration routes.
	Tenants *allot.Tenants

	// TestMode, when set, adds the /_allot/ routes to the tenant plane and
	// records both planes' requests (testmode.go). Never set it in
	// production: anyone who reaches the port may wipe the data.
	TestMode *TestMode

	// Pages, when set, serves the HTML pages of a plane (the operator
	// console, the tenant portal): each handler gets every request whose
	// path starts with its key, a prefix such as "/console/", after the
	// same request middleware as the API. They are not part of the API
	// contract (pages.go).
	Pages map[string]http.Handler
}

// Server is allot's HTTP server.
type Server struct {
	cfg    Config
	logger *slog.Logger
	auth   *authenticator
	mux    *http.ServeMux
	limit  *limiter
	admin  bool // the management plane: ALLOT.* error codes
	ln     net.Listener
	srv    *http.Server
}

// Limits on what one request may send.
const (
	maxHeaderBytes = 64 << 10
	maxBodyBytes   = 1 << 20
)

// NewServer builds the tenant API server from cfg.
func NewServer(cfg Config) *Server {
	s := newServer(cfg)
	s.routes()
	if cfg.TestMode != nil {
		s.testModeRoutes()
	}
	return s
}

func newServer(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WallNow == nil {
		cfg.WallNow = time.Now
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 15 * time.Minute
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	s := &Server{cfg: cfg, logger: cfg.Logger, mux: http.NewServeMux(), limit: newLimiter(cfg.RateLimit, cfg.RateBurst)}
	s.auth = newAuthenticator(cfg.Store, cfg.Keyring, cfg.Now, cfg.WallNow, cfg.MaxClockSkew, cfg.Observer, cfg.Logger)
	if cfg.TestMode != nil {
		cfg.TestMode.addLockout(s.auth.lockout)
	}
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.HandleFunc("GET /openapi.json", s.handleOpenAPI)
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

func (s *Server) routes() {
	s.mux.Handle("GET /v1/{project_id}/tenants/resources", s.tenant(s.handleListResources))
	s.mux.Handle("GET /v1/{project_id}/tenants/resource/assignrecourd", s.tenant(s.handleAssignRecords))
	s.mux.Handle("GET /v1/{project_id}/tenants/resources-count", s.tenant(s.handleCountResources))
	s.mux.Handle("GET /v1/{project_id}/tenants/resources-usage", s.tenant(s.handleResourceUsage))
	s.mux.Handle("POST /v1/{project_id}/tenants/notice-configurations", s.tenant(s.handleSetNoticeConfig))
	s.mux.Handle("GET /v1/{project_id}/tenants/notice-configurations", s.tenant(s.handleShowNoticeConfig))
	s.mux.HandleFunc("GET /v3/projects", s.handleIAMProjects)
	s.orderRoutes()
	s.tenantSettingsRoutes()
	s.mux.HandleFunc("/", s.handleNotFound)
}

// Handler returns the server's handler with every middleware applied.
func (s *Server) Handler() http.Handler {
	return s.withRequestContext(s.withRecover(s.withFaults(s.withPages(s.mux))))
}

// Open binds addr (use "127.0.0.1:0" for a free port) and serves in the
// background. A taken port fails here, at once.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = &onceCloseListener{Listener: ln}
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.logger.Error("serve", slog.String("error", err.Error()))
		}
	}()
	return nil
}

// Addr returns the bound address, e.g. 127.0.0.1:8080.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the base URL of the bound address.
func (s *Server) URL() string { return "http://" + s.Addr() }

// StopAccepting closes the listener: no new connection is accepted, and the
// connections already open keep being served until Close.
func (s *Server) StopAccepting() { s.ln.Close() }

// Close stops accepting connections and waits for requests in flight until
// ctx ends.
func (s *Server) Close(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// onceCloseListener makes Close idempotent, so StopAccepting and Shutdown
// may both close it.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// writeJSON writes v with status. Encoding errors cannot reach the client
// after the header is out; they are logged.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.logger.Error("encode response", slog.String("error", err.Error()))
		status = http.StatusInternalServerError
		body = []byte(`{"error_code":"MSS.00000004","error_msg":"internal error"}`)
	}
	s.writeBody(w, status, body)
}

func (s *Server) writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json;charset=UTF-8"}
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	// ServeMux sends every unmatched request here; tell a wrong method
	// apart from an unknown path so clients see 405 where it applies.
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, r, &allot.Error{Code: errMethodNotAllowed, Message: "method " + r.Method + " is not allowed on this path; use " + strings.Join(allowed, " or ")})
		return
	}
	s.writeError(w, r, allot.Errorf(allot.ENOTFOUND, "the API does not exist: %s %s", r.Method, r.URL.Path))
}
