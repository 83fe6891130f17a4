package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/sign"
)

// TestGracefulShutdown: a request in flight when the stop signal arrives
// completes, and serve returns only after it has.
func TestGracefulShutdown(t *testing.T) {
	tm := newTestMain(t)
	cred := tm.projectWithCredential(t, "p1")

	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, _ string) { ready <- a }}
	go func() {
		done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "off", "--shutdown-timeout", "10s"})
	}()
	addr := <-ready

	// The request's body is signed in full but sent in two halves, so the
	// server is inside the request, reading, when the stop comes.
	body := []byte(strings.Repeat("x", 64))
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/p1/tenants/resources?resource_source=PURCHASED", pr)
	req.ContentLength = int64(len(body))
	if err := sign.Sign(req, body, cred.AK, []byte(cred.SK), time.Now()); err != nil {
		t.Fatal(err)
	}
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			close(answered)
			return
		}
		answered <- resp
	}()
	pw.Write(body[:32])
	time.Sleep(100 * time.Millisecond) // let the server start reading; the assertion below does not depend on it
	stop()
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	pw.Write(body[32:])
	pw.Close()
	resp := <-answered
	if resp == nil {
		t.Fatal("no response")
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("in-flight request: %d %s", resp.StatusCode, b)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestClientCommands: allot resources list and allot assignments show
// against a running server, as a table and as JSON, following every page.
func TestClientCommands(t *testing.T) {
	tm := newTestMain(t)
	addr, out := tm.serve(t, "--demo")
	text := out.String()
	field := func(name string) string {
		i := strings.Index(text, name)
		if i < 0 {
			t.Fatalf("%s not printed", name)
		}
		return strings.Fields(text[i+len(name):])[0]
	}
	tm.env["ALLOT_AK"], tm.env["ALLOT_SK"] = field("access key:"), field("secret key:")
	tm.env["ALLOT_ENDPOINT"], tm.env["ALLOT_PROJECT"] = "http://"+addr, "demo-tenant"

	var listed struct {
		Count     int `json:"count"`
		Resources []struct {
			ResourceID string `json:"resource_id"`
		} `json:"resources"`
	}
	raw := tm.mustRun(t, "", "resources", "list", "--all", "--limit", "2", "--json")
	if err := json.Unmarshal([]byte(raw), &listed); err != nil {
		t.Fatal(err)
	}
	want := len(demoBatch(time.Now()).Resources)
	if listed.Count != want || len(listed.Resources) != want {
		t.Fatalf("--all walked %d of %d, want %d", len(listed.Resources), listed.Count, want)
	}
	table := tm.mustRun(t, "", "resources", "list", "--business", "VIDEO_2D")
	if !strings.Contains(table, "RESOURCE ID") || !strings.Contains(table, "res-video-001") || strings.Contains(table, "res-voice-001") || !strings.Contains(table, "(1 of 1)") {
		t.Fatalf("table:\n%s", table)
	}
	if _, _, err := tm.run(t, "", "resources", "list", "--business", "NOPE"); err == nil || !strings.Contains(err.Error(), "MSS.00000003") {
		t.Fatalf("bad filter: %v", err)
	}
	shown := tm.mustRun(t, "", "assignments", "show")
	if !strings.Contains(shown, "assign-demo-001") || !strings.Contains(shown, "REMAINING") {
		t.Fatalf("assignments:\n%s", shown)
	}
	tm.env["ALLOT_SK"] = "wrong"
	if _, _, err := tm.run(t, "", "resources", "list"); err == nil || !strings.Contains(err.Error(), "APIG.0301") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestConfigPrecedence: flags beat ALLOT_* variables, which beat the config
// file, which beats defaults; config print masks secrets.
func TestConfigPrecedence(t *testing.T) {
	tm := newTestMain(t)
	file := tm.dir + "/allot.json"
	writeFile(t, file, `{"addr":"127.0.0.1:7001","cache_rows":123,"rate_limit":50,"db":"postgres://u:hunter2@db.example/allot"}`)
	tm.env["ALLOT_CONFIG"] = file
	tm.env["ALLOT_RATE_LIMIT"] = "75"
	tm.env["ALLOT_MASTER_KEY"] = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
	var got map[string]string
	json.Unmarshal([]byte(tm.mustRun(t, "", "config", "print", "--cache-rows", "456")), &got)
	for k, want := range map[string]string{"addr": "127.0.0.1:7001", "rate-limit": "75", "cache-rows": "456", "admin-addr": "127.0.0.1:8081"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
	printed := tm.mustRun(t, "", "config", "print")
	if strings.Contains(printed, "hunter2") || strings.Contains(printed, tm.env["ALLOT_MASTER_KEY"]) {
		t.Fatalf("config print shows a secret:\n%s", printed)
	}
	if v := tm.mustRun(t, "", "version"); !strings.HasPrefix(v, "allot ") {
		t.Fatalf("version: %q", v)
	}
}

// TestShutdownDrainsBothPlanesTogether: once the stop signal arrives, the
// management listener refuses new connections at once, while a tenant
// request is still in flight, instead of accepting work until the tenant
// plane has drained.
func TestShutdownDrainsBothPlanesTogether(t *testing.T) {
	tm := newTestMain(t)
	cred := tm.projectWithCredential(t, "p1")

	ctx, stop := context.WithCancel(context.Background())
	type addrs struct{ tenant, admin string }
	ready := make(chan addrs, 1)
	done := make(chan error, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, b string) { ready <- addrs{a, b} }}
	go func() {
		done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--shutdown-timeout", "10s"})
	}()
	a := <-ready

	// A tenant request held in flight: its body comes in two halves.
	body := []byte(strings.Repeat("x", 64))
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.tenant+"/v1/p1/tenants/resources?resource_source=PURCHASED", pr)
	req.ContentLength = int64(len(body))
	if err := sign.Sign(req, body, cred.AK, []byte(cred.SK), time.Now()); err != nil {
		t.Fatal(err)
	}
	// Expect: 100-continue holds the body back until the handler asks for
	// it, so once the first half is written the server has accepted the
	// connection and runs the request: the stop cannot race the accept.
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	answered := make(chan int, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	pw.Write(body[:32])
	// The management plane answers before the stop.
	if resp, err := http.Get("http://" + a.admin + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	stop()

	// Within a bound that the drain (held until the body completes) does
	// not reach, a new connection to the management plane is refused.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", a.admin, time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Fatal("the management listener still accepts connections while the tenant plane drains")
	}
	pw.Write(body[32:])
	pw.Close()
	if code := <-answered; code != 200 {
		t.Fatalf("in-flight tenant request: status %d", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
