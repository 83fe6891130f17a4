package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

var consumeSeeds = []string{
	`{"project_id":"bench-p","resource_id":"res-0","amount":1,"idempotency_key":"k-1"}`,
	`{"project_id":"p","resource_type":"VIDEO_2D_MIN","amount":"12.5","allow_split":true,"idempotency_key":"k","user_id":"u","app_user_id":"a"}`,
	` { "project_id" : "p" , "amount" : -0.5e+3 , "allow_split" : false , "idempotency_key" : "k" } `,
	"{\n\t\"amount\":0.001,\r\n\"resource_id\":\"r\"}",
	`{}`, `{"amount":1,"amount":2}`, `{"Amount":1}`, `{"amount":01}`, `{"amount":1.}`, `{"amount":1e}`,
	`{"amount":null}`, `{"amount":true}`, `{"amount":{}}`, `{"amount":""}`, `{"amount":"abc"}`, `{"amount":1e400}`,
	`{"amount":0.0000001}`, `{"amount":-1}`, `{"allow_split":null}`, `{"allow_split":"true"}`, `{"allow_split":1}`,
	`{"project_id":null}`, `{"project_id":1}`, `{"project_id":"p\u0041"}`, `{"project_id":"pé"}`, `{"project_id":["p"]}`,
	`{"amount":1}x`, `{"amount":1} {}`, `{"amount":1,}`, `{"amount":-}`, `{"project_id":"p"`, `[]`, `"x"`, ``, ` `,
	`{"extra":1}`, `{"resource_id":"r","resource_id":"r"}`, `{"idempotency_key":"` + "\x7f" + `"}`,
}

// slowConsumeRequest is DecodeConsumeRequest as it was before the fast
// path: encoding/json with the strict key scan, for every body.
func slowConsumeRequest(body []byte) (allot.ConsumeRequest, error) {
	var b consumeBody
	if err := decodeJSON(body, &b); err != nil {
		return allot.ConsumeRequest{}, err
	}
	amount, err := b.Amount.quantity("amount", true)
	if err != nil {
		return allot.ConsumeRequest{}, err
	}
	return allot.ConsumeRequest{ProjectID: b.ProjectID, ResourceID: b.ResourceID, ResourceType: b.ResourceType,
		Amount: amount, IdempotencyKey: b.IdempotencyKey, AllowSplit: b.AllowSplit,
		Attribution: allot.Attribution{UserID: b.UserID, AppUserID: b.AppUserID}}, nil
}

// sameDecode fails t unless DecodeConsumeRequest and the encoding/json path
// agree on body: the same request, or the same error (code, parameter and
// message).
func sameDecode(t *testing.T, body string) {
	t.Helper()
	got, gerr := DecodeConsumeRequest([]byte(body))
	want, werr := slowConsumeRequest([]byte(body))
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || allot.ErrorCodeOf(gerr) != allot.ErrorCodeOf(werr) {
		t.Fatalf("%q: error %v, encoding/json gives %v", body, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nfast %+v\nslow %+v", body, got, want)
	}
	var fast consumeBody
	if fastConsumeBody([]byte(body), &fast) {
		var slow consumeBody
		if err := decodeJSON([]byte(body), &slow); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", body, fast, slow)
		}
	}
}

// FuzzFastConsumeBody: a consume body decodes to the same request, or is
// refused with the same error, as through encoding/json alone; every body
// the fast decoder takes, encoding/json takes too, with the same fields.
func FuzzFastConsumeBody(f *testing.F) {
	for _, seed := range consumeSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) { sameDecode(t, body) })
}

// TestFastConsumeBody: the seeds agree with encoding/json; the shapes
// clients send go the fast way (otherwise the comparison would hold
// nothing), and what the fast way must leave to encoding/json it leaves.
func TestFastConsumeBody(t *testing.T) {
	for _, body := range consumeSeeds {
		sameDecode(t, body)
	}
	for _, body := range consumeSeeds[:4] {
		var b consumeBody
		if !fastConsumeBody([]byte(body), &b) {
			t.Errorf("fast decoder refused %s", body)
		}
	}
	for _, body := range []string{`{"amount":1,"amount":2}`, `{"Amount":1}`, `{"amount":null}`, `{"project_id":"p\u0041"}`,
		`{"amount":1} {}`, `{"extra":1}`, `{"allow_split":"true"}`} {
		var b consumeBody
		if fastConsumeBody([]byte(body), &b) {
			t.Errorf("fast decoder took %s", body)
		}
	}
	// The refusals name the parameter, as they always did.
	for body, param := range map[string]string{`{"amount":1,"amount":2}`: "amount", `{"amount":"abc"}`: "amount",
		`{"Amount":1}`: "Amount", `{"allow_split":1}`: "allow_split", `{"project_id":1}`: "project_id", `{}`: "amount"} {
		_, err := DecodeConsumeRequest([]byte(body))
		if allot.ErrorCodeOf(err) != allot.EINVALID || !strings.HasPrefix(err.Error(), "invalid: "+param+": ") {
			t.Errorf("%s: error %v, want one naming %s", body, err, param)
		}
	}
}

