package api

import (
	"fmt"
	"testing"
)

// TestRequestRingIsBounded: the ring keeps the last size requests, oldest
// first, however many came.
func TestRequestRingIsBounded(t *testing.T) {
	g := &requestRing{size: 3}
	for i := range 7 {
		g.add(RecordedRequest{RequestID: fmt.Sprint(i)})
	}
	got := g.list()
	if len(got) != 3 || got[0].RequestID != "4" || got[1].RequestID != "5" || got[2].RequestID != "6" {
		t.Fatalf("ring holds %+v, want requests 4, 5, 6", got)
	}
	g.clear()
	if len(g.list()) != 0 {
		t.Fatal("clear left requests")
	}
}

// TestFaultCountRetires: a rule with a count applies that many times, to
// its operation only, then is gone.
func TestFaultCountRetires(t *testing.T) {
	tm := NewTestMode(nil, nil, 0)
	if err := tm.SetFaults([]FaultRule{{Op: "ListTenantResources", Count: 2, Status: 503}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := tm.faults.match("CountTenantResources"); ok {
		t.Fatal("a rule of ListTenantResources matched CountTenantResources")
	}
	for i := range 2 {
		f, ok := tm.faults.match("ListTenantResources")
		if !ok || f.ErrorCode != "APIG.0202" {
			t.Fatalf("call %d: %+v, %v; want the 503's default code APIG.0202", i, f, ok)
		}
	}
	if _, ok := tm.faults.match("ListTenantResources"); ok || len(tm.faults.list()) != 0 {
		t.Fatal("the rule outlived its count")
	}
}

func TestRedactQuery(t *testing.T) {
	got := redactQuery("limit=5&access_token=abc&SecretKey=def&resource_source=PURCHASED")
	if got != "SecretKey=xxxxx&access_token=xxxxx&limit=5&resource_source=PURCHASED" {
		t.Fatalf("redacted: %s", got)
	}
}
