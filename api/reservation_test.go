package api

import (
	"strings"
	"testing"

	"github.com/allot-dev/allot"
)

// TestDecodeReservationBodies: the reservation bodies are read like every
// other management body, and refused naming the field.
func TestDecodeReservationBodies(t *testing.T) {
	req, err := DecodeReserveRequest([]byte(`{"project_id":"p","resource_type":"T","amount":"2.5","ttl":900,"allow_split":true,"idempotency_key":"k","user_id":"u","app_user_id":"a"}`))
	if err != nil || req.Amount != 25*allot.QuantityScale/10 || req.TTL != 900 || !req.AllowSplit || req.UserID != "u" || req.AppUserID != "a" {
		t.Fatalf("reserve: %+v %v", req, err)
	}
	commit, err := DecodeCommitRequest("rsv-1", []byte(`{"amount":0,"idempotency_key":"k"}`))
	if err != nil || commit.ReservationID != "rsv-1" || commit.Amount != 0 {
		t.Fatalf("commit of 0: %+v %v", commit, err)
	}
	for _, body := range []string{"", " ", "{}"} {
		if rel, err := DecodeReleaseRequest("rsv-1", []byte(body)); err != nil || rel.ReservationID != "rsv-1" {
			t.Fatalf("release %q: %+v %v", body, rel, err)
		}
	}
	pkg, err := DecodePackageRequest([]byte(`{"amount":1,"priority":7}`))
	if err != nil || pkg.Priority == nil || *pkg.Priority != 7 {
		t.Fatalf("priority: %+v %v", pkg, err)
	}
	consume, err := DecodeConsumeRequest([]byte(`{"amount":1,"allow_split":true,"user_id":"u"}`))
	if err != nil || !consume.AllowSplit || consume.UserID != "u" {
		t.Fatalf("consume: %+v %v", consume, err)
	}
	for _, c := range []struct {
		name   string
		decode func() error
		want   string
	}{
		{"no ttl", func() error { _, err := DecodeReserveRequest([]byte(`{"amount":1}`)); return err }, "ttl: is required"},
		{"ttl not whole", func() error { _, err := DecodeReserveRequest([]byte(`{"amount":1,"ttl":1.5}`)); return err }, "ttl: must be an integer"},
		{"ttl a string", func() error { _, err := DecodeReserveRequest([]byte(`{"amount":1,"ttl":"60"}`)); return err }, "ttl: must be an integer"},
		{"no amount", func() error { _, err := DecodeReserveRequest([]byte(`{"ttl":60}`)); return err }, "amount: is required"},
		{"split not a flag", func() error {
			_, err := DecodeReserveRequest([]byte(`{"amount":1,"ttl":6,"allow_split":"yes"}`))
			return err
		}, "allow_split: must be true or false"},
		{"commit without amount", func() error { _, err := DecodeCommitRequest("r", []byte(`{"idempotency_key":"k"}`)); return err }, "amount: is required"},
		{"commit negative", func() error { _, err := DecodeCommitRequest("r", []byte(`{"amount":-1}`)); return err }, "amount: -1 is negative"},
		{"release with a field", func() error { _, err := DecodeReleaseRequest("r", []byte(`{"amount":1}`)); return err }, "amount: is not a known field"},
		{"priority not whole", func() error { _, err := DecodePackageRequest([]byte(`{"amount":1,"priority":2.5}`)); return err }, "priority: must be an integer"},
		{"state unknown", func() error { _, err := ParseReservationQuery("project_id=p&state=pending"); return err }, `state: "pending" is not one of open, committed, released, expired`},
		{"state empty", func() error { _, err := ParseReservationQuery("project_id=p&state="); return err }, "state: is empty"},
		{"no project", func() error { _, err := ParseReservationQuery("state=open"); return err }, "project_id: is required"},
	} {
		err := c.decode()
		if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.HasPrefix(allot.ErrorMessageOf(err), c.want) {
			t.Errorf("%s: %v, want EINVALID starting %q", c.name, err, c.want)
		}
	}
}
