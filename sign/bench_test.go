package sign_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/allot-dev/allot/sign"
)

// benchRequest is a typical MetaStudio call from the official Go SDK, as
// the server parses it.
func benchRequest(b *testing.B, call sdkCall) received {
	return overWire(b, sdkSigned(b, "https://metastudio.cn-north-4.myhuaweicloud.com", call, signTime))
}

var benchList = sdkCall{method: "GET", path: "/v1/" + projectID + "/mss/public/tenants/resources",
	query: map[string]any{"limit": 10, "offset": 0, "resource_source": "", "resource_type": "ASSET",
		"name": "voice clone 數字人", "order_by": "expire_time"}}

var benchCreate = sdkCall{method: "POST", path: "/v1/" + projectID + "/mss/public/tenants/resources",
	body: map[string]string{"payload": string(bytes.Repeat([]byte("x"), 1024))}}

// BenchmarkVerify is the per-request cost on the server once the access
// key's secret is known: the full check of a GET with a query.
func BenchmarkVerify(b *testing.B) {
	rec := benchRequest(b, benchList)
	auth, err := sign.ParseAuthorization(rec.r.Header.Get("Authorization"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := sign.Verify(rec.r, rec.body, auth, []byte(testSK), signTime, skew); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyWithParse adds parsing the Authorization header.
func BenchmarkVerifyWithParse(b *testing.B) {
	rec := benchRequest(b, benchList)
	h := rec.r.Header.Get("Authorization")
	b.ReportAllocs()
	for b.Loop() {
		auth, err := sign.ParseAuthorization(h)
		if err != nil {
			b.Fatal(err)
		}
		if err := sign.Verify(rec.r, rec.body, auth, []byte(testSK), signTime, skew); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBody1K verifies a POST with a 1 KiB JSON body.
func BenchmarkVerifyBody1K(b *testing.B) {
	rec := benchRequest(b, benchCreate)
	auth, err := sign.ParseAuthorization(rec.r.Header.Get("Authorization"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := sign.Verify(rec.r, rec.body, auth, []byte(testSK), signTime, skew); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	r, err := http.NewRequest("GET", "https://h.example.com/v1/p/resources?limit=10&name=a%20b&resource_source", nil)
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("User-Agent", "allot-cli")
	r.Header.Set("X-Project-Id", projectID)
	b.ReportAllocs()
	for b.Loop() {
		if err := sign.Sign(r, nil, testAK, []byte(testSK), signTime); err != nil {
			b.Fatal(err)
		}
	}
}
