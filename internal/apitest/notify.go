package apitest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// sdkWithToken returns an official SDK client whose requests carry a token.
func (e *env) sdkWithToken(t testing.TB, token, project string) *metastudio.MetaStudioClient {
	t.Helper()
	creds, err := basic.NewCredentialsBuilder().WithAk("UNUSEDACCESSKEY00000").WithSk("unused").WithProjectId(project).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := metastudio.MetaStudioClientBuilder().WithEndpoints([]string{e.url}).WithCredential(creds).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(10 * time.Second).WithHttpRoundTripper(tokenTransport{token})).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return metastudio.NewMetaStudioClient(hc)
}

// testNoticeConfigs: SetTenantNoticeConfiguration and
// ShowTenantNoticeConfiguration through the official SDK, with AK/SK and
// with a token; properties come back byte for byte.
func testNoticeConfigs(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	tok := e.token(t, tenantA, time.Now().Add(time.Hour))
	clients := map[string]*metastudio.MetaStudioClient{"aksk": e.sdk(t, ak, sk, tenantA), "token": e.sdkWithToken(t, tok, tenantA)}
	for name, client := range clients {
		t.Run(name, func(t *testing.T) {
			typ := "RESOURCE_LEFT"
			if name == "token" {
				typ = "RESOURCE_EXPIRE"
			}
			show, err := client.ShowTenantNoticeConfiguration(&model.ShowTenantNoticeConfigurationRequest{Type: typ})
			if err != nil {
				t.Fatal(err)
			}
			if show.Type == nil || *show.Type != typ || show.SendMsg == nil || *show.SendMsg || show.Properties != nil {
				t.Fatalf("unset %s: %s", typ, show)
			}
			props := ` {"threshold_percent": 20, "note": "ünïcode \u00e9"} `
			if typ == "RESOURCE_EXPIRE" {
				props = `{"days_before":[30,7,1]}`
			}
			set, err := client.SetTenantNoticeConfiguration(&model.SetTenantNoticeConfigurationRequest{Body: &model.SetTenantNoticeConfigurationReq{
				Type: typ, SendMsg: ptr(true), Properties: &props}})
			if err != nil {
				t.Fatal(err)
			}
			if set.HttpStatusCode != 200 || set.XRequestId == nil || *set.XRequestId == "" {
				t.Fatalf("set: %d, request id %v", set.HttpStatusCode, set.XRequestId)
			}
			limit, offset := int32(10), int32(0)
			show, err = client.ShowTenantNoticeConfiguration(&model.ShowTenantNoticeConfigurationRequest{Type: typ, Limit: &limit, Offset: &offset})
			if err != nil {
				t.Fatal(err)
			}
			if *show.Type != typ || !*show.SendMsg || show.Properties == nil || *show.Properties != props {
				t.Fatalf("after set: %s, want properties %q", show, props)
			}
			_, err = client.SetTenantNoticeConfiguration(&model.SetTenantNoticeConfigurationRequest{Body: &model.SetTenantNoticeConfigurationReq{Type: "RESOURCE_OTHER"}})
			serviceError(t, err, 400, "MSS.00000003", "type")
			_, err = client.ShowTenantNoticeConfiguration(&model.ShowTenantNoticeConfigurationRequest{Type: ""})
			serviceError(t, err, 400, "MSS.00000003", "type")
		})
	}
	// A body the SDK would not send: a non-string properties names it.
	path := "/v1/" + tenantA + "/tenants/notice-configurations"
	for body, field := range map[string]string{
		`{"type":"RESOURCE_LEFT","properties":{"threshold_percent":20}}`: "properties",
		`{"type":"RESOURCE_LEFT","send_msg":"yes"}`:                      "send_msg",
		`{"send_msg":true}`: "type",
		`not json`:          "body",
	} {
		req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
		req.Header.Set("X-Auth-Token", tok)
		req.Header.Set("Content-Type", "application/json")
		resp, raw := e.do(t, req)
		if resp.StatusCode != 400 || !strings.Contains(string(raw), `"MSS.00000003"`) || !strings.Contains(string(raw), field) {
			t.Fatalf("%s: %d %s, want 400 naming %s", body, resp.StatusCode, raw, field)
		}
	}
	// Another tenant's credential cannot set tenantA's configuration.
	other := e.token(t, tenantB, time.Now().Add(time.Hour))
	_, err := e.sdkWithToken(t, other, tenantA).SetTenantNoticeConfiguration(&model.SetTenantNoticeConfigurationRequest{Body: &model.SetTenantNoticeConfigurationReq{Type: "RESOURCE_LEFT"}})
	serviceError(t, err, 403, "MSS.00010009")
}

