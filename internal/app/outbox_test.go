package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/secret"
)

// TestOutboxPrunedOnTheClock: a webhook delivery made through the served
// app stays while it is younger than the outbox retention by the app's
// clock, and is pruned by the dispatcher, with its event, once the clock
// passes it: /metrics counts what was pruned and a log line says so. A
// delivery still being retried stays.
func TestOutboxPrunedOnTheClock(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		testOutboxPrunedOnTheClock(t, filepath.Join(t.TempDir(), "allot.db"))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		pgtest.NeedDB(t)
		testOutboxPrunedOnTheClock(t, pgtest.NewSchemaDSN(t))
	})
}

// syncBuffer is a log sink the app writes from its goroutines.
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

func testOutboxPrunedOnTheClock(t *testing.T, dsn string) {
	ctx := context.Background()
	const retention = 7 * 24 * time.Hour
	start := time.Now().UTC().Truncate(time.Second)
	clock := allot.NewManualClock(start)
	clock.Freeze(true)
	clock.Set(start)
	store, err := app.OpenStore(ctx, dsn, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, p := range []string{"ok", "down"} {
		if err := store.CreateProject(ctx, allot.Project{ID: p, Name: p, RegionID: "r"}); err != nil {
			t.Fatal(err)
		}
	}
	hash := sha256.Sum256([]byte("key-of-ops"))
	if err := store.CreateAdminKey(ctx, allot.AdminKey{ID: "ops", Hash: hash[:], Role: allot.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	key, _ := secret.ParseKey(secret.NewKey())
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(good.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(bad.Close)
	var logs syncBuffer
	a, err := app.Open(ctx, app.Config{Store: store, Keyring: keyring, Clock: clock, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), DispatchInterval: 10 * time.Millisecond, OutboxPruneInterval: 10 * time.Millisecond,
		RetryBase: time.Hour, OutboxRetention: retention})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	do := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, a.AdminURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer key-of-ops")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	hooks := map[string]string{}
	for p, url := range map[string]string{"ok": good.URL, "down": bad.URL} {
		var w allot.Webhook
		json.Unmarshal(do("POST", "/admin/v1/webhooks", `{"url":"`+url+`","events":["resource.depleted"],"secret":"0123456789abcdef0123","project_id":"`+p+`"}`), &w)
		hooks[p] = w.ID
		do("POST", "/admin/v1/packages", `{"project_id":"`+p+`","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o-`+p+`","resource_type":"MIN",`+
			`"business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":10}`)
		do("POST", "/admin/v1/consume", `{"project_id":"`+p+`","resource_id":"pkg","amount":10,"idempotency_key":"all"}`)
	}
	deliveries := func(p string) []allot.Delivery {
		t.Helper()
		var out struct{ Deliveries []allot.Delivery }
		json.Unmarshal(do("GET", "/admin/v1/webhooks/"+hooks[p]+"/deliveries", ""), &out)
		return out.Deliveries
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen", what)
			}
		}
	}
	waitFor("the delivery", func() bool { ds := deliveries("ok"); return len(ds) == 1 && ds[0].State == allot.DeliveryDelivered })
	waitFor("the failed attempt", func() bool { ds := deliveries("down"); return len(ds) == 1 && len(ds[0].Attempts) == 1 })

	// One second short of the retention: many prune rounds, nothing goes.
	clock.Advance(retention - time.Second)
	time.Sleep(200 * time.Millisecond)
	if ds := deliveries("ok"); len(ds) != 1 {
		t.Fatalf("pruned before the retention: %+v", ds)
	}
	// Past it: the delivered one goes. The other, its retry window of a
	// day run out, failed on its attempt at the last reading: it stays,
	// to be looked at and redelivered.
	clock.Advance(2 * time.Second)
	waitFor("the prune", func() bool { return len(deliveries("ok")) == 0 })
	if ds := deliveries("down"); len(ds) != 1 || ds[0].State != allot.DeliveryFailed || len(ds[0].Attempts) != 2 {
		t.Fatalf("the delivery that failed within the retention: %+v", ds)
	}
	metrics := string(do("GET", "/metrics", ""))
	for _, want := range []string{`allot_outbox_pruned_total{table="deliveries"} 1`, `allot_outbox_pruned_total{table="delivery_attempts"} 1`,
		`allot_outbox_pruned_total{table="events"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"outbox pruned","deliveries":1,"attempts":1,"events":1`) {
		t.Errorf("no log line of the prune:\n%s", logs.String())
	}
}
