package sign

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// pair is one decoded query parameter.
type pair struct{ k, v string }

// canon holds the scratch space of one canonicalization. It is pooled
// because the server canonicalizes every request and the buffers would
// otherwise be the bulk of its allocations.
type canon struct {
	buf   []byte
	pairs []pair
}

var canonPool = sync.Pool{New: func() any {
	return &canon{buf: make([]byte, 0, 1024), pairs: make([]pair, 0, 16)}
}}

func getCanon() *canon { return canonPool.Get().(*canon) }

func putCanon(c *canon) {
	// A request with huge headers or query must not pin its buffers.
	if cap(c.buf) > 64<<10 || cap(c.pairs) > 256 {
		return
	}
	clear(c.pairs) // drop references to the request's strings
	c.buf, c.pairs = c.buf[:0], c.pairs[:0]
	canonPool.Put(c)
}

// build writes the canonical request of r into c.buf. signed is the header
// list in the order it appears in the Authorization header; payloadHash is
// the last line.
func (c *canon) build(r *http.Request, signed []string, payloadHash []byte) error {
	b := append(c.buf[:0], r.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, r.URL.Path)
	b = append(b, '\n')
	var err error
	if b, err = c.appendCanonicalQuery(b, r.URL.RawQuery); err != nil {
		c.buf = b
		return err
	}
	b = append(b, '\n')
	b = appendCanonicalHeaders(b, r, signed)
	b = append(b, '\n')
	for i, name := range signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	c.buf = append(b, payloadHash...)
	return nil
}

// appendCanonicalURI escapes every byte of the decoded path but '/', which
// is what splitting on '/', escaping each segment and rejoining amounts to.
func appendCanonicalURI(b []byte, path string) []byte {
	start := len(b)
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' {
			b = append(b, '/')
		} else {
			b = appendEscapedByte(b, c)
		}
	}
	if len(b) == start || b[len(b)-1] != '/' {
		b = append(b, '/')
	}
	return b
}

// appendCanonicalQuery decodes raw the way url.ParseQuery does ('+' is a
// space, '&' separates pairs, a bare key has an empty value) so that the
// parameters signed are exactly those a handler reads from r.URL.Query().
// Where ParseQuery would silently drop a pair (bad escape, ';'), this fails
// instead: a pair the signature covered but the handler never sees, or the
// reverse, must not pass.
func (c *canon) appendCanonicalQuery(b []byte, raw string) ([]byte, error) {
	ps := c.pairs[:0]
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		if strings.IndexByte(kv, ';') >= 0 {
			c.pairs = ps
			return b, malformed("query contains ';', which is not a parameter separator")
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			c.pairs = ps
			return b, malformed("query contains an invalid percent escape")
		}
		ps = append(ps, pair{k, v})
	}
	// Sorting (key, value) pairs equals the SDKs' sort of keys and then of
	// each key's values. Decoded bytes are compared, never escaped ones:
	// escaping does not preserve order.
	slices.SortFunc(ps, func(x, y pair) int {
		if d := strings.Compare(x.k, y.k); d != 0 {
			return d
		}
		return strings.Compare(x.v, y.v)
	})
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendEscaped(b, p.k)
		b = append(b, '=')
		b = appendEscaped(b, p.v)
	}
	c.pairs = ps
	return b, nil
}

func appendCanonicalHeaders(b []byte, r *http.Request, signed []string) []byte {
	for _, name := range signed {
		if name == "host" {
			b = appendHeaderLine(b, name, hostOf(r))
			continue
		}
		vals := r.Header[headerKey(name)]
		if len(vals) > 1 {
			// Several values: one line each, sorted. Copy first, the
			// request's own header order must not change.
			var small [8]string
			sorted := append(small[:0], vals...)
			for i := range sorted {
				sorted[i] = strings.TrimSpace(sorted[i])
			}
			slices.Sort(sorted)
			vals = sorted
		}
		for _, v := range vals {
			b = appendHeaderLine(b, name, v)
		}
	}
	return b
}

func appendHeaderLine(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = append(b, strings.TrimSpace(value)...)
	return append(b, '\n')
}

// hostOf is the Host a server sees: r.Host on the server, and on a client
// r.Host when set (it overrides the URL), else the URL's.
func hostOf(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil {
		return r.URL.Host
	}
	return ""
}

// knownKeys spares CanonicalMIMEHeaderKey's allocation for the names the
// SDKs sign on every request.
var knownKeys = map[string]string{
	"x-sdk-date":           "X-Sdk-Date",
	"user-agent":           "User-Agent",
	"x-project-id":         "X-Project-Id",
	"x-domain-id":          "X-Domain-Id",
	"content-type":         "Content-Type",
	"x-sdk-content-sha256": "X-Sdk-Content-Sha256",
	"x-security-token":     "X-Security-Token",
	"x-language":           "X-Language",
}

func headerKey(lower string) string {
	if k, ok := knownKeys[lower]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(lower)
}

// shouldEscape reports whether c is outside the unreserved set kept as is.
func shouldEscape(c byte) bool {
	return !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '~' || c == '.')
}

const upperHex = "0123456789ABCDEF"

func appendEscapedByte(b []byte, c byte) []byte {
	if shouldEscape(c) {
		return append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return append(b, c)
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = appendEscapedByte(b, s[i])
	}
	return b
}