// receiver is a webhook receiver on loopback: it records every request and
// answers 500 to the first failFirst of them.
type receiver struct {
	mu        sync.Mutex
	url       string
	failFirst int
	got       []received
	srv       *http.Server
}

type received struct {
	body      []byte
	signature string
	status    int
	at        time.Time
}

func startReceiver(t *testing.T, failFirst int) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{url: "http://" + ln.Addr().String() + "/hook", failFirst: failFirst}
	rc.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		status := 204
		if len(rc.got) < rc.failFirst {
			status = 500
		}
		rc.got = append(rc.got, received{body: body, signature: r.Header.Get("Allot-Signature"), status: status, at: time.Now()})
		rc.mu.Unlock()
		w.WriteHeader(status)
	})}
	go rc.srv.Serve(ln)
	t.Cleanup(func() { rc.srv.Close() })
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor polls until cond holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type wireEvent struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	ProjectID  string `json:"project_id"`
	ResourceID string `json:"resource_id"`
	Remaining  string `json:"-"`
	DaysBefore int    `json:"days_before"`
	SendMsg    bool   `json:"send_msg"`
	Raw        map[string]any
}

func decodeEvent(t *testing.T, body []byte) wireEvent {
	t.Helper()
	var ev wireEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("event %s: %v", body, err)
	}
	json.Unmarshal(body, &ev.Raw)
	return ev
}

// verifySignature checks an Allot-Signature the way a receiver does,
// computing the HMAC itself, and refuses one older than 5 minutes.
func verifySignature(t *testing.T, header, secret string, body []byte) {
	t.Helper()
	var ts, v1 string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		t.Fatalf("signature time %q", ts)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.%s", ts, body)
	if want := hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(v1), []byte(want)) {
		t.Fatalf("signature %s does not verify (want v1=%s)", header, want)
	}
}

// webhookEnv starts allot with a fast dispatcher on a clock the test moves.
func webhookEnv(t *testing.T, open func(t *testing.T) allot.Store) (*adminEnv, *allot.ManualClock, string) {
	clock := allot.NewManualClock(time.Now())
	e := start(t, open, func(c *app.Config) {
		c.Clock = clock
		c.DispatchInterval = 10 * time.Millisecond
		c.RetryBase = 20 * time.Millisecond
		c.ExpirySweepInterval = 10 * time.Millisecond
	})
	a := startAdmin(t, e)
	return a, clock, a.key(t, "ops", allot.RoleAdmin, "")
}

func (a *adminEnv) webhook(t *testing.T, key, url string, events ...string) (id, secret string) {
	t.Helper()
	var out struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	evs, _ := json.Marshal(events)
	body := `{"url":"` + url + `","events":` + string(evs) + `,"project_id":"` + tenantA + `"}`
	if status, msg := a.call(t, key, "POST", "/admin/v1/webhooks", body, &out); status != 201 || out.Secret == "" {
		t.Fatalf("create webhook: %d %s", status, msg)
	}
	var list struct {
		Webhooks []map[string]any `json:"webhooks"`
	}
	a.call(t, key, "GET", "/admin/v1/webhooks", "", &list)
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), out.Secret) {
		t.Fatalf("the list shows the secret: %s", raw)
	}
	return out.ID, out.Secret
}

