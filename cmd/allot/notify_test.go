package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/docsnippet"
)

// hookReceiver is a webhook receiver on loopback. While failing, it
// answers 500; otherwise 204, and it counts each delivered event id.
type hookReceiver struct {
	url       string
	secret    string // when set, a request whose signature does not verify is answered 401
	badSigs   atomic.Int64
	failing   atomic.Bool
	mu        sync.Mutex
	delivered map[string]int // event id -> 2xx answers
	types     map[string]string
	attempts  int
}

func startHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &hookReceiver{url: "http://" + ln.Addr().String() + "/hook", delivered: map[string]int{}, types: map[string]string{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct{ ID, Type string }
		json.Unmarshal(body, &ev)
		if rc.secret != "" && !verify([]byte(rc.secret), r.Header.Get("Allot-Signature"), body, time.Now()) {
			rc.badSigs.Add(1)
			w.WriteHeader(401)
			return
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.attempts++
		if rc.failing.Load() {
			w.WriteHeader(500)
			return
		}
		rc.delivered[ev.ID]++
		rc.types[ev.ID] = ev.Type
		w.WriteHeader(204)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rc
}

func (rc *hookReceiver) snapshot() (map[string]int, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]int, len(rc.delivered))
	for k, v := range rc.delivered {
		out[k] = v
	}
	return out, rc.attempts
}

// verify reports whether header, an Allot-Signature, signs body with
// secret and is no more than 5 minutes from now.
func verify(secret []byte, header string, body []byte, now time.Time) bool {
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
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return hmac.Equal([]byte(v1), []byte(hex.EncodeToString(mac.Sum(nil))))
}

// TestVerifySnippet: docs/admin.md shows the receiver's verify function as
// this file has it.
func TestVerifySnippet(t *testing.T) {
	snippet := docsnippet.Find(t, filepath.Join("..", "..", "docs", "admin.md"), "verify.go")
	src, err := os.ReadFile("notify_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), snippet) {
		t.Fatalf("docs/admin.md's verify is not the one in notify_test.go:\n%s", snippet)
	}
	body := []byte(`{"id":"evt-1"}`)
	now := time.Now()
	mac := hmac.New(sha256.New, []byte("k"))
	fmt.Fprintf(mac, "%d.%s", now.Unix(), body)
	good := fmt.Sprintf("t=%d,v1=%x", now.Unix(), mac.Sum(nil))
	if !verify([]byte("k"), good, body, now) || verify([]byte("other"), good, body, now) ||
		verify([]byte("k"), good, []byte(`{"id":"evt-2"}`), now) || verify([]byte("k"), good, body, now.Add(6*time.Minute)) {
		t.Fatal("verify accepts or refuses the wrong requests")
	}
}

