package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// session is a signed-in browser, checked for this request: its stored
// record, its id (to derive the form token from) and who it acts as.
type session struct {
	id    string
	rec   allot.ConsoleSession
	actor allot.Actor // console sessions
	// project is a portal session's tenant.
	project string
}

// csrf is the session's synchronizer token, put in every form: an HMAC of
// a fixed label under the session id. A cross-site page can neither read
// the cookie nor this value, so it cannot forge a form that carries it.
func (s *session) csrf() string { return formToken(s.id, "csrf") }

func formToken(secret, label string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(label))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// randomID is 256 random bits, URL-safe.
func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// same reports whether a and b are equal, in time independent of where
// they differ.
func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// plane is what the console and the portal share: the cookie, the session
// kind and how a credential is checked again on every request.
type plane struct {
	h      *handler
	prefix string // "/console/" or "/portal/"
	cookie string
	kind   allot.SessionKind
}

func (p *plane) setCookie(w http.ResponseWriter, r *http.Request, name, value string, expires time.Time) {
	c := &http.Cookie{Name: name, Value: value, Path: p.prefix, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
	if value == "" {
		c.MaxAge = -1
	} else if !expires.IsZero() {
		c.Expires = expires
	}
	http.SetCookie(w, c)
}

// signIn opens a new session for a checked credential: always a new id,
// whatever cookie the browser sent (no fixation), stored as its hash.
func (p *plane) signIn(w http.ResponseWriter, r *http.Request, credential string) error {
	now := p.h.cfg.Now().UTC().Truncate(time.Second)
	if _, err := p.h.cfg.Store.DeleteExpiredConsoleSessions(r.Context(), now); err != nil {
		return err
	}
	if old, err := r.Cookie(p.cookie); err == nil && old.Value != "" {
		// A session this browser held before ends here; an unknown value
		// (one planted by someone else) is simply never used.
		if err := p.h.cfg.Store.DeleteConsoleSession(r.Context(), hashOf(old.Value)); err != nil && allot.ErrorCodeOf(err) != allot.ENOTFOUND {
			return err
		}
	}
	id := randomID()
	rec := allot.ConsoleSession{Hash: hashOf(id), Kind: p.kind, CredentialHash: api.TokenHash(credential), CreatedAt: now, ExpiresAt: now.Add(p.h.cfg.SessionTTL)}
	if err := p.h.cfg.Store.CreateConsoleSession(r.Context(), rec); err != nil {
		return err
	}
	p.setCookie(w, r, p.cookie, id, rec.ExpiresAt)
	return nil
}

// load returns the request's session, checked: it exists, has not expired,
// and the credential it was opened with is still valid, looked up exactly as
// the APIs look it up. ok is false for a browser that is not signed in.
func (p *plane) load(r *http.Request) (*session, bool, error) {
	c, err := r.Cookie(p.cookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, false, nil
	}
	rec, err := p.h.cfg.Store.FindConsoleSession(r.Context(), hashOf(c.Value))
	if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	now := p.h.cfg.Now()
	if rec.Kind != p.kind || rec.Expired(now) {
		return nil, false, nil
	}
	s := &session{id: c.Value, rec: rec}
	switch p.kind {
	case allot.SessionAdmin:
		k, err := p.h.cfg.Store.FindAdminKey(r.Context(), rec.CredentialHash)
		if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
			return nil, false, nil
		} else if err != nil {
			return nil, false, err
		}
		if k.Expired(now) {
			return nil, false, nil
		}
		s.actor = allot.Actor{ID: k.ID, Role: k.Role, SPProjectID: k.SPProjectID}
	case allot.SessionToken:
		t, err := p.h.cfg.Store.FindToken(r.Context(), rec.CredentialHash)
		if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
			return nil, false, nil
		} else if err != nil {
			return nil, false, err
		}
		if !now.Before(t.ExpiresAt) {
			return nil, false, nil
		}
		s.project = t.ProjectID
	}
	return s, true, nil
}

// sameOrigin refuses a request another site made: the browser says so in
// Sec-Fetch-Site, and names the page's origin in Origin. A client that sends
// neither (curl) is held to the form token alone.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		scheme := "http://"
		if r.TLS != nil {
			scheme = "https://"
		}
		return origin == scheme+r.Host
	}
	return true
}