func (a *adminEnv) addPackage(t *testing.T, key, id string, amount int, expire time.Time) {
	t.Helper()
	a.must(t, key, "POST", "/admin/v1/packages", fmt.Sprintf(`{"project_id":%q,"resource_id":%q,"resource_source":"PURCHASED","order_id":"o-%s",
		"resource_type":"NOTIFY_MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":%d,
		"resource_expire_time":%q,"idempotency_key":"add-%s"}`, tenantA, id, id, amount, expire.UTC().Format(time.RFC3339), id), 201)
}

func (a *adminEnv) setNotice(t *testing.T, typ, props string) {
	t.Helper()
	tok := a.token(t, tenantA, time.Now().Add(time.Hour))
	_, err := a.sdkWithToken(t, tok, tenantA).SetTenantNoticeConfiguration(&model.SetTenantNoticeConfigurationRequest{Body: &model.SetTenantNoticeConfigurationReq{
		Type: typ, SendMsg: ptr(true), Properties: &props}})
	if err != nil {
		t.Fatal(err)
	}
}

type deliveryLog struct {
	Deliveries []struct {
		ID       string `json:"id"`
		EventID  string `json:"event_id"`
		State    string `json:"state"`
		Attempts []struct {
			StatusCode int    `json:"status_code"`
			LatencyMS  int64  `json:"latency_ms"`
			Error      string `json:"error"`
		} `json:"attempts"`
	} `json:"deliveries"`
}

