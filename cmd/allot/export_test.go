package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sign"
)

// TestLedgerCSVAndUsage: allot ledger --csv writes every entry (more than
// one export page) as RFC 4180 CSV that parses back to the JSON ledger,
// reasons with a comma, a quote and a line break included; allot usage
// sums what was consumed.
func TestLedgerCSVAndUsage(t *testing.T) {
	tm := newTestMain(t)
	tm.mustRun(t, "", "project", "create", "--id", "tenant", "--name", "T", "--region", "r")
	tm.mustRun(t, "", "package", "add", `{"project_id":"tenant","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o1","resource_type":"MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":"1000"}`)
	var batch strings.Builder
	for i := range allot.ExportPage + 20 {
		fmt.Fprintf(&batch, `{"project_id":"tenant","resource_id":"pkg","amount":"0.5","idempotency_key":"k-%d","user_id":"u"}`+"\n", i)
	}
	tm.mustRun(t, batch.String(), "consume", "--batch", "-")
	reason := "refunded, \"twice\"\nsecond line"
	body, _ := json.Marshal(map[string]any{"amount": "1", "reason": reason, "idempotency_key": "rf"})
	tm.mustRun(t, "", "refund", "--project", "tenant", "--resource", "pkg", string(body))

	rows, err := csv.NewReader(strings.NewReader(tm.mustRun(t, "", "ledger", "--project", "tenant", "--csv"))).ReadAll()
	if err != nil {
		t.Fatalf("allot ledger --csv is not CSV: %v", err)
	}
	var want []allot.LedgerEntry
	for offset := 0; ; offset += 100 {
		var page struct {
			Count   int                 `json:"count"`
			Entries []allot.LedgerEntry `json:"entries"`
		}
		if err := json.Unmarshal([]byte(tm.mustRun(t, "", "ledger", "--project", "tenant", "--limit", "100", "--offset", fmt.Sprint(offset))), &page); err != nil {
			t.Fatal(err)
		}
		want = append(want, page.Entries...)
		if len(want) >= page.Count {
			break
		}
	}
	if len(rows) != len(want)+1 || rows[0][0] != "project_id" || len(want) <= allot.ExportPage {
		t.Fatalf("%d rows for %d entries", len(rows), len(want))
	}
	for i, e := range want {
		r := rows[i+1]
		if r[1] != fmt.Sprint(e.Seq) || r[5] != string(e.Op) || r[7] != e.UsageDelta.String() || r[10] != e.Reason || r[12] != e.UserID || r[3] != e.At.UTC().Format(time.RFC3339) {
			t.Fatalf("row %d %q, entry %+v", i+1, r, e)
		}
	}
	if last := rows[len(rows)-1]; last[10] != reason {
		t.Fatalf("the reason parsed back as %q, want %q", last[10], reason)
	}

	var report struct {
		Buckets []struct {
			Usage  allot.Quantity `json:"usage"`
			Number int            `json:"number"`
		} `json:"buckets"`
	}
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "usage", "--project", "tenant")), &report); err != nil {
		t.Fatal(err)
	}
	var total allot.Quantity
	number := 0
	for _, b := range report.Buckets {
		total += b.Usage
		number += b.Number
	}
	if wantTotal := allot.Quantity((allot.ExportPage+20)*allot.QuantityScale/2 - allot.QuantityScale); total != wantTotal || number != allot.ExportPage+20 {
		t.Fatalf("usage %s in %d, want %s in %d", total, number, wantTotal, allot.ExportPage+20)
	}
	ucsv, err := csv.NewReader(strings.NewReader(tm.mustRun(t, "", "usage", "--project", "tenant", "--group-by", "hour", "--csv"))).ReadAll()
	if err != nil || len(ucsv) < 2 || ucsv[0][0] != "start" {
		t.Fatalf("allot usage --csv: %v %q", err, ucsv)
	}
	if _, _, err := tm.run(t, "", "usage", "--project", "tenant", "--group-by", "week"); exitCode(err) != 3 {
		t.Fatalf("--group-by week: %v (exit %d), want exit 3", err, exitCode(err))
	}
}

