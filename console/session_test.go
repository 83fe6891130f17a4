package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSignInAndOut: a browser without a session is sent to sign in; an
// admin key opens a session whose cookie is HttpOnly, SameSite=Strict and
// scoped to the console; sign-out deletes it, and its cookie no longer
// opens a page.
func TestSignInAndOut(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		if a := b.get("/console/overview"); a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/signin") {
			t.Fatalf("not signed in: %d to %q, want 303 to the sign-in page", a.status, a.header.Get("Location"))
		}
		if a := b.signIn("/console/", "allot-admin-not-a-key"); a.status != http.StatusUnauthorized || !strings.Contains(a.body, "unknown, revoked or expired") {
			t.Fatalf("an unknown key: %d\n%s", a.status, a.body)
		}
		a := b.signIn("/console/", e.rootKey)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/overview" {
			t.Fatalf("sign-in: %d to %q", a.status, a.header.Get("Location"))
		}
		var set string
		for _, c := range a.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "allot_console=") {
				set = c
			}
		}
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
			if !strings.Contains(set, want) {
				t.Errorf("session cookie %q lacks %s", set, want)
			}
		}
		if strings.Contains(set, "Secure") {
			t.Errorf("session cookie %q is Secure over plain HTTP: the browser would drop it", set)
		}
		id := b.cookie("/console/", "allot_console")
		if len(id) != 43 { // 256 bits, base64url
			t.Errorf("session id %q is %d characters, want 43 (256 random bits)", id, len(id))
		}
		page := b.get("/console/overview")
		if page.status != http.StatusOK || !strings.Contains(page.body, `data-project-id="cust-1"`) {
			t.Fatalf("overview: %d\n%s", page.status, page.body)
		}
		// cust-1's row: one package expires within 30 days, and VOICE_MIN
		// has 5 of 100 free.
		row := page.body[strings.Index(page.body, `data-project-id="cust-1"`):]
		row = row[:strings.Index(row, "</tr>")]
		if !strings.Contains(row, `<strong class="tag">1</strong>`) || !strings.Contains(row, `<strong class="tag">VOICE_MIN</strong>`) ||
			strings.Contains(row, `<strong class="tag">VIDEO_MIN</strong>`) {
			t.Errorf("cust-1's overview row does not show one package expiring and VOICE_MIN low:\n%s", row)
		}
		if got := page.header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") || !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy %q", got)
		}
		if strings.Contains(page.body, e.rootKey) {
			t.Error("the overview shows the admin key")
		}
		if a := b.post("/console/signout", url.Values{"csrf": {hidden(t, page.body, "csrf")}}); a.status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d\n%s", a.status, a.body)
		}
		if a := b.get("/console/overview"); a.status != http.StatusSeeOther {
			t.Errorf("after sign-out: %d, want 303 to sign in", a.status)
		}
		// The old cookie, replayed, opens nothing: the session is gone.
		replay := e.browser(e.admin)
		replay.c.Jar.SetCookies(mustURL(e.admin+"/console/"), []*http.Cookie{{Name: "allot_console", Value: id, Path: "/console/"}})
		if a := replay.get("/console/overview"); a.status != http.StatusSeeOther {
			t.Errorf("the signed-out session's cookie: %d, want 303 to sign in", a.status)
		}
	})
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestCrossSitePost: a form posted from another site is refused, whether
// the browser says so (Sec-Fetch-Site, Origin) or the form lacks the
// session's token; nothing is written.
func TestCrossSitePost(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.rootKey)
		form := b.get("/console/actions/consume?project_id=cust-1&resource_id=pkg-1")
		csrf, key := hidden(t, form.body, "csrf"), hidden(t, form.body, "idempotency_key")
		body := url.Values{"csrf": {csrf}, "idempotency_key": {key}, "step": {"commit"}, "project_id": {"cust-1"}, "resource_id": {"pkg-1"}, "amount": {"5"}}
		for name, header := range map[string]map[string]string{
			"another origin":      {"Origin": "http://evil.example"},
			"cross-site fetch":    {"Sec-Fetch-Site": "cross-site"},
			"same-site elsewhere": {"Sec-Fetch-Site": "same-site", "Origin": "http://sub." + strings.TrimPrefix(e.admin, "http://")},
		} {
			if a := b.do(http.MethodPost, "/console/actions/consume", body, header); a.status != http.StatusForbidden || !strings.Contains(a.body, "another site") {
				t.Errorf("%s: %d, want 403\n%s", name, a.status, a.body)
			}
		}
		for name, bad := range map[string]string{"no token": "", "another session's token": strings.Repeat("A", len(csrf))} {
			forged := url.Values{}
			for k, v := range body {
				forged[k] = v
			}
			forged.Set("csrf", bad)
			if a := b.post("/console/actions/consume", forged); a.status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", name, a.status)
			}
		}
		// The sign-in form is held to its origin too.
		other := e.browser(e.admin)
		page := other.get("/console/signin")
		if a := other.do(http.MethodPost, "/console/signin", url.Values{"token": {hidden(t, page.body, "token")}, "key": {e.rootKey}},
			map[string]string{"Origin": "http://evil.example"}); a.status != http.StatusForbidden {
			t.Errorf("cross-site sign-in: %d, want 403", a.status)
		}
		if got := usageOf(t, e, "cust-1", "pkg-1"); got != "25" {
			t.Errorf("pkg-1's usage is %s after refused posts, want 25", got)
		}
		// The same form from the console's own page goes through.
		if a := b.post("/console/actions/consume", body); a.status != http.StatusSeeOther {
			t.Fatalf("same-origin post: %d\n%s", a.status, a.body)
		}
		if got := usageOf(t, e, "cust-1", "pkg-1"); got != "30" {
			t.Errorf("pkg-1's usage is %s, want 30", got)
		}
	})
}

