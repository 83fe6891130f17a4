// Package sign implements SDK-HMAC-SHA256, the AK/SK request signature of
// Huawei Cloud API Gateway, on both sides: Sign for a client and Verify for
// a server. The official Huawei Cloud SDKs (Go, Java, Python, Node.js) sign
// with this scheme, so a server that verifies it can serve them unchanged.
//
// # Authorization header
//
// A signed request carries two headers:
//
//	X-Sdk-Date: 20060102T150405Z
//	Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b;c, Signature=hex
//
// X-Sdk-Date is the signing time in UTC, formatted exactly as DateFormat.
// Access is the access key id (AK). SignedHeaders lists, lowercase and
// separated by ';', the header names covered by the signature; the SDKs sort
// it. Signature is the lowercase hex of a 32-byte HMAC-SHA256. The parameters
// are separated by ',' optionally followed by spaces; ParseAuthorization
// accepts both spellings because the SDKs differ.
//
// # Canonical request
//
// The signature covers a canonical request, six lines joined by '\n':
//
//	METHOD
//	canonical URI
//	canonical query
//	canonical headers (each line ends in '\n', so this ends in a blank line)
//	signed headers, joined with ';' exactly as in the Authorization header
//	payload hash
//
// Escaping keeps the unreserved bytes A-Z a-z 0-9 - _ . ~ and writes every
// other byte as %XX with uppercase hex, so "a b/ü" becomes "a%20b%2F%C3%BC".
//
// The canonical URI is the decoded path split on '/', each segment escaped,
// joined with '/' and given a trailing '/' when it lacks one:
// "/v1/a b" becomes "/v1/a%20b/".
//
// The canonical query is built from the decoded parameters, never from the
// raw query string, because the SDKs put the same parameters on the wire in
// different orders and escapings (%20 or '+' for a space, bare "k" or "k=" for
// an empty value). Pairs are sorted by key and, within a key, by value, both
// compared as decoded bytes; each is written escape(key)=escape(value) and
// the pairs are joined with '&'. A bare key "?a" is a="" and becomes "a=".
// The query is decoded as a form: '+' is a space and a literal '+' must be
// sent as %2B, which every official SDK does.
//
// Each canonical header line is "name:value" with the value trimmed of
// surrounding white space, for every name in SignedHeaders in the order
// given. The value of host is the request's Host. A header sent several
// times gives one line per value, values sorted. A signed header that is
// absent gives no line.
//
// The payload hash is the lowercase hex SHA-256 of the body (of nothing for a
// bodiless request), unless the request carries X-Sdk-Content-Sha256: then
// its value stands in, typically UNSIGNED-PAYLOAD for uploads whose body the
// client chose not to hash.
//
// # String to sign and signature
//
//	StringToSign = "SDK-HMAC-SHA256" + "\n" + X-Sdk-Date + "\n" + hex(SHA256(CanonicalRequest))
//	Signature    = hex(HMAC-SHA256(key = secret key, data = StringToSign))
//
// # Invariants kept by Verify
//
//   - x-sdk-date must be among the signed headers, so the time cannot be
//     replaced without breaking the signature;
//   - the signing time must lie within maxSkew of the server clock, in either
//     direction, bounding how long a captured request can be replayed;
//   - the header set covered is the one the request names, not one the
//     server picks, because SDKs sign different sets;
//   - a declared X-Sdk-Content-Sha256 other than UNSIGNED-PAYLOAD must equal
//     the hash of the body actually received;
//   - signatures are compared in constant time.
//
// # Verifying on a server
//
// Parse the Authorization header with ParseAuthorization, look up the secret
// of auth.AccessKey, read the whole body (bounded) and call Verify with the
// current time and a skew of 15 minutes. Pass the body bytes exactly as
// received, nil when there are none, and give handlers a fresh reader over
// the same bytes.
//
// Handlers read the query through r.URL.Query(): a bare key "?a" is a="",
// the same parameter as "?a=". Verify rejects a query holding ';' or an
// invalid escape rather than let url.ParseQuery drop the pair, so the
// parameters it checked are exactly those a handler sees.
//
// The host line uses r.Host. Behind a proxy that rewrites Host, restore the
// client's Host before verifying, or clients that sign host will fail.
//
// UNSIGNED-PAYLOAD leaves the body unauthenticated; the Go SDK sends it for
// any Content-Type that is not JSON or BSON. Routes that need body integrity
// should refuse it.
//
// The scheme has no nonce: within the skew window a captured request can be
// replayed verbatim. Only TLS keeps it from being captured.
package sign
