package allot

import (
	"unicode/utf8"
)

// Limits of the free-text fields, in bytes. Every store keeps what these
// allow, so a value is refused here, the same way on every store, or not at
// all.
const (
	// MaxKeyLen bounds an idempotency key, for every operation.
	MaxKeyLen = 128
	// MaxReasonLen bounds the free text of a reason.
	MaxReasonLen = 1024
	// MaxNameLen bounds a project's name and an asset's name.
	MaxNameLen = 255
)

// validateText checks a free-text field: valid UTF-8, at most max bytes,
// and no control characters (C0, DEL, C1), except tab and newline when
// multiline. A NUL in particular is refused: PostgreSQL cannot store it
// in text, and no field of allot means anything by it.
func validateText(param, s string, max int, multiline bool) error {
	if len(s) > max {
		return Invalid(param, "is longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return Invalid(param, "is not valid UTF-8")
	}
	for _, c := range s {
		if c < 0x20 || 0x7f <= c && c < 0xa0 {
			if multiline && (c == '\n' || c == '\t') {
				continue
			}
			return Invalid(param, "contains the control character %U", c)
		}
	}
	return nil
}

// validateKey checks an idempotency key: required, at most MaxKeyLen
// bytes, no control characters.
func validateKey(key string) error {
	if key == "" {
		return Invalid("idempotency_key", "is required")
	}
	if len(key) > MaxKeyLen {
		return Invalid("idempotency_key", "is longer than %d characters", MaxKeyLen)
	}
	return validateText("idempotency_key", key, MaxKeyLen, false)
}

// validateReason checks a reason: free text of up to MaxReasonLen bytes
// that may span lines (tabs and newlines are kept), no other control
// characters.
func validateReason(reason string, required bool) error {
	if required && reason == "" {
		return Invalid("reason", "is required")
	}
	return validateText("reason", reason, MaxReasonLen, true)
}

// validateName checks a one-line name of up to MaxNameLen bytes.
func validateName(param, name string) error {
	return validateText(param, name, MaxNameLen, false)
}

func validatePositive(param string, q Quantity) error {
	if q <= 0 {
		return Invalid(param, "must be greater than 0")
	}
	if q > MaxQuantity {
		return Invalid(param, "is above the maximum 2147483647")
	}
	return nil
}
