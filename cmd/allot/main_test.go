package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testMain struct {
	dir string
	env map[string]string
}

func newTestMain(t *testing.T) *testMain {
	dir := t.TempDir()
	return &testMain{dir: dir, env: map[string]string{
		"ALLOT_DB":              filepath.Join(dir, "allot.db"),
		"ALLOT_MASTER_KEY_FILE": filepath.Join(dir, "allot.key"),
	}}
}

// run runs one command to completion and returns its output.
func (tm *testMain) run(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return tm.env[k] }}
	err = m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

func (tm *testMain) mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := tm.run(t, stdin, args...)
	if err != nil {
		t.Fatalf("allot %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// serve starts `allot serve` on a free port and returns its address and
// stdout; the server stops when the test ends.
func (tm *testMain) serve(t *testing.T, args ...string) (addr string, out *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	ready := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: out, Stderr: io.Discard, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, _ string) { ready <- a }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...))
	}()
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return addr, out
}

func getJSON(t *testing.T, url string, header http.Header, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

type listResponse struct {
	Count     int `json:"count"`
	Resources []struct {
		ResourceID string  `json:"resource_id"`
		Amount     float64 `json:"amount"`
	} `json:"resources"`
	ErrorCode string `json:"error_code"`
}

func TestServeDemo(t *testing.T) {
	tm := newTestMain(t)
	addr, out := tm.serve(t, "--demo")
	text := out.String()
	if !strings.Contains(text, "listening on "+addr) {
		t.Fatalf("no listening line in %q", text)
	}
	token := regexp.MustCompile(`token:\s+(\S+)`).FindStringSubmatch(text)
	if token == nil || !strings.Contains(text, "secret key:") {
		t.Fatalf("demo credentials not printed:\n%s", text)
	}
	var got listResponse
	url := "http://" + addr + "/v1/demo-tenant/tenants/resources?resource_source=PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED"
	if status := getJSON(t, url, http.Header{"X-Auth-Token": {token[1]}}, &got); status != 200 || got.Count != len(demoBatch(time.Now()).Resources) {
		t.Fatalf("demo list: %d %+v", status, got)
	}
	// The printed curl example is the same request.
	if !strings.Contains(text, "curl -s -H 'X-Auth-Token: "+token[1]+"' 'http://"+addr+"/v1/demo-tenant/tenants/resources?") {
		t.Fatalf("curl example missing:\n%s", text)
	}

	// The printed management example works as printed: it meters 2.5
	// minutes of the demo's video package, which the tenant API then shows.
	consume := regexp.MustCompile(`curl -s -H 'Authorization: Bearer (\S+)' -d '(\{[^']*\})' '(\S+/admin/v1/consume)'`).FindStringSubmatch(text)
	if consume == nil {
		t.Fatalf("management example missing:\n%s", text)
	}
	req, _ := http.NewRequest("POST", consume[3], strings.NewReader(consume[2]))
	req.Header.Set("Authorization", "Bearer "+consume[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("demo consume: %v %v", resp, err)
	}
	resp.Body.Close()
	var usage struct {
		Resources []struct {
			Usage float64 `json:"usage"`
		} `json:"resources"`
	}
	getJSON(t, url+"&resource_id=res-video-001", http.Header{"X-Auth-Token": {token[1]}}, &usage)
	if len(usage.Resources) != 1 || usage.Resources[0].Usage != 127.5 {
		t.Fatalf("after the demo consume: %+v", usage)
	}

	// The demo sells from the shipped catalog: an order of its first spec
	// makes a PURCHASED package the tenant then lists.
	var first struct {
		SpecCode string `json:"spec_code"`
	}
	line, _, _ := strings.Cut(string(allot.DefaultCatalog), "\n")
	if err := json.Unmarshal([]byte(line), &first); err != nil || first.SpecCode == "" {
		t.Fatalf("docs/catalog.jsonl's first line %q: %v", line, err)
	}
	order := `{"cloud_services":[{"period_type":2,"period_num":1,"subscription_num":1,"resource_spec_code":"` + first.SpecCode + `"}]}`
	req, _ = http.NewRequest("POST", "http://"+addr+"/v1/demo-tenant/mss/public/orders", strings.NewReader(order))
	req.Header.Set("X-Auth-Token", token[1])
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var placed struct {
		OrderID string `json:"order_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&placed)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil || placed.OrderID == "" {
		t.Fatalf("demo order: %d %v %+v", resp.StatusCode, err, placed)
	}
	var ordered listResponse
	if status := getJSON(t, url+"&order_id="+placed.OrderID, http.Header{"X-Auth-Token": {token[1]}}, &ordered); status != 200 || ordered.Count != 1 {
		t.Fatalf("the demo order's package: %d %+v", status, ordered)
	}
}

func TestServeRestartKeepsDemoAndKey(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "migrate")
	tm.serve(t, "--demo")
	// A second demo start on the same database reuses the tenant and adds a
	// fresh credential sealed under the same key file.
	addr, out := tm.serve(t, "--demo")
	token := regexp.MustCompile(`token:\s+(\S+)`).FindStringSubmatch(out.String())
	var got listResponse
	status := getJSON(t, "http://"+addr+"/v1/demo-tenant/tenants/resources?resource_source=PURCHASED", http.Header{"X-Auth-Token": {token[1]}}, &got)
	if status != 200 || got.Count == 0 {
		t.Fatalf("%d %+v", status, got)
	}
}

func TestAdminCommandsAndImport(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "project", "create", "--id", "sp", "--name", "SP", "--region", "cn-north-4")
	tm.mustRun(t, "", "project", "create", "--id", "cust", "--name", "Customer", "--region", "cn-north-4", "--sp", "sp")
	if _, _, err := tm.run(t, "", "project", "create", "--id", "cust", "--name", "Again", "--region", "cn-north-4"); err == nil {
		t.Fatal("duplicate project accepted")
	}
	if _, _, err := tm.run(t, "", "project", "create", "--id", "bad id", "--name", "x", "--region", "r"); err == nil || exitCode(err) != 2 {
		t.Fatalf("bad id: %v", err)
	}

	var cred struct{ AccessKey, SecretKey string }
	out := tm.mustRun(t, "", "credential", "create", "--project", "cust", "--json")
	if err := json.Unmarshal([]byte(strings.ReplaceAll(strings.ReplaceAll(out, "access_key", "AccessKey"), "secret_key", "SecretKey")), &cred); err != nil || len(cred.AccessKey) != 20 || len(cred.SecretKey) != 40 {
		t.Fatalf("credential output %q: %v", out, err)
	}
	// The secret key is not in the database file in plaintext.
	db, err := os.ReadFile(tm.env["ALLOT_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(cred.SecretKey)) {
		t.Fatal("secret key stored in plaintext")
	}
	var tok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "token", "create", "--project", "cust", "--ttl", "1h", "--json")), &tok); err != nil || tok.Token == "" {
		t.Fatalf("token: %v", err)
	}
	if exp, err := time.Parse(time.RFC3339, tok.ExpiresAt); err != nil || time.Until(exp) > time.Hour+time.Minute || exp.Before(time.Now()) {
		t.Fatalf("expires_at %q", tok.ExpiresAt)
	}
	if _, _, err := tm.run(t, "", "credential", "create", "--project", "nobody"); err == nil {
		t.Fatal("credential for a missing project accepted")
	}

	good := strings.Join([]string{
		`{"kind":"resource","project_id":"cust","resource_id":"r1","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":12.5,"usage":0.25,"unit":"MIN","resource_expire_time":"2027-01-01T00:00:00Z"}`,
		``,
		`{"kind":"assignment","sp_project_id":"sp","customer_project_id":"cust","assignment_record_id":"a1","resource_spec_code":"spec","charging_mode":"ONE_TIME","resource_num":3,"resource_used_num":1,"resource_allocate_time":1700000000,"resource_expire_time":1800000000}`,
	}, "\n")
	bad := map[string]string{
		"line 2: amount":                                `{"kind":"project","project_id":"p2","name":"P2","region_id":"r"}` + "\n" + `{"kind":"resource","project_id":"p2","resource_id":"r1","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":-1,"unit":"MIN"}`,
		"line 1: business_type":                         `{"kind":"resource","project_id":"cust","resource_id":"r9","resource_type":"T","business_type":"NOPE","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":1,"unit":"MIN"}`,
		"line 1: not a valid import object":             `{"kind":"resource","colour":"red"}`,
		"line 1: kind":                                  `{"project_id":"x"}`,
		"line 2: resource cust/r7 is already on line 1": `{"kind":"resource","project_id":"cust","resource_id":"r7","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":1,"unit":"MIN"}` + "\n" + `{"kind":"resource","project_id":"cust","resource_id":"r7","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":1,"unit":"MIN"}`,
		"line 1: resource_allocate_time":                `{"kind":"assignment","sp_project_id":"sp","customer_project_id":"cust","assignment_record_id":"a9","resource_spec_code":"spec","charging_mode":"ONE_TIME","resource_num":3}`,
	}
	for want, input := range bad {
		_, _, err := tm.run(t, input, "import", "-")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("import %q: error %v, want it to mention %q", input, err, want)
		}
	}
	// A valid file whose second half conflicts with what is stored writes nothing.
	tm.mustRun(t, good, "import", "-")
	conflicting := `{"kind":"resource","project_id":"cust","resource_id":"r2","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":1,"unit":"MIN"}` + "\n" +
		`{"kind":"resource","project_id":"cust","resource_id":"r1","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":1,"unit":"MIN"}`
	if _, _, err := tm.run(t, conflicting, "import", "-"); err == nil || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("conflicting import: %v", err)
	}

	addr, _ := tm.serve(t)
	var got listResponse
	getJSON(t, "http://"+addr+"/v1/cust/tenants/resources?resource_source=PURCHASED", http.Header{"X-Auth-Token": {tok.Token}}, &got)
	if got.Count != 1 || got.Resources[0].ResourceID != "r1" || got.Resources[0].Amount != 12.5 {
		t.Fatalf("after imports: %+v (r2 must not exist)", got)
	}
	var rec struct {
		ResourceCount int `json:"resource_count"`
	}
	getJSON(t, "http://"+addr+"/v1/cust/tenants/resource/assignrecourd", http.Header{"X-Auth-Token": {tok.Token}}, &rec)
	if rec.ResourceCount != 1 {
		t.Fatalf("assignments: %+v", rec)
	}
	// A token of another project is refused on this one.
	tm.mustRun(t, "", "project", "create", "--id", "other", "--name", "O", "--region", "r")
	var other struct{ Token string }
	json.Unmarshal([]byte(tm.mustRun(t, "", "token", "create", "--project", "other", "--json")), &other)
	if status := getJSON(t, "http://"+addr+"/v1/cust/tenants/resources?resource_source=PURCHASED", http.Header{"X-Auth-Token": {other.Token}}, &got); status != 403 {
		t.Fatalf("cross-project token: %d", status)
	}
}

func TestUsageErrors(t *testing.T) {
	tm := newTestMain(t)
	for _, args := range [][]string{{}, {"frobnicate"}, {"serve", "--bogus"}, {"import"}, {"token", "create", "--project", "p", "--ttl", "-1h"}} {
		if _, _, err := tm.run(t, "", args...); err == nil || exitCode(err) != 2 {
			t.Errorf("allot %v: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	tm.env["ALLOT_DB"] = "mysql://x"
	if _, _, err := tm.run(t, "", "migrate"); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Fatalf("bad scheme: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// projectWithCredential creates a project through the CLI and an AK/SK pair for it.
func (tm *testMain) projectWithCredential(t *testing.T, id string) (cred struct {
	AK string `json:"access_key"`
	SK string `json:"secret_key"`
}) {
	t.Helper()
	tm.mustRun(t, "", "project", "create", "--id", id, "--name", "Project "+id, "--region", "r")
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "credential", "create", "--project", id, "--json")), &cred); err != nil {
		t.Fatal(err)
	}
	return cred
}
