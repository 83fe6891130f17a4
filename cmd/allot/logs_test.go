package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/sign"
)

// TestRequestLogs: one JSON line per request with its id, project, route,
// status and latency, and never a secret key, a signature or a token.
func TestRequestLogs(t *testing.T) {
	tm := newTestMain(t)
	cred := tm.projectWithCredential(t, "p1")
	var tok struct{ Token string }
	json.Unmarshal([]byte(tm.mustRun(t, "", "token", "create", "--project", "p1", "--json")), &tok)

	logs := &syncBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}, Stderr: logs, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, _ string) { ready <- a }}
	go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "off"}) }()
	addr := <-ready

	url := "http://" + addr + "/v1/p1/tenants/resources?resource_source=PURCHASED"
	req, _ := http.NewRequest("GET", url, nil)
	sign.Sign(req, nil, cred.AK, []byte(cred.SK), time.Now())
	signature := req.Header.Get("Authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantID := resp.Header.Get("X-Request-Id")
	req, _ = http.NewRequest("GET", url, nil)
	req.Header.Set("X-Auth-Token", tok.Token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	text := logs.String()
	for _, secret := range []string{cred.SK, signature, signature[strings.LastIndex(signature, "=")+1:], tok.Token} {
		if strings.Contains(text, secret) {
			t.Fatalf("the log holds a secret %q:\n%s", secret, text)
		}
	}
	found := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON log line: %s", sc.Text())
		}
		if line["msg"] == "request" && line["request_id"] == wantID {
			found = true
			if line["project_id"] != "p1" || line["route"] != "GET /v1/{project_id}/tenants/resources" || line["status"] != float64(200) || line["latency"] == nil {
				t.Fatalf("request line %v", line)
			}
		}
	}
	if !found {
		t.Fatalf("no request line with id %s in:\n%s", wantID, text)
	}
}
