package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestKillDuringConsumeStorm proves that no answer leaves before its commit
// is durable, group commit or not: a real `allot serve` meters a storm of
// consumes from many connections and is killed with SIGKILL while they
// run. After a restart, every idempotency key that was answered 200 must be
// in the ledger: sent again, it replays (an answer given before its
// transaction was durable would be lost with the process, and the retry
// would apply anew). allot verify finds no drift.
func TestKillDuringConsumeStorm(t *testing.T) {
	onEachStore(t, testKillDuringConsumeStorm)
}

func testKillDuringConsumeStorm(t *testing.T, tm *testMain) {
	tm.mustRun(t, "", "migrate")
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	tm.mustRun(t, "", "package", "add", `{"project_id":"tenant","resource_id":"hot","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":1000000}`)
	var key struct{ Key string }
	json.Unmarshal([]byte(tm.mustRun(t, "", "admin-key", "create", "--name", "meter", "--json")), &key)
	bin := buildAllot(t)
	env := []string{"ALLOT_DB=" + tm.env["ALLOT_DB"], "ALLOT_MASTER_KEY_FILE=" + tm.env["ALLOT_MASTER_KEY_FILE"]}

	node, addr := startKillable(t, bin, env)
	// The storm: many connections, each key sent once. The node is killed
	// once enough answers have come back that some groups surely
	// committed and others are in flight.
	const conns, killAfter = 48, 400
	var (
		mu    sync.Mutex
		acked []string
		n     atomic.Int64
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	killed := make(chan struct{})
	var once sync.Once
	for c := range conns {
		wg.Go(func() {
			for i := 0; ; i++ {
				k := fmt.Sprintf("k-%d-%d", c, i)
				status, _, err := consumeOnce(client, addr, key.Key, k)
				if err != nil {
					select {
					case <-killed:
						return // the node is gone: expected
					default:
						t.Errorf("consume %s before the kill: %v", k, err)
						return
					}
				}
				if status != 200 {
					t.Errorf("consume %s: %d", k, status)
					return
				}
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
				if n.Add(1) == killAfter {
					once.Do(func() {
						close(killed)
						node.Process.Signal(syscall.SIGKILL)
					})
				}
			}
		})
	}
	wg.Wait()
	node.Wait()
	if t.Failed() {
		return
	}

	_, addr = startKillable(t, bin, env)
	for _, k := range acked {
		status, replayed, err := consumeOnce(client, addr, key.Key, k)
		if err != nil || status != 200 || !replayed {
			t.Errorf("key %s was answered before the kill but is not in the ledger after it: %d replayed=%v %v", k, status, replayed, err)
		}
	}
	if out := tm.mustRun(t, "", "verify"); !strings.Contains(out, "no drift") {
		t.Fatalf("verify: %s", out)
	}
	t.Logf("%d consumes acknowledged before SIGKILL, all in the ledger after the restart", len(acked))
}

// consumeOnce sends one consume of 1 unit with idempotency key k.
func consumeOnce(client *http.Client, addr, adminKey, k string) (status int, replayed bool, err error) {
	body := fmt.Sprintf(`{"project_id":"tenant","resource_id":"hot","amount":1,"idempotency_key":%q}`, k)
	req, _ := http.NewRequestWithContext(context.Background(), "POST", "http://"+addr+"/admin/v1/consume", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var out struct {
		Replayed bool `json:"replayed"`
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, err
	}
	json.Unmarshal(b, &out)
	return resp.StatusCode, out.Replayed, nil
}

// startKillable runs `allot serve` as a real process and returns the
// process with its management address.
func startKillable(t *testing.T, bin string, env []string) (*exec.Cmd, string) {
	t.Helper()
	n := startProcess(t, bin, env)
	return n.cmd, n.admin
}
