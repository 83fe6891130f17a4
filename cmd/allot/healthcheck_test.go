package main

import (
	"database/sql"
	"net"
	"strings"
	"testing"
)

// TestHealthcheck: allot healthcheck exits 0 while serve's /readyz answers
// 200, and 1 when it answers 503 (the schema was moved by a newer build),
// when nothing listens, and on a bad flag (container runtimes reserve 2).
func TestHealthcheck(t *testing.T) {
	tm := newTestMain(t)
	tenant, admin, _ := tm.serveMain(t)
	waitReadyz(t, 200, tenant, admin)

	out, _, err := tm.run(t, "", "healthcheck", "--url", "http://"+tenant+"/readyz")
	if err != nil || !strings.Contains(out, "200") {
		t.Fatalf("healthcheck of a ready server: %v (%q)", err, out)
	}
	// Without --url it checks ALLOT_ADDR's /readyz.
	tm.env["ALLOT_ADDR"] = tenant
	if _, _, err := tm.run(t, "", "healthcheck"); err != nil {
		t.Fatalf("healthcheck with ALLOT_ADDR=%s: %v", tenant, err)
	}
	delete(tm.env, "ALLOT_ADDR")

	db, err := sql.Open("sqlite", tm.env["ALLOT_DB"]+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_newer_build.sql')`); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, 503, tenant)
	_, _, err = tm.run(t, "", "healthcheck", "--url", "http://"+tenant+"/readyz")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "503") {
		t.Fatalf("healthcheck of an unready server: %v, want exit 1 naming 503", err)
	}

	// A port nobody listens on: one just freed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{
		{"--url", "http://" + closed + "/readyz"},
		{"--no-such-flag"},
		{"--url", "http://" + tenant + "/readyz", "extra"},
		{"--url", "http://" + tenant + "/readyz", "--timeout", "0s"},
	} {
		_, _, err := tm.run(t, "", append([]string{"healthcheck"}, args...)...)
		if err == nil || exitCode(err) != 1 {
			t.Fatalf("healthcheck %v: %v, want exit 1", args, err)
		}
	}
}

// TestDefaultHealthURL: the default URL follows ALLOT_ADDR, reaching a
// wildcard listener on loopback.
func TestDefaultHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":                 "http://127.0.0.1:8080/readyz",
		"0.0.0.0:9000":     "http://127.0.0.1:9000/readyz",
		":9001":            "http://127.0.0.1:9001/readyz",
		"[::]:9002":        "http://[::1]:9002/readyz",
		"10.1.2.3:9003":    "http://10.1.2.3:9003/readyz",
		"allot.local:9004": "http://allot.local:9004/readyz",
	} {
		m := &Main{Getenv: func(k string) string {
			if k == "ALLOT_ADDR" {
				return addr
			}
			return ""
		}}
		if got := m.defaultHealthURL(); got != want {
			t.Errorf("ALLOT_ADDR=%q: got %s, want %s", addr, got, want)
		}
	}
}
