package allot

import (
	"encoding/json"
	"fmt"
)

// idem names the idempotency scope of one operation. The key a client sends
// is only unique within the scope: Key holds the operation kind and, for an
// operation on one resource, the resource id, so the same client key used
// for a reclaim and for a grant, or on two resources, names two different
// operations. Project is the project the record is kept in.
type idem struct {
	Project string
	Key     string
	// Shown is the key as the client sent it, for messages.
	Shown   string
	Request any
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
func once(tx Tx, id idem, op func() (OpResult, error)) (OpResult, error) {
	fp, err := json.Marshal(id.Request)
	if err != nil {
		return OpResult{}, err
	}
	rec, ok, err := tx.Idempotency(id.Project, id.Key)
	if err != nil {
		return OpResult{}, err
	}
	if !ok && id.LegacyKey != "" {
		if rec, ok, err = tx.Idempotency(id.Project, id.LegacyKey); err != nil {
			return OpResult{}, err
		}
		ok = ok && (id.LegacyInScope == nil || id.LegacyInScope(rec.Fingerprint))
	}
	if ok {
		if rec.Fingerprint != string(fp) {
			return OpResult{}, Errorf(ECONFLICT, "idempotency_key %q was used for a different request", id.Shown)
		}
		var out OpResult
		if err := json.Unmarshal(rec.Result, &out); err != nil {
			return OpResult{}, fmt.Errorf("stored answer for idempotency key %q: %w", id.Shown, err)
		}
		out.Replayed = true
		return out, nil
	}
	out, err := op()
	if err != nil {
		return OpResult{}, err
	}
	result, err := json.Marshal(out)
	if err != nil {
		return OpResult{}, err
	}
	return out, tx.SaveIdempotency(IdempotencyRecord{ProjectID: id.Project, Key: id.Key, Fingerprint: string(fp), Result: result, CreatedAt: tx.Now()})
}

// legacyField reads one string field of a release-1 fingerprint (the JSON
// of the request), to tell which scope the record belongs to.
func legacyField(fingerprint, field string) string {
	var m map[string]any
	if json.Unmarshal([]byte(fingerprint), &m) != nil {
		return ""
	}
	s, _ := m[field].(string)
	return s
}

func legacyBool(fingerprint, field string) bool {
	var m map[string]any
	if json.Unmarshal([]byte(fingerprint), &m) != nil {
		return false
	}
	b, _ := m[field].(bool)
	return b
}