// TestSessionFixation: a session id planted in the browser before sign-in
// is never used: sign-in mints a new one, and a session the browser held
// before ends.
func TestSessionFixation(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		planted := strings.Repeat("x", 43)
		b.c.Jar.SetCookies(mustURL(e.admin+"/console/"), []*http.Cookie{{Name: "allot_console", Value: planted, Path: "/console/"}})
		b.mustSignIn("/console/", e.rootKey)
		first := b.cookie("/console/", "allot_console")
		if first == planted || first == "" {
			t.Fatalf("the session id after sign-in is %q: the planted one was kept", first)
		}
		attacker := e.browser(e.admin)
		attacker.c.Jar.SetCookies(mustURL(e.admin+"/console/"), []*http.Cookie{{Name: "allot_console", Value: planted, Path: "/console/"}})
		if a := attacker.get("/console/overview"); a.status != http.StatusSeeOther {
			t.Errorf("the planted id opens a page: %d", a.status)
		}
		// Signing in again replaces the session.
		b.mustSignIn("/console/", e.rootKey)
		second := b.cookie("/console/", "allot_console")
		if second == first {
			t.Fatal("a second sign-in kept the session id")
		}
		old := e.browser(e.admin)
		old.c.Jar.SetCookies(mustURL(e.admin+"/console/"), []*http.Cookie{{Name: "allot_console", Value: first, Path: "/console/"}})
		if a := old.get("/console/overview"); a.status != http.StatusSeeOther {
			t.Errorf("the session replaced at sign-in still opens a page: %d", a.status)
		}
		if a := b.get("/console/overview"); a.status != http.StatusOK {
			t.Errorf("the new session: %d", a.status)
		}
	})
}

