package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsumeBatchCommand: `allot consume --batch FILE` reads JSON Lines,
// gives each event its outcome (a bad line refuses only itself), exits 5
// when some are refused, and prints what POST /admin/v1/consume:batch
// answers for the same events, byte for byte.
func TestConsumeBatchCommand(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	tm.mustRun(t, "", "package", "add", `{"project_id":"tenant","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":10}`)
	var key struct{ Key string }
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "admin-key", "create", "--name", "ops", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"project_id":"tenant","resource_id":"pkg","amount":2,"idempotency_key":"k1"}`,
		``,
		`{"project_id":"tenant","resource_id":"pkg","amount":2,"idempotency_key":"k1"}`,
		`{"project_id":"tenant","resource_id":"pkg","amount":"lots","idempotency_key":"k2"}`,
		`{"project_id":"tenant","resource_id":"pkg","amount":100,"idempotency_key":"k3"}`,
		`{"project_id":"tenant","resource_id":"pkg","amount":1,"idempotency_key":"k4"}`,
	}
	file := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cli, _, err := tm.run(t, "", "consume", "--batch", file)
	if exitCode(err) != 5 {
		t.Fatalf("some events refused: exit %d (%v), want 5", exitCode(err), err)
	}
	var got struct {
		Applied, Replayed, Refused int
		Results                    []struct {
			Index          int
			IdempotencyKey string `json:"idempotency_key"`
			Outcome        string
			ErrorCode      string `json:"error_code"`
			ErrorMsg       string `json:"error_msg"`
		}
	}
	if err := json.Unmarshal([]byte(cli), &got); err != nil {
		t.Fatalf("printed %q: %v", cli, err)
	}
	want := []string{"applied", "replayed", "refused", "refused", "applied"}
	if got.Applied != 2 || got.Replayed != 1 || got.Refused != 2 || len(got.Results) != len(want) {
		t.Fatalf("printed %s", cli)
	}
	for i, w := range want {
		if r := got.Results[i]; r.Index != i || r.Outcome != w {
			t.Errorf("event %d: %+v, want %s", i, r, w)
		}
	}
	if r := got.Results[2]; r.IdempotencyKey != "k2" || r.ErrorCode != "ALLOT.INVALID" || !strings.HasPrefix(r.ErrorMsg, "amount") {
		t.Errorf("the unreadable line: %+v, want ALLOT.INVALID naming amount", r)
	}

	// The same events over HTTP replay or are refused the same way.
	again, _, _ := tm.run(t, "", "consume", "--batch", file)
	var events []string
	for _, l := range lines {
		if l != "" {
			events = append(events, l)
		}
	}
	admin := tm.serveAdmin(t)
	req, _ := http.NewRequest("POST", "http://"+admin+"/admin/v1/consume:batch", strings.NewReader(`{"events":[`+strings.Join(events, ",")+`]}`))
	req.Header.Set("Authorization", "Bearer "+key.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || again != string(body)+"\n" {
		t.Fatalf("CLI printed\n%s\nthe API answered %d\n%s", again, resp.StatusCode, body)
	}
	if _, _, err := tm.run(t, "", "consume", "--batch", file, `{}`); exitCode(err) != 2 {
		t.Errorf("--batch with a JSON argument: exit %d, want 2", exitCode(err))
	}
}
