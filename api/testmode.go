package api

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sign"
)

// TestMode is what `allot serve --test-mode` adds to the tenant listener:
// routes under /_allot/ that reset the data, move the clock, show the last
// requests and inject faults (docs/testing.md). A server without it answers
// those paths 404, like any unknown path. One TestMode is shared by both
// planes, so the request ring shows management calls and the ledger entries
// they caused beside the tenant calls.
type TestMode struct {
	// Reset puts the data back to the seed state (the store wiped and
	// re-seeded, the read model invalidated).
	Reset func(ctx context.Context) error
	// Clock is allot's clock, which the routes move.
	Clock *allot.ManualClock

	ring   *requestRing
	faults *faultSet

	mu sync.Mutex
	// lockouts are the servers' failure counts, forgotten by Clear.
	lockouts []*lockout
}

// DefaultRecordedRequests is how many requests the ring keeps.
const DefaultRecordedRequests = 200

// NewTestMode returns a test mode keeping the last size requests
// (DefaultRecordedRequests if size <= 0).
func NewTestMode(reset func(context.Context) error, clock *allot.ManualClock, size int) *TestMode {
	if size <= 0 {
		size = DefaultRecordedRequests
	}
	return &TestMode{Reset: reset, Clock: clock, ring: &requestRing{size: size}, faults: &faultSet{}}
}

// Clear forgets the recorded requests, every fault rule and the
// authentication failures counted so far: part of a reset. Every test
// signs from the same loopback address, so one test's deliberate bad
// signatures would otherwise lock the next test out.
func (tm *TestMode) Clear() {
	tm.ring.clear()
	tm.faults.set(nil)
	tm.mu.Lock()
	defer tm.mu.Unlock()
	for _, l := range tm.lockouts {
		l.clear()
	}
}

func (tm *TestMode) addLockout(l *lockout) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.lockouts = append(tm.lockouts, l)
}

// Requests returns the recorded requests, oldest first.
func (tm *TestMode) Requests() []RecordedRequest { return tm.ring.list() }

// SetFaults replaces the fault rules.
func (tm *TestMode) SetFaults(rules []FaultRule) error {
	for i := range rules {
		if err := rules[i].check(); err != nil {
			return err
		}
	}
	tm.faults.set(rules)
	return nil
}

func (s *Server) testModeRoutes() {
	tm := s.cfg.TestMode
	s.mux.HandleFunc("POST /_allot/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := tm.Reset(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
		tm.Clear()
		s.writeJSON(w, http.StatusOK, map[string]any{"reset": true, "now": tm.Clock.Now().UTC()})
	})
	s.mux.HandleFunc("GET /_allot/clock", s.handleClock)
	s.mux.HandleFunc("POST /_allot/clock", s.handleClock)
	s.mux.HandleFunc("GET /_allot/requests", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, http.StatusOK, map[string]any{"requests": tm.Requests()})
	})
	s.mux.HandleFunc("GET /_allot/faults", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, http.StatusOK, map[string]any{"rules": tm.faults.list()})
	})
	s.mux.HandleFunc("POST /_allot/faults", func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		var req struct {
			Rules []FaultRule `json:"rules"`
		}
		if err == nil {
			err = decodeJSON(body, &req)
		}
		if err == nil {
			err = tm.SetFaults(req.Rules)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"rules": tm.faults.list()})
	})
	s.mux.HandleFunc("DELETE /_allot/faults", func(w http.ResponseWriter, r *http.Request) {
		tm.faults.set(nil)
		s.writeJSON(w, http.StatusOK, map[string]any{"rules": []FaultRule{}})
	})
}

// handleClock reads the clock and, for a POST, moves it first: a freeze,
// then set, then advance, then a thaw, whichever are given.
func (s *Server) handleClock(w http.ResponseWriter, r *http.Request) {
	clock := s.cfg.TestMode.Clock
	if r.Method == http.MethodPost {
		body, err := readBody(r)
		var req struct {
			Set     string `json:"set"`
			Advance string `json:"advance"`
			Freeze  *bool  `json:"freeze"`
		}
		if err == nil {
			err = decodeJSON(body, &req)
		}
		var set time.Time
		var advance time.Duration
		if err == nil && req.Set != "" {
			if set, err = time.Parse(time.RFC3339, req.Set); err != nil {
				err = allot.Invalid("set", "%q is not an RFC 3339 time", truncate(req.Set))
			}
		}
		if err == nil && req.Advance != "" {
			if advance, err = time.ParseDuration(req.Advance); err != nil {
				err = allot.Invalid("advance", "%q is not a duration such as 720h or 90m", truncate(req.Advance))
			}
		}
		if err == nil && req.Set == "" && req.Advance == "" && req.Freeze == nil {
			err = allot.Invalid("body", `give one of {"set": RFC 3339}, {"advance": "720h"}, {"freeze": true}`)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// Freezing comes first, so the clock reads exactly what is set.
		if req.Freeze != nil && *req.Freeze {
			clock.Freeze(true)
		}
		if !set.IsZero() {
			clock.Set(set)
		}
		if advance != 0 {
			clock.Advance(advance)
		}
		if req.Freeze != nil && !*req.Freeze {
			clock.Freeze(false)
		}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"now": clock.Now().UTC().Format(time.RFC3339Nano), "frozen": clock.Frozen()})
}

