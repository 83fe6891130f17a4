package sign_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/sign"
)

// signedRequest builds a client request, signs it with Sign and returns it
// as the server parses it.
func signedRequest(t *testing.T, method, target string, body string, header map[string]string) received {
	t.Helper()
	r, err := http.NewRequest(method, "https://metastudio.example.com"+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		r.Header[k] = []string{v} // keys left as given, possibly not canonical
	}
	if err := sign.Sign(r, []byte(body), testAK, []byte(testSK), signTime); err != nil {
		t.Fatal(err)
	}
	return overWire(t, r)
}

func TestSignRoundTrip(t *testing.T) {
	cases := []struct {
		method, target, body string
		header               map[string]string
	}{
		{"GET", "/v1/p/resources?limit=10&resource_source&name=a%20b+c", "", nil},
		{"POST", "/v1/p/resources/%E6%95%B8%20x", `{"a":1}`, map[string]string{"Content-Type": "application/json", "X-Project-Id": "p"}},
		{"PUT", "/", "x", map[string]string{"x-lower": "v", "X-Lower": "w", "Host": "ignored.example.com"}},
		{"DELETE", "/v1/a%2Fb/", "", map[string]string{"User-Agent": "allot-cli/1"}},
	}
	for _, c := range cases {
		rec := signedRequest(t, c.method, c.target, c.body, c.header)
		wantKind(t, verify(rec, testSK, signTime.Add(time.Minute)), 0)
		auth, err := sign.ParseAuthorization(rec.r.Header.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range auth.SignedHeaders {
			if h == "content-type" || h == "authorization" {
				t.Fatalf("%s must not be signed: %v", h, auth.SignedHeaders)
			}
		}
	}
}

func TestSignResignsCleanly(t *testing.T) {
	r, _ := http.NewRequest("GET", "https://h.example.com/v1/x", nil)
	if err := sign.Sign(r, nil, testAK, []byte(testSK), signTime.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := sign.Sign(r, nil, testAK, []byte(testSK), signTime); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("Authorization"); !strings.Contains(got, "SignedHeaders=x-sdk-date,") {
		t.Fatalf("the old Authorization was signed: %s", got)
	}
	wantKind(t, verify(overWire(t, r), testSK, signTime), 0)
}

func TestSignRejects(t *testing.T) {
	ok, _ := http.NewRequest("GET", "https://h.example.com/x", nil)
	bad, _ := http.NewRequest("GET", "https://h.example.com/x?a=%zz", nil)
	for _, c := range []struct {
		r      *http.Request
		ak, sk string
		want   string
	}{
		{ok, "", testSK, "access key is empty"},
		{ok, "A K", testSK, "white space"},
		{ok, testAK, "", "secret key is empty"},
		{bad, testAK, testSK, "invalid percent escape"},
		{&http.Request{}, testAK, testSK, "no URL"},
	} {
		err := sign.Sign(c.r, nil, c.ak, []byte(c.sk), signTime)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Sign(ak=%q, sk=%q): %v, want error with %q", c.ak, c.sk, err, c.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	base := signedRequest(t, "GET", "/v1/x", "", nil)
	auth, err := sign.ParseAuthorization(base.r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, r *http.Request, a sign.Authorization, want string) {
		t.Helper()
		err := sign.Verify(r, nil, a, []byte(testSK), signTime, skew)
		wantKind(t, err, sign.KindMalformed)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not contain %q", name, err, want)
		}
	}
	withDate := func(vals ...string) *http.Request {
		r := base.r.Clone(t.Context())
		r.Header[sign.HeaderDate] = vals
		return r
	}
	check("nil request", nil, auth, "no URL")
	noDate := auth
	noDate.SignedHeaders = []string{"host"}
	check("date unsigned", base.r, noDate, "x-sdk-date is not among the signed headers")
	badSig := auth
	badSig.Signature = "zz" + auth.Signature[2:]
	check("signature not hex", base.r, badSig, "64 hex digits")
	check("two dates", withDate("20250314T092653Z", "20250314T092653Z"), auth, "exactly one X-Sdk-Date")
	for _, d := range []string{"", "20250314T092653", "20250314T092653.5Z", "20250230T092653Z", "20251314T092653Z",
		"20250314T242653Z", "20250314T096053Z", "20250314T092660Z", "2025031XT092653Z", "20250314 092653Z",
		"Fri, 14 Mar 2025 09:26:53 GMT"} {
		check("date "+d, withDate(d), auth, "is not in the format 20060102T150405Z")
	}
	r := base.r.Clone(t.Context())
	r.Header[sign.HeaderContentSha256] = []string{sign.UnsignedPayload, sign.UnsignedPayload}
	check("two content hashes", r, auth, "at most one X-Sdk-Content-Sha256")
}

// A declared body hash stands in for the body in the canonical request, but
// must still be the hash of the body received.
func TestDeclaredContentSha256(t *testing.T) {
	body := `{"name":"x"}`
	sum := sha256.Sum256([]byte(body))
	h := hex.EncodeToString(sum[:])
	rec := signedRequest(t, "POST", "/v1/x", body, map[string]string{sign.HeaderContentSha256: h})
	wantKind(t, verify(rec, testSK, signTime), 0)

	rec.r.Header.Set(sign.HeaderContentSha256, strings.ToUpper(h))
	wantKind(t, verify(rec, testSK, signTime), sign.KindMismatch) // signed lowercase

	rec = signedRequest(t, "POST", "/v1/x", body, map[string]string{sign.HeaderContentSha256: h})
	rec.body = []byte(`{"name":"y"}`)
	err := verify(rec, testSK, signTime)
	wantKind(t, err, sign.KindMismatch)
	if !strings.Contains(err.Error(), "body does not match X-Sdk-Content-Sha256") {
		t.Fatalf("message: %v", err)
	}
}

// An empty secret, say from a broken key lookup, must never verify, even a
// request signed with the empty key.
func TestVerifyEmptySecret(t *testing.T) {
	rec := signedRequest(t, "GET", "/v1/x", "", nil)
	auth, err := sign.ParseAuthorization(rec.r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, sign.Verify(rec.r, nil, auth, nil, signTime, skew), sign.KindMismatch)

	r, _ := http.NewRequest("GET", "https://h.example.com/v1/x", nil)
	r.Header.Set(sign.HeaderDate, date)
	empty, err := sign.ParseAuthorization(refSign(refCall{method: "GET", path: "/v1/x", signed: []string{"x-sdk-date"},
		sep: ", ", headers: [][2]string{{sign.HeaderDate, date}}}, ""))
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, sign.Verify(r, nil, empty, []byte{}, signTime, skew), sign.KindMismatch)
	wantKind(t, sign.Verify(r, nil, empty, []byte("k"), signTime, skew), sign.KindMismatch)
}
