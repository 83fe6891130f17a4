package allot

import (
	"encoding/json"
	"fmt"
)

// once makes op idempotent per (project, key): the first call runs op and
// records its answer; a later call with the same key and the same request
// returns that answer and changes nothing; the same key with another
// request is refused.
func once(tx Tx, projectID, key string, request any, op func() (OpResult, error)) (OpResult, error) {
	fp, err := json.Marshal(request)
	if err != nil {
		return OpResult{}, err
	}
	rec, ok, err := tx.Idempotency(projectID, key)
	if err != nil {
		return OpResult{}, err
	}
	if ok {
		if rec.Fingerprint != string(fp) {
			return OpResult{}, Errorf(ECONFLICT, "idempotency_key %q was used for a different request", key)
		}
		var out OpResult
		if err := json.Unmarshal(rec.Result, &out); err != nil {
			return OpResult{}, fmt.Errorf("stored answer for idempotency key %q: %w", key, err)
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
	return out, tx.SaveIdempotency(IdempotencyRecord{ProjectID: projectID, Key: key, Fingerprint: string(fp), Result: result, CreatedAt: tx.Now()})
}
