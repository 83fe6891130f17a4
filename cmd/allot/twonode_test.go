package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// buildAllot compiles this command once per test run.
func buildAllot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "allot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// node is an `allot serve` process: the test may stop or kill it.
type node struct {
	cmd   *exec.Cmd
	admin string // the management API's address
}

// startProcess runs `allot serve` as a real process with env added to this
// one's and returns it once its management API listens. It is stopped when
// the test ends, unless the test killed it already.
func startProcess(t *testing.T, bin string, env []string) *node {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--log-requests=false")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: cmd}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "management API listening on "); ok {
				found <- addr
			}
		}
	}()
	select {
	case n.admin = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("node did not start")
	}
	return n
}

// startNode is startProcess for a test that needs only the address.
func startNode(t *testing.T, bin string, env []string) string {
	t.Helper()
	return startProcess(t, bin, env).admin
}

// twoNodes makes, on a fresh PostgreSQL schema, project "tenant" with a
// purchased package "hot" of amount units and an admin key named keyName,
// then starts two real `allot serve` processes on it; it returns the key and
// both management addresses.
func twoNodes(t *testing.T, amount int, keyName string) (tm *testMain, key struct{ Key string }, nodes []string) {
	t.Helper()
	pgtest.NeedDB(t)
	dsn := pgtest.NewSchemaDSN(t)
	tm = newTestMain(t)
	tm.env["ALLOT_DB"] = dsn
	tm.mustRun(t, "", "migrate")
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	tm.mustRun(t, "", "package", "add", fmt.Sprintf(`{"project_id":"tenant","resource_id":"hot","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":%d}`, amount))
	json.Unmarshal([]byte(tm.mustRun(t, "", "admin-key", "create", "--name", keyName, "--json")), &key)
	bin := buildAllot(t)
	env := []string{"ALLOT_DB=" + dsn, "ALLOT_MASTER_KEY_FILE=" + tm.env["ALLOT_MASTER_KEY_FILE"]}
	return tm, key, []string{startNode(t, bin, env), startNode(t, bin, env)}
}

// TestTwoNodesOnePackage: two allot processes on one PostgreSQL database
// meter the same package at once, with every idempotency key sent to both.
// Usage ends at exactly the package's amount, each key counted once, and
// allot verify finds no drift.
func TestTwoNodesOnePackage(t *testing.T) {
	tm, key, nodes := twoNodes(t, 40, "meter")
	for _, node := range nodes {
		resp, err := http.Get("http://" + node + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("node %s not ready: %v %v", node, resp, err)
		}
		resp.Body.Close()
	}

	const keys = 60 // more attempts than units
	var mu sync.Mutex
	accepted := map[string]int{}
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range keys {
		for _, node := range nodes { // the same key to both nodes at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"project_id":"tenant","resource_id":"hot","amount":1,"idempotency_key":"k%d"}`, i)
				req, _ := http.NewRequestWithContext(context.Background(), "POST", "http://"+node+"/admin/v1/consume", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key.Key)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				var out struct {
					Replayed bool `json:"replayed"`
				}
				json.NewDecoder(resp.Body).Decode(&out)
				switch resp.StatusCode {
				case 200:
					mu.Lock()
					if !out.Replayed {
						accepted[fmt.Sprint(i)]++
					}
					mu.Unlock()
				case 409:
				default:
					t.Errorf("consume k%d on %s: %d", i, node, resp.StatusCode)
				}
			}()
		}
	}
	wg.Wait()
	for k, n := range accepted {
		if n != 1 {
			t.Errorf("key %s applied %d times", k, n)
		}
	}
	if len(accepted) != 40 {
		t.Fatalf("%d consumes applied, want exactly the 40 units", len(accepted))
	}
	var ledger struct{ Count int }
	json.Unmarshal([]byte(tm.mustRun(t, "", "ledger", "--project", "tenant", "--resource", "hot")), &ledger)
	if ledger.Count != 41 { // the purchase and 40 consumes
		t.Fatalf("ledger has %d entries, want 41", ledger.Count)
	}
	if out := tm.mustRun(t, "", "verify"); !strings.Contains(out, "no drift") {
		t.Fatalf("verify: %s", out)
	}
}
