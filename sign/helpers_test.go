package sign_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/allot-dev/allot/sign"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

const (
	testAK    = "HPUAEXAMPLEACCESSKEY"
	testSK    = "exampleSecretKey0123456789abcdefghijklmn"
	projectID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	skew      = 15 * time.Minute
)

var signTime = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// received is a request as a server handler sees it, with its body read.
type received struct {
	r    *http.Request
	body []byte
}

// captureServer starts a server that hands every request it gets back to
// the test, so Verify runs on exactly what net/http parsed from the wire.
func captureServer(t *testing.T) (endpoint string, send func(*http.Request) received) {
	t.Helper()
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		got <- received{r: r, body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(req *http.Request) received {
		t.Helper()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		resp.Body.Close()
		return <-got
	}
}

// overWire serializes a client request and parses it back the way a server
// does, for tests that need many requests without a listener.
func overWire(t testing.TB, req *http.Request) received {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return received{r: r, body: body}
}

// sdkCall describes one API call the way the SDK's generated clients fill a
// request builder: query values are passed as reflect.Value, as the SDK's
// HTTP client does, or the signer ignores them.
type sdkCall struct {
	method, path string
	query        map[string]any
	header       map[string]string
	body         any
}

// sdkRequest builds the SDK request with the headers its HTTP client and
// BasicCredentials add (User-Agent, X-Project-Id, Content-Type) and the
// signing time fixed through X-Sdk-Date, which the SDK signer honours.
func sdkRequest(endpoint string, c sdkCall, at time.Time) *request.DefaultHttpRequest {
	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).WithMethod(c.method).WithPath(c.path)
	for k, v := range c.query {
		b.AddQueryParam(k, reflect.ValueOf(v))
	}
	b.AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0")
	b.AddHeaderParam("X-Project-Id", projectID)
	b.AddHeaderParam("Content-Type", "application/json")
	for k, v := range c.header {
		b.AddHeaderParam(k, v)
	}
	b.AddHeaderParam(sign.HeaderDate, at.UTC().Format(sign.DateFormat))
	if c.body != nil {
		b.WithBody("", c.body)
	}
	return b.Build()
}

// sdkSigned signs c with the official SDK signer and converts it to the
// *http.Request the SDK would send.
func sdkSigned(t testing.TB, endpoint string, c sdkCall, at time.Time) *http.Request {
	t.Helper()
	req := sdkRequest(endpoint, c, at)
	extra, err := signer.Signer{}.Sign(req, testAK, testSK)
	if err != nil {
		t.Fatalf("sdk sign: %v", err)
	}
	for k, v := range extra {
		req.AddHeaderParam(k, v)
	}
	hr, err := req.ConvertRequest()
	if err != nil {
		t.Fatalf("sdk convert: %v", err)
	}
	return hr
}

// verify parses the request's Authorization and runs Verify at now.
func verify(rec received, secret string, now time.Time) error {
	auth, err := sign.ParseAuthorization(rec.r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	return sign.Verify(rec.r, rec.body, auth, []byte(secret), now, skew)
}

// wantKind fails unless err is a *sign.Error of kind k (or nil for k == 0).
func wantKind(t *testing.T, err error, k sign.Kind) {
	t.Helper()
	if k == 0 {
		if err != nil {
			t.Fatalf("want accepted, got %v", err)
		}
		return
	}
	var se *sign.Error
	if !errors.As(err, &se) {
		t.Fatalf("want *sign.Error of kind %v, got %T %v", k, err, err)
	}
	if se.Kind != k {
		t.Fatalf("want kind %v, got %v: %v", k, se.Kind, se)
	}
}
