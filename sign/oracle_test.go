package sign_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/sign"
)

type resourceBody struct {
	Name   string   `json:"name"`
	Amount int      `json:"amount"`
	Tags   []string `json:"tags,omitempty"`
}

// sdkCalls are requests the official Go SDK signs; each must verify after
// crossing a real connection.
var sdkCalls = map[string]sdkCall{
	"list": {method: "GET", path: "/v1/" + projectID + "/mss/public/tenants/resources",
		query: map[string]any{"limit": 10, "offset": 0, "resource_source": "", "resource_type": "ASSET"}},
	"escaped query": {method: "GET", path: "/v1/" + projectID + "/resources",
		query: map[string]any{
			"name":    "a b,c+d/e=f&g?h#i%j",
			"unicode": "數字人 ü",
			"tilde":   "~._-",
			"empty":   "",
			"z":       "last",
		}},
	"repeated keys": {method: "GET", path: "/v1/" + projectID + "/resources",
		query: map[string]any{"id": []string{"b", "a", "a b", "", "A"}, "limit": 1}},
	"map query": {method: "GET", path: "/v1/" + projectID + "/resources",
		query: map[string]any{"tags": map[string]string{"env": "prod ue", "k/1": "v+1"}}},
	"escaped path": {method: "GET", path: "/v1/" + projectID + "/resources/a b/數字人/x%y/@:!$'()*,;=/~._-",
		query: map[string]any{"q": "1"}},
	"trailing slash": {method: "DELETE", path: "/v1/" + projectID + "/resources/"},
	"json body": {method: "POST", path: "/v1/" + projectID + "/mss/public/tenants/resources",
		body: &resourceBody{Name: "voice <clone> & co", Amount: 3, Tags: []string{"a", "b"}}},
	"string body": {method: "PUT", path: "/v1/" + projectID + "/resources/r1",
		header: map[string]string{"X-Request-Id": "  padded  "}, body: `{"raw":"text"}`},
	"header with underscore": {method: "GET", path: "/v1/x",
		header: map[string]string{"X_Not_Signed": "1", "X-Domain-Id": "d1"}},
}

func TestVerifyAcceptsOfficialSDK(t *testing.T) {
	endpoint, send := captureServer(t)
	for name, call := range sdkCalls {
		t.Run(name, func(t *testing.T) {
			rec := send(sdkSigned(t, endpoint, call, signTime))
			if err := verify(rec, testSK, signTime.Add(3*time.Minute)); err != nil {
				t.Fatalf("official SDK request rejected: %v\nquery on wire: %s", err, rec.r.URL.RawQuery)
			}
		})
	}
}

// The SDK sends an empty value as a bare key and a space as %20; the
// verifier sees both through the decoded parameters.
func TestSDKWireFormIsDecoded(t *testing.T) {
	endpoint, send := captureServer(t)
	rec := send(sdkSigned(t, endpoint, sdkCalls["list"], signTime))
	raw := rec.r.URL.RawQuery
	if !strings.Contains(raw, "resource_source&") && !strings.HasSuffix(raw, "resource_source") {
		t.Fatalf("expected a bare key on the wire, got %q", raw)
	}
	if v, ok := rec.r.URL.Query()["resource_source"]; !ok || v[0] != "" {
		t.Fatalf("bare key should decode to an empty value, got %v %v", v, ok)
	}
	rec = send(sdkSigned(t, endpoint, sdkCalls["escaped query"], signTime))
	if got := rec.r.URL.Query().Get("name"); got != "a b,c+d/e=f&g?h#i%j" {
		t.Fatalf("decoded name = %q", got)
	}
	if strings.Contains(rec.r.URL.RawQuery, "+") {
		t.Fatalf("SDK should send no '+' on the wire, got %q", rec.r.URL.RawQuery)
	}
}