// TestDurationCfg: an operator sets a tenant's voice training durations
// with allot duration-cfg, over the defaults, and the tenant reads them
// with ShowTenantDurationCfg from allot serve.
func TestDurationCfg(t *testing.T) {
	tm := newTestMain(t)
	cred := tm.projectWithCredential(t, "tenant")
	var got allot.DurationCfg
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "duration-cfg", "--project", "tenant")), &got); err != nil || got != allot.DefaultDurationCfg {
		t.Fatalf("defaults: %+v %v", got, err)
	}
	want := allot.DefaultDurationCfg
	want.BasicMin, want.BasicAdvice = 30, 90
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "duration-cfg", "--project", "tenant", `{"basic_min":30,"basic_advice_value":90}`)), &got); err != nil || got != want {
		t.Fatalf("set: %+v %v", got, err)
	}
	if _, _, err := tm.run(t, "", "duration-cfg", "--project", "tenant", `{"basic_min":400}`); exitCode(err) != 3 || !strings.Contains(err.Error(), "basic") {
		t.Fatalf("min over max: %v (exit %d), want exit 3", err, exitCode(err))
	}
	if _, _, err := tm.run(t, "", "duration-cfg", "--project", "tenant", `{"basic_minimum":1}`); exitCode(err) != 3 || !strings.Contains(err.Error(), "basic_minimum") {
		t.Fatalf("unknown key: %v (exit %d), want exit 3", err, exitCode(err))
	}
	if _, _, err := tm.run(t, "", "duration-cfg", "--project", "nobody", `{"basic_min":30}`); exitCode(err) != 4 {
		t.Fatalf("unknown project: %v (exit %d), want exit 4", err, exitCode(err))
	}
	addr, _ := tm.serve(t)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/tenant/voice-training-manage/user/tenant-duration-cfg", nil)
	if err := sign.Sign(req, nil, cred.AK, []byte(cred.SK), time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		allot.DurationCfg
		TenantID string `json:"tenant_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != 200 || answer.DurationCfg != want || answer.TenantID != "tenant" {
		t.Fatalf("ShowTenantDurationCfg: %d %+v %v", resp.StatusCode, answer, err)
	}
}

// TestQuotaScenarioVerify is the quota scenario against allot serve and the
// CLI on one database: with sub-account control on, a user with a quota of
// 10 minutes consumes 6 then 6; the second is refused (exit 5) and usage
// stays 6; after UpdateUserQuotas(-1) it succeeds; allot verify is clean.
func TestQuotaScenarioVerify(t *testing.T) {
	tm := newTestMain(t)
	cred := tm.projectWithCredential(t, "tenant")
	tm.mustRun(t, "", "package", "add", `{"project_id":"tenant","resource_id":"pkg","resource_source":"PURCHASED","order_id":"o1","resource_type":"VIDEO_2D_MIN","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","unit":"MIN","amount":"100"}`)
	addr, _ := tm.serve(t)
	tenant := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+"/v1/tenant"+path, strings.NewReader(body))
		if body == "" {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		if err := sign.Sign(req, []byte(body), cred.AK, []byte(cred.SK), time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		if _, err := io.Copy(&b, resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b.String()
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/tenants/service-configs", `{"sub_account_control_config":{"separately_controlled":true}}`},
		{"POST", "/user/quotas", `{"user_id":"u1","quota":{"video_time_2d_model":10}}`},
	} {
		if status, body := tenant(c.method, c.path, c.body); status != 200 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, status, body)
		}
	}
	consume := func(key string) error {
		_, _, err := tm.run(t, "", "consume", `{"project_id":"tenant","resource_type":"VIDEO_2D_MIN","amount":6,"idempotency_key":"`+key+`","user_id":"u1"}`)
		return err
	}
	used := func() string {
		t.Helper()
		status, body := tenant("GET", "/user/quotas?user_id=u1", "")
		var out struct {
			Assets []struct {
				Usage map[string]json.Number `json:"usage"`
			} `json:"assets"`
		}
		if err := json.Unmarshal([]byte(body), &out); status != 200 || err != nil || len(out.Assets) != 1 {
			t.Fatalf("ListUserQuotas: %d %s", status, body)
		}
		return out.Assets[0].Usage["video_time_2d_model"].String()
	}
	if err := consume("c1"); err != nil {
		t.Fatal(err)
	}
	if err := consume("c2"); exitCode(err) != 5 || !strings.Contains(err.Error(), "quota") {
		t.Fatalf("the second 6 of 10: %v (exit %d), want exit 5", err, exitCode(err))
	}
	if got := used(); got != "6" {
		t.Fatalf("usage %s, want 6", got)
	}
	if status, body := tenant("PUT", "/user/quotas/u1", `{"quota":{"video_time_2d_model":-1}}`); status != 200 {
		t.Fatalf("UpdateUserQuotas: %d %s", status, body)
	}
	if err := consume("c3"); err != nil {
		t.Fatalf("after -1: %v", err)
	}
	if got := used(); got != "12" {
		t.Fatalf("usage %s, want 12", got)
	}
	if out := tm.mustRun(t, "", "verify"); !strings.Contains(out, "no drift") {
		t.Fatalf("allot verify: %s", out)
	}
}
