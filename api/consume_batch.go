package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/allot-dev/allot"
)

// Batch ingestion: POST /admin/v1/consume:batch takes up to
// allot.MaxConsumeBatch consumes, and `allot consume --batch FILE` the same
// events as JSON Lines. Each event is decoded by DecodeConsumeRequest, the
// decoder of a single consume, so a batch event accepts exactly what
// POST /admin/v1/consume accepts; an event that does not decode is refused
// alone, with the reason.

// DecodeConsumeBatch decodes the body of POST /admin/v1/consume:batch:
// {"events": [consume, ...]}. The body as a whole is refused only when it is
// not such an object; each event that is not a valid consume becomes a
// refused event.
func DecodeConsumeBatch(body []byte) ([]allot.ConsumeEvent, error) {
	var b struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return nil, err
	}
	if b.Events == nil {
		return nil, allot.Invalid("events", "is required")
	}
	return consumeEvents(b.Events), nil
}

// DecodeConsumeLines decodes a batch given as JSON Lines: one consume per
// line; blank lines are skipped.
func DecodeConsumeLines(body []byte) []allot.ConsumeEvent {
	var raws []json.RawMessage
	for line := range bytes.Lines(body) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			raws = append(raws, line)
		}
	}
	return consumeEvents(raws)
}

func consumeEvents(raws []json.RawMessage) []allot.ConsumeEvent {
	events := make([]allot.ConsumeEvent, len(raws))
	for i, raw := range raws {
		events[i].Request, events[i].Refused = DecodeConsumeRequest(raw)
		if events[i].Refused != nil {
			// Name the event's key in its outcome when the line has one.
			var k struct {
				Key string `json:"idempotency_key"`
			}
			if json.Unmarshal(raw, &k) == nil {
				events[i].Request.IdempotencyKey = k.Key
			}
		}
	}
	return events
}

// consumeOutcome is one event's line of a batch answer.
type consumeOutcome struct {
	Index          int    `json:"index"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Outcome is applied, replayed or refused.
	Outcome    string         `json:"outcome"`
	ResourceID string         `json:"resource_id,omitempty"`
	Usage      allot.Quantity `json:"usage,omitzero"` // the package's usage after the consume
	EntrySeq   int64          `json:"entry_seq,omitempty"`
	ErrorCode  string         `json:"error_code,omitempty"`
	ErrorMsg   string         `json:"error_msg,omitempty"`
}

// EncodeConsumeBatch is the body of a batch answer: every event's outcome,
// in the batch's order, and how many had each.
func EncodeConsumeBatch(events []allot.ConsumeEvent, outs []allot.ConsumeOutcome) ([]byte, error) {
	var body struct {
		Applied  int              `json:"applied"`
		Replayed int              `json:"replayed"`
		Refused  int              `json:"refused"`
		Results  []consumeOutcome `json:"results"`
	}
	body.Results = make([]consumeOutcome, len(outs))
	for i, o := range outs {
		line := consumeOutcome{Index: i, IdempotencyKey: events[i].Request.IdempotencyKey}
		switch {
		case o.Err != nil:
			line.Outcome, line.ErrorCode, line.ErrorMsg = "refused", AdminErrorCode(o.Err), allot.ErrorMessageOf(o.Err)
			body.Refused++
		case o.Result.Replayed:
			line.Outcome = "replayed"
			body.Replayed++
		default:
			line.Outcome = "applied"
			body.Applied++
		}
		if o.Err == nil {
			line.ResourceID, line.Usage = o.Result.Resource.ResourceID, o.Result.Resource.Usage
			if len(o.Result.Entries) > 0 {
				line.EntrySeq = o.Result.Entries[0].Seq
			}
		}
		body.Results[i] = line
	}
	return json.Marshal(body)
}

func (s *Server) handleConsumeBatch(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	events, ok := decoded(s, w, r, DecodeConsumeBatch)
	if !ok {
		return
	}
	outs, err := s.cfg.Service.ConsumeBatch(r.Context(), actor, events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i, o := range outs {
		switch {
		case o.Err != nil:
			s.cfg.Observer.ConsumeOutcome(string(allot.ErrorCodeOf(o.Err)))
			if allot.ErrorCodeOf(o.Err) == allot.EINTERNAL {
				s.logger.LogAttrs(r.Context(), slog.LevelError, "internal error in a consume batch",
					slog.String("request_id", requestIDFrom(r.Context())), slog.Int("index", i), slog.String("error", o.Err.Error()))
			}
		case o.Result.Replayed:
			s.cfg.Observer.ConsumeOutcome("replayed")
		default:
			s.cfg.Observer.ConsumeOutcome("accepted")
		}
	}
	body, err := EncodeConsumeBatch(events, outs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, http.StatusOK, body)
}
