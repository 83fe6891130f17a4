package sign

import (
	"errors"
	"strconv"
	"strings"
)

const (
	// Algorithm is the scheme name that opens the Authorization header.
	Algorithm = "SDK-HMAC-SHA256"
	// DateFormat is the layout of X-Sdk-Date, always UTC.
	DateFormat = "20060102T150405Z"
	// HeaderDate carries the signing time.
	HeaderDate = "X-Sdk-Date"
	// HeaderContentSha256, when present, replaces the body hash in the
	// canonical request (UNSIGNED-PAYLOAD or a precomputed hex SHA-256).
	HeaderContentSha256 = "X-Sdk-Content-Sha256"
	// UnsignedPayload is the HeaderContentSha256 value meaning the body is
	// not covered by the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// HeaderAuthorization is where the signature travels.
	HeaderAuthorization = "Authorization"

	// MaxAuthorizationLen bounds the header so a hostile client cannot make
	// the server parse or canonicalize an arbitrarily large header list.
	MaxAuthorizationLen = 4096
	// MaxSignedHeaders bounds the number of names in SignedHeaders.
	MaxSignedHeaders = 64
)

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKey     string
	SignedHeaders []string // lowercase, in the order the client listed them
	Signature     string   // 64 hex digits
}

// String renders the header the way the official SDKs do.
func (a Authorization) String() string {
	return Algorithm + " Access=" + a.AccessKey + ", SignedHeaders=" +
		strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
}

// ParseAuthorization parses "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b,
// Signature=hex". Parameters may be separated by "," or ", " and come in any
// order; each must appear exactly once.
func ParseAuthorization(header string) (Authorization, error) {
	var a Authorization
	if len(header) > MaxAuthorizationLen {
		return a, errors.New("authorization header longer than " + strconv.Itoa(MaxAuthorizationLen) + " bytes")
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return a, errors.New("authorization header is empty")
	}
	alg, rest, ok := strings.Cut(header, " ")
	if alg != Algorithm {
		return a, errors.New("unsupported authorization algorithm " + strconv.Quote(alg) + ", want " + Algorithm)
	}
	if !ok {
		return a, errors.New("authorization header has no parameters after " + Algorithm)
	}
	var seenAccess, seenHeaders, seenSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // tolerates a trailing or doubled comma
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return a, errors.New("authorization parameter " + strconv.Quote(part) + " has no '='")
		}
		switch name {
		case "Access":
			if seenAccess {
				return a, errors.New("authorization has Access twice")
			}
			seenAccess = true
			if value == "" || strings.ContainsAny(value, " \t;") {
				return a, errors.New("authorization Access is empty or contains white space")
			}
			a.AccessKey = value
		case "SignedHeaders":
			if seenHeaders {
				return a, errors.New("authorization has SignedHeaders twice")
			}
			seenHeaders = true
			names, err := parseSignedHeaders(value)
			if err != nil {
				return a, err
			}
			a.SignedHeaders = names
		case "Signature":
			if seenSig {
				return a, errors.New("authorization has Signature twice")
			}
			seenSig = true
			if err := checkHexSignature(value); err != nil {
				return a, err
			}
			a.Signature = value
		default:
			return a, errors.New("unknown authorization parameter " + strconv.Quote(name))
		}
	}
	switch {
	case !seenAccess:
		return a, errors.New("authorization is missing Access")
	case !seenHeaders:
		return a, errors.New("authorization is missing SignedHeaders")
	case !seenSig:
		return a, errors.New("authorization is missing Signature")
	}
	return a, nil
}

// parseSignedHeaders splits "a;b;c". Names must be lowercase HTTP tokens:
// the SDKs lowercase them, and an uppercase name would be canonicalized
// differently by each SDK, so refusing it gives a clear error instead of a
// mismatch.
func parseSignedHeaders(value string) ([]string, error) {
	if value == "" {
		return nil, errors.New("authorization SignedHeaders is empty")
	}
	n := strings.Count(value, ";") + 1
	if n > MaxSignedHeaders {
		return nil, errors.New("authorization SignedHeaders lists more than " + strconv.Itoa(MaxSignedHeaders) + " headers")
	}
	names := make([]string, 0, n)
	for name := range strings.SplitSeq(value, ";") {
		if name == "" {
			return nil, errors.New("authorization SignedHeaders has an empty name")
		}
		for i := 0; i < len(name); i++ {
			if !isLowerToken(name[i]) {
				return nil, errors.New("authorization SignedHeaders name " + strconv.Quote(name) + " is not a lowercase header name")
			}
		}
		for _, prev := range names {
			if prev == name {
				return nil, errors.New("authorization SignedHeaders lists " + strconv.Quote(name) + " twice")
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// isLowerToken reports whether c may appear in a signed header name: an RFC
// 9110 token character other than an uppercase letter.
func isLowerToken(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func checkHexSignature(s string) error {
	if len(s) != 64 {
		return errors.New("authorization Signature must be 64 hex digits, got " + strconv.Itoa(len(s)) + " characters")
	}
	for i := 0; i < len(s); i++ {
		if unhex(s[i]) > 15 {
			return errors.New("authorization Signature is not hex: bad character at offset " + strconv.Itoa(i))
		}
	}
	return nil
}

// unhex returns the value of a hex digit, or 255 for anything else.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}
