// Package console serves allot's operator console (on the management
// listener, under /console/) and its tenant portal (on the tenant listener,
// under /portal/): server-rendered HTML pages, embedded in the binary, with
// no script and a strict Content-Security-Policy.
//
// It is another caller of the domain, like the management API: every
// action is one allot.Service call with the same authorization and the same
// idempotency, and every form's body is decoded by the API's own decoders,
// so the console accepts and refuses exactly what the API does, with the
// same messages. A browser signs in with an admin key, an SP key or a
// tenant token and gets a session (only its hash is stored); every request
// of the session looks the credential up again, as the APIs do, so a
// revoked or expired credential ends its sessions at once.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/allot-dev/allot"
)

//go:embed templates/*.html
var templateFS embed.FS

// DefaultSessionTTL is how long a session lasts when Config.SessionTTL is 0.
const DefaultSessionTTL = 8 * time.Hour

// Config is what the console and the portal need.
type Config struct {
	Store     allot.Store
	Service   *allot.Service
	Reader    allot.TenantReader
	Summaries allot.SummaryReader
	// Now is allot's clock: session and credential expiry.
	Now    func() time.Time
	Logger *slog.Logger
	// SessionTTL is how long a session lasts (DefaultSessionTTL if 0).
	SessionTTL time.Duration
	// Issue makes new credentials; nil functions hide their forms.
	Issue Issuer
	// FailedDeliveries, when set, returns one page of the webhook
	// deliveries that failed that the actor may see, newest first, and how
	// many there are in all, for the overview (FailedDeliveriesOf); nil
	// hides the section.
	FailedDeliveries func(ctx context.Context, actor allot.Actor, p allot.Page) ([]FailedDelivery, int, error)
}

// Issuer makes new credentials, as the CLI does. Each returns the secret,
// which the console shows once.
type Issuer struct {
	AccessKey func(ctx context.Context, projectID string, expires time.Time) (accessKey, secretKey string, err error)
	Token     func(ctx context.Context, projectID string, ttl time.Duration) (token string, expires time.Time, err error)
	AdminKey  func(ctx context.Context, name, spProjectID string, expires time.Time) (key string, err error)
}

type handler struct {
	cfg   Config
	pages map[string]*template.Template
}

func newHandler(cfg Config) *handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	return &handler{cfg: cfg, pages: parsePages()}
}

// parsePages builds one template per page: the layout with the page's
// "content".
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, _ := fs.Glob(templateFS, "templates/*.html")
	pages := make(map[string]*template.Template)
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return pages
}

// csp is the policy of every page: nothing but the console's own style
// sheet; no script at all, no frames, forms only to itself.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" with the console's own forms, which sameOrigin refuses.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// page is what every template gets.
type page struct {
	Title   string
	Prefix  string // "/console/" or "/portal/"
	Session *session
	CSRF    string
	Flash   string
	Error   string
	Data    any
}

// Admin reports whether the page's session is an administrator's.
func (p page) Admin() bool { return p.Session != nil && p.Session.actor.Role == allot.RoleAdmin }

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := h.pages[name]
	if !ok {
		panic("console: no page " + name)
	}
	if p.Session != nil {
		p.CSRF = p.Session.csrf()
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", p); err != nil {
		h.cfg.Logger.Error("render page", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// fail renders an error page: the API's message for a coded error, a
// generic one (and a log line) for anything else.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, s *session, prefix string, err error) {
	status := http.StatusInternalServerError
	switch allot.ErrorCodeOf(err) {
	case allot.EINVALID:
		status = http.StatusBadRequest
	case allot.EFORBIDDEN:
		status = http.StatusForbidden
	case allot.ENOTFOUND:
		status = http.StatusNotFound
	case allot.ECONFLICT:
		status = http.StatusConflict
	case allot.EUNAUTHENTICATED:
		status = http.StatusUnauthorized
	default:
		h.cfg.Logger.Error("console", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Prefix: prefix, Session: s, Error: allot.ErrorMessageOf(err)})
}

//go:embed static/console.css
var styleSheet []byte

func serveStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(styleSheet)
}

// Who names the signed-in credential in the page header.
func (p page) Who() string {
	switch {
	case p.Session == nil:
		return ""
	case p.Session.project != "":
		return "project " + p.Session.project
	case p.Session.actor.Role == allot.RoleSP:
		return "SP key " + p.Session.actor.ID + " (" + p.Session.actor.SPProjectID + ")"
	}
	return "admin key " + p.Session.actor.ID
}

// SP is the service provider an SP key acts for ("" for an admin).
func (p page) SP() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.actor.SPProjectID
}
