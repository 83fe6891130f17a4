package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/secret"
	"github.com/allot-dev/allot/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one running allot, built by app.Open as allot serve builds it,
// with two service providers, a customer of each, and their keys.
type env struct {
	t       *testing.T
	app     *app.App
	posts   *atomic.Int64 // action posts the console answered
	store   allot.Store
	keyring *secret.Keyring
	clock   *allot.ManualClock
	admin   string // the management listener's base URL
	tenant  string
	rootKey string // an administrator's key
	spKey   string // acts for sp-1
	now     time.Time
}

// The fixture: sp-1 has the pool pool-1 (1,000 units of spec VIDEO_MIN)
// and the customer cust-1 with its own packages pkg-1 (100 units, 25 used)
// and pkg-low (100 units of VOICE_MIN, 95 used, expiring in 10 days); sp-2 has the
// customer cust-2 with pkg-2.
const spec = "VIDEO_MIN"

func storeOpeners() map[string]func(t *testing.T, clock allot.Clock) allot.Store {
	return map[string]func(t *testing.T, clock allot.Clock) allot.Store{
		"SQLite": func(t *testing.T, clock allot.Clock) allot.Store {
			s, err := app.OpenStore(t.Context(), filepath.Join(t.TempDir(), "allot.db"), clock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"PostgreSQL": func(t *testing.T, clock allot.Clock) allot.Store {
			pgtest.NeedDB(t)
			return pgtest.MustOpen(t)
		},
	}
}

// bothStores runs fn as a subtest on each store.
func bothStores(t *testing.T, fn func(t *testing.T, e *env)) {
	for name, open := range storeOpeners() {
		t.Run(name, func(t *testing.T) { fn(t, start(t, open)) })
	}
}

func start(t *testing.T, open func(t *testing.T, clock allot.Clock) allot.Store) *env {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	clock := allot.NewManualClock(now)
	store := open(t, clock)
	pkg := func(project, id string, amount, usage int64) allot.Resource {
		r := storetest.NewResource(project, id)
		r.ResourceType, r.Amount, r.Usage = spec, allot.Quantity(amount)*allot.QuantityScale, allot.Quantity(usage)*allot.QuantityScale
		r.ExpireTime = now.Add(60 * 24 * time.Hour)
		return r
	}
	batch := allot.ImportBatch{
		Projects: []allot.Project{storetest.NewProject("sp-1", ""), storetest.NewProject("sp-2", ""),
			storetest.NewProject("cust-1", "sp-1"), storetest.NewProject("cust-2", "sp-2")},
		Resources: []allot.Resource{pkg("sp-1", "pool-1", 1000, 0), pkg("cust-1", "pkg-1", 100, 25), pkg("cust-1", "pkg-low", 100, 95), pkg("cust-2", "pkg-2", 50, 0)},
	}
	batch.Resources[2].ExpireTime, batch.Resources[2].ResourceType = now.Add(10*24*time.Hour), "VOICE_MIN"
	if err := store.Import(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	posts := new(atomic.Int64)
	key, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(t.Context(), app.Config{Store: store, Keyring: keyring, Clock: clock, Logger: slog.New(slog.NewTextHandler(testLog{t, posts}, nil)), LogRequests: true, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		// Short retries, so a receiver that always fails exhausts them in a
		// test (events are stamped to the second: RetryFor spans more).
		DispatchInterval: 20 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryFor: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	e := &env{t: t, posts: posts, app: a, store: a.Store, keyring: keyring, clock: clock, admin: a.AdminURL(), tenant: a.TenantURL(), now: now}
	if e.rootKey, err = app.NewAdminKey(t.Context(), a.Store, "root", "", now); err != nil {
		t.Fatal(err)
	}
	if e.spKey, err = app.NewAdminKey(t.Context(), a.Store, "sp-1-key", "sp-1", now); err != nil {
		t.Fatal(err)
	}
	return e
}

// browser is a plain HTTP client with a cookie jar that does not follow
// redirects, so a test sees each one.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (e *env) browser(base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (b *browser) get(path string) answer { b.t.Helper(); return b.do(http.MethodGet, path, nil, nil) }

// post sends a form as the console's own page would: same origin.
func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	return b.do(http.MethodPost, path, form, map[string]string{"Origin": b.base, "Sec-Fetch-Site": "same-origin"})
}

var hiddenRe = regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`)

// hidden returns the value of the hidden field name of a page.
func hidden(t *testing.T, page, name string) string {
	t.Helper()
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("the page has no field %q:\n%s", name, page)
	return ""
}

// signIn signs b in with key on plane prefix ("/console/" or "/portal/").
func (b *browser) signIn(prefix, key string) answer {
	b.t.Helper()
	page := b.get(prefix + "signin")
	if page.status != http.StatusOK {
		b.t.Fatalf("GET %ssignin: %d", prefix, page.status)
	}
	return b.post(prefix+"signin", url.Values{"token": {hidden(b.t, page.body, "token")}, "key": {key}})
}

func (b *browser) mustSignIn(prefix, key string) {
	b.t.Helper()
	if a := b.signIn(prefix, key); a.status != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d, want 303\n%s", a.status, a.body)
	}
}

// cookie returns the value of the browser's cookie name for base.
func (b *browser) cookie(path, name string) string {
	u, _ := url.Parse(b.base + path)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// testLog sends the server's log to the test's, and counts the console's
// action posts in the request log.
type testLog struct {
	t     *testing.T
	posts *atomic.Int64
}

func (l testLog) Write(p []byte) (int, error) {
	line := string(p)
	if strings.Contains(line, "msg=request") {
		if strings.Contains(line, `route="POST /console/actions/{op}"`) {
			l.posts.Add(1)
		}
		return len(p), nil
	}
	l.t.Log(strings.TrimSpace(line))
	return len(p), nil
}