func TestVerifyRejectsTamperedSDKRequest(t *testing.T) {
	endpoint, send := captureServer(t)
	call := sdkCall{method: "POST", path: "/v1/" + projectID + "/resources/a b",
		query:  map[string]any{"limit": 10, "name": "x y", "flag": ""},
		header: map[string]string{"X-Trace": "t1"},
		body:   &resourceBody{Name: "n", Amount: 1}}
	orig := send(sdkSigned(t, endpoint, call, signTime))
	wantKind(t, verify(orig, testSK, signTime), 0)

	cases := []struct {
		name   string
		mutate func(r *received)
		secret string
		now    time.Time
		want   sign.Kind
	}{
		{name: "path", mutate: func(r *received) { r.r.URL.Path += "x" }, want: sign.KindMismatch},
		{name: "path case", mutate: func(r *received) { r.r.URL.Path = strings.ToUpper(r.r.URL.Path) }, want: sign.KindMismatch},
		{name: "method", mutate: func(r *received) { r.r.Method = "PUT" }, want: sign.KindMismatch},
		{name: "query value", mutate: func(r *received) { setQuery(r, "limit", "11") }, want: sign.KindMismatch},
		{name: "query space", mutate: func(r *received) { setQuery(r, "name", "x  y") }, want: sign.KindMismatch},
		{name: "query empty to value", mutate: func(r *received) { setQuery(r, "flag", "1") }, want: sign.KindMismatch},
		{name: "query added", mutate: func(r *received) { r.r.URL.RawQuery += "&admin=true" }, want: sign.KindMismatch},
		{name: "query repeated", mutate: func(r *received) { r.r.URL.RawQuery += "&limit=10" }, want: sign.KindMismatch},
		{name: "signed header", mutate: func(r *received) { r.r.Header.Set("X-Project-Id", "other") }, want: sign.KindMismatch},
		{name: "signed header repeated", mutate: func(r *received) { r.r.Header.Add("X-Trace", "t2") }, want: sign.KindMismatch},
		{name: "body", mutate: func(r *received) { r.body = append(r.body, ' ') }, want: sign.KindMismatch},
		{name: "body emptied", mutate: func(r *received) { r.body = nil }, want: sign.KindMismatch},
		{name: "unsigned payload claimed", mutate: func(r *received) { r.r.Header.Set(sign.HeaderContentSha256, sign.UnsignedPayload) }, want: sign.KindMismatch},
		{name: "secret", secret: testSK + "x", want: sign.KindMismatch},
		{name: "date header", mutate: func(r *received) { r.r.Header.Set(sign.HeaderDate, signTime.Add(time.Second).Format(sign.DateFormat)) }, want: sign.KindMismatch},
		{name: "date missing", mutate: func(r *received) { r.r.Header.Del(sign.HeaderDate) }, want: sign.KindMalformed},
		{name: "date garbled", mutate: func(r *received) { r.r.Header.Set(sign.HeaderDate, "2025-03-14T09:26:53Z") }, want: sign.KindMalformed},
		{name: "late beyond skew", now: signTime.Add(skew + time.Second), want: sign.KindExpired},
		{name: "early beyond skew", now: signTime.Add(-skew - time.Second), want: sign.KindExpired},
		{name: "late at skew", now: signTime.Add(skew), want: 0},
		{name: "early at skew", now: signTime.Add(-skew), want: 0},
		// Content-Type is outside the Go SDK's SignedHeaders, so it may
		// change; the canonical query ignores the wire order.
		{name: "unsigned header", mutate: func(r *received) { r.r.Header.Set("Content-Type", "text/plain") }, want: 0},
		{name: "query reordered", mutate: func(r *received) { r.r.URL.RawQuery = "name=x+y&flag=&limit=10" }, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := received{r: orig.r.Clone(context.Background()), body: bytes.Clone(orig.body)}
			if tc.mutate != nil {
				tc.mutate(&rec)
			}
			secret, now := testSK, signTime
			if tc.secret != "" {
				secret = tc.secret
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			wantKind(t, verify(rec, secret, now), tc.want)
		})
	}
}

func setQuery(r *received, k, v string) {
	q := r.r.URL.Query()
	q.Set(k, v)
	r.r.URL.RawQuery = q.Encode()
}

func TestExpiredMessage(t *testing.T) {
	rec := overWire(t, sdkSigned(t, "https://metastudio.example.com", sdkCalls["list"], signTime))
	now := signTime.Add(20 * time.Minute)
	err := verify(rec, testSK, now)
	wantKind(t, err, sign.KindExpired)
	want := "signature expired, signature time:20250314T092653Z,server time:20250314T094653Z"
	if err.Error() != want {
		t.Fatalf("message\n got %q\nwant %q", err.Error(), want)
	}
}

// Sign must produce byte for byte the Authorization of the SDK signer for
// the same request and time.
func TestSignMatchesOfficialSDK(t *testing.T) {
	const endpoint = "https://metastudio.cn-north-4.myhuaweicloud.com"
	for name, call := range sdkCalls {
		t.Run(name, func(t *testing.T) {
			want := sdkSigned(t, endpoint, call, signTime).Header.Get("Authorization")
			r, err := sdkRequest(endpoint, call, signTime).ConvertRequest()
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := sign.Sign(r, body, testAK, []byte(testSK), signTime); err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Get("Authorization"); got != want {
				t.Fatalf("Authorization differs\n got %s\nwant %s\nquery %s", got, want, r.URL.RawQuery)
			}
			if got := r.Header.Get(sign.HeaderDate); got != "20250314T092653Z" {
				t.Fatalf("X-Sdk-Date = %q", got)
			}
		})
	}
}

// The SDK sets UNSIGNED-PAYLOAD for non-JSON content; the body is then
// outside the signature, which Verify must honour.
func TestUnsignedPayloadFromSDK(t *testing.T) {
	call := sdkCall{method: "PUT", path: "/v1/upload", body: "raw bytes",
		header: map[string]string{"Content-Type": "application/octet-stream"}}
	rec := overWire(t, sdkSigned(t, "https://h.example.com", call, signTime))
	if got := rec.r.Header.Get(sign.HeaderContentSha256); got != sign.UnsignedPayload {
		t.Fatalf("SDK did not declare an unsigned payload: %q", got)
	}
	wantKind(t, verify(rec, testSK, signTime), 0)
	rec.body = []byte("other bytes")
	wantKind(t, verify(rec, testSK, signTime), 0)
	rec.r.Header.Del(sign.HeaderContentSha256)
	wantKind(t, verify(rec, testSK, signTime), sign.KindMismatch)
}
