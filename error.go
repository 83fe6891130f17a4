package allot

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an Error. Transport layers map codes to wire status
// and error codes in exactly one place; anything without a code is internal.
type ErrorCode string

const (
	EINVALID         ErrorCode = "invalid"           // a parameter or input is malformed or out of range
	EUNAUTHENTICATED ErrorCode = "unauthenticated"   // credentials missing, unknown, wrong or expired
	ESIGEXPIRED      ErrorCode = "signature_expired" // the request's signing time is too far from the server clock
	EFORBIDDEN       ErrorCode = "forbidden"         // a valid credential used on another project
	ENOTFOUND        ErrorCode = "not_found"         // the addressed entity does not exist
	ECONFLICT        ErrorCode = "conflict"          // the entity exists already, or a uniqueness rule is broken
	ERATELIMIT       ErrorCode = "rate_limited"      // too many requests for one credential
	EINTERNAL        ErrorCode = "internal"          // anything else; its details are never shown to clients
)

// Error is allot's one error type: a stable code, a message that is safe to
// show to the caller (it names the parameter and the reason), and the wrapped
// cause for logs.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, user-safe message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports that parameter param is unacceptable and why.
func Invalid(param, reasonFormat string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf("%s: %s", param, fmt.Sprintf(reasonFormat, args...))}
}

// ErrorCodeOf returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessageOf returns the user-safe message of err. Errors without a code
// are internal and get a generic message: their text may hold internals.
func ErrorMessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}
