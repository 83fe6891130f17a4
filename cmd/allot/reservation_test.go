package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// adminClient posts to one node's management API with an admin key.
type adminClient struct {
	key    string
	client *http.Client
}

func (c adminClient) do(t *testing.T, method, node, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, "http://"+node+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.client.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// packageOf reads a package from the database, not through a node.
func packageOf(t *testing.T, dsn, project, id string) allot.Resource {
	t.Helper()
	s, err := app.OpenStore(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.TenantChanges(t.Context(), project, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Resources {
		if r.ResourceID == id {
			return r
		}
	}
	t.Fatalf("package %s/%s not found", project, id)
	return allot.Resource{}
}

// TestTwoNodesReservations: 300 reservations of 1 against a package of 100,
// half of them sent twice, once to each of two allot processes on one
// PostgreSQL database. Exactly 100 hold, every replay answers the same
// reservation_id, and after committing 0.7 on 50 and releasing the other
// 50 the package's usage is exactly 35, with nothing left held.
func TestTwoNodesReservations(t *testing.T) {
	tm, key, nodes := twoNodes(t, 100, "render")
	c := adminClient{key: key.Key, client: &http.Client{Timeout: 60 * time.Second}}

	var (
		mu      sync.Mutex
		created = map[int]string{} // key -> reservation id, from the 201
		answers = map[int][]string{}
		wg      sync.WaitGroup
	)
	for i := range 300 {
		targets := nodes[i%2 : i%2+1]
		if i%2 == 1 {
			targets = nodes // half the keys go to both nodes at once
		}
		for _, node := range targets {
			wg.Go(func() {
				status, b := c.do(t, "POST", node, "/admin/v1/reservations",
					fmt.Sprintf(`{"project_id":"tenant","resource_id":"hot","amount":1,"ttl":3600,"idempotency_key":"job-%d"}`, i))
				var out allot.ReservationResult
				json.Unmarshal(b, &out)
				mu.Lock()
				defer mu.Unlock()
				switch status {
				case 201:
					if _, dup := created[i]; dup {
						t.Errorf("job-%d created twice", i)
					}
					created[i] = out.ReservationID
					answers[i] = append(answers[i], out.ReservationID)
				case 200:
					if !out.Replayed {
						t.Errorf("job-%d: 200 that is no replay: %s", i, b)
					}
					answers[i] = append(answers[i], out.ReservationID)
				case 409:
				default:
					t.Errorf("reserve job-%d on %s: %d %s", i, node, status, b)
				}
			})
		}
	}
	wg.Wait()
	if len(created) != 100 {
		t.Fatalf("%d reservations hold, want exactly 100", len(created))
	}
	for i, ids := range answers {
		for _, id := range ids {
			if id != created[i] {
				t.Errorf("job-%d answered %s and %s", i, created[i], id)
			}
		}
	}
	if r := packageOf(t, tm.env["ALLOT_DB"], "tenant", "hot"); r.Held != 100*allot.QuantityScale || r.Usage != 0 {
		t.Fatalf("after the reservations: held %s usage %s, want 100 and 0", r.Held, r.Usage)
	}

	n := 0
	for _, id := range created {
		node := nodes[n%2]
		path, body := "/admin/v1/reservations/"+id+"/commit", `{"amount":0.7,"idempotency_key":"done"}`
		if n >= 50 {
			path, body = "/admin/v1/reservations/"+id+"/release", ""
		}
		n++
		wg.Go(func() {
			if status, b := c.do(t, "POST", node, path, body); status != 200 {
				t.Errorf("%s: %d %s", path, status, b)
			}
		})
	}
	wg.Wait()
	if r := packageOf(t, tm.env["ALLOT_DB"], "tenant", "hot"); r.Usage != 35*allot.QuantityScale || r.Held != 0 {
		t.Fatalf("usage %s held %s, want exactly 35 and 0", r.Usage, r.Held)
	}
	if out := tm.mustRun(t, "", "verify"); !strings.Contains(out, "no drift") {
		t.Fatalf("verify: %s", out)
	}
}

// TestReservationSurvivesKill: a reservation acknowledged before the
// process is killed (SIGKILL, no shutdown) is there after a restart: it
// can be committed, and one nobody settles is released by the restarted
// process's sweeper, never before its expiry.
func TestReservationSurvivesKill(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	tm.mustRun(t, "", "package", "add", `{"project_id":"tenant","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":10}`)
	var key struct{ Key string }
	json.Unmarshal([]byte(tm.mustRun(t, "", "admin-key", "create", "--name", "render", "--json")), &key)
	bin := buildAllot(t)
	env := []string{"ALLOT_DB=" + tm.env["ALLOT_DB"], "ALLOT_MASTER_KEY_FILE=" + tm.env["ALLOT_MASTER_KEY_FILE"]}
	c := adminClient{key: key.Key, client: &http.Client{Timeout: 30 * time.Second}}

	first := startProcess(t, bin, env)
	reserve := func(n *node, amount, ttl int, key string) allot.ReservationResult {
		t.Helper()
		status, b := c.do(t, "POST", n.admin, "/admin/v1/reservations",
			fmt.Sprintf(`{"project_id":"tenant","resource_id":"pkg","amount":%d,"ttl":%d,"idempotency_key":%q}`, amount, ttl, key))
		var out allot.ReservationResult
		if err := json.Unmarshal(b, &out); err != nil || status != 201 {
			t.Fatalf("reserve %s: %d %s", key, status, b)
		}
		return out
	}
	kept := reserve(first, 4, 3600, "render-1")
	// A TTL short enough to run out while the test waits for the sweeper.
	lapsing := reserve(first, 3, 2, "render-2")
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()

	second := startProcess(t, bin, env)
	if status, b := c.do(t, "POST", second.admin, "/admin/v1/reservations/"+kept.ReservationID+"/commit", `{"amount":2.5,"idempotency_key":"c1"}`); status != 200 {
		t.Fatalf("commit after the restart: %d %s", status, b)
	}
	// The sweeper of the restarted process releases the lapsed hold with
	// no request naming it; the test waits for that, however long it takes.
	var expired allot.Reservation
	for expired.State != allot.ReservationExpired {
		status, b := c.do(t, "GET", second.admin, "/admin/v1/reservations?project_id=tenant&state=expired", "")
		var page struct{ Reservations []allot.Reservation }
		if err := json.Unmarshal(b, &page); err != nil || status != 200 {
			t.Fatalf("list: %d %s", status, b)
		}
		if len(page.Reservations) == 1 {
			expired = page.Reservations[0]
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if expired.ReservationID != lapsing.ReservationID || expired.SettledAt.Before(expired.ExpiresAt) {
		t.Fatalf("expired %+v, want %s released at or after its expiry", expired, lapsing.ReservationID)
	}
	if status, _ := c.do(t, "POST", second.admin, "/admin/v1/reservations/"+lapsing.ReservationID+"/commit", `{"amount":1,"idempotency_key":"c2"}`); status != 409 {
		t.Fatalf("commit of the expired hold: %d, want 409", status)
	}
	second.cmd.Process.Signal(os.Interrupt)
	second.cmd.Wait()
	if r := packageOf(t, tm.env["ALLOT_DB"], "tenant", "pkg"); r.Usage != 25*allot.QuantityScale/10 || r.Held != 0 {
		t.Fatalf("usage %s held %s, want 2.5 and 0", r.Usage, r.Held)
	}
	if out := tm.mustRun(t, "", "verify"); !strings.Contains(out, "no drift") {
		t.Fatalf("verify: %s", out)
	}
}

// TestReservationCommands runs every reservation command and checks that
// they print what the management API answers.
func TestReservationCommands(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	for i, prio := range []int{0, 50} {
		tm.mustRun(t, "", "package", "add", fmt.Sprintf(`{"project_id":"tenant","resource_id":"p%d","resource_source":"PURCHASED","order_id":"o%d","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":20,"priority":%d}`, i, i, prio))
	}
	var out allot.ReservationResult
	printed := tm.mustRun(t, "", "reserve", `{"project_id":"tenant","resource_type":"MIN","amount":30,"ttl":600,"allow_split":true,"idempotency_key":"job","user_id":"u-1"}`)
	if err := json.Unmarshal([]byte(printed), &out); err != nil || len(out.Holds) != 2 || out.Holds[0].ResourceID != "p1" || out.Holds[0].Amount != 20*allot.QuantityScale ||
		out.Holds[1].ResourceID != "p0" || out.Entries[0].Actor != "cli" || out.UserID != "u-1" {
		t.Fatalf("reserve printed %s (%v)", printed, err)
	}
	if again := tm.mustRun(t, "", "reserve", `{"project_id":"tenant","resource_type":"MIN","amount":30,"ttl":600,"allow_split":true,"idempotency_key":"job","user_id":"u-1"}`); !strings.Contains(again, `"replayed":true`) || !strings.Contains(again, out.ReservationID) {
		t.Fatalf("replayed reserve printed %s", again)
	}
	list := tm.mustRun(t, "", "reservations", "--project", "tenant", "--state", "open")
	if !strings.Contains(list, `"count":1`) || !strings.Contains(list, out.ReservationID) {
		t.Fatalf("reservations printed %s", list)
	}
	if _, _, err := tm.run(t, "", "commit", "--reservation", out.ReservationID, `{"amount":31,"idempotency_key":"c"}`); exitCode(err) != 3 {
		t.Fatalf("commit of more than held: %v (exit %d), want exit 3", err, exitCode(err))
	}
	done := tm.mustRun(t, "", "commit", "--reservation", out.ReservationID, `{"amount":25,"idempotency_key":"c"}`)
	if !strings.Contains(done, `"state":"committed"`) {
		t.Fatalf("commit printed %s", done)
	}
	if _, _, err := tm.run(t, "", "release", "--reservation", out.ReservationID); exitCode(err) != 5 {
		t.Fatalf("release of a committed reservation: %v, want exit 5", err)
	}
	second := tm.mustRun(t, "", "reserve", `{"project_id":"tenant","resource_id":"p0","amount":1,"ttl":60,"idempotency_key":"job-2"}`)
	json.Unmarshal([]byte(second), &out)
	if rel := tm.mustRun(t, "", "release", "--reservation", out.ReservationID); !strings.Contains(rel, `"state":"released"`) {
		t.Fatalf("release printed %s", rel)
	}
	if _, _, err := tm.run(t, "", "release"); exitCode(err) != 2 {
		t.Fatalf("release without --reservation: %v, want exit 2", err)
	}
	if out := tm.mustRun(t, "", "verify"); !strings.Contains(out, "no drift") {
		t.Fatalf("verify: %s", out)
	}
}
