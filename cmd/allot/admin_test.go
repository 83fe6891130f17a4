package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// serveAdmin starts `allot serve` and returns the management API's address.
func (tm *testMain) serveAdmin(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(_, admin string) { ready <- admin }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}) }()
	var addr string
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
	return addr
}

// TestManagementCommandsAnswerLikeTheAPI: a management command prints the
// body the management API answers, byte for byte, and both refuse the same
// bodies with the same code and message.
func TestManagementCommandsAnswerLikeTheAPI(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	var key struct{ Key string }
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "admin-key", "create", "--name", "ops", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	purchase := `{"project_id":"tenant","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":"40.5"}`
	first := tm.mustRun(t, "", "package", "add", purchase)
	var out allot.OpResult
	if err := json.Unmarshal([]byte(first), &out); err != nil || out.Resource.Amount != 405*allot.QuantityScale/10 || out.Replayed || out.Entries[0].Actor != "cli" {
		t.Fatalf("package add printed %q (%v)", first, err)
	}
	// The same order again, from the CLI and over HTTP: both replay it.
	cliReplay := tm.mustRun(t, "", "package", "add", purchase)
	admin := tm.serveAdmin(t)
	post := func(path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+admin+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, httpReplay := post("/admin/v1/packages", purchase)
	if status != 200 || cliReplay != httpReplay+"\n" || !strings.Contains(httpReplay, `"replayed":true`) {
		t.Fatalf("replay: CLI printed\n%s\nthe API answered %d\n%s", cliReplay, status, httpReplay)
	}

	bad := `{"project_id":"tenant","resource_id":"pkg","amount":"lots","idempotency_key":"k1"}`
	_, _, err := tm.run(t, "", "consume", bad)
	status, body := post("/admin/v1/consume", bad)
	var apiErr struct {
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	json.Unmarshal([]byte(body), &apiErr)
	if err == nil || status != 400 || errorText(err) != apiErr.Code+": "+apiErr.Msg || !strings.HasPrefix(errorText(err), "ALLOT.INVALID: amount") {
		t.Fatalf("CLI said %v; the API %d %s", err, status, body)
	}
}

// TestManagementExitCodes: the exit status follows the error code.
func TestManagementExitCodes(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	tm.mustRun(t, "", "package", "add", `{"project_id":"tenant","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":2}`)
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"consume"}, 2}, // no JSON argument
		{[]string{"reclaim", "--project", "bad id", "--resource", "pkg", "{}"}, 2},
		{[]string{"consume", `{"project_id":"tenant","resource_id":"pkg","amount":-1,"idempotency_key":"k"}`}, 3},
		{[]string{"consume", `[1]`}, 3},
		{[]string{"consume", `{"project_id":"tenant","resource_id":"pkg","amount":1,"amount":1,"idempotency_key":"k"}`}, 3},
		{[]string{"consume", `{"project_id":"tenant","resource_id":"pkg","Amount":1,"idempotency_key":"k"}`}, 3},
		{[]string{"consume", `{"project_id":"tenant","resource_id":"nothing","amount":1,"idempotency_key":"k"}`}, 4},
		{[]string{"freeze", "--project", "tenant", "--resource", "nothing"}, 4},
		{[]string{"consume", `{"project_id":"tenant","resource_id":"pkg","amount":3,"idempotency_key":"k"}`}, 5},
		{[]string{"ledger", "--limit", "x", "--project", "tenant"}, 3},
	} {
		_, _, err := tm.run(t, "", c.args...)
		if got := exitCode(err); err == nil || got != c.want {
			t.Errorf("allot %s: %v, exit %d; want exit %d", strings.Join(c.args, " "), err, got, c.want)
		}
	}
	// The CLI refuses ambiguous bodies as the API does, naming the key.
	_, _, err := tm.run(t, "", "freeze", "--project", "tenant", "--resource", "pkg", `{"reason":"a","reason":"b"}`)
	if got := errorText(err); got != "ALLOT.INVALID: reason: is given more than once; give each key once" {
		t.Errorf("duplicated key: %q", got)
	}
	// The CLI acts as an admin, which every operation allows; the codes no
	// CLI command can provoke today are held by the table itself.
	for code, want := range map[allot.ErrorCode]int{allot.EFORBIDDEN: 6, allot.EINTERNAL: 1} {
		if got := exitCode(opError{allot.Errorf(code, "x")}); got != want {
			t.Errorf("%s: exit %d, want %d", code, got, want)
		}
	}
	if got := exitCode(errors.New("disk full")); got != 1 {
		t.Errorf("a plain error: exit %d, want 1", got)
	}
}

// TestBinaryLinksNoHTTPTest: management commands call the domain, not the
// HTTP handlers through a test recorder.
func TestBinaryLinksNoHTTPTest(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "net/http/httptest" {
			t.Fatal("cmd/allot links net/http/httptest")
		}
	}
}
