package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/allot-dev/allot"
)

// The management plane's request bodies, decoded once for every caller: the
// HTTP handlers and the CLI (which calls the service directly) use the same
// functions, so both accept and refuse the same bodies with the same
// messages.

// DecodePackageRequest decodes the body of POST /admin/v1/packages.
func DecodePackageRequest(body []byte) (allot.PackageRequest, error) {
	var b struct {
		ProjectID       string                `json:"project_id"`
		ResourceID      string                `json:"resource_id"`
		Source          allot.ResourceSource  `json:"resource_source"`
		OrderID         string                `json:"order_id"`
		ResourceType    string                `json:"resource_type"`
		BusinessType    allot.BusinessType    `json:"business_type"`
		SubResourceType allot.SubResourceType `json:"sub_resource_type"`
		IsSubResource   bool                  `json:"is_sub_resource"`
		ChargingMode    allot.ChargingMode    `json:"charging_mode"`
		Unit            allot.Unit            `json:"unit"`
		Amount          number                `json:"amount"`
		ExpireTime      string                `json:"resource_expire_time"`
		IdempotencyKey  string                `json:"idempotency_key"`
		Priority        *int                  `json:"priority"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return allot.PackageRequest{}, err
	}
	req := allot.PackageRequest{ProjectID: b.ProjectID, ResourceID: b.ResourceID, Source: b.Source, OrderID: b.OrderID,
		ResourceType: b.ResourceType, BusinessType: b.BusinessType, SubResourceType: b.SubResourceType,
		IsSubResource: b.IsSubResource, ChargingMode: b.ChargingMode, Unit: b.Unit, IdempotencyKey: b.IdempotencyKey,
		Priority: b.Priority}
	var err error
	if req.Amount, err = b.Amount.quantity("amount", true); err != nil {
		return allot.PackageRequest{}, err
	}
	if req.ExpireTime, err = optionalTime("resource_expire_time", b.ExpireTime); err != nil {
		return allot.PackageRequest{}, err
	}
	return req, nil
}

// DecodeAllocateRequest decodes the body of POST /admin/v1/allocations.
func DecodeAllocateRequest(body []byte) (allot.AllocateRequest, error) {
	var b struct {
		SPProjectID       string `json:"sp_project_id"`
		CustomerProjectID string `json:"customer_project_id"`
		ResourceSpecCode  string `json:"resource_spec_code"`
		Amount            number `json:"amount"`
		SPResourceID      string `json:"sp_resource_id"`
		ExpireTime        string `json:"resource_expire_time"`
		IdempotencyKey    string `json:"idempotency_key"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return allot.AllocateRequest{}, err
	}
	req := allot.AllocateRequest{SPProjectID: b.SPProjectID, CustomerProjectID: b.CustomerProjectID,
		ResourceSpecCode: b.ResourceSpecCode, SPResourceID: b.SPResourceID, IdempotencyKey: b.IdempotencyKey}
	var err error
	if req.Amount, err = b.Amount.quantity("amount", true); err != nil {
		return allot.AllocateRequest{}, err
	}
	if req.ExpireTime, err = optionalTime("resource_expire_time", b.ExpireTime); err != nil {
		return allot.AllocateRequest{}, err
	}
	return req, nil
}

// consumeBody is the body of POST /admin/v1/consume as sent.
type consumeBody struct {
	ProjectID      string `json:"project_id"`
	ResourceID     string `json:"resource_id"`
	ResourceType   string `json:"resource_type"`
	Amount         number `json:"amount"`
	IdempotencyKey string `json:"idempotency_key"`
	AllowSplit     bool   `json:"allow_split"`
	UserID         string `json:"user_id"`
	AppUserID      string `json:"app_user_id"`
}

// DecodeConsumeRequest decodes the body of POST /admin/v1/consume. The
// common shape goes the fast way (fastConsumeBody); anything else through
// decodeJSON, which gives every refusal its message.
func DecodeConsumeRequest(body []byte) (allot.ConsumeRequest, error) {
	var b consumeBody
	if !fastConsumeBody(body, &b) {
		b = consumeBody{}
		if err := decodeJSON(body, &b); err != nil {
			return allot.ConsumeRequest{}, err
		}
	}
	amount, err := b.Amount.quantity("amount", true)
	if err != nil {
		return allot.ConsumeRequest{}, err
	}
	return allot.ConsumeRequest{ProjectID: b.ProjectID, ResourceID: b.ResourceID, ResourceType: b.ResourceType,
		Amount: amount, IdempotencyKey: b.IdempotencyKey, AllowSplit: b.AllowSplit,
		Attribution: allot.Attribution{UserID: b.UserID, AppUserID: b.AppUserID}}, nil
}