// testWebhooks: the delivery tests against a real receiver on
// loopback.
func testWebhooks(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("ConcurrentCrossing", func(t *testing.T) {
		t.Parallel()
		a, _, key := webhookEnv(t, open)
		rc := startReceiver(t, 0)
		hook, secret := a.webhook(t, key, rc.url, allot.EventResourceLeft)
		a.setNotice(t, "RESOURCE_LEFT", `{"threshold_percent": 20}`)
		a.addPackage(t, key, "hot", 100, time.Now().AddDate(1, 0, 0))
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				a.must(t, key, "POST", "/admin/v1/consume", fmt.Sprintf(`{"project_id":%q,"resource_id":"hot","amount":1.7,"idempotency_key":"k%d"}`, tenantA, i), 200)
			})
		}
		wg.Wait()
		waitFor(t, "the resource.left delivery", func() bool { return len(rc.requests()) >= 1 })
		time.Sleep(300 * time.Millisecond) // thirty dispatch rounds: time for a second event, if any
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want one resource.left", len(got))
		}
		ev := decodeEvent(t, got[0].body)
		if ev.Type != allot.EventResourceLeft || ev.ProjectID != tenantA || ev.ResourceID != "hot" || !ev.SendMsg ||
			fmt.Sprint(ev.Raw["remaining"]) != "18.4" || fmt.Sprint(ev.Raw["threshold"]) != "20" {
			t.Fatalf("event: %s", got[0].body)
		}
		verifySignature(t, got[0].signature, secret, got[0].body)
		// Redelivered: the same event id.
		var log deliveryLog
		a.call(t, key, "GET", "/admin/v1/webhooks/"+hook+"/deliveries", "", &log)
		if len(log.Deliveries) != 1 || log.Deliveries[0].State != "delivered" || log.Deliveries[0].EventID != ev.ID {
			t.Fatalf("log: %+v", log)
		}
		if status, msg := a.call(t, key, "POST", "/admin/v1/webhooks/"+hook+"/deliveries/"+log.Deliveries[0].ID+"/redeliver", "", nil); status != 202 {
			t.Fatalf("redeliver: %d %s", status, msg)
		}
		waitFor(t, "the redelivery", func() bool { return len(rc.requests()) == 2 })
		again := rc.requests()[1]
		if string(again.body) != string(got[0].body) || decodeEvent(t, again.body).ID != ev.ID {
			t.Fatalf("redelivered %s, first %s", again.body, got[0].body)
		}
		verifySignature(t, again.signature, secret, again.body)
	})

	t.Run("RetryThenSucceed", func(t *testing.T) {
		t.Parallel()
		a, _, key := webhookEnv(t, open)
		rc := startReceiver(t, 3)
		hook, _ := a.webhook(t, key, rc.url, allot.EventResourceDepleted)
		a.addPackage(t, key, "small", 2, time.Now().AddDate(1, 0, 0))
		a.must(t, key, "POST", "/admin/v1/consume", `{"project_id":"`+tenantA+`","resource_id":"small","amount":2,"idempotency_key":"all"}`, 200)
		waitFor(t, "four attempts", func() bool { return len(rc.requests()) >= 4 })
		var log deliveryLog
		waitFor(t, "the delivered state", func() bool {
			a.call(t, key, "GET", "/admin/v1/webhooks/"+hook+"/deliveries", "", &log)
			return len(log.Deliveries) == 1 && log.Deliveries[0].State == "delivered"
		})
		d := log.Deliveries[0]
		var codes []int
		for _, at := range d.Attempts {
			codes = append(codes, at.StatusCode)
		}
		if fmt.Sprint(codes) != "[500 500 500 204]" {
			t.Fatalf("attempts: %v", codes)
		}
		got := rc.requests()
		if len(got) != 4 {
			t.Fatalf("%d requests", len(got))
		}
		// The metrics count the attempts by outcome and show an empty outbox.
		req, _ := http.NewRequest("GET", a.url+"/metrics", nil)
		_, metrics := a.do(t, req)
		for _, line := range []string{`allot_webhook_deliveries_total{outcome="retry"} 3`, `allot_webhook_deliveries_total{outcome="delivered"} 1`, "allot_outbox_pending "} {
			if !strings.Contains(string(metrics), line) {
				t.Errorf("/metrics has no %q", line)
			}
		}
		for i := 1; i < 4; i++ {
			if decodeEvent(t, got[i].body).ID != decodeEvent(t, got[0].body).ID {
				t.Fatal("a retry carries another event id")
			}
			// Backoff: each retry waits at least half its base delay.
			if gap, min := got[i].at.Sub(got[i-1].at), 10*time.Millisecond<<(i-1); gap < min {
				t.Fatalf("retry %d after %v, want at least %v", i, gap, min)
			}
		}
	})

	t.Run("Expiring", func(t *testing.T) {
		t.Parallel()
		a, clock, key := webhookEnv(t, open)
		rc := startReceiver(t, 0)
		a.webhook(t, key, rc.url, allot.EventResourceExpiring)
		a.setNotice(t, "RESOURCE_EXPIRE", `{"days_before": [7]}`)
		a.addPackage(t, key, "ending", 10, clock.Now().Add(9*24*time.Hour))
		// The fixture's packages of tenantA expire too: only "ending" is
		// counted.
		ofEnding := func() []received {
			var out []received
			for _, r := range rc.requests() {
				if decodeEvent(t, r.body).ResourceID == "ending" {
					out = append(out, r)
				}
			}
			return out
		}
		time.Sleep(100 * time.Millisecond)
		if n := len(ofEnding()); n != 0 {
			t.Fatalf("%d events nine days before", n)
		}
		clock.Advance(2*24*time.Hour + time.Hour) // now 7 days less an hour before
		waitFor(t, "resource.expiring", func() bool { return len(ofEnding()) >= 1 })
		time.Sleep(200 * time.Millisecond) // twenty sweeps
		got := ofEnding()
		if len(got) != 1 {
			t.Fatalf("%d events, want one", len(got))
		}
		ev := decodeEvent(t, got[0].body)
		if ev.Type != allot.EventResourceExpiring || ev.DaysBefore != 7 {
			t.Fatalf("event: %s", got[0].body)
		}
	})
}
