package sign

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// Sign sets X-Sdk-Date (now, in UTC) and Authorization on r. Like the
// official Go SDK it signs every header r already has except Content-Type
// and names containing '_', plus x-sdk-date; host is signed only if r.Header
// names it. body must be the exact bytes r will send. If r carries
// X-Sdk-Content-Sha256, its value replaces the body hash (UNSIGNED-PAYLOAD
// leaves the body unsigned).
//
// Header keys of r are put in canonical form first, because they are signed
// lowercase and looked up canonical on the receiving side.
func Sign(r *http.Request, body []byte, accessKey string, secretKey []byte, now time.Time) error {
	if r == nil || r.URL == nil {
		return errors.New("sign: request has no URL")
	}
	if accessKey == "" || strings.ContainsAny(accessKey, " \t,;=") {
		return errors.New("sign: access key is empty or contains white space or separators")
	}
	if len(secretKey) == 0 {
		return errors.New("sign: secret key is empty")
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	canonicalizeKeys(r.Header)
	r.Header.Del(HeaderAuthorization)
	date := now.UTC().Format(DateFormat)
	r.Header.Set(HeaderDate, date)

	signed := make([]string, 0, len(r.Header))
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "content-type") || strings.Contains(lk, "_") {
			continue
		}
		signed = append(signed, lk)
	}
	slices.Sort(signed)
	if len(signed) > MaxSignedHeaders {
		return errors.New("sign: more headers than a verifier accepts")
	}

	var payload []byte
	if declared := r.Header.Get(HeaderContentSha256); declared != "" {
		payload = []byte(declared)
	} else {
		sum := sha256.Sum256(body)
		payload = hex.AppendEncode(nil, sum[:])
	}

	c := getCanon()
	defer putCanon(c)
	if err := c.build(r, signed, payload); err != nil {
		return errors.New("sign: " + err.Error())
	}
	var sig [sha256.Size]byte
	signature(sig[:0], c.buf, date, secretKey)
	auth := Authorization{AccessKey: accessKey, SignedHeaders: signed, Signature: hex.EncodeToString(sig[:])}
	r.Header.Set(HeaderAuthorization, auth.String())
	return nil
}

// canonicalizeKeys rewrites keys set by direct map assignment ("x-foo") into
// canonical form, merging values that differ only in case.
func canonicalizeKeys(h http.Header) {
	for k, vs := range h {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if ck == k {
			continue
		}
		delete(h, k)
		h[ck] = append(h[ck], vs...)
	}
}