// DecodeReserveRequest decodes the body of POST /admin/v1/reservations.
// ttl is in whole seconds. The common shape goes the fast way
// (fastReserveBody); anything else through decodeJSON.
func DecodeReserveRequest(body []byte) (allot.ReserveRequest, error) {
	var b reserveBody
	if !fastReserveBody(body, &b) {
		b = reserveBody{}
		if err := decodeJSON(body, &b); err != nil {
			return allot.ReserveRequest{}, err
		}
	}
	return b.request()
}

func (b *reserveBody) request() (allot.ReserveRequest, error) {
	amount, err := b.Amount.quantity("amount", true)
	if err != nil {
		return allot.ReserveRequest{}, err
	}
	if b.TTL == nil {
		return allot.ReserveRequest{}, allot.Invalid("ttl", "is required: the seconds the hold lasts unless committed or released")
	}
	return allot.ReserveRequest{ProjectID: b.ProjectID, ResourceID: b.ResourceID, ResourceType: b.ResourceType,
		Amount: amount, TTL: *b.TTL, IdempotencyKey: b.IdempotencyKey, AllowSplit: b.AllowSplit,
		Attribution: allot.Attribution{UserID: b.UserID, AppUserID: b.AppUserID}}, nil
}

// DecodeCommitRequest decodes the body of a commit of reservation id, the
// common shape the fast way (fastCommitBody).
func DecodeCommitRequest(id string, body []byte) (allot.CommitRequest, error) {
	var b commitBody
	if !fastCommitBody(body, &b) {
		b = commitBody{}
		if err := decodeJSON(body, &b); err != nil {
			return allot.CommitRequest{}, err
		}
	}
	return b.request(id)
}

func (b *commitBody) request(id string) (allot.CommitRequest, error) {
	amount, err := b.Amount.quantity("amount", true)
	if err != nil {
		return allot.CommitRequest{}, err
	}
	return allot.CommitRequest{ReservationID: id, Amount: amount, IdempotencyKey: b.IdempotencyKey}, nil
}

// DecodeReleaseRequest decodes the body of a release of reservation id:
// empty, or an empty JSON object.
func DecodeReleaseRequest(id string, body []byte) (allot.ReleaseRequest, error) {
	if len(bytes.TrimSpace(body)) > 0 {
		var b struct{}
		if err := decodeJSON(body, &b); err != nil {
			return allot.ReleaseRequest{}, err
		}
	}
	return allot.ReleaseRequest{ReservationID: id}, nil
}

// reclaimBody is the body of reclaim, cancel and refund.
type reclaimBody struct {
	Amount         number `json:"amount"`
	Reason         string `json:"reason"`
	IdempotencyKey string `json:"idempotency_key"`
}

// DecodeReclaimRequest decodes the body of a reclaim (or, with cancel, of a
// cancel) of the resource ref names. Without an amount everything unused is
// taken back.
func DecodeReclaimRequest(ref allot.ResourceRef, body []byte, cancel bool) (allot.ReclaimRequest, error) {
	var b reclaimBody
	if err := decodeJSON(body, &b); err != nil {
		return allot.ReclaimRequest{}, err
	}
	req := allot.ReclaimRequest{ResourceRef: ref, Reason: b.Reason, IdempotencyKey: b.IdempotencyKey, Cancel: cancel}
	if b.Amount.set {
		q, err := b.Amount.quantity("amount", true)
		if err != nil {
			return allot.ReclaimRequest{}, err
		}
		req.Amount = &q
	}
	return req, nil
}

// DecodeRefundRequest decodes the body of a refund of the resource ref names.
func DecodeRefundRequest(ref allot.ResourceRef, body []byte) (allot.RefundRequest, error) {
	var b reclaimBody
	if err := decodeJSON(body, &b); err != nil {
		return allot.RefundRequest{}, err
	}
	amount, err := b.Amount.quantity("amount", true)
	if err != nil {
		return allot.RefundRequest{}, err
	}
	return allot.RefundRequest{ResourceRef: ref, Amount: amount, Reason: b.Reason, IdempotencyKey: b.IdempotencyKey}, nil
}

// DecodeStatusRequest decodes the body of a freeze or an unfreeze: its reason.
func DecodeStatusRequest(body []byte) (reason string, err error) {
	var b struct {
		Reason string `json:"reason"`
	}
	err = decodeJSON(body, &b)
	return b.Reason, err
}

// DecodeBindAssetRequest decodes the body of PUT .../asset.
func DecodeBindAssetRequest(body []byte) (allot.BoundAsset, error) {
	var b allot.BoundAsset
	err := decodeJSON(body, &b)
	return b, err
}

// errNotObject answers a body that is valid JSON but no object, in words
// rather than in encoding/json's Go type names.
var errNotObject = allot.Invalid("body", "must be a JSON object")

