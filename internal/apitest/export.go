package apitest

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// testExports reads the ledger and the usage back through the management
// API's exports: the CSV parses back to exactly the JSON ledger's entries,
// reasons holding a comma, a quote and a line break included, across more
// than one export page; the usage buckets equal sums the test makes.
func testExports(t *testing.T, e *env) {
	a := startAdmin(t, e)
	admin := a.key(t, "export-admin", allot.RoleAdmin, "")
	const project = "export"
	surfaceProject(t, e, project)

	// More entries than one export page, in two batch requests.
	type made struct {
		user   string
		amount allot.Quantity
	}
	sent := map[int64]made{} // by ledger seq
	for batch := range 2 {
		var events []string
		for i := range 300 {
			user := fmt.Sprintf("u%d", i%3)
			events = append(events, fmt.Sprintf(`{"project_id":%q,"resource_id":"video","amount":"0.01","idempotency_key":"e-%d-%d","user_id":%q}`, project, batch, i, user))
		}
		var out struct {
			Applied int `json:"applied"`
			Results []struct {
				Outcome  string `json:"outcome"`
				EntrySeq int64  `json:"entry_seq"`
			} `json:"results"`
		}
		if status, msg := a.call(t, admin, "POST", "/admin/v1/consume:batch", `{"events":[`+strings.Join(events, ",")+`]}`, &out); status != 200 || out.Applied != 300 {
			t.Fatalf("batch: %d %s", status, msg)
		}
		for i, o := range out.Results {
			sent[o.EntrySeq] = made{user: fmt.Sprintf("u%d", i%3), amount: allot.QuantityScale / 100}
		}
	}
	reasons := []string{`a reason, with a comma`, `a "quoted" word`, "two\nlines", "all \"three\",\nat once"}
	for i, reason := range reasons {
		body, _ := json.Marshal(map[string]any{"amount": "0.01", "reason": reason, "idempotency_key": fmt.Sprintf("rf-%d", i)})
		a.must(t, admin, "POST", "/admin/v1/projects/"+project+"/resources/video/refund", string(body), 200)
	}

	var want []allot.LedgerEntry
	for offset := 0; ; offset += 100 {
		var page struct {
			Count   int                 `json:"count"`
			Entries []allot.LedgerEntry `json:"entries"`
		}
		if status, msg := a.call(t, admin, "GET", fmt.Sprintf("/admin/v1/ledger?project_id=%s&limit=100&offset=%d", project, offset), "", &page); status != 200 {
			t.Fatalf("ledger: %d %s", status, msg)
		}
		want = append(want, page.Entries...)
		if len(want) >= page.Count {
			break
		}
	}
	if len(want) <= allot.ExportPage {
		t.Fatalf("%d entries: the export must take more than one page", len(want))
	}

	req, _ := http.NewRequest("GET", a.url+"/admin/v1/ledger?project_id="+project+"&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("csv export: %d %s", resp.StatusCode, ct)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatalf("the export is not RFC 4180 CSV: %v", err)
	}
	if len(rows) != len(want)+1 || strings.Join(rows[0], ",") != "project_id,seq,resource_id,at,actor,op,amount_delta,usage_delta,held_delta,idempotency_key,reason,ref,user_id,app_user_id" {
		t.Fatalf("%d rows, want a header and %d; header %v", len(rows), len(want), rows[0])
	}
	gotReasons := 0
	for i, en := range want {
		row := rows[i+1]
		expect := []string{en.ProjectID, strconv.FormatInt(en.Seq, 10), en.ResourceID, en.At.UTC().Format(time.RFC3339), en.Actor, string(en.Op),
			decimal(en.AmountDelta), decimal(en.UsageDelta), decimal(en.HeldDelta), en.IdempotencyKey, en.Reason, en.Ref, en.UserID, en.AppUserID}
		if strings.Join(row, "\x00") != strings.Join(expect, "\x00") {
			t.Fatalf("row %d: %q\nwant %q", i+1, row, expect)
		}
		for _, r := range reasons {
			if row[10] == r {
				gotReasons++
			}
		}
	}
	if gotReasons != len(reasons) {
		t.Fatalf("%d of the %d reasons parsed back identically", gotReasons, len(reasons))
	}

	// Usage: hour buckets of the consumes made, net of the refunds (which
	// carry no user), in JSON and CSV.
	sums := map[string]allot.Quantity{}
	number := map[string]int{}
	for _, en := range want {
		h := en.At.UTC().Truncate(time.Hour).Format(time.RFC3339)
		if u, ok := sent[en.Seq]; ok {
			if en.UserID != u.user || en.UsageDelta != u.amount {
				t.Fatalf("entry %d: %+v, want %+v", en.Seq, en, u)
			}
			sums[h] += u.amount
			number[h]++
			delete(sent, en.Seq)
		}
		if en.Op == allot.OpRefund {
			sums[h] -= allot.QuantityScale / 100
		}
	}
	if len(sent) != 0 {
		t.Fatalf("%d consumes are not in the ledger", len(sent))
	}
	var report struct {
		ProjectID string `json:"project_id"`
		GroupBy   string `json:"group_by"`
		Buckets   []struct {
			Start        string         `json:"start"`
			ResourceType string         `json:"resource_type"`
			Usage        allot.Quantity `json:"usage"`
			Number       int            `json:"number"`
		} `json:"buckets"`
	}
	if status, msg := a.call(t, admin, "GET", "/admin/v1/usage?project_id="+project+"&group_by=hour", "", &report); status != 200 {
		t.Fatalf("usage: %d %s", status, msg)
	}
	got := map[string]allot.Quantity{}
	gotNumber := map[string]int{}
	for _, b := range report.Buckets {
		if b.ResourceType != "VIDEO_2D_MIN" {
			t.Fatalf("bucket of %s", b.ResourceType)
		}
		got[b.Start] += b.Usage
		gotNumber[b.Start] += b.Number
	}
	if fmt.Sprint(got) != fmt.Sprint(sums) || fmt.Sprint(gotNumber) != fmt.Sprint(number) || report.GroupBy != "hour" {
		t.Fatalf("usage %v %v, want %v %v", got, gotNumber, sums, number)
	}
	req, _ = http.NewRequest("GET", a.url+"/admin/v1/usage?project_id="+project+"&group_by=hour&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	urows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil || len(urows) != len(report.Buckets)+1 || urows[0][0] != "start" {
		t.Fatalf("usage csv: %v %q", err, raw)
	}
	for i, b := range report.Buckets {
		if urows[i+1][0] != b.Start || urows[i+1][8] != decimal(b.Usage) || urows[i+1][9] != strconv.Itoa(b.Number) {
			t.Fatalf("usage csv row %d: %v, want %+v", i+1, urows[i+1], b)
		}
	}
	a.refuse(t, admin, "GET", "/admin/v1/usage?project_id="+project+"&group_by=week", "", 400, "ALLOT.INVALID", "group_by")
	a.refuse(t, admin, "GET", "/admin/v1/ledger?project_id="+project+"&format=xml", "", 400, "ALLOT.INVALID", "format")
	sp := a.key(t, "export-sp", allot.RoleSP, spProj)
	a.refuse(t, sp, "GET", "/admin/v1/ledger?project_id="+project+"&format=csv", "", 403, "ALLOT.FORBIDDEN")
	a.refuse(t, sp, "GET", "/admin/v1/usage?project_id="+project, "", 403, "ALLOT.FORBIDDEN")
}
