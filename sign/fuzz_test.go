package sign_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/allot-dev/allot/sign"
)

// Seeds beyond these live in testdata/fuzz/<FuzzName>/.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=" + hexSig)
	f.Add("SDK-HMAC-SHA256 Access=AK,SignedHeaders=x-sdk-date,Signature=" + hexSig)
	f.Add("SDK-HMAC-SHA256 Access==, SignedHeaders=;, Signature=")
	f.Fuzz(func(t *testing.T, header string) {
		a, err := sign.ParseAuthorization(header)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("error without a message")
			}
			return
		}
		if len(header) > sign.MaxAuthorizationLen {
			t.Fatalf("accepted a %d-byte header", len(header))
		}
		if a.AccessKey == "" || len(a.SignedHeaders) == 0 || len(a.SignedHeaders) > sign.MaxSignedHeaders || len(a.Signature) != 64 {
			t.Fatalf("accepted an incomplete header: %+v", a)
		}
		for _, h := range a.SignedHeaders {
			if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, " ,;=") {
				t.Fatalf("bad signed header name %q", h)
			}
		}
		b, err := sign.ParseAuthorization(a.String())
		if err != nil || b.String() != a.String() {
			t.Fatalf("re-parse of %q: %+v %v", a.String(), b, err)
		}
	})
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}

// FuzzVerify signs a request with fuzzed method, path, query, header and
// body, sends it through net/http's wire format and requires Verify to
// accept it, to reject it under another secret, and to survive an arbitrary
// Authorization without panicking.
func FuzzVerify(f *testing.F) {
	f.Add(byte(0), "v1/p/resources", "limit", "10", "name", "a b+c", "", "v", []byte(""), true, "")
	f.Add(byte(1), "v1/數字人/a b", "k", "", "k", "ü/,", "x=%41&y", " pad ", []byte(`{"a":1}`), false, "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date, Signature="+hexSig)
	f.Fuzz(func(t *testing.T, m byte, path, k1, v1, k2, v2, raw, hdr string, body []byte, sdkStyle bool, authHdr string) {
		q := url.Values{}
		q.Add(k1, v1)
		q.Add(k1, v2)
		q.Add(k2, v2)
		query := q.Encode()
		if sdkStyle { // the Go SDK's wire form: bare keys, %20 for a space
			query = strings.ReplaceAll(strings.ReplaceAll(strings.Trim(query, "="), "=&", "&"), "+", "%20")
		}
		if wireSafe(raw) {
			query += "&" + raw
		}
		u := &url.URL{Scheme: "http", Host: "allot.test", Path: "/" + path, RawQuery: query}
		r := &http.Request{Method: fuzzMethods[int(m)%len(fuzzMethods)], URL: u, Host: u.Host,
			Header: http.Header{"X-Fuzz": {headerSafe(hdr)}, "User-Agent": {"fuzz"}}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		r.Body, r.ContentLength = nopBody{strings.NewReader(string(body))}, int64(len(body))

		if err := sign.Sign(r, body, testAK, []byte(testSK), signTime); err != nil {
			if !strings.Contains(err.Error(), "query") {
				t.Fatalf("Sign failed on something other than the query: %v", err)
			}
			return
		}
		rec := overWire(t, r)
		if rec.r.URL.Path != u.Path || rec.r.URL.RawQuery != u.RawQuery {
			return // net/http itself changed the target; nothing signed is at fault
		}
		if err := verify(rec, testSK, signTime); err != nil {
			t.Fatalf("Sign'd request rejected: %v\npath %q query %q", err, u.Path, u.RawQuery)
		}
		var se *sign.Error
		if err := verify(rec, testSK+"!", signTime); !errors.As(err, &se) || se.Kind != sign.KindMismatch {
			t.Fatalf("other secret: want mismatch, got %v", err)
		}
		if a, err := sign.ParseAuthorization(authHdr); err == nil {
			want, _ := sign.ParseAuthorization(rec.r.Header.Get("Authorization"))
			err := sign.Verify(rec.r, rec.body, a, []byte(testSK), signTime, skew)
			if err == nil && !strings.EqualFold(a.Signature, want.Signature) {
				t.Fatalf("accepted a foreign Authorization %q", authHdr)
			}
		}
	})
}

type nopBody struct{ *strings.Reader }

func (nopBody) Close() error { return nil }

// wireSafe reports whether raw can travel as is in a request-target query.
func wireSafe(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return raw != ""
}

// headerSafe replaces the bytes net/http rewrites in header values.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return '.'
		}
		return r
	}, s)
}
