package sign

import "time"

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
