package sign_test

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/allot-dev/allot/sign"
)

// refParam is a decoded query parameter, as the other SDKs hold them before
// putting them on the wire in their own order and escaping.
type refParam struct{ k, v string }

// refCall is a request as the Java, Python or Node.js SDK would send it:
// the raw request-target, the headers, and what the SDK signed.
type refCall struct {
	method  string
	path    string     // decoded, as the SDK signs it
	target  string     // request-target on the wire
	params  []refParam // decoded, as the SDK signs them
	headers [][2]string
	signed  []string
	body    string
	sep     string // separator between Authorization parameters
}

// refSign is an independent, deliberately plain rendering of the spec,
// so the package is not tested against itself.
func refSign(c refCall, secret string) string {
	esc := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			ch := s[i]
			if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || strings.IndexByte("-_.~", ch) >= 0 {
				b.WriteByte(ch)
			} else {
				fmt.Fprintf(&b, "%%%02X", ch)
			}
		}
		return b.String()
	}
	segs := strings.Split(c.path, "/")
	for i := range segs {
		segs[i] = esc(segs[i])
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	ps := append([]refParam(nil), c.params...)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].k != ps[j].k {
			return ps[i].k < ps[j].k
		}
		return ps[i].v < ps[j].v
	})
	var q []string
	for _, p := range ps {
		q = append(q, esc(p.k)+"="+esc(p.v))
	}
	var hl []string
	date := ""
	for _, name := range c.signed {
		var vals []string
		for _, h := range c.headers {
			if strings.EqualFold(h[0], name) {
				vals = append(vals, strings.TrimSpace(h[1]))
			}
			if strings.EqualFold(h[0], sign.HeaderDate) {
				date = h[1]
			}
		}
		sort.Strings(vals)
		for _, v := range vals {
			hl = append(hl, name+":"+v)
		}
	}
	bodyHash := sha256.Sum256([]byte(c.body))
	cr := strings.Join([]string{c.method, uri, strings.Join(q, "&"), strings.Join(hl, "\n") + "\n",
		strings.Join(c.signed, ";"), hex.EncodeToString(bodyHash[:])}, "\n")
	crHash := sha256.Sum256([]byte(cr))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(sign.Algorithm + "\n" + date + "\n" + hex.EncodeToString(crHash[:])))
	return sign.Algorithm + " Access=" + testAK + c.sep + "SignedHeaders=" + strings.Join(c.signed, ";") +
		c.sep + "Signature=" + hex.EncodeToString(mac.Sum(nil))
}

// readRaw parses the request exactly as net/http's server would.
func readRaw(t *testing.T, c refCall, auth string) received {
	t.Helper()
	var b strings.Builder
	b.WriteString(c.method + " " + c.target + " HTTP/1.1\r\n")
	for _, h := range c.headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("Authorization: " + auth + "\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(c.body), c.body)
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		t.Fatalf("parse raw request: %v", err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return received{r: r, body: body}
}

var date = signTime.Format(sign.DateFormat)

var otherSDKCalls = map[string]refCall{
	// OkHttp: %20 for a space, uppercase escapes, parameters in insertion
	// order, host with a non-default port.
	"java": {method: "GET", path: "/v1/" + projectID + "/resources",
		target: "/v1/" + projectID + "/resources?offset=0&limit=10&name=a%20b&resource_source=&tag=%E6%95%B8%2B1",
		params: []refParam{{"offset", "0"}, {"limit", "10"}, {"name", "a b"}, {"resource_source", ""}, {"tag", "數+1"}},
		headers: [][2]string{{"Host", "metastudio.example.com:8443"}, {"Content-Type", "application/json;charset=UTF-8"},
			{"X-Project-Id", projectID}, {"X-Sdk-Date", date}},
		signed: []string{"content-type", "host", "x-project-id", "x-sdk-date"}, sep: ", "},
	// Form encoding: '+' for a space, lowercase escapes, unescaped ',' and
	// ':', and a comma without a space between Authorization parameters.
	"python": {method: "POST", path: "/v1/" + projectID + "/resources/a b",
		target: "/v1/" + projectID + "/resources/a%20b?name=a+b&ids=x,y&at=10:00&u=%c3%bc&empty",
		params: []refParam{{"name", "a b"}, {"ids", "x,y"}, {"at", "10:00"}, {"u", "ü"}, {"empty", ""}},
		headers: [][2]string{{"Host", "metastudio.example.com"}, {"Content-Type", "application/json"},
			{"X-Sdk-Date", date}, {"X-Project-Id", projectID}},
		signed: []string{"content-type", "host", "x-project-id", "x-sdk-date"}, sep: ",",
		body: `{"name": "voice", "amount": 3}`},
	// axios: '+' for a space, '[', ']' and '$' raw, repeated keys.
	"node": {method: "GET", path: "/v1/" + projectID + "/resources",
		target: "/v1/" + projectID + "/resources?filter[type]=A+B&id=2&id=1&price=$5",
		params: []refParam{{"filter[type]", "A B"}, {"id", "2"}, {"id", "1"}, {"price", "$5"}},
		headers: [][2]string{{"Host", "metastudio.example.com"}, {"Content-Type", "application/json"},
			{"X-Sdk-Date", date}},
		signed: []string{"content-type", "host", "x-sdk-date"}, sep: ", "},
	"header sent twice": {method: "GET", path: "/v1/x", target: "/v1/x",
		headers: [][2]string{{"Host", "h"}, {"X-Tag", "b"}, {"X-Tag", " a "}, {"X-Sdk-Date", date}},
		signed:  []string{"host", "x-sdk-date", "x-tag"}, sep: ", "},
	"unsorted signed headers": {method: "GET", path: "/", target: "/",
		headers: [][2]string{{"Host", "h"}, {"X-Sdk-Date", date}, {"X-A", "1"}},
		signed:  []string{"x-sdk-date", "x-a", "host"}, sep: ", "},
}

func TestVerifyAcceptsOtherSDKs(t *testing.T) {
	for name, c := range otherSDKCalls {
		t.Run(name, func(t *testing.T) {
			rec := readRaw(t, c, refSign(c, testSK))
			wantKind(t, verify(rec, testSK, signTime), 0)
		})
	}
}

func TestVerifyRejectsTamperedOtherSDK(t *testing.T) {
	c := otherSDKCalls["java"]
	auth := refSign(c, testSK)

	rec := readRaw(t, c, auth)
	rec.r.Host = "evil.example.com"
	wantKind(t, verify(rec, testSK, signTime), sign.KindMismatch)

	rec = readRaw(t, c, auth)
	rec.r.Header.Set("Content-Type", "text/plain")
	wantKind(t, verify(rec, testSK, signTime), sign.KindMismatch)

	// A '+' on the wire is a space; a client that meant a literal '+' but
	// did not escape it fails, as it would against API Gateway.
	plus := c
	plus.params = []refParam{{"a", "x+y"}}
	plus.target = "/v1/" + projectID + "/resources?a=x+y"
	wantKind(t, verify(readRaw(t, plus, refSign(plus, testSK)), testSK, signTime), sign.KindMismatch)

	noDate := c
	noDate.signed = []string{"content-type", "host", "x-project-id"}
	wantKind(t, verify(readRaw(t, noDate, refSign(noDate, testSK)), testSK, signTime), sign.KindMalformed)

	for _, target := range []string{"/v1/x?a=%zz", "/v1/x?a=1;b=2"} {
		bad := c
		bad.target = target
		wantKind(t, verify(readRaw(t, bad, auth), testSK, signTime), sign.KindMalformed)
	}
}
