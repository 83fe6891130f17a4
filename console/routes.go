package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/allot-dev/allot"
)

// Console is the operator console, served under /console/ on the
// management listener.
type Console struct {
	h   *handler
	p   *plane
	mux *http.ServeMux
}

// New returns the operator console.
func New(cfg Config) *Console {
	h := newHandler(cfg)
	c := &Console{h: h, p: &plane{h: h, prefix: "/console/", cookie: "allot_console", kind: allot.SessionAdmin}, mux: http.NewServeMux()}
	m := c.mux
	m.HandleFunc("GET /console/static/console.css", serveStyle)
	m.HandleFunc("GET /console/{$}", c.home)
	m.HandleFunc("GET /console/signin", func(w http.ResponseWriter, r *http.Request) { c.p.signInPage(w, r, "", http.StatusOK) })
	m.HandleFunc("POST /console/signin", c.signIn)
	m.Handle("POST /console/signout", c.p.authed(c.p.signOut))
	m.Handle("GET /console/overview", c.p.authed(c.overview))
	m.Handle("POST /console/deliveries/redeliver", c.p.authed(c.redeliver))
	m.Handle("GET /console/tenants/{project_id}", c.p.authed(c.tenant))
	m.Handle("GET /console/tenants/{project_id}/ledger.csv", c.p.authed(c.ledgerCSV))
	m.Handle("GET /console/sps/{project_id}", c.p.authed(c.sp))
	m.Handle("GET /console/actions/{op}", c.p.authed(c.actionForm))
	m.Handle("POST /console/actions/{op}", c.p.authed(c.action))
	m.Handle("GET /console/credentials", c.p.authed(c.credentials))
	m.Handle("POST /console/credentials/{kind}", c.p.authed(c.createCredential))
	m.Handle("POST /console/credentials/{kind}/revoke", c.p.authed(c.revokeCredential))
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, "/console/", allot.Errorf(allot.ENOTFOUND, "there is no page %s %s", r.Method, r.URL.Path))
	})
	return c
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header())
	c.mux.ServeHTTP(w, r)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/overview", http.StatusSeeOther)
}

// authed runs h for a signed-in browser only. It is the first thing every
// page does: a browser without a valid session is sent to the sign-in page
// (GET) or refused (POST) before anything is read. A POST must come from
// the console's own pages: same origin, and the session's form token.
func (p *plane) authed(h func(w http.ResponseWriter, r *http.Request, s *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok, err := p.load(r)
		if err != nil {
			p.h.fail(w, r, nil, p.prefix, err)
			return
		}
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, p.prefix+"signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			p.h.fail(w, r, nil, p.prefix, allot.Errorf(allot.EUNAUTHENTICATED, "sign in first: this browser has no valid session"))
			return
		}
		if r.Method == http.MethodPost {
			if !sameOrigin(r) {
				p.h.fail(w, r, s, p.prefix, allot.Errorf(allot.EFORBIDDEN, "a form of another site was refused"))
				return
			}
			if !same(r.PostFormValue("csrf"), s.csrf()) {
				p.h.fail(w, r, s, p.prefix, allot.Errorf(allot.EFORBIDDEN, "the form's token is missing or stale: reload the page and try again"))
				return
			}
		}
		h(w, r, s)
	})
}

// signInPage shows the sign-in form with a fresh pre-session token, kept in
// a cookie and in the form (double submit), so no other site can sign a
// browser in to a session of its choosing.
func (p *plane) signInPage(w http.ResponseWriter, r *http.Request, msg string, status int) {
	token := randomID()
	p.setCookie(w, r, p.cookie+"_signin", token, p.h.cfg.Now().Add(p.h.cfg.SessionTTL))
	next := r.FormValue("next")
	p.h.render(w, r, status, "signin", page{Title: "Sign in", Prefix: p.prefix, Error: msg,
		Data: struct{ Token, Next, Label string }{token, safeNext(p.prefix, next), p.credentialLabel()}})
}

func (p *plane) credentialLabel() string {
	if p.kind == allot.SessionToken {
		return "Tenant token"
	}
	return "Admin key or SP key"
}

// safeNext keeps a redirect after sign-in on the plane's own pages.
func safeNext(prefix, next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || len(u.Path) < len(prefix) || u.Path[:len(prefix)] != prefix || len(next) > 1024 {
		return ""
	}
	return next
}

// checkSignIn checks the sign-in form's origin and pre-session token.
func (p *plane) checkSignIn(r *http.Request) bool {
	c, err := r.Cookie(p.cookie + "_signin")
	return sameOrigin(r) && err == nil && c.Value != "" && same(r.PostFormValue("token"), c.Value)
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.p.checkSignIn(r) {
		c.h.fail(w, r, nil, c.p.prefix, allot.Errorf(allot.EFORBIDDEN, "the sign-in form is stale or came from another site: reload it"))
		return
	}
	key := r.PostFormValue("key")
	if key == "" || len(key) > 4096 {
		c.p.signInPage(w, r, "key: enter an admin key or an SP key", http.StatusUnauthorized)
		return
	}
	k, err := c.h.cfg.Store.FindAdminKey(r.Context(), hashOf(key))
	if allot.ErrorCodeOf(err) == allot.ENOTFOUND || err == nil && k.Expired(c.h.cfg.Now()) {
		c.p.signInPage(w, r, "key: this key is unknown, revoked or expired", http.StatusUnauthorized)
		return
	} else if err != nil {
		c.h.fail(w, r, nil, c.p.prefix, err)
		return
	}
	if err := c.p.signIn(w, r, key); err != nil {
		c.h.fail(w, r, nil, c.p.prefix, err)
		return
	}
	c.p.setCookie(w, r, c.p.cookie+"_signin", "", time.Time{})
	next := safeNext(c.p.prefix, r.PostFormValue("next"))
	if next == "" {
		next = "/console/overview"
		if k.Role == allot.RoleSP {
			next = "/console/sps/" + url.PathEscape(k.SPProjectID)
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *plane) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.h.cfg.Store.DeleteConsoleSession(r.Context(), s.rec.Hash); err != nil && allot.ErrorCodeOf(err) != allot.ENOTFOUND {
		p.h.fail(w, r, s, p.prefix, err)
		return
	}
	p.setCookie(w, r, p.cookie, "", time.Time{})
	http.Redirect(w, r, p.prefix+"signin", http.StatusSeeOther)
}