// TestExpiredSession: a session ends at its expiry on allot's clock, and
// with its admin key's expiry.
func TestExpiredSession(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		b := e.browser(e.admin)
		b.mustSignIn("/console/", e.rootKey)
		e.clock.Advance(8*time.Hour - time.Second)
		if a := b.get("/console/overview"); a.status != http.StatusOK {
			t.Fatalf("a second before expiry: %d", a.status)
		}
		e.clock.Advance(time.Second)
		if a := b.get("/console/overview"); a.status != http.StatusSeeOther {
			t.Errorf("at expiry: %d, want 303 to sign in", a.status)
		}

		// A key that expires in an hour takes its sessions with it.
		issue := e.browser(e.admin)
		issue.mustSignIn("/console/", e.rootKey)
		creds := issue.get("/console/credentials")
		a := issue.post("/console/credentials/admin-key", url.Values{"csrf": {hidden(t, creds.body, "csrf")}, "name": {"short"}, "expires_in": {"1h"}})
		if a.status != http.StatusCreated {
			t.Fatalf("create admin key: %d\n%s", a.status, a.body)
		}
		short := secretOf(t, a.body)
		s := e.browser(e.admin)
		s.mustSignIn("/console/", short)
		if a := s.get("/console/overview"); a.status != http.StatusOK {
			t.Fatalf("with the short key: %d", a.status)
		}
		// The secret is on the page that created it, and nowhere after.
		if again := issue.get("/console/credentials"); strings.Contains(again.body, short) {
			t.Error("the credentials page shows the admin key again")
		}
		e.clock.Advance(time.Hour)
		if a := s.get("/console/overview"); a.status != http.StatusSeeOther {
			t.Errorf("after the key expired: %d, want 303 to sign in", a.status)
		}
	})
}

// TestRevokedKey: revoking the key, token or SP key a session was opened
// with ends the session at its next request, on the console and the portal.
func TestRevokedKey(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		sp := e.browser(e.admin)
		sp.mustSignIn("/console/", e.spKey)
		page := sp.get("/console/sps/sp-1")
		if page.status != http.StatusOK {
			t.Fatalf("SP page: %d\n%s", page.status, page.body)
		}
		root := e.browser(e.admin)
		root.mustSignIn("/console/", e.rootKey)
		creds := root.get("/console/credentials")
		if a := root.post("/console/credentials/admin-key/revoke", url.Values{"csrf": {hidden(t, creds.body, "csrf")}, "id": {"sp-1-key"}}); a.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d\n%s", a.status, a.body)
		}
		if a := sp.get("/console/sps/sp-1"); a.status != http.StatusSeeOther {
			t.Errorf("GET with a revoked key's session: %d, want 303 to sign in", a.status)
		}
		if a := sp.post("/console/signout", url.Values{"csrf": {hidden(t, page.body, "csrf")}}); a.status != http.StatusUnauthorized {
			t.Errorf("POST with a revoked key's session: %d, want 401", a.status)
		}

		// The portal: a token, revoked.
		creds = root.get("/console/credentials")
		a := root.post("/console/credentials/token", url.Values{"csrf": {hidden(t, creds.body, "csrf")}, "project_id": {"cust-1"}, "ttl": {"2h"}})
		if a.status != http.StatusCreated {
			t.Fatalf("create token: %d\n%s", a.status, a.body)
		}
		token := secretOf(t, a.body)
		p := e.browser(e.tenant)
		p.mustSignIn("/portal/", token)
		home := p.get("/portal/")
		if home.status != http.StatusOK || !strings.Contains(home.body, `data-resource-id="pkg-1"`) || strings.Contains(home.body, "pkg-2") {
			t.Fatalf("portal: %d\n%s", home.status, home.body)
		}
		tokens, err := e.store.ListTokens(t.Context(), "cust-1")
		if err != nil || len(tokens) != 1 {
			t.Fatalf("tokens of cust-1: %v %v", tokens, err)
		}
		creds = root.get("/console/credentials")
		if a := root.post("/console/credentials/token/revoke", url.Values{"csrf": {hidden(t, creds.body, "csrf")}, "id": {tokens[0].ID}}); a.status != http.StatusSeeOther {
			t.Fatalf("revoke token: %d\n%s", a.status, a.body)
		}
		if a := p.get("/portal/"); a.status != http.StatusSeeOther {
			t.Errorf("portal with a revoked token's session: %d, want 303 to sign in", a.status)
		}
	})
}

// secretOf reads the once-shown secret off the page that created it.
func secretOf(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `<code id="secret">`)
	if !ok {
		t.Fatalf("no secret on the page:\n%s", page)
	}
	v, _, _ := strings.Cut(rest, "</code>")
	return v
}