// BenchmarkDecodeConsume: the benchmark's consume body, the fast way and
// through encoding/json with the strict key scan.
func BenchmarkDecodeConsume(b *testing.B) {
	body := []byte(`{"project_id":"bench-p","resource_id":"res-0","amount":1,"idempotency_key":"k-0123456789"}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeConsumeRequest(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := slowConsumeRequest(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fuzzOpResult builds an answer from fuzzed parts.
func fuzzOpResult(s1, s2 string, n1, n2, sec, nsec int64, off int, flags uint16) allot.OpResult {
	at := time.Unix(sec, nsec%1e9)
	if flags&1 != 0 {
		at = at.In(time.FixedZone("z", off))
	} else {
		at = at.UTC()
	}
	r := allot.Resource{ProjectID: s1, ResourceID: s2, ResourceType: s1, BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC",
		Source: allot.SourcePurchased, Amount: allot.Quantity(n1), Usage: allot.Quantity(n2), Status: allot.ResourceStatus(n1 % 3),
		Unit: allot.Unit(s2), Seq: n1, Version: n2}
	if flags&2 != 0 {
		r.OrderID, r.SubResourceType, r.Removed, r.Priority, r.Held = s2, allot.SubResourceType(s1), true, int(n2%7), allot.Quantity(n1/3)
		r.ExpireTime = at
	}
	if flags&4 != 0 {
		r.IsSubResource = true
	}
	e := allot.LedgerEntry{ProjectID: s1, Seq: n2, ResourceID: s2, At: at, Actor: s2, Op: allot.OpConsume,
		AmountDelta: allot.Quantity(-n1), UsageDelta: allot.Quantity(n2)}
	if flags&8 != 0 {
		e.IdempotencyKey, e.Reason, e.Ref, e.HeldDelta, e.UserID, e.AppUserID = s1, s2, s1+s2, allot.Quantity(n1), s2, s1
	}
	out := allot.OpResult{Resource: r, Entries: []allot.LedgerEntry{e}, Replayed: flags&16 != 0, Created: flags&32 != 0}
	switch {
	case flags&64 != 0:
		out.Entries = nil
	case flags&128 != 0:
		out.Entries = []allot.LedgerEntry{}
	case flags&256 != 0:
		out.Entries = append(out.Entries, e)
	}
	if flags&512 != 0 {
		out.Split = []allot.Resource{r}
	}
	if flags&1024 != 0 {
		out.Resource.BoundAsset = &allot.BoundAsset{AssetID: s1}
	}
	return out
}

// FuzzAppendOpResult: every answer the hand-written encoder takes, it
// encodes to exactly json.Marshal's bytes.
func FuzzAppendOpResult(f *testing.F) {
	f.Add("bench-p", "res-0", int64(1_000_000), int64(5), int64(1764700000), int64(0), 0, uint16(0))
	f.Add("p<&>\u2028", "r\xff\"", int64(-3), int64(9e18), int64(-62135596800), int64(123456789), 3600, uint16(0xffff))
	f.Add("p", "r", int64(0), int64(0), int64(253402300800), int64(999999999), -5*3600-30*60, uint16(1|2|8|16))
	f.Add("\n", "\\", int64(1), int64(2), int64(0), int64(1), 24*3600, uint16(1|256))
	f.Fuzz(func(t *testing.T, s1, s2 string, n1, n2, sec, nsec int64, off int, flags uint16) {
		out := fuzzOpResult(s1, s2, n1, n2, sec, nsec, off, flags)
		want, werr := json.Marshal(out)
		got, ok := appendOpResult(nil, &out)
		if !ok {
			return
		}
		if werr != nil {
			t.Fatalf("hand encoder took an answer json.Marshal refuses (%v): %s", werr, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("hand encoder:\n%s\njson.Marshal:\n%s", got, want)
		}
	})
}

// TestEncodeResultOfAConsume: a consume's answer goes the hand-written way.
func TestEncodeResultOfAConsume(t *testing.T) {
	out := fuzzOpResult("p", "r", 10_000_000, 3, 1764700000, 0, 0, 2|8)
	if _, ok := appendOpResult(nil, &out); !ok {
		t.Fatal("a consume's answer did not go the hand-written way")
	}
	status, body, err := EncodeResult(out)
	want, _ := json.Marshal(out)
	if err != nil || status != 200 || !bytes.Equal(body, want) {
		t.Fatalf("EncodeResult: %d %s %v, want 200 %s", status, body, err, want)
	}
}