// RecordedRequest is what GET /_allot/requests shows of one request. Like
// the request log it carries no secret: header names but no values, the
// access key (which travels in clear) but never a signature or a token,
// and query values of secret-looking parameters replaced.
type RecordedRequest struct {
	At            time.Time `json:"at"`
	Plane         string    `json:"plane"`
	RequestID     string    `json:"request_id"`
	Method        string    `json:"method"`
	Path          string    `json:"path"`
	Query         string    `json:"query,omitempty"`
	Operation     string    `json:"operation,omitempty"`
	SignedHeaders []string  `json:"signed_headers,omitempty"`
	AccessKey     string    `json:"access_key,omitempty"`
	// Auth is "aksk", "token" or "admin_key" for an accepted credential,
	// "failed" for a refused one, "none" where none was asked.
	Auth string `json:"auth"`
	// AuthReason and AuthMessage say why a credential was refused: the
	// reason label of the metrics and the message sent to the client
	// (e.g. which part of the signature did not match).
	AuthReason  string              `json:"auth_reason,omitempty"`
	AuthMessage string              `json:"auth_message,omitempty"`
	ProjectID   string              `json:"project_id,omitempty"`
	Status      int                 `json:"status"`
	ErrorCode   string              `json:"error_code,omitempty"`
	Fault       bool                `json:"fault,omitempty"`
	Entries     []allot.LedgerEntry `json:"ledger_entries,omitempty"`
}

// requestRing keeps the last size requests.
type requestRing struct {
	mu   sync.Mutex
	size int
	buf  []RecordedRequest
	next int // where the next one goes once buf is full
}

func (g *requestRing) add(rr RecordedRequest) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.buf) < g.size {
		g.buf = append(g.buf, rr)
		return
	}
	g.buf[g.next] = rr
	g.next = (g.next + 1) % g.size
}

func (g *requestRing) list() []RecordedRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]RecordedRequest, 0, len(g.buf))
	out = append(out, g.buf[g.next:]...)
	return append(out, g.buf[:g.next]...)
}

func (g *requestRing) clear() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buf, g.next = nil, 0
}

// record adds a finished request to the ring; the test-mode routes
// themselves are left out, so a test reading the ring sees its own calls.
func (s *Server) record(r *http.Request, info *requestInfo, status int, at time.Time) {
	if strings.HasPrefix(r.URL.Path, "/_allot/") {
		return
	}
	rr := RecordedRequest{
		At: at.UTC(), Plane: "tenant", RequestID: info.id, Method: r.Method, Path: r.URL.Path,
		Query: redactQuery(r.URL.RawQuery), Operation: info.operation,
		Auth: info.auth, AuthReason: info.authReason, AuthMessage: info.authMessage, AccessKey: info.accessKey,
		ProjectID: info.projectID, Status: status, ErrorCode: info.errorCode, Fault: info.fault, Entries: info.entries,
	}
	if s.admin {
		rr.Plane = "admin"
	}
	if rr.Auth == "" {
		rr.Auth = "none"
	}
	if auth, err := sign.ParseAuthorization(r.Header.Get("Authorization")); err == nil {
		rr.SignedHeaders = auth.SignedHeaders
		rr.AccessKey = truncate(auth.AccessKey)
	}
	s.cfg.TestMode.ring.add(rr)
}

// redactQuery replaces the values of parameters whose names suggest a
// secret; the tenant API has none, but a client may send anything.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "(unparsable query)"
	}
	for name, vs := range q {
		n := strings.ToLower(name)
		for _, word := range []string{"token", "secret", "password", "signature", "key", "sk", "auth"} {
			if strings.Contains(n, word) {
				for i := range vs {
					vs[i] = "xxxxx"
				}
				break
			}
		}
	}
	return q.Encode()
}

// tenantOperations names the tenant routes as the SDK and the OpenAPI
// document do; fault rules select requests by these names.
var tenantOperations = map[string]string{
	"GET /v1/{project_id}/tenants/resources":              "ListTenantResources",
	"GET /v1/{project_id}/tenants/resource/assignrecourd": "ShowTenantAssginRecord",
	"GET /v1/{project_id}/tenants/resources-count":        "CountTenantResources",
	"GET /v1/{project_id}/tenants/resources-usage":        "ShowResourceUsage",
	"GET /v3/projects": "KeystoneListProjects",
}

func operationOf(pattern string) string { return tenantOperations[pattern] }

