package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Verify checks that r carries a valid signature by secretKey, made within
// maxSkew of now (15 minutes is what API Gateway allows). auth is the
// request's parsed Authorization header; the caller parses it first to learn
// which access key, and so which secret, to use. body is the complete
// request body (nil or empty when there is none). It returns nil or an
// *Error whose Kind says what failed.
func Verify(r *http.Request, body []byte, auth Authorization, secretKey []byte, now time.Time, maxSkew time.Duration) error {
	if r == nil || r.URL == nil {
		return malformed("request has no URL")
	}
	if !slices.Contains(auth.SignedHeaders, "x-sdk-date") {
		return malformed("x-sdk-date is not among the signed headers")
	}
	dates := r.Header[HeaderDate]
	if len(dates) != 1 {
		return malformed("request must carry exactly one X-Sdk-Date header")
	}
	date := strings.TrimSpace(dates[0])
	signedAt, ok := parseDate(date)
	if !ok {
		return malformed("X-Sdk-Date " + quoteShort(date) + " is not in the format " + DateFormat)
	}
	var want [sha256.Size]byte
	if !decodeSignature(want[:], auth.Signature) {
		return malformed("signature must be 64 hex digits")
	}
	if skew := now.Sub(signedAt); skew > maxSkew || skew < -maxSkew {
		return &Error{Kind: KindExpired, Reason: "signature expired", SignedAt: signedAt, ServerTime: now}
	}

	if len(secretKey) == 0 {
		// A lookup bug handing over an empty key must not let anyone who
		// signs with the empty key in.
		return mismatch("signature does not match")
	}

	declared, hasDeclared := r.Header[HeaderContentSha256]
	if hasDeclared && len(declared) != 1 {
		return malformed("request must carry at most one " + HeaderContentSha256 + " header")
	}
	var bodyHex [2 * sha256.Size]byte
	payload := bodyHex[:]
	if !hasDeclared || declared[0] != UnsignedPayload {
		sum := sha256.Sum256(body)
		hex.Encode(bodyHex[:], sum[:])
	}
	if hasDeclared {
		// The signer used the declared value as is; a real hash must
		// still match the body, or the body could be swapped.
		if declared[0] != UnsignedPayload && !strings.EqualFold(declared[0], string(payload)) {
			return mismatch("body does not match " + HeaderContentSha256)
		}
		payload = []byte(declared[0])
	}

	c := getCanon()
	defer putCanon(c)
	if err := c.build(r, auth.SignedHeaders, payload); err != nil {
		return err
	}
	var got [sha256.Size]byte
	signature(got[:0], c.buf, date, secretKey)
	if !hmac.Equal(got[:], want[:]) {
		return mismatch("signature does not match")
	}
	return nil
}

// Kind classifies why a request failed verification, so a server can map it
// to the error code and message API Gateway would return.
type Kind int

const (
	// KindMalformed: the Authorization header or X-Sdk-Date is missing,
	// unparsable, or x-sdk-date is not among the signed headers.
	KindMalformed Kind = iota + 1
	// KindExpired: the signing time is more than the allowed skew away
	// from the server clock, in either direction.
	KindExpired
	// KindMismatch: the request is well formed but the signature (or the
	// declared body hash) does not match.
	KindMismatch
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindMalformed:
		return "malformed"
	case KindExpired:
		return "expired"
	case KindMismatch:
		return "mismatch"
	}
	return "unknown"
}

// Error is the error Verify returns. Its message never contains the secret
// key or the expected signature, so it is safe to send to the client.
type Error struct {
	Kind   Kind
	Reason string
	// SignedAt and ServerTime are set for KindExpired, so the server can
	// report both the way API Gateway does.
	SignedAt   time.Time
	ServerTime time.Time
}

// Error returns Reason, or for KindExpired the gateway's own wording:
// "signature expired, signature time:<t>,server time:<t>" in DateFormat.
func (e *Error) Error() string {
	if e.Kind == KindExpired {
		return "signature expired, signature time:" + e.SignedAt.UTC().Format(DateFormat) +
			",server time:" + e.ServerTime.UTC().Format(DateFormat)
	}
	return e.Reason
}

func malformed(reason string) *Error { return &Error{Kind: KindMalformed, Reason: reason} }

func mismatch(reason string) *Error { return &Error{Kind: KindMismatch, Reason: reason} }

// signature appends to dst HMAC-SHA256(secretKey, StringToSign) for the
// canonical request cr signed at date.
func signature(dst, cr []byte, date string, secretKey []byte) []byte {
	crHash := sha256.Sum256(cr)
	// "SDK-HMAC-SHA256\n" + date + "\n" + 64 hex digits fits on the stack.
	var sts [len(Algorithm) + 1 + len(DateFormat) + 1 + 2*sha256.Size]byte
	b := append(sts[:0], Algorithm...)
	b = append(b, '\n')
	b = append(b, date...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, crHash[:])
	mac := hmac.New(sha256.New, secretKey)
	mac.Write(b)
	return mac.Sum(dst)
}

// decodeSignature decodes 64 hex digits into dst without allocating.
func decodeSignature(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi > 15 || lo > 15 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// parseDate parses exactly DateFormat. time.Parse would also accept a
// fractional second ("...T150405.5Z"), which the SDKs drop when they
// re-format the date into the string to sign, so it is parsed by hand.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(DateFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for j := i; j < i+n; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec := num(9, 2), num(11, 2), num(13, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // February 30th and the like normalize into March
		return time.Time{}, false
	}
	return t, true
}

// quoteShort quotes s for an error message, cut so that a hostile header
// cannot bloat the response.
func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '?'
		}
		return r
	}, s) + `"`
}
