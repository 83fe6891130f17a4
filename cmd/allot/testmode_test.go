package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/internal/docsnippet"
	"github.com/allot-dev/allot/postgres/pgtest"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"
)

// startServeURLs starts `allot serve` on free ports and returns both base
// URLs and a stop function that waits for it to exit.
func (tm *testMain) startServeURLs(tb testing.TB, args ...string) (tenant, admin string, out *syncBuffer, stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	type addrs struct{ tenant, admin string }
	ready := make(chan addrs, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: out, Stderr: io.Discard, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, b string) { ready <- addrs{a, b} }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...))
	}()
	select {
	case a := <-ready:
		tenant, admin = "http://"+a.tenant, "http://"+a.admin
	case err := <-done:
		cancel()
		tb.Fatalf("serve exited: %v", err)
	}
	return tenant, admin, out, func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	}
}

// serveTest is startServeURLs stopped when the test ends.
func (tm *testMain) serveTest(tb testing.TB, args ...string) (tenant, admin string, out *syncBuffer) {
	tb.Helper()
	tenant, admin, out, stop := tm.startServeURLs(tb, args...)
	tb.Cleanup(stop)
	return tenant, admin, out
}

// defaultSeed writes allottest's default seed into the test's directory.
func (tm *testMain) defaultSeed(t testing.TB) string {
	path := filepath.Join(tm.dir, "seed.jsonl")
	if err := os.WriteFile(path, allottest.DefaultSeed(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func do(t *testing.T, method, url, body string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sdkClient(t *testing.T, endpoint, sk string) *metastudio.MetaStudioClient {
	t.Helper()
	creds, err := basic.NewCredentialsBuilder().WithAk(allottest.AccessKey).WithSk(sk).WithProjectId(allottest.ProjectID).WithIamEndpointOverride(endpoint).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := metastudio.MetaStudioClientBuilder().WithEndpoints([]string{endpoint}).WithCredential(creds).
		WithHttpConfig(config.DefaultHttpConfig().WithUserAgent("allot-test").WithRetries(0)).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return metastudio.NewMetaStudioClient(hc)
}

var testModeRoutes = []struct{ method, path string }{
	{"POST", "/_allot/reset"}, {"GET", "/_allot/clock"}, {"POST", "/_allot/clock"},
	{"GET", "/_allot/requests"}, {"POST", "/_allot/faults"}, {"GET", "/_allot/faults"}, {"DELETE", "/_allot/faults"},
}

// TestTestModeRoutesAre404WithoutFlag: without --test-mode nothing of it
// is served, on either listener, whatever the seed.
func TestTestModeRoutesAre404WithoutFlag(t *testing.T) {
	tm := newTestMain(t)
	tenant, admin, out := tm.serveTest(t, "--seed", tm.defaultSeed(t))
	for _, base := range []string{tenant, admin} {
		for _, r := range testModeRoutes {
			if status, body := do(t, r.method, base+r.path, `{"advance":"1h"}`, nil); status != 404 {
				t.Errorf("%s %s%s without --test-mode: %d %s, want 404", r.method, base, r.path, status, body)
			}
		}
	}
	if strings.Contains(out.String(), "TEST MODE") {
		t.Errorf("start-up without --test-mode announces it:\n%s", out)
	}
	// The seed works without test mode: its credential signs.
	if _, err := sdkClient(t, tenant, allottest.SecretKey).ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"}); err != nil {
		t.Fatalf("the seed's credential without test mode: %v", err)
	}
}

// TestTestMode drives every test-mode route of a real allot serve, with
// the official SDK as the client.
func TestTestMode(t *testing.T) {
	tm := newTestMain(t)
	tenant, admin, out := tm.serveTest(t, "--test-mode", "--seed", tm.defaultSeed(t))
	if !strings.Contains(out.String(), "*** TEST MODE") {
		t.Fatalf("start-up does not announce test mode loudly:\n%s", out)
	}
	// The routes are the tenant listener's only.
	for _, r := range testModeRoutes {
		if status, body := do(t, r.method, admin+r.path, `{"advance":"1h"}`, nil); status != 404 {
			t.Errorf("%s %s on the management listener: %d %s, want 404", r.method, r.path, status, body)
		}
	}
	sdk := sdkClient(t, tenant, allottest.SecretKey)
	list := func() int {
		t.Helper()
		resp, err := sdk.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"})
		if err != nil {
			t.Fatalf("ListTenantResources: %v", err)
		}
		return int(resp.Count)
	}
	bearer := http.Header{"Authorization": {"Bearer " + allottest.AdminKey}}
	purchase := `{"project_id":"allottest-project","resource_source":"PURCHASED","order_id":"o-1","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"PERIODIC","unit":"MIN","amount":10,"resource_expire_time":"2099-01-01T00:00:00Z"}`
	if status, body := do(t, "POST", admin+"/admin/v1/packages", purchase, bearer); status != 201 {
		t.Fatalf("purchase: %d %s", status, body)
	}
	if got := list(); got != 1 {
		t.Fatalf("after a purchase the SDK lists %d", got)
	}

	t.Run("requests", func(t *testing.T) {
		// A wrong secret: refused, and the ring says why.
		if _, err := sdkClient(t, tenant, "wrong-secret-key-0000000000000000000000").ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"}); err == nil {
			t.Fatal("a wrong secret key was accepted")
		}
		do(t, "GET", tenant+"/v1/allottest-project/tenants/resources?resource_source=PURCHASED&token=hunter2hunter2", "", http.Header{"X-Auth-Token": {allottest.Token}})
		status, body := do(t, "GET", tenant+"/_allot/requests", "", nil)
		if status != 200 {
			t.Fatalf("requests: %d %s", status, body)
		}
		var got struct {
			Requests []struct {
				Plane, Method, Path, Query, Operation, Auth string
				RequestID                                   string   `json:"request_id"`
				AuthReason                                  string   `json:"auth_reason"`
				AuthMessage                                 string   `json:"auth_message"`
				SignedHeaders                               []string `json:"signed_headers"`
				Status                                      int
				Entries                                     []struct{ Op string } `json:"ledger_entries"`
			}
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		rs := got.Requests
		if len(rs) != 4 {
			t.Fatalf("recorded %d requests, want 4 (purchase, list, refused list, token list):\n%s", len(rs), body)
		}
		if r := rs[0]; r.Plane != "admin" || r.Status != 201 || r.Auth != "admin_key" || len(r.Entries) != 1 || r.Entries[0].Op != "purchase" {
			t.Errorf("the purchase: %+v", r)
		}
		if r := rs[1]; r.Plane != "tenant" || r.Operation != "ListTenantResources" || r.Auth != "aksk" || r.Status != 200 ||
			!strings.Contains(strings.Join(r.SignedHeaders, ";"), "x-sdk-date") || len(r.RequestID) != 32 {
			t.Errorf("the SDK's list: %+v", r)
		}
		if r := rs[2]; r.Auth != "failed" || r.AuthReason != "bad_signature" || !strings.Contains(r.AuthMessage, "signature does not match") || r.Status != 401 {
			t.Errorf("the refused list: %+v", r)
		}
		if r := rs[3]; r.Auth != "token" || !strings.Contains(r.Query, "token=xxxxx") {
			t.Errorf("the token list: %+v", r)
		}
		for _, secret := range []string{allottest.SecretKey, allottest.Token, allottest.AdminKey, "hunter2hunter2"} {
			if strings.Contains(body, secret) {
				t.Errorf("/_allot/requests shows the secret %q", secret)
			}
		}
	})

	t.Run("faults", func(t *testing.T) {
		if status, body := do(t, "POST", tenant+"/_allot/faults", `{"rules":[{"op":"ListTenantResources","count":2,"status":500}]}`, nil); status != 200 {
			t.Fatalf("faults: %d %s", status, body)
		}
		for range 2 {
			_, err := sdk.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"})
			var se *sdkerr.ServiceResponseError
			if !errors.As(err, &se) || se.StatusCode != 500 || se.ErrorCode != "MSS.00000004" || se.ErrorMessage != "internal error" {
				t.Fatalf("with a 500 fault: %v", err)
			}
		}
		if got := list(); got != 1 { // the rule is used up
			t.Fatalf("after the faults: %d", got)
		}
		for body, param := range map[string]string{
			`{"rules":[{"op":"Nope","status":500}]}`:                 "op",
			`{"rules":[{"status":200}]}`:                             "status",
			`{"rules":[{"count":1,"probability":0.5,"status":500}]}`: "probability",
			`{"rules":[{"delay":"forever"}]}`:                        "delay",
		} {
			if status, resp := do(t, "POST", tenant+"/_allot/faults", body, nil); status != 400 || !strings.Contains(resp, param) {
				t.Errorf("%s: %d %s, want 400 naming %s", body, status, resp, param)
			}
		}
	})

	t.Run("clock", func(t *testing.T) {
		status, body := do(t, "POST", tenant+"/_allot/clock", `{"set":"2098-12-31T00:00:00Z","freeze":true}`, nil)
		if status != 200 || !strings.Contains(body, `"now":"2098-12-31T00:00:00Z"`) || !strings.Contains(body, `"frozen":true`) {
			t.Fatalf("set and freeze: %d %s", status, body)
		}
		consume := `{"project_id":"allottest-project","resource_id":"%s","amount":1,"idempotency_key":"%s"}`
		id := resourceID(t, sdk)
		if status, body := do(t, "POST", admin+"/admin/v1/consume", fmt.Sprintf(consume, id, "c-1"), bearer); status != 200 {
			t.Fatalf("consume before expiry: %d %s", status, body)
		}
		if status, body := do(t, "POST", tenant+"/_allot/clock", `{"advance":"48h"}`, nil); status != 200 || !strings.Contains(body, `"now":"2099-01-02T00:00:00Z"`) {
			t.Fatalf("advance: %d %s", status, body)
		}
		if status, body := do(t, "POST", admin+"/admin/v1/consume", fmt.Sprintf(consume, id, "c-2"), bearer); status != 409 || !strings.Contains(body, "expired") {
			t.Fatalf("consume after the clock passed the expiry: %d %s, want 409 expired", status, body)
		}
		// The SDK signs with the real time, 76 years before the clock: the
		// signature check stays on the wall clock.
		if got := list(); got != 1 {
			t.Fatalf("list with the clock moved: %d", got)
		}
		// The seed's token expires ten years after the start: past it now.
		if status, body := do(t, "GET", tenant+"/v1/allottest-project/tenants/resources?resource_source=PURCHASED", "", http.Header{"X-Auth-Token": {allottest.Token}}); status != 401 || !strings.Contains(body, "expired") {
			t.Fatalf("token after the clock passed its expiry: %d %s", status, body)
		}
		if status, body := do(t, "POST", tenant+"/_allot/clock", `{"advance":"a month"}`, nil); status != 400 || !strings.Contains(body, "advance") {
			t.Errorf("a bad duration: %d %s", status, body)
		}
		if status, body := do(t, "POST", tenant+"/_allot/clock", `{}`, nil); status != 400 {
			t.Errorf("an empty clock request: %d %s", status, body)
		}
		do(t, "POST", tenant+"/_allot/clock", `{"set":"`+time.Now().UTC().Format(time.RFC3339)+`","freeze":false}`, nil)
	})

	t.Run("reset", func(t *testing.T) {
		do(t, "POST", tenant+"/_allot/faults", `{"rules":[{"op":"CountTenantResources","status":503}]}`, nil)
		if status, body := do(t, "POST", tenant+"/_allot/reset", "", nil); status != 200 {
			t.Fatalf("reset: %d %s", status, body)
		}
		if got := list(); got != 0 {
			t.Fatalf("after reset the SDK lists %d, want the seed's 0", got)
		}
		// The seed's credentials, token and admin key are back and work.
		if status, body := do(t, "POST", admin+"/admin/v1/packages", purchase, bearer); status != 201 {
			t.Fatalf("the same order after reset: %d %s, want 201 (a new purchase)", status, body)
		}
		if got := list(); got != 1 {
			t.Fatalf("after reset and a purchase: %d", got)
		}
		if _, body := do(t, "GET", tenant+"/_allot/faults", "", nil); !strings.Contains(body, `"rules":[]`) {
			t.Errorf("faults after reset: %s", body)
		}
	})
}

func resourceID(t *testing.T, sdk *metastudio.MetaStudioClient) string {
	t.Helper()
	resp, err := sdk.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"})
	if err != nil || resp.Resources == nil || len(*resp.Resources) != 1 {
		t.Fatalf("list: %v, %v", resp, err)
	}
	return *(*resp.Resources)[0].ResourceId
}

// TestSeedIsIdempotent: a restart on the same database with the same seed
// changes nothing, and what happened meanwhile stays.
func TestSeedIsIdempotent(t *testing.T) {
	tm := newTestMain(t)
	seed := tm.defaultSeed(t)
	extra := `{"kind":"resource","project_id":"allottest-project","resource_id":"seeded-1","resource_type":"VOICE_CLONE_NUM","business_type":"VOICE_CLONE","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":5,"usage":1,"unit":"NUM","resource_expire_time":"2099-01-01T00:00:00Z"}` + "\n"
	f, _ := os.OpenFile(seed, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(extra)
	f.Close()
	bearer := http.Header{"Authorization": {"Bearer " + allottest.AdminKey}}
	for i := range 2 {
		tenant, admin, _, stop := tm.startServeURLs(t, "--seed", seed)
		resp, err := sdkClient(t, tenant, allottest.SecretKey).ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"})
		if err != nil || resp.Count != 1 || *(*resp.Resources)[0].Usage != float32(1+i) {
			t.Fatalf("start %d: %v, %v; want seeded-1 with usage %d", i+1, resp, err, 1+i)
		}
		if status, body := do(t, "POST", admin+"/admin/v1/consume", `{"project_id":"allottest-project","resource_id":"seeded-1","amount":1,"idempotency_key":"k`+string(rune('0'+i))+`"}`, bearer); status != 200 {
			t.Fatalf("consume: %d %s", status, body)
		}
		stop()
	}
}

// TestTestModeResetPostgres: reset on PostgreSQL, with every table of the
// schema wiped and the seed back.
func TestTestModeResetPostgres(t *testing.T) {
	pgtest.NeedDB(t)
	tm := newTestMain(t)
	tm.env["ALLOT_DB"] = pgtest.NewSchemaDSN(t)
	tenant, admin, _ := tm.serveTest(t, "--test-mode", "--seed", tm.defaultSeed(t))
	bearer := http.Header{"Authorization": {"Bearer " + allottest.AdminKey}}
	sdk := sdkClient(t, tenant, allottest.SecretKey)
	count := func() float32 {
		resp, err := sdk.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	purchase := `{"project_id":"allottest-project","resource_source":"PURCHASED","order_id":"o-1","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"PERIODIC","unit":"MIN","amount":10,"resource_expire_time":"2099-01-01T00:00:00Z"}`
	for round := range 2 {
		if status, body := do(t, "POST", admin+"/admin/v1/packages", purchase, bearer); status != 201 {
			t.Fatalf("round %d purchase: %d %s", round, status, body)
		}
		if got := count(); got != 1 {
			t.Fatalf("round %d: %v packages", round, got)
		}
		if status, body := do(t, "POST", tenant+"/_allot/reset", "", nil); status != 200 {
			t.Fatalf("reset: %d %s", status, body)
		}
		if got := count(); got != 0 {
			t.Fatalf("round %d after reset: %v packages", round, got)
		}
	}
}

// needTool skips the test when tool is not on PATH, except under CI=true,
// where it fails naming the Debian package that has it, as the PostgreSQL
// suites do without a database.
func needTool(t *testing.T, tool, debian string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not on PATH: install it (apt-get install %s)", tool, debian)
		}
		t.Skipf("%s is not on PATH (apt-get install %s); skipped outside CI", tool, debian)
	}
}

// TestDocsTestModeRoutes runs docs/testing.md's curl commands against a
// real allot serve --test-mode.
func TestDocsTestModeRoutes(t *testing.T) {
	needTool(t, "curl", "curl")
	script := docsnippet.Find(t, filepath.Join("..", "..", "docs", "testing.md"), "routes.sh")
	tm := newTestMain(t)
	tenant, _, _ := tm.serveTest(t, "--test-mode", "--seed", tm.defaultSeed(t))
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", tenant)
	cmd := exec.Command("sh", "-e", "-c", script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the docs' curl commands: %v\n%s", err, out.String())
	}
	for _, want := range []string{`"reset":true`, `"now":"2030-01-01T00:00:00`, `"now":"2030-01-31T00:00:0`, `"frozen":true`, `"op":"ListTenantResources"`, `{"requests":[]}`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the docs' commands printed no %s:\n%s", want, out.String())
		}
	}
}

// TestDocsNodeSDK installs the Node.js SDK core from npm and runs
// docs/testing.md's snippet against a real allot serve --test-mode: a
// second signer, written apart from the Go SDK, that allot must accept.
func TestDocsNodeSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("installs from npm: not in -short")
	}
	needTool(t, "node", "nodejs")
	needTool(t, "npm", "npm")
	dir := t.TempDir()
	npm := exec.Command("npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--prefix", dir,
		"@huaweicloud/huaweicloud-sdk-core@3", "uuid@9")
	npm.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(dir, ".npm"), "HOME="+dir)
	if out, err := npm.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("npm install: %v\n%s", err, out)
		}
		t.Skipf("npm install failed (no registry?): %v\n%s", err, out)
	}
	snippet := docsnippet.Find(t, filepath.Join("..", "..", "docs", "testing.md"), "list.js")
	if err := os.WriteFile(filepath.Join(dir, "list.js"), []byte(snippet), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := newTestMain(t)
	tenant, admin, _ := tm.serveTest(t, "--test-mode", "--seed", tm.defaultSeed(t))
	purchase := `{"project_id":"allottest-project","resource_source":"PURCHASED","order_id":"o-1","resource_id":"node-visible","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"PERIODIC","unit":"MIN","amount":10,"resource_expire_time":"2099-01-01T00:00:00Z"}`
	if status, body := do(t, "POST", admin+"/admin/v1/packages", purchase, http.Header{"Authorization": {"Bearer " + allottest.AdminKey}}); status != 201 {
		t.Fatalf("purchase: %d %s", status, body)
	}
	node := exec.Command("node", "list.js")
	node.Dir = dir
	// HOME: the SDK writes an application id there.
	node.Env = append(os.Environ(), "ALLOT_ENDPOINT="+tenant, "HOME="+dir)
	out, err := node.CombinedOutput()
	if err != nil {
		t.Fatalf("node list.js: %v\n%s", err, out)
	}
	var got struct {
		Status    int `json:"status"`
		Count     int `json:"count"`
		Resources []struct {
			ResourceID string `json:"resource_id"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &got); err != nil {
		t.Fatalf("node printed %s: %v", out, err)
	}
	if got.Status != 200 || got.Count != 1 || len(got.Resources) != 1 || got.Resources[0].ResourceID != "node-visible" {
		t.Fatalf("the Node.js SDK saw %+v", got)
	}
	// It signed (AK/SK), as the ring shows.
	_, body := do(t, "GET", tenant+"/_allot/requests", "", nil)
	if !strings.Contains(body, `"auth":"aksk"`) || !strings.Contains(body, `"access_key":"`+allottest.AccessKey+`"`) {
		t.Fatalf("the ring does not show a signed request: %s", body)
	}
}

// BenchmarkServeTestModeReady: from `allot serve --demo --ephemeral
// --test-mode` to the first 200 from /readyz (the target is 300 ms).
func BenchmarkServeTestModeReady(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		dir := b.TempDir()
		tm := &testMain{dir: dir, env: map[string]string{"TMPDIR": dir}}
		start := time.Now()
		tenant, _, _, stop := tm.startServeURLs(b, "--demo", "--ephemeral", "--test-mode")
		resp, err := http.Get(tenant + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("readyz: %v %v", resp, err)
		}
		resp.Body.Close()
		total += time.Since(start)
		stop()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-ready")
}

// TestTestModeDemoSurvivesReset: with --demo, a reset puts the demo
// tenant back as it started, and prints its new credentials.
func TestTestModeDemoSurvivesReset(t *testing.T) {
	tm := newTestMain(t)
	tenant, _, out := tm.serveTest(t, "--test-mode", "--demo")
	lastToken := func() string {
		m := regexp.MustCompile(`token:\s+(allot-\S+)`).FindAllStringSubmatch(out.String(), -1)
		if len(m) == 0 {
			t.Fatalf("no token printed:\n%s", out)
		}
		return m[len(m)-1][1]
	}
	url := tenant + "/v1/demo-tenant/tenants/resources?resource_source=PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED&resource_id=res-video-001"
	usage := func(token string) (int, float64) {
		var got struct {
			Resources []struct{ Usage float64 } `json:"resources"`
		}
		status := getJSON(t, url, http.Header{"X-Auth-Token": {token}}, &got)
		if status != 200 || len(got.Resources) != 1 {
			return status, -1
		}
		return status, got.Resources[0].Usage
	}
	first := lastToken()
	consume := regexp.MustCompile(`curl -s -H 'Authorization: Bearer (\S+)' -d '(\{[^']*\})' '(\S+/admin/v1/consume)'`).FindStringSubmatch(out.String())
	if status, body := do(t, "POST", consume[3], consume[2], http.Header{"Authorization": {"Bearer " + consume[1]}}); status != 200 {
		t.Fatalf("demo consume: %d %s", status, body)
	}
	if status, u := usage(first); u != 127.5 {
		_, body := do(t, "GET", url, "", http.Header{"X-Auth-Token": {first}})
		t.Fatalf("after the demo consume: %d usage %v: %s", status, u, body)
	}
	if status, body := do(t, "POST", tenant+"/_allot/reset", "", nil); status != 200 {
		t.Fatalf("reset: %d %s", status, body)
	}
	if n := strings.Count(out.String(), "Demo tenant ready."); n != 2 {
		t.Fatalf("the demo was printed %d times, want again after the reset", n)
	}
	second := lastToken()
	if status, _ := usage(first); status != 401 {
		t.Errorf("the token from before the reset: %d, want 401", status)
	}
	if status, u := usage(second); status != 200 || u != 125 {
		t.Fatalf("after reset with the new token: %d, usage %v; want the demo's 125", status, u)
	}
}