// decodeJSON decodes body, one JSON object, into v, which points to a
// struct. Beyond encoding/json it refuses, naming the key: an unknown key
// (so a typo is not silently ignored), a key given twice (encoding/json
// keeps the last one, another parser the first), and a key that differs
// from a field only in case (encoding/json would match it to the field,
// another parser would not). Errors are allot EINVALID errors that name the
// key and never Go types.
func decodeJSON(body []byte, v any) error {
	if err := scanBody(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // the scan refuses them first; this is a second guard
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			param := te.Field
			if param == "" {
				param = "body"
			}
			return allot.Invalid(param, "must be %s, not a JSON %s", jsonKind(te.Type), te.Value)
		}
		var ae *allot.Error
		if errors.As(err, &ae) {
			return ae
		}
		return allot.Invalid("body", "is not a valid JSON request: %v", err)
	}
	return nil
}

// scanBody walks the JSON tokens of body alongside the Go type t, before
// anything is decoded, and refuses what encoding/json would accept silently.
func scanBody(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return allot.Invalid("body", "must be a JSON object; it is empty")
	} else if err != nil {
		return syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errNotObject
	}
	if err := scanObject(dec, t, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return allot.Invalid("body", "has more than one JSON value")
	}
	return nil
}

func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return allot.Invalid("body", "is not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return allot.Invalid("body", "is not valid JSON: it ends too soon")
	}
	return allot.Invalid("body", "is not valid JSON: %v", err)
}

// scanObject reads the members of an object whose '{' has been read, up to
// its '}'. t is the Go type it decodes into; nil when any key is acceptable
// (a map, a json.RawMessage, a type with its own UnmarshalJSON).
func scanObject(dec *json.Decoder, t reflect.Type, path string) error {
	fields := fieldsOf(t)
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		key, _ := tok.(string)
		name := path + key
		if seen[key] {
			return allot.Invalid(name, "is given more than once; give each key once")
		}
		seen[key] = true
		var ft reflect.Type
		if fields != nil {
			var ok bool
			if ft, ok = fields[key]; !ok {
				for f := range fields {
					if strings.EqualFold(f, key) {
						return allot.Invalid(name, "is not a known field (keys are case-sensitive: did you mean %q?)", path+f)
					}
				}
				return allot.Invalid(name, "is not a known field")
			}
		}
		if err := scanValue(dec, ft, name+"."); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return syntaxError(err)
	}
	return nil
}

func scanValue(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		return scanObject(dec, t, path)
	case '[':
		var elem reflect.Type
		if t = deref(t); t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && !customJSON(t) {
			elem = t.Elem()
		}
		for dec.More() {
			if err := scanValue(dec, elem, path); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return syntaxError(err)
		}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func customJSON(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}

// fieldsOf returns the JSON names of a struct type's fields and their
// types, or nil when t is not a struct decoded field by field.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	t = deref(t)
	if t == nil || t.Kind() != reflect.Struct || customJSON(t) {
		return nil
	}
	fields := make(map[string]reflect.Type)
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for f := range t.Fields() {
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && deref(f.Type).Kind() == reflect.Struct {
				add(deref(f.Type))
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
	}
	add(t)
	return fields
}

// jsonKind names what JSON value a Go type takes, for error messages.
func jsonKind(t reflect.Type) string {
	switch deref(t).Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	}
	return "another kind of value"
}

// number holds a quantity as sent, a JSON number or a decimal in a JSON
// string, so that quantity can convert it exactly and name the field in
// any error (encoding/json's own errors do not name it). It is the one
// reader of quantities in request bodies and import lines.
type number struct {
	text string
	set  bool // the key was present
	bad  bool // neither a number nor a string: null, true, an object, ...
}

func (n *number) UnmarshalJSON(b []byte) error {
	n.set = true
	switch {
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &n.text)
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		n.text = string(b)
	default:
		n.bad = true
	}
	return nil
}

// quantity converts n exactly, naming param in any error. An absent
// quantity is an error when required and 0 otherwise.
func (n number) quantity(param string, required bool) (allot.Quantity, error) {
	switch {
	case !n.set && required:
		return 0, allot.Invalid(param, "is required")
	case !n.set:
		return 0, nil
	case n.bad || n.text == "":
		return 0, allot.Invalid(param, "must be a number such as 12.5 or a decimal string such as \"12.5\"")
	}
	q, err := allot.ParseQuantity(n.text)
	if err != nil {
		return 0, allot.Invalid(param, "%v", err)
	}
	return q, nil
}

func optionalTime(param, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, allot.Invalid(param, "%q is not an RFC 3339 time", truncate(s))
	}
	return t.UTC().Truncate(time.Second), nil
}
