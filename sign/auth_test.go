package sign_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/allot-dev/allot/sign"
)

const hexSig = "a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

func TestParseAuthorizationAccepts(t *testing.T) {
	want := sign.Authorization{AccessKey: "AK1", SignedHeaders: []string{"host", "x-sdk-date"}, Signature: hexSig}
	for _, h := range []string{
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=" + hexSig,
		"SDK-HMAC-SHA256 Access=AK1,SignedHeaders=host;x-sdk-date,Signature=" + hexSig,
		"SDK-HMAC-SHA256  Access=AK1 ,  SignedHeaders=host;x-sdk-date , Signature=" + hexSig + " ",
		"SDK-HMAC-SHA256 Signature=" + hexSig + ", Access=AK1, SignedHeaders=host;x-sdk-date",
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=" + hexSig + ",",
	} {
		got, err := sign.ParseAuthorization(h)
		if err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %+v", h, got)
		}
	}
	upper := strings.ToUpper(hexSig)
	got, err := sign.ParseAuthorization("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + upper)
	if err != nil || got.Signature != upper {
		t.Fatalf("uppercase hex: %+v %v", got, err)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	ok := " Access=AK1, SignedHeaders=x-sdk-date, Signature=" + hexSig
	many := strings.Repeat("x-a;", sign.MaxSignedHeaders) + "x-sdk-date"
	cases := []struct{ header, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"SDK-HMAC-SHA1" + ok, `unsupported authorization algorithm "SDK-HMAC-SHA1", want SDK-HMAC-SHA256`},
		{"Bearer abc", `unsupported authorization algorithm "Bearer"`},
		{"sdk-hmac-sha256" + ok, "unsupported authorization algorithm"},
		{"SDK-HMAC-SHA256", "no parameters"},
		{"SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=" + hexSig, "missing Access"},
		{"SDK-HMAC-SHA256 Access=AK1, Signature=" + hexSig, "missing SignedHeaders"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date", "missing Signature"},
		{"SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=" + hexSig, "Access is empty"},
		{"SDK-HMAC-SHA256 Access=A K, SignedHeaders=x-sdk-date, Signature=" + hexSig, "white space"},
		{"SDK-HMAC-SHA256 Access=AK1, Access=AK2, SignedHeaders=x-sdk-date, Signature=" + hexSig, "Access twice"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=a, SignedHeaders=b, Signature=" + hexSig, "SignedHeaders twice"},
		{"SDK-HMAC-SHA256" + ok + ", Signature=" + hexSig, "Signature twice"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=, Signature=" + hexSig, "SignedHeaders is empty"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;;x-sdk-date, Signature=" + hexSig, "empty name"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=Host;x-sdk-date, Signature=" + hexSig, `"Host" is not a lowercase header name`},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x a, Signature=" + hexSig, "not a lowercase header name"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;host, Signature=" + hexSig, `"host" twice`},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=" + many + ", Signature=" + hexSig, "more than 64 headers"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=abc", "64 hex digits, got 3"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + hexSig[:63] + "g", "not hex: bad character at offset 63"},
		{"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature", `"Signature" has no '='`},
		{"SDK-HMAC-SHA256" + ok + ", Date=now", `unknown authorization parameter "Date"`},
		{"SDK-HMAC-SHA256" + ok + strings.Repeat(" ", sign.MaxAuthorizationLen), "longer than 4096 bytes"},
	}
	for _, tc := range cases {
		a, err := sign.ParseAuthorization(tc.header)
		if err == nil {
			t.Errorf("%.80q: accepted as %+v", tc.header, a)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80q: error %q does not contain %q", tc.header, err, tc.want)
		}
	}
}

func TestAuthorizationStringRoundTrip(t *testing.T) {
	a := sign.Authorization{AccessKey: "AK", SignedHeaders: []string{"host", "x-sdk-date"}, Signature: hexSig}
	want := "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=" + hexSig
	if a.String() != want {
		t.Fatalf("String() = %q", a.String())
	}
	b, err := sign.ParseAuthorization(a.String())
	if err != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip: %+v %v", b, err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[sign.Kind]string{sign.KindMalformed: "malformed", sign.KindExpired: "expired",
		sign.KindMismatch: "mismatch", sign.Kind(0): "unknown"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}
