package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/secret"
)

// serveMain runs `allot serve` with both planes on free ports and returns
// their addresses and its stderr (the JSON log); it stops when t ends.
func (tm *testMain) serveMain(t *testing.T, args ...string) (tenant, admin string, logs *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	type addrs struct{ tenant, admin string }
	ready := make(chan addrs, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: logs, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, b string) { ready <- addrs{a, b} }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...))
	}()
	select {
	case a := <-ready:
		tenant, admin = a.tenant, a.admin
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return tenant, admin, logs
}

// readyz returns the status of GET /readyz on addr.
func readyz(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitReadyz polls /readyz on both planes until both answer want, for at
// most 15 s: a pool may hand out a connection the proxy cut before it
// notices, so the first answer after a change may still be the old one.
func waitReadyz(t *testing.T, want int, addrs ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok := true
		got := map[string]int{}
		for _, a := range addrs {
			got[a] = readyz(t, a)
			ok = ok && got[a] == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: got %v, want %d on every plane", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReadyzSQLiteSchemaMoved: through the wiring allot serve runs, /readyz
// answers 503 on both planes once another build moved the schema version,
// and 200 again when it is back, without a restart.
func TestReadyzSQLiteSchemaMoved(t *testing.T) {
	tm := newTestMain(t)
	tenant, admin, _ := tm.serveMain(t)
	waitReadyz(t, 200, tenant, admin)

	db, err := sql.Open("sqlite", tm.env["ALLOT_DB"]+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_newer_build.sql')`); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, 503, tenant, admin)
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = 9999`); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, 200, tenant, admin)
}

// TestReadyzPostgres: with PostgreSQL unreachable (a proxy in front of it
// cuts every connection and refuses new ones) /readyz answers 503, as it
// does with the schema version moved; once the database is back, 200 again,
// without a restart. The round-1 wiring answered 200 throughout.
func TestReadyzPostgres(t *testing.T) {
	dsn := pgtest.NewSchemaDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	u.Host = proxy.addr()
	tm := newTestMain(t)
	tm.env["ALLOT_DB"] = u.String()
	tenant, admin, _ := tm.serveMain(t)
	waitReadyz(t, 200, tenant, admin)

	proxy.setCut(true)
	waitReadyz(t, 503, tenant, admin)
	proxy.setCut(false)
	waitReadyz(t, 200, tenant, admin)

	schema := pgtest.SchemaOf(t, dsn)
	ctx := context.Background()
	if _, err := pgtest.AdminPool().Exec(ctx, fmt.Sprintf(`INSERT INTO %s.schema_migrations (version, name, applied_at) VALUES (9999, '9999_newer_build.sql', 0)`, schema)); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, 503, tenant, admin)
	if _, err := pgtest.AdminPool().Exec(ctx, fmt.Sprintf(`DELETE FROM %s.schema_migrations WHERE version = 9999`, schema)); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, 200, tenant, admin)
}

// TestDSNPasswordNeverShown: a password given as ?password= in the DSN is
// masked by config print and in the start-up log line.
func TestDSNPasswordNeverShown(t *testing.T) {
	const password = "hunter2-not-for-logs"
	tm := newTestMain(t)
	out := tm.mustRun(t, "", "config", "print", "--db", "postgres://allot@db.example:5432/allot?sslmode=disable&password="+password)
	if strings.Contains(out, password) || !strings.Contains(out, "password=xxxxx") {
		t.Fatalf("config print shows the password:\n%s", out)
	}
	out = tm.mustRun(t, "", "config", "print", "--db", "postgres://allot:"+password+"@db.example:5432/allot")
	if strings.Contains(out, password) {
		t.Fatalf("config print shows the password:\n%s", out)
	}

	// PostgreSQL here trusts loopback, so the password is accepted and
	// ignored: the server really starts with it in its DSN.
	dsn := pgtest.NewSchemaDSN(t)
	tm.env["ALLOT_DB"] = dsn + "&password=" + password
	tenant, _, logs := tm.serveMain(t)
	waitReadyz(t, 200, tenant)
	if strings.Contains(logs.String(), password) {
		t.Fatalf("the log shows the password:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "password=xxxxx") {
		t.Fatalf("the start-up line does not show the masked DSN:\n%s", logs.String())
	}
}

// TestMasterKeyCheckedAtStart: a database holding secret keys is refused,
// with a message naming the key file and the missing key, when the master
// key file is missing or holds another key; no key file is made for it.
// A database without secrets still gets a new key file.
func TestMasterKeyCheckedAtStart(t *testing.T) {
	tm := newTestMain(t)
	tm.projectWithCredential(t, "p1")
	keyFile := tm.env["ALLOT_MASTER_KEY_FILE"]

	elsewhere := filepath.Join(t.TempDir(), "missing.key")
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "off", "--master-key-file", elsewhere},
		{"credential", "create", "--project", "p1", "--master-key-file", elsewhere},
	} {
		_, _, err := tm.run(t, "", args...)
		if err == nil {
			t.Fatalf("allot %s: started without the master key", strings.Join(args, " "))
		}
		msg := errorText(err)
		if !strings.Contains(msg, elsewhere) || !strings.Contains(msg, "does not exist") || !strings.Contains(msg, "ALLOT_MASTER_KEY") {
			t.Fatalf("allot %s: message %q does not say which key is missing and how to give it", args[0], msg)
		}
		if exitCode(err) == 0 {
			t.Fatal("exit code 0")
		}
		if _, err := os.Stat(elsewhere); err == nil {
			t.Fatalf("a new key file %s was created for a database that holds secrets", elsewhere)
		}
	}

	other := filepath.Join(t.TempDir(), "other.key")
	tm.env["ALLOT_MASTER_KEY_FILE"] = other
	tm.env["ALLOT_DB"] = filepath.Join(t.TempDir(), "fresh.db")
	tm.mustRun(t, "", "project", "create", "--id", "p2", "--name", "P2", "--region", "r1") // no secrets: a key file is made
	tm.mustRun(t, "", "credential", "create", "--project", "p2")
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("no key file was created for a database without secrets: %v", err)
	}

	// The first database with the second database's key: refused, naming
	// the key id that is missing.
	tm.env["ALLOT_DB"] = filepath.Join(tm.dir, "allot.db")
	_, _, err := tm.run(t, "", "serve", "--addr", "127.0.0.1:0", "--admin-addr", "off")
	if err == nil || !strings.Contains(errorText(err), "not loaded") {
		t.Fatalf("serve with the wrong master key: %v", err)
	}
	// With its own key it starts.
	tm.env["ALLOT_MASTER_KEY_FILE"] = keyFile
	tenant, _, _ := tm.serveMain(t)
	waitReadyz(t, 200, tenant)
}

// cutProxy forwards TCP connections to a target until it is cut: then it
// closes every connection it carries and every new one at once.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// TestMasterKeyCheckedAtStartWebhook: a database whose only sealed value
// is a webhook's signing secret is checked too: served with another master
// key, or with its key file missing, it is refused at start rather than
// reporting ready and failing every delivery.
// serveRefused runs `allot serve` expecting it to refuse to start, and
// returns its error. A server that comes up instead fails the test at once
// (rather than serving until the test binary's timeout).
func (tm *testMain) serveRefused(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{}, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(string, string) { started <- struct{}{} }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "off"}) }()
	select {
	case err := <-done:
		return err
	case <-started:
		cancel()
		<-done
		t.Fatal("allot serve started; it should have refused to")
		return nil
	}
}

func TestMasterKeyCheckedAtStartWebhook(t *testing.T) {
	tm := newTestMain(t)
	hookKey := filepath.Join(t.TempDir(), "hook.key")
	tm.env["ALLOT_MASTER_KEY_FILE"] = hookKey
	tm.env["ALLOT_DB"] = filepath.Join(t.TempDir(), "hooks.db")
	tm.mustRun(t, "", "webhook", "create", `{"url":"https://example.com/h","events":["resource.left"],"secret":"0123456789abcdef0123"}`)
	if _, err := os.Stat(hookKey); err != nil {
		t.Fatalf("no key file was created for the webhook's secret: %v", err)
	}

	// Another key: refused, naming the key id that is missing.
	other := filepath.Join(t.TempDir(), "other.key")
	if _, _, err := secret.LoadOrCreateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	tm.env["ALLOT_MASTER_KEY_FILE"] = other
	err := tm.serveRefused(t)
	if err == nil || !strings.Contains(errorText(err), "not loaded") || exitCode(err) == 0 {
		t.Fatalf("serve with the wrong master key for a webhook's secret: %v", err)
	}

	// No key file: refused, and no new key is made.
	missing := filepath.Join(t.TempDir(), "missing.key")
	tm.env["ALLOT_MASTER_KEY_FILE"] = missing
	err = tm.serveRefused(t)
	if err == nil || !strings.Contains(errorText(err), "does not exist") {
		t.Fatalf("serve without the master key file of a webhook's secret: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatalf("a new key file %s was created for a database that holds a webhook's secret", missing)
	}

	// With its own key it starts.
	tm.env["ALLOT_MASTER_KEY_FILE"] = hookKey
	tenant, _, _ := tm.serveMain(t)
	waitReadyz(t, 200, tenant)
}
