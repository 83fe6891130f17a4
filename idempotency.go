package allot

import (
	"fmt"
	"strings"
)

// idem names the idempotency scope of one operation. The key a client sends
// is only unique within the scope: Key holds the operation kind and, for an
// operation on one resource, the resource id, so the same client key used
// for a reclaim and for a grant, or on two resources, names two different
// operations. Project is the project the record is kept in.
type idem struct {
	Project string
	Key     string
	// Param and Shown name the key as the client sent it, for messages:
	// "idempotency_key" (when Param is empty) or a purchase's "order_id".
	Param   string
	Shown   string
	Request request
	// LegacyKey is where release 1 kept the record of this operation, when
	// it differs from Key; LegacyInScope tells whether a record found there
	// belongs to this operation's scope (release 1's scope was wider).
	LegacyKey     string
	LegacyInScope func(fingerprint string) bool
}

// scopedKey is kind:key, or kind:resourceID:key for an operation on one
// resource. Ids never contain ':', so two scopes never share a key.
func scopedKey(kind, resourceID, key string) string {
	if resourceID == "" {
		return kind + ":" + key
	}
	return kind + ":" + resourceID + ":" + key
}

// once makes op idempotent within its scope: the first call runs op and
// records its answer; a later call with the same key and the same request
// returns that answer and changes nothing; the same key with another
// request is refused. The caller has authorized the actor already: a
// replay must never answer someone who may not make the request.
//
// A record written by release 1 (a fingerprint without a version prefix)
// is compared the way release 1 wrote it, with the request's frozen
// release-1 JSON.
func once(tx Tx, id idem, op func() (OpResult, error)) (OpResult, error) {
	return onceAs(tx, id, op, encodeAnswer, decodeAnswer, func(o *OpResult) { o.Replayed = true })
}

// onceAs is once for an operation whose answer is of type T, stored with
// its own frozen encoding.
func onceAs[T any](tx Tx, id idem, op func() (T, error), encode func(T) ([]byte, error), decode func([]byte) (T, error), replayed func(*T)) (T, error) {
	var zero T
	rec, ok, err := tx.Idempotency(id.Project, id.Key)
	if err != nil {
		return zero, err
	}
	if !ok && id.LegacyKey != "" {
		if rec, ok, err = tx.Idempotency(id.Project, id.LegacyKey); err != nil {
			return zero, err
		}
		ok = ok && (id.LegacyInScope == nil || id.LegacyInScope(rec.Fingerprint))
	}
	if ok {
		same := rec.Fingerprint == id.Request.canonical().fingerprint()
		if !strings.HasPrefix(rec.Fingerprint, fingerprintVersion) {
			fp, err := legacyFingerprint(id.Request.legacy())
			if err != nil {
				return zero, err
			}
			same = rec.Fingerprint == fp
		}
		if !same {
			param := id.Param
			if param == "" {
				param = "idempotency_key"
			}
			return zero, Errorf(ECONFLICT, "%s %q was used for a different request", param, id.Shown)
		}
		out, err := decode(rec.Result)
		if err != nil {
			return zero, fmt.Errorf("stored answer for idempotency key %q: %w", id.Shown, err)
		}
		replayed(&out)
		return out, nil
	}
	return run(tx, id, op, encode)
}

// onceFresh runs op and records its answer under id's key without looking
// the key up: SaveIdempotency refuses a key recorded already (ECONFLICT).
// It is the second half of onceAs. Called alone, for an operation whose
// key is most likely new, its caller must roll back on any error and then
// run onceAs, which gives a replay or a refusal its proper answer; an
// onceFresh that succeeds is exactly an onceAs that found no record.
func onceFresh[T any](tx Tx, id idem, op func() (T, error), encode func(T) ([]byte, error)) (T, error) {
	if id.LegacyKey != "" {
		var zero T
		return zero, fmt.Errorf("idempotency key %q: an operation with a legacy key looks it up first", id.Shown)
	}
	return run(tx, id, op, encode)
}

// run runs op and records its answer under id's key.
func run[T any](tx Tx, id idem, op func() (T, error), encode func(T) ([]byte, error)) (T, error) {
	var zero T
	out, err := op()
	if err != nil {
		return zero, err
	}
	result, err := encode(out)
	if err != nil {
		return zero, err
	}
	return out, tx.SaveIdempotency(IdempotencyRecord{ProjectID: id.Project, Key: id.Key,
		Fingerprint: id.Request.canonical().fingerprint(), Result: result, CreatedAt: tx.Now()})
}

// request is what an idempotent operation's request gives the record: its
// canonical form and its release-1 shape.
type request interface {
	canonical() canon
	legacy() any
}
