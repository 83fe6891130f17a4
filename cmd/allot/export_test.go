package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
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
