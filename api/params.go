package api

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot"
)

// Query parameter rules shared by both tenant APIs. Unknown parameters are
// ignored, as the real service does; a parameter given twice is refused
// rather than guessed at.
const (
	defaultLimit = 10
	maxLimit     = 100
	maxOffset    = 2147483647
	maxListItems = 64 // values in one comma-separated parameter
)

// query wraps decoded query parameters with typed, validating getters that
// name the parameter in every error.
type query struct{ values url.Values }

func parseQuery(raw string) (query, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return query{}, allot.Invalid("query", "is not a valid URL query: %v", err)
	}
	return query{v}, nil
}

// get returns the single value of name and whether it was present.
func (q query) get(name string) (string, bool, error) {
	vs, ok := q.values[name]
	if !ok {
		return "", false, nil
	}
	if len(vs) != 1 {
		return "", true, allot.Invalid(name, "is given %d times; give it once", len(vs))
	}
	return vs[0], true, nil
}

// optional returns the value of name, refusing an empty one: an empty value
// is a client bug, not a request for "no filter".
func (q query) optional(name string) (string, bool, error) {
	v, ok, err := q.get(name)
	if err != nil || !ok {
		return "", ok, err
	}
	if v == "" {
		return "", true, allot.Invalid(name, "is empty")
	}
	return v, true, nil
}

func (q query) integer(name string, def, lo, hi int) (int, error) {
	v, ok, err := q.optional(name)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, allot.Invalid(name, "%q is not an integer", truncate(v))
	}
	if n < lo || n > hi {
		return 0, allot.Invalid(name, "%d is out of range %d..%d", n, lo, hi)
	}
	return n, nil
}

// page reads limit (1..100, default 10) and offset (0..2147483647, default 0).
func (q query) page() (allot.Page, error) {
	limit, err := q.integer("limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return allot.Page{}, err
	}
	offset, err := q.integer("offset", 0, 0, maxOffset)
	if err != nil {
		return allot.Page{}, err
	}
	return allot.Page{Limit: limit, Offset: offset}, nil
}

// list splits a comma-separated value; items are trimmed of spaces and none
// may be empty.
func (q query) list(name string) ([]string, error) {
	v, ok, err := q.optional(name)
	if err != nil || !ok {
		return nil, err
	}
	items := strings.Split(v, ",")
	if len(items) > maxListItems {
		return nil, allot.Invalid(name, "has %d values; at most %d", len(items), maxListItems)
	}
	for i, item := range items {
		items[i] = strings.TrimSpace(item)
		if items[i] == "" {
			return nil, allot.Invalid(name, "has an empty value in its comma-separated list")
		}
	}
	return items, nil
}

func enumList[T ~string](q query, name string, values []T) ([]T, error) {
	items, err := q.list(name)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(items))
	for i, item := range items {
		if out[i], err = allot.ParseEnum(name, item, values); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func enumValue[T ~string](q query, name string, values []T) (T, error) {
	v, ok, err := q.optional(name)
	if err != nil || !ok {
		return "", err
	}
	return allot.ParseEnum(name, v, values)
}

func (q query) id(name string) (string, error) {
	v, ok, err := q.optional(name)
	if err != nil || !ok {
		return "", err
	}
	if err := allot.ValidateID(name, v); err != nil {
		return "", err
	}
	return v, nil
}

func (q query) time(name string) (*time.Time, error) {
	v, ok, err := q.optional(name)
	if err != nil || !ok {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, allot.Invalid(name, "%q is not an RFC 3339 time such as 2021-01-10T08:43:17Z", truncate(v))
	}
	return &t, nil
}

// truncate keeps echoed input short in error messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// parseResourceQuery reads every query parameter of "Viewing Tenant Resources".
func parseResourceQuery(raw string) (allot.ResourceFilter, allot.Page, error) {
	var f allot.ResourceFilter
	q, err := parseQuery(raw)
	if err != nil {
		return f, allot.Page{}, err
	}
	p, err := q.page()
	if err != nil {
		return f, p, err
	}
	// resource_source is mandatory. The SDK sends it even when the caller
	// left it unset, as an empty value ("?resource_source"): that is the
	// same mistake as leaving it out, and gets the same answer.
	if v, _, err := q.get("resource_source"); err != nil {
		return f, p, err
	} else if v == "" {
		return f, p, allot.Invalid("resource_source", "is required: one or more of PURCHASED, SP_ALLOCATED, ADMIN_ALLOCATED, comma-separated")
	}
	if f.Sources, err = enumList(q, "resource_source", allot.ResourceSources); err != nil {
		return f, p, err
	}
	if f.Businesses, err = enumList(q, "business", allot.BusinessTypes); err != nil {
		return f, p, err
	}
	if f.ResourceTypes, err = q.resourceTypes(); err != nil {
		return f, p, err
	}
	if f.ResourceID, err = q.id("resource_id"); err != nil {
		return f, p, err
	}
	if f.OrderID, err = q.id("order_id"); err != nil {
		return f, p, err
	}
	if f.ChargingMode, err = enumValue(q, "charging_mode", allot.ChargingModes); err != nil {
		return f, p, err
	}
	if f.SubResource, err = enumValue(q, "sub_resource", allot.SubResourceTypes); err != nil {
		return f, p, err
	}
	if err := q.expiryWindow(&f); err != nil {
		return f, p, err
	}
	if _, ok, _ := q.get("status"); ok {
		n, err := q.integer("status", 0, 0, 1)
		if err != nil {
			return f, p, err
		}
		st := allot.ResourceStatus(n)
		f.Status = &st
	}
	return f, p, nil
}

// resourceTypes reads the comma-separated resource types of "resource".
func (q query) resourceTypes() ([]string, error) {
	types, err := q.list("resource")
	if err != nil {
		return nil, err
	}
	for _, rt := range types {
		if err := allot.ValidateID("resource", rt); err != nil {
			return nil, err
		}
	}
	return types, nil
}

// expiryWindow reads resource_expire_start_time and resource_expire_end_time.
func (q query) expiryWindow(f *allot.ResourceFilter) (err error) {
	if f.ExpireStart, err = q.time("resource_expire_start_time"); err != nil {
		return err
	}
	if f.ExpireEnd, err = q.time("resource_expire_end_time"); err != nil {
		return err
	}
	if f.ExpireStart != nil && f.ExpireEnd != nil && f.ExpireStart.After(*f.ExpireEnd) {
		return allot.Invalid("resource_expire_start_time", "is after resource_expire_end_time")
	}
	return nil
}

// parseAssignQuery reads the query parameters of "Querying Tenant Resource Details".
func parseAssignQuery(raw string) (allot.Page, error) {
	q, err := parseQuery(raw)
	if err != nil {
		return allot.Page{}, err
	}
	return q.page()
}
