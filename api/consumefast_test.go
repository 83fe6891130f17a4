package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

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
