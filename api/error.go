package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/allot-dev/allot"
)

// wireError is how one allot.ErrorCode looks on the wire: the HTTP status and
// the error code of the real MetaStudio service (or of its API gateway, for
// authentication), so client code written against the real service works.
type wireError struct {
	status int
	code   string
	prefix string // prepended to the message
}

// errorTable is the one place domain error codes become wire errors.
var errorTable = map[allot.ErrorCode]wireError{
	allot.EINVALID:         {http.StatusBadRequest, "MSS.00000003", "Invalid parameter: "},
	allot.EUNAUTHENTICATED: {http.StatusUnauthorized, "APIG.0301", "Incorrect IAM authentication information: "},
	allot.ESIGEXPIRED:      {http.StatusUnauthorized, "APIG.0303", "Incorrect IAM authentication information: "},
	// A valid credential used on another project's URL. The real service
	// names the mismatch this way; 403 because the caller is known but not
	// allowed there.
	allot.EFORBIDDEN:    {http.StatusForbidden, "MSS.00010009", ""},
	allot.ENOTFOUND:     {http.StatusNotFound, "APIG.0101", ""},
	allot.ECONFLICT:     {http.StatusConflict, "MSS.00000003", "Conflict: "},
	allot.ERATELIMIT:    {http.StatusTooManyRequests, "APIG.0308", ""},
	allot.EINTERNAL:     {http.StatusInternalServerError, "MSS.00000004", ""},
	errMethodNotAllowed: {http.StatusMethodNotAllowed, "APIG.0101", ""},
}

// adminErrorCodes are the management plane's error codes: it is allot's
// own API, so its codes are allot's own.
var adminErrorCodes = map[allot.ErrorCode]string{
	allot.EINVALID:         "ALLOT.INVALID",
	allot.EUNAUTHENTICATED: "ALLOT.UNAUTHENTICATED",
	allot.ESIGEXPIRED:      "ALLOT.UNAUTHENTICATED",
	allot.EFORBIDDEN:       "ALLOT.FORBIDDEN",
	allot.ENOTFOUND:        "ALLOT.NOT_FOUND",
	allot.ECONFLICT:        "ALLOT.CONFLICT",
	allot.ERATELIMIT:       "ALLOT.RATE_LIMITED",
	allot.EINTERNAL:        "ALLOT.INTERNAL",
	errMethodNotAllowed:    "ALLOT.METHOD_NOT_ALLOWED",
}

// errMethodNotAllowed is a transport-only code: the path exists, the method does not.
const errMethodNotAllowed allot.ErrorCode = "method_not_allowed"

// errorBody is the documented error shape. The SDK surfaces error_code only
// when error_msg is present too, so both are always set.
type errorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

// writeError writes err in the documented JSON shape. Internal errors are
// logged with the request id and shown to the client only as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := allot.ErrorCodeOf(err)
	wire, ok := errorTable[code]
	if !ok {
		wire, code = errorTable[allot.EINTERNAL], allot.EINTERNAL
	}
	msg := allot.ErrorMessageOf(err)
	if code == allot.EINTERNAL {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestIDFrom(r.Context())), slog.String("error", err.Error()))
	}
	if errors.Is(err, errBodyTooLarge) {
		wire.status = http.StatusRequestEntityTooLarge
	}
	if s.admin {
		wire.code, wire.prefix = adminErrorCodes[code], ""
	}
	setErrorCode(r.Context(), wire.code)
	s.writeJSON(w, wire.status, errorBody{ErrorCode: wire.code, ErrorMsg: wire.prefix + msg})
}

var errBodyTooLarge = &allot.Error{Code: allot.EINVALID, Message: "body: larger than the limit"}

// AdminErrorCode returns the management plane's error code of err
// (ALLOT.INVALID, ALLOT.NOT_FOUND, ...), as its error bodies carry it; the
// CLI prints the same code.
func AdminErrorCode(err error) string {
	if code, ok := adminErrorCodes[allot.ErrorCodeOf(err)]; ok {
		return code
	}
	return adminErrorCodes[allot.EINTERNAL]
}
