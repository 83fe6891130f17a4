package apitest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sign"
)

// testCredentialHeaders: a credential header given twice is refused on both
// planes, whichever copy is right, like a repeated X-Sdk-Date.
func testCredentialHeaders(t *testing.T, e *env) {
	ak, sk := e.credential(t, tenantA)
	tok := e.token(t, tenantA, time.Now().Add(time.Hour))
	signed := func(t *testing.T) *http.Request {
		req, err := http.NewRequest(http.MethodGet, e.url+listPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := sign.Sign(req, nil, ak, []byte(sk), time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	t.Run("the same request once is accepted", func(t *testing.T) {
		if resp, body := e.do(t, signed(t)); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	for name, dup := range map[string]func(*http.Request){
		"Authorization twice, the right one first": func(r *http.Request) {
			r.Header["Authorization"] = append(r.Header["Authorization"], "SDK-HMAC-SHA256 Access="+ak+", SignedHeaders=x-sdk-date, Signature=00")
		},
		"Authorization twice, the right one last": func(r *http.Request) {
			r.Header["Authorization"] = append([]string{"SDK-HMAC-SHA256 Access=" + ak + ", SignedHeaders=x-sdk-date, Signature=00"}, r.Header["Authorization"]...)
		},
		"Authorization twice, both right": func(r *http.Request) {
			r.Header["Authorization"] = append(r.Header["Authorization"], r.Header["Authorization"][0])
		},
		"X-Auth-Token twice": func(r *http.Request) {
			r.Header.Del("Authorization")
			r.Header["X-Auth-Token"] = []string{tok, tok}
		},
		"X-Auth-Token twice beside a signature": func(r *http.Request) {
			r.Header["X-Auth-Token"] = []string{tok, "not-a-token"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			req := signed(t)
			dup(req)
			resp, body := e.do(t, req)
			if resp.StatusCode != 401 || !contains(body, `"APIG.0301"`) || !contains(body, "more than once") {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
	t.Run("management Authorization twice", func(t *testing.T) {
		a := startAdmin(t, e)
		key := a.key(t, "dup-ops", allot.RoleAdmin, "")
		for _, values := range [][]string{{"Bearer " + key, "Bearer " + key}, {"Bearer " + key, "Bearer other"}, {"Bearer other", "Bearer " + key}} {
			req, _ := http.NewRequest("GET", a.url+"/admin/v1/drift", nil)
			req.Header["Authorization"] = values
			resp, body := a.do(t, req)
			if resp.StatusCode != 401 || !contains(body, "ALLOT.UNAUTHENTICATED") || !strings.Contains(string(body), "more than once") {
				t.Fatalf("%v: %d %s", values, resp.StatusCode, body)
			}
		}
		req, _ := http.NewRequest("GET", a.url+"/admin/v1/drift", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, body := a.do(t, req); resp.StatusCode != 200 {
			t.Fatalf("the key once: %d %s", resp.StatusCode, body)
		}
	})
}

// testMalformedAccessKey: an access key no credential can have is a 401 for
// a malformed credential on every store, before the store is asked.
func testMalformedAccessKey(t *testing.T, e *env) {
	for name, ak := range map[string]string{
		"not UTF-8":          "\xff\xfe",
		"not UTF-8 in a key": "AKGOOD\xc3",
		// Control characters never reach a handler: net/http refuses them
		// in any header (api's TestCheckAccessKey covers the check itself).
		"non-ASCII": "AKÄÖ",
		"too long":  strings.Repeat("A", 129),
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.url+listPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header["X-Sdk-Date"] = []string{time.Now().UTC().Format(sign.DateFormat)}
			req.Header["Authorization"] = []string{"SDK-HMAC-SHA256 Access=" + ak + ", SignedHeaders=x-sdk-date, Signature=" + strings.Repeat("0", 64)}
			resp, body := e.do(t, req)
			if resp.StatusCode != 401 || !contains(body, `"APIG.0301"`) || !contains(body, "Access") {
				t.Fatalf("%q: %d %s", ak, resp.StatusCode, body)
			}
		})
	}
	// A well-formed unknown key is still told apart.
	resp, body := e.signedGet(t, listPath, strings.Repeat("A", 128), "sk", time.Now(), nil)
	if resp.StatusCode != 401 || !contains(body, "unknown") {
		t.Fatalf("unknown key: %d %s", resp.StatusCode, body)
	}
}