// adminCall sends one management request to a node.
func adminCall(t *testing.T, addr, key, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKillAfterCrossing: a real `allot serve` acknowledges a consume that
// empties a package, and is killed with SIGKILL right after; the receiver
// refused everything before the kill, so nothing was delivered. After a
// restart the resource.depleted event is delivered: it was committed with
// the consume.
func TestKillAfterCrossing(t *testing.T) {
	onEachStore(t, testKillAfterCrossing)
}

func testKillAfterCrossing(t *testing.T, tm *testMain) {
	tm.mustRun(t, "", "migrate")
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	tm.mustRun(t, "", "package", "add", `{"project_id":"tenant","resource_id":"small","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":5}`)
	var key struct{ Key string }
	json.Unmarshal([]byte(tm.mustRun(t, "", "admin-key", "create", "--name", "ops", "--json")), &key)
	bin := buildAllot(t)
	// A short lease: the node may die holding the delivery's claim, and the
	// next node takes it over once the lease runs out.
	env := []string{"ALLOT_DB=" + tm.env["ALLOT_DB"], "ALLOT_MASTER_KEY_FILE=" + tm.env["ALLOT_MASTER_KEY_FILE"],
		"ALLOT_WEBHOOK_TIMEOUT=1s", "ALLOT_WEBHOOK_LEASE=2s", "ALLOT_WEBHOOK_RETRY_BASE=200ms"}
	rc := startHookReceiver(t)
	rc.failing.Store(true)
	// The webhook comes from the CLI, sealed with the same master key the
	// server opens it with: the receiver checks every signature.
	rc.secret = "cli-made-secret-0123456789"
	tm.mustRun(t, "", "webhook", "create", `{"url":"`+rc.url+`","events":["resource.depleted"],"secret":"`+rc.secret+`"}`)

	node, addr := startKillable(t, bin, env)
	if status, body := adminCall(t, addr, key.Key, "POST", "/admin/v1/consume", `{"project_id":"tenant","resource_id":"small","amount":5,"idempotency_key":"all"}`); status != 200 {
		t.Fatalf("consume: %d %s", status, body)
	}
	node.Process.Signal(syscall.SIGKILL)
	node.Wait()
	if got, _ := rc.snapshot(); len(got) != 0 {
		t.Fatalf("delivered before the kill: %v", got)
	}

	rc.failing.Store(false)
	startKillable(t, bin, env)
	// A first attempt the dead node made waits out its backoff, or its lease
	// if it died holding the claim, before the new node tries again.
	waitUntil(t, 30*time.Second, "the event after the restart", func() bool { got, _ := rc.snapshot(); return len(got) == 1 })
	if n := rc.badSigs.Load(); n != 0 {
		t.Fatalf("%d requests with a signature that does not verify", n)
	}
	got, _ := rc.snapshot()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id, n := range got {
		if n != 1 || rc.types[id] != "resource.depleted" {
			t.Fatalf("event %s (%s) delivered %d times", id, rc.types[id], n)
		}
	}
}

// TestTwoNodesDeliverOnce: two `allot serve` on one PostgreSQL database
// deliver every event of a run without failures, each exactly once.
func TestTwoNodesDeliverOnce(t *testing.T) {
	const packages = 30
	tm, key, nodes := twoNodes(t, 1, "ops")
	rc := startHookReceiver(t)
	if status, body := adminCall(t, nodes[0], key.Key, "POST", "/admin/v1/webhooks", `{"url":"`+rc.url+`","events":["resource.depleted"]}`); status != 201 {
		t.Fatalf("create webhook: %d %s", status, body)
	}
	for i := range packages {
		tm.mustRun(t, "", "package", "add", fmt.Sprintf(`{"project_id":"tenant","resource_id":"p%d","resource_source":"PURCHASED","order_id":"o-p%d","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":1}`, i, i))
	}
	// Each package is emptied through one node or the other: one event each.
	var wg sync.WaitGroup
	for i := range packages {
		wg.Go(func() {
			body := fmt.Sprintf(`{"project_id":"tenant","resource_id":"p%d","amount":1,"idempotency_key":"c%d"}`, i, i)
			if status, msg := adminCall(t, nodes[i%2], key.Key, "POST", "/admin/v1/consume", body); status != 200 {
				t.Errorf("consume p%d: %d %s", i, status, msg)
			}
		})
	}
	wg.Wait()
	waitUntil(t, 30*time.Second, "every event", func() bool { got, _ := rc.snapshot(); return len(got) == packages })
	time.Sleep(time.Second) // five dispatch rounds of each node: time for a duplicate, if any
	got, attempts := rc.snapshot()
	if len(got) != packages || attempts != packages {
		t.Fatalf("%d events in %d requests, want %d in %d", len(got), attempts, packages, packages)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
}

// TestWebhookCLI: the webhook commands print the management API's shapes,
// never a secret after creation, and exit with the documented statuses.
func TestWebhookCLI(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "migrate")
	var created struct{ ID, Secret string }
	json.Unmarshal([]byte(tm.mustRun(t, "", "webhook", "create", `{"url":"https://example.com/h","events":["resource.left"]}`)), &created)
	if created.ID == "" || len(created.Secret) != 64 {
		t.Fatalf("create: %+v", created)
	}
	list := tm.mustRun(t, "", "webhook", "list")
	if !strings.Contains(list, created.ID) || strings.Contains(list, created.Secret) {
		t.Fatalf("list: %s", list)
	}
	if out := tm.mustRun(t, "", "webhook", "deliveries", created.ID); !strings.Contains(out, `"deliveries":[]`) {
		t.Fatalf("deliveries: %s", out)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"webhook", "create", `{"url":"file:///etc/passwd","events":["resource.left"]}`}, 3},
		{[]string{"webhook", "deliveries", "wh-none"}, 4},
		{[]string{"webhook", "redeliver", created.ID, "nothing"}, 4},
		{[]string{"webhook", "delete"}, 2},
	} {
		if _, _, err := tm.run(t, "", c.args...); exitCode(err) != c.want {
			t.Errorf("%v: exit %d (%v), want %d", c.args, exitCode(err), err, c.want)
		}
	}
	tm.mustRun(t, "", "webhook", "delete", created.ID)
	if _, _, err := tm.run(t, "", "webhook", "delete", created.ID); exitCode(err) != 4 {
		t.Fatalf("delete twice: %v", err)
	}
}