// FaultRule makes matching tenant requests fail (or wait) as the real
// service can, so a client's retry logic can be tested. Op is an operation
// name (ListTenantResources, ...; "" or "*" for every tenant operation).
// Count > 0 applies the rule to that many matching requests, then retires
// it; otherwise Probability (0 to 1) is the chance per matching request,
// and 0 with Count 0 means every one. Status 0 with a Delay only delays.
type FaultRule struct {
	Op          string  `json:"op,omitempty"`
	Count       int     `json:"count,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Status      int     `json:"status,omitempty"`
	ErrorCode   string  `json:"error_code,omitempty"`
	ErrorMsg    string  `json:"error_msg,omitempty"`
	// Delay is a duration such as "250ms", waited before answering.
	Delay string `json:"delay,omitempty"`

	delay time.Duration
}

// The real service's error bodies for the statuses a fault usually
// imitates; another status takes MSS.00000004 unless the rule names a code.
var faultDefaults = map[int]errorBody{
	http.StatusInternalServerError: {"MSS.00000004", "internal error"},
	http.StatusUnauthorized:        {"APIG.0303", "Incorrect IAM authentication information: injected fault"},
	http.StatusForbidden:           {"MSS.00010009", "injected fault"},
	http.StatusTooManyRequests:     {"APIG.0308", "The request is throttled."},
	http.StatusBadGateway:          {"APIG.0202", "Backend unavailable."},
	http.StatusServiceUnavailable:  {"APIG.0202", "Backend unavailable."},
	http.StatusGatewayTimeout:      {"APIG.0203", "Backend timeout."},
}

func (f *FaultRule) check() error {
	if f.Op != "" && f.Op != "*" {
		known := false
		for _, op := range tenantOperations {
			known = known || op == f.Op
		}
		if !known {
			return allot.Invalid("op", "%q is not a tenant operation (ListTenantResources, ShowTenantAssginRecord, CountTenantResources, ShowResourceUsage, KeystoneListProjects)", truncate(f.Op))
		}
	}
	if f.Count < 0 {
		return allot.Invalid("count", "must not be negative")
	}
	if f.Probability < 0 || f.Probability > 1 {
		return allot.Invalid("probability", "must be between 0 and 1")
	}
	if f.Count > 0 && f.Probability > 0 {
		return allot.Invalid("probability", "give count or probability, not both")
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return allot.Invalid("status", "must be an error status, 400 to 599")
	}
	if f.Delay != "" {
		d, err := time.ParseDuration(f.Delay)
		if err != nil || d < 0 || d > time.Minute {
			return allot.Invalid("delay", "%q is not a duration between 0 and 1m", truncate(f.Delay))
		}
		f.delay = d
	}
	if f.Status == 0 && f.delay == 0 {
		return allot.Invalid("status", "is required unless the rule only delays")
	}
	if f.Status != 0 && f.ErrorCode == "" {
		def, ok := faultDefaults[f.Status]
		if !ok {
			def = errorBody{"MSS.00000004", "injected fault"}
		}
		f.ErrorCode = def.ErrorCode
		if f.ErrorMsg == "" {
			f.ErrorMsg = def.ErrorMsg
		}
	}
	if f.Status != 0 && f.ErrorMsg == "" {
		f.ErrorMsg = "injected fault"
	}
	return nil
}

type faultSet struct {
	mu    sync.Mutex
	rules []FaultRule
}

func (fs *faultSet) set(rules []FaultRule) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = rules
}

func (fs *faultSet) list() []FaultRule {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]FaultRule, len(fs.rules))
	copy(out, fs.rules)
	return out
}

// match returns the first rule that applies to op now, using up one of its
// count.
func (fs *faultSet) match(op string) (FaultRule, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := 0; i < len(fs.rules); i++ {
		f := &fs.rules[i]
		if f.Op != "" && f.Op != "*" && f.Op != op {
			continue
		}
		switch {
		case f.Count > 0:
			f.Count--
			rule := *f
			if f.Count == 0 {
				fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
			}
			return rule, true
		case f.Probability > 0:
			if rand.Float64() < f.Probability {
				return *f, true
			}
		default:
			return *f, true
		}
	}
	return FaultRule{}, false
}

// withFaults answers a tenant operation a matching fault rule selects with
// the rule's error, before authentication, as the gateway in front of the
// real service would.
func (s *Server) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.TestMode == nil || s.admin {
			next.ServeHTTP(w, r)
			return
		}
		_, pattern := s.mux.Handler(r)
		op := operationOf(pattern)
		infoFrom(r.Context()).operation = op
		if op == "" {
			next.ServeHTTP(w, r)
			return
		}
		f, ok := s.cfg.TestMode.faults.match(op)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.delay > 0 {
			t := time.NewTimer(f.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
		}
		if f.Status == 0 {
			next.ServeHTTP(w, r)
			return
		}
		info := infoFrom(r.Context())
		info.fault = true
		info.errorCode = f.ErrorCode
		body, _ := json.Marshal(errorBody{ErrorCode: f.ErrorCode, ErrorMsg: f.ErrorMsg})
		s.writeBody(w, f.Status, body)
	})
}

// clear forgets every failure counted: test mode's reset.
func (l *lockout) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.pairs)
	clear(l.addrs)
}
