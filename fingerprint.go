package allot

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// The fingerprint of a request is what an idempotency record remembers of
// it: a retry with the same key must send the same fingerprint. It is
// persisted and outlives every release, so it is an explicit, versioned
// encoding: "v1:" and the hex SHA-256 of a canonical form written field by
// field below. The field names and their order are fixed here, not taken
// from the request types or their JSON tags, so that a new field or a
// renamed tag does not turn every stored key into a conflict. A new field
// that changes what a request means gets a new version, never a change to
// v1. TestFingerprintGolden pins the bytes.

// fingerprintVersion prefixes every fingerprint this release writes; a
// record without it was written by release 1 (see legacy.go).
const fingerprintVersion = "v1:"

// canon writes a canonical form: one line per field, name=length:value, so
// that no value can be mistaken for another field.
type canon []byte

func newCanon(kind string) canon { return append(canon(nil), kind+"\n"...) }

func (c canon) str(name, v string) canon {
	c = append(c, name...)
	c = append(c, '=')
	c = strconv.AppendInt(c, int64(len(v)), 10)
	c = append(c, ':')
	c = append(c, v...)
	return append(c, '\n')
}

func (c canon) int(name string, v int64) canon { return c.str(name, strconv.FormatInt(v, 10)) }

func (c canon) bool(name string, v bool) canon { return c.str(name, strconv.FormatBool(v)) }

// time writes Unix seconds, "" for the zero time: requests carry whole
// seconds.
func (c canon) time(name string, t time.Time) canon {
	if t.IsZero() {
		return c.str(name, "")
	}
	return c.int(name, t.Unix())
}

// optQuantity writes "" for an absent quantity, its units otherwise.
func (c canon) optQuantity(name string, q *Quantity) canon {
	if q == nil {
		return c.str(name, "")
	}
	return c.int(name, int64(*q))
}

// Fields added to a request after its canonical form was first written are
// written only when set, after the original fields: a request that does not
// use them keeps the fingerprint it always had, so the records of earlier
// releases still match their retries, and one that does is told apart.

// optStr writes a later field when it is not empty.
func (c canon) optStr(name, v string) canon {
	if v == "" {
		return c
	}
	return c.str(name, v)
}

// optTrue writes a later field when it is true.
func (c canon) optTrue(name string, v bool) canon {
	if !v {
		return c
	}
	return c.bool(name, v)
}

// optInt writes a later field when it is given.
func (c canon) optInt(name string, v *int) canon {
	if v == nil {
		return c
	}
	return c.int(name, int64(*v))
}

func (c canon) fingerprint() string {
	sum := sha256.Sum256(c)
	return fingerprintVersion + hex.EncodeToString(sum[:])
}

func (req PackageRequest) canonical() canon {
	return newCanon("package").
		str("project_id", req.ProjectID).
		str("resource_id", req.ResourceID).
		str("resource_source", string(req.Source)).
		str("order_id", req.OrderID).
		str("resource_type", req.ResourceType).
		str("business_type", string(req.BusinessType)).
		str("sub_resource_type", string(req.SubResourceType)).
		bool("is_sub_resource", req.IsSubResource).
		str("charging_mode", string(req.ChargingMode)).
		str("unit", string(req.Unit)).
		int("amount", int64(req.Amount)).
		time("expire_time", req.ExpireTime).
		str("idempotency_key", req.IdempotencyKey).
		optInt("priority", req.Priority)
}

func (req AllocateRequest) canonical() canon {
	return newCanon("allocate").
		str("sp_project_id", req.SPProjectID).
		str("customer_project_id", req.CustomerProjectID).
		str("resource_spec_code", req.ResourceSpecCode).
		int("amount", int64(req.Amount)).
		str("sp_resource_id", req.SPResourceID).
		time("expire_time", req.ExpireTime).
		str("idempotency_key", req.IdempotencyKey)
}

func (req ReclaimRequest) canonical() canon {
	kind := "reclaim"
	if req.Cancel {
		kind = "cancel"
	}
	return newCanon(kind).
		str("project_id", req.ProjectID).
		str("resource_id", req.ResourceID).
		optQuantity("amount", req.Amount).
		str("reason", req.Reason).
		str("idempotency_key", req.IdempotencyKey)
}

func (req ConsumeRequest) canonical() canon {
	return newCanon("consume").
		str("project_id", req.ProjectID).
		str("resource_id", req.ResourceID).
		str("resource_type", req.ResourceType).
		int("amount", int64(req.Amount)).
		str("idempotency_key", req.IdempotencyKey).
		optTrue("allow_split", req.AllowSplit).
		optStr("user_id", req.UserID).
		optStr("app_user_id", req.AppUserID)
}

func (req ReserveRequest) canonical() canon {
	return newCanon("reserve").
		str("project_id", req.ProjectID).
		str("resource_id", req.ResourceID).
		str("resource_type", req.ResourceType).
		int("amount", int64(req.Amount)).
		int("ttl", req.TTL).
		bool("allow_split", req.AllowSplit).
		str("user_id", req.UserID).
		str("app_user_id", req.AppUserID).
		str("idempotency_key", req.IdempotencyKey)
}

func (req CommitRequest) canonical() canon {
	return newCanon("commit").
		str("reservation_id", req.ReservationID).
		int("amount", int64(req.Amount)).
		str("idempotency_key", req.IdempotencyKey)
}

func (req ReleaseRequest) canonical() canon {
	return newCanon("release").
		str("reservation_id", req.ReservationID)
}

func (req RefundRequest) canonical() canon {
	return newCanon("refund").
		str("project_id", req.ProjectID).
		str("resource_id", req.ResourceID).
		int("amount", int64(req.Amount)).
		str("reason", req.Reason).
		str("idempotency_key", req.IdempotencyKey)
}
