package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/sign"
)

// TestRevocation runs the credential commands and a real server on each
// store: what is revoked, through the management API or the CLI, is refused
// by the server's next request; what expired is refused from its first use;
// lists show no secret.
func TestRevocation(t *testing.T) {
	onEachStore(t, testRevocationCLI)
}

// onEachStore runs test twice, through the real CLI and server: on a new
// SQLite file and on a new PostgreSQL schema.
func onEachStore(t *testing.T, test func(*testing.T, *testMain)) {
	t.Run("SQLite", func(t *testing.T) { test(t, newTestMain(t)) })
	t.Run("PostgreSQL", func(t *testing.T) {
		pgtest.NeedDB(t)
		tm := newTestMain(t)
		tm.env["ALLOT_DB"] = pgtest.NewSchemaDSN(t)
		test(t, tm)
	})
}

type cliCredential struct {
	AK        string `json:"access_key"`
	SK        string `json:"secret_key"`
	ExpiresAt string `json:"expires_at"`
}

func testRevocationCLI(t *testing.T, tm *testMain) {
	tm.mustRun(t, "", "project", "create", "--id", "p1", "--name", "P1", "--region", "r")
	newCred := func(args ...string) cliCredential {
		t.Helper()
		var c cliCredential
		if err := json.Unmarshal([]byte(tm.mustRun(t, "", append([]string{"credential", "create", "--project", "p1", "--json"}, args...)...)), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	newAdminKey := func(name string, args ...string) string {
		t.Helper()
		var k struct{ Key string }
		if err := json.Unmarshal([]byte(tm.mustRun(t, "", append([]string{"admin-key", "create", "--name", name, "--json"}, args...)...)), &k); err != nil {
			t.Fatal(err)
		}
		return k.Key
	}
	newToken := func() string {
		t.Helper()
		var tok struct{ Token string }
		if err := json.Unmarshal([]byte(tm.mustRun(t, "", "token", "create", "--project", "p1", "--json")), &tok); err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	viaAPI, viaCLI := newCred(), newCred()
	expired := newCred("--expires", "2020-01-01T00:00:00Z")
	later := newCred("--expires", "720h")
	if expired.ExpiresAt != "2020-01-01T00:00:00Z" || later.ExpiresAt == "" {
		t.Fatalf("expires_at printed: %q, %q", expired.ExpiresAt, later.ExpiresAt)
	}
	ops := newAdminKey("ops")
	doomed := newAdminKey("doomed")
	old := newAdminKey("old", "--expires", "2020-01-01T00:00:00Z")
	tokAPI, tokCLI := newToken(), newToken()

	addr, admin := tm.serveBoth(t)
	tenant := func(c cliCredential, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/p1/tenants/resources-count", nil)
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		} else if err := sign.Sign(req, nil, c.AK, []byte(c.SK), time.Now()); err != nil {
			t.Fatal(err)
		}
		return sendRequest(t, req)
	}
	manage := func(key, method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+admin+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return sendRequest(t, req)
	}
	wantStatus := func(what string, want int, status int, body string, mentions ...string) {
		t.Helper()
		if status != want {
			t.Fatalf("%s: %d %s, want %d", what, status, body, want)
		}
		for _, m := range mentions {
			if !strings.Contains(body, m) {
				t.Fatalf("%s: %s does not mention %q", what, body, m)
			}
		}
	}

	// Access keys: revoked through the API (the server had it cached) and
	// through the CLI (another store handle; the server had not cached it).
	for _, c := range []cliCredential{viaAPI, later} {
		status, body := tenant(c, "")
		wantStatus("a working access key", 200, status, body)
	}
	status, body := manage(ops, "DELETE", "/admin/v1/credentials/"+viaAPI.AK)
	wantStatus("revoke through the API", 204, status, body)
	status, body = tenant(viaAPI, "")
	wantStatus("an access key revoked through the API", 401, status, body, "APIG.0301")
	if out := tm.mustRun(t, "", "credential", "revoke", viaCLI.AK); !strings.Contains(out, "revoked access key "+viaCLI.AK) {
		t.Fatalf("credential revoke: %q", out)
	}
	status, body = tenant(viaCLI, "")
	wantStatus("an access key revoked through the CLI", 401, status, body, "APIG.0301")
	status, body = tenant(expired, "")
	wantStatus("an expired access key", 401, status, body, "APIG.0301", "expired at 2020-01-01T00:00:00Z")

	// Tokens.
	status, body = tenant(cliCredential{}, tokAPI)
	wantStatus("a working token", 200, status, body)
	idOf := func(tok string) string { h := sha256.Sum256([]byte(tok)); return hex.EncodeToString(h[:8]) }
	status, body = manage(ops, "DELETE", "/admin/v1/tokens/"+idOf(tokAPI))
	wantStatus("revoke a token through the API", 204, status, body)
	status, body = tenant(cliCredential{}, tokAPI)
	wantStatus("a token revoked through the API", 401, status, body, "APIG.0301")
	tm.mustRun(t, "", "token", "revoke", idOf(tokCLI))
	status, body = tenant(cliCredential{}, tokCLI)
	wantStatus("a token revoked through the CLI", 401, status, body, "APIG.0301")

	// Admin keys are not cached: a CLI revocation is refused at once.
	status, body = manage(doomed, "GET", "/admin/v1/admin-keys")
	wantStatus("a working admin key", 200, status, body, `"name":"doomed"`)
	tm.mustRun(t, "", "admin-key", "revoke", "doomed")
	status, body = manage(doomed, "GET", "/admin/v1/admin-keys")
	wantStatus("a revoked admin key", 401, status, body, "ALLOT.UNAUTHENTICATED")
	status, body = manage(old, "GET", "/admin/v1/admin-keys")
	wantStatus("an expired admin key", 401, status, body, "ALLOT.UNAUTHENTICATED", "expired at 2020-01-01T00:00:00Z")

	// The lists show what was revoked and no secret.
	var creds []struct {
		AccessKey string `json:"access_key"`
		RevokedAt string `json:"revoked_at"`
		ExpiresAt string `json:"expires_at"`
	}
	out := tm.mustRun(t, "", "credential", "list", "--project", "p1", "--json")
	if err := json.Unmarshal([]byte(out), &creds); err != nil || len(creds) != 4 {
		t.Fatalf("credential list: %v %s", err, out)
	}
	for _, c := range creds {
		revoked := c.AccessKey == viaAPI.AK || c.AccessKey == viaCLI.AK
		if revoked != (c.RevokedAt != "") || (c.AccessKey == expired.AK) != (c.ExpiresAt == "2020-01-01T00:00:00Z") {
			t.Errorf("credential list: %+v", c)
		}
	}
	texts := []string{out, tm.mustRun(t, "", "credential", "list"), tm.mustRun(t, "", "token", "list", "--json"), tm.mustRun(t, "", "token", "list"),
		tm.mustRun(t, "", "admin-key", "list", "--json"), tm.mustRun(t, "", "admin-key", "list")}
	for _, text := range texts {
		for _, secret := range []string{viaAPI.SK, viaCLI.SK, expired.SK, later.SK, tokAPI, tokCLI, ops, doomed, old} {
			if strings.Contains(text, secret) {
				t.Fatalf("a list shows the secret %q:\n%s", secret, text)
			}
		}
	}
	if !strings.Contains(texts[1], viaCLI.AK) || !strings.Contains(texts[3], idOf(tokCLI)) || !strings.Contains(texts[5], "doomed") {
		t.Fatalf("the lists miss a credential:\n%s", strings.Join(texts, "\n"))
	}

	// Refusals name what is wrong; the exit status follows the error code
	// (4: not found, 2: usage).
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"credential", "revoke", viaAPI.AK}, "revoked already", 4},
		{[]string{"credential", "revoke", "AKNOBODY"}, "does not exist", 4},
		{[]string{"credential", "revoke"}, "access key", 2},
		{[]string{"token", "revoke", "XYZ"}, "token id", 2},
		{[]string{"token", "revoke", "0000000000000000"}, "does not exist", 4},
		{[]string{"admin-key", "revoke", "nobody"}, "does not exist", 4},
		{[]string{"credential", "list", "--project", "nobody"}, "does not exist", 4},
		{[]string{"credential", "create", "--project", "p1", "--expires", "-5h"}, "--expires", 2},
		{[]string{"admin-key", "create", "--name", "x", "--expires", "soon"}, "--expires", 2},
	} {
		_, _, err := tm.run(t, "", c.args...)
		if err == nil || !strings.Contains(errorText(err), c.want) || exitCode(err) != c.code {
			t.Errorf("allot %s: %v (exit %d), want an error mentioning %q, exit %d", strings.Join(c.args, " "), err, exitCode(err), c.want, c.code)
		}
	}
}

// serveBoth starts `allot serve` and returns the addresses of the tenant
// and the management API.
func (tm *testMain) serveBoth(t *testing.T) (addr, admin string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type addrs struct{ tenant, admin string }
	ready := make(chan addrs, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, b string) { ready <- addrs{a, b} }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--log-requests=false"})
	}()
	var got addrs
	select {
	case got = <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return got.tenant, got.admin
}

// sendRequest sends req and returns the status and the body.
func sendRequest(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
