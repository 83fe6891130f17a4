package allot

import (
	"encoding/json"
	"strconv"
	"time"
)

// storedAnswerV1 is the answer an idempotency record keeps, as JSON. Like
// the fingerprint it is persisted, so its shape is its own and frozen: the
// field tags below never change with the domain types or the management
// API's wire format. Its tags are those release 1 wrote (the JSON of
// OpResult then), so one type reads the answers of both releases.
type storedAnswerV1 struct {
	Resource   storedResourceV1    `json:"resource"`
	Assignment *storedAssignmentV1 `json:"assignment,omitempty"`
	Entries    []storedEntryV1     `json:"entries"`
	// Split was added with split consumes; answers without it decode as
	// one package's.
	Split []storedResourceV1 `json:"split,omitempty"`
}

type storedAssetV1 struct {
	AssetID   string `json:"asset_id"`
	AssetName string `json:"asset_name,omitempty"`
}

type storedResourceV1 struct {
	ProjectID       string         `json:"project_id"`
	ResourceID      string         `json:"resource_id"`
	OrderID         string         `json:"order_id,omitempty"`
	BoundAsset      *storedAssetV1 `json:"bound_asset,omitempty"`
	ExpireTime      time.Time      `json:"resource_expire_time,omitzero"`
	ResourceType    string         `json:"resource_type"`
	BusinessType    string         `json:"business_type"`
	SubResourceType string         `json:"sub_resource_type,omitempty"`
	IsSubResource   bool           `json:"is_sub_resource"`
	ChargingMode    string         `json:"charging_mode"`
	Source          string         `json:"resource_source"`
	Amount          Quantity       `json:"amount"`
	Usage           Quantity       `json:"usage"`
	Status          int            `json:"status"`
	Unit            string         `json:"unit"`
	Removed         bool           `json:"removed,omitempty"`
	Seq             int64          `json:"seq"`
	Version         int64          `json:"version"`
	// Added with reservations and burn-down; absent in earlier answers,
	// where both were 0.
	Priority int      `json:"priority,omitempty"`
	Held     Quantity `json:"held,omitempty"`
}

type storedAssignmentV1 struct {
	RecordID          string    `json:"assignment_record_id"`
	SPProjectID       string    `json:"sp_project_id"`
	CustomerProjectID string    `json:"customer_project_id"`
	ResourceSpecCode  string    `json:"resource_spec_code"`
	ChargingMode      string    `json:"charging_mode"`
	ResourceNum       Quantity  `json:"resource_num"`
	ResourceUsedNum   Quantity  `json:"resource_used_num"`
	AllocateTime      time.Time `json:"resource_allocate_time"`
	ExpireTime        time.Time `json:"resource_expire_time"`
	SPResourceID      string    `json:"sp_resource_id,omitempty"`
	Seq               int64     `json:"seq"`
	Version           int64     `json:"version"`
}

type storedEntryV1 struct {
	ProjectID      string    `json:"project_id"`
	Seq            int64     `json:"seq"`
	ResourceID     string    `json:"resource_id"`
	At             time.Time `json:"at"`
	Actor          string    `json:"actor"`
	Op             string    `json:"op"`
	AmountDelta    Quantity  `json:"amount_delta"`
	UsageDelta     Quantity  `json:"usage_delta"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Ref            string    `json:"ref,omitempty"`
	// Added with reservations and user attribution.
	HeldDelta Quantity `json:"held_delta,omitempty"`
	UserID    string   `json:"user_id,omitempty"`
	AppUserID string   `json:"app_user_id,omitempty"`
}

func storeResource(r Resource) storedResourceV1 {
	s := storedResourceV1{ProjectID: r.ProjectID, ResourceID: r.ResourceID, OrderID: r.OrderID, ExpireTime: r.ExpireTime,
		ResourceType: r.ResourceType, BusinessType: string(r.BusinessType), SubResourceType: string(r.SubResourceType),
		IsSubResource: r.IsSubResource, ChargingMode: string(r.ChargingMode), Source: string(r.Source), Amount: r.Amount,
		Usage: r.Usage, Status: int(r.Status), Unit: string(r.Unit), Removed: r.Removed, Seq: r.Seq, Version: r.Version,
		Priority: r.Priority, Held: r.Held}
	if r.BoundAsset != nil {
		s.BoundAsset = &storedAssetV1{AssetID: r.BoundAsset.AssetID, AssetName: r.BoundAsset.AssetName}
	}
	return s
}

func loadResource(r storedResourceV1) Resource {
	out := Resource{ProjectID: r.ProjectID, ResourceID: r.ResourceID, OrderID: r.OrderID, ExpireTime: r.ExpireTime,
		ResourceType: r.ResourceType, BusinessType: BusinessType(r.BusinessType), SubResourceType: SubResourceType(r.SubResourceType),
		IsSubResource: r.IsSubResource, ChargingMode: ChargingMode(r.ChargingMode), Source: ResourceSource(r.Source),
		Amount: r.Amount, Usage: r.Usage, Status: ResourceStatus(r.Status), Unit: Unit(r.Unit), Removed: r.Removed,
		Seq: r.Seq, Version: r.Version, Priority: r.Priority, Held: r.Held}
	if r.BoundAsset != nil {
		out.BoundAsset = &BoundAsset{AssetID: r.BoundAsset.AssetID, AssetName: r.BoundAsset.AssetName}
	}
	return out
}

func storeEntries(es []LedgerEntry) []storedEntryV1 {
	out := make([]storedEntryV1, len(es))
	for i, e := range es {
		out[i] = storedEntryV1{ProjectID: e.ProjectID, Seq: e.Seq, ResourceID: e.ResourceID, At: e.At, Actor: e.Actor,
			Op: string(e.Op), AmountDelta: e.AmountDelta, UsageDelta: e.UsageDelta, IdempotencyKey: e.IdempotencyKey,
			Reason: e.Reason, Ref: e.Ref, HeldDelta: e.HeldDelta, UserID: e.UserID, AppUserID: e.AppUserID}
	}
	return out
}

func loadEntries(es []storedEntryV1) []LedgerEntry {
	out := make([]LedgerEntry, len(es))
	for i, e := range es {
		out[i] = LedgerEntry{ProjectID: e.ProjectID, Seq: e.Seq, ResourceID: e.ResourceID, At: e.At, Actor: e.Actor,
			Op: Op(e.Op), AmountDelta: e.AmountDelta, UsageDelta: e.UsageDelta, IdempotencyKey: e.IdempotencyKey,
			Reason: e.Reason, Ref: e.Ref, HeldDelta: e.HeldDelta, UserID: e.UserID, AppUserID: e.AppUserID}
	}
	return out
}

func encodeAnswer(out OpResult) ([]byte, error) {
	a := storedAnswerV1{Resource: storeResource(out.Resource), Entries: storeEntries(out.Entries)}
	for _, r := range out.Split {
		a.Split = append(a.Split, storeResource(r))
	}
	if s := out.Assignment; s != nil {
		a.Assignment = &storedAssignmentV1{RecordID: s.RecordID, SPProjectID: s.SPProjectID, CustomerProjectID: s.CustomerProjectID,
			ResourceSpecCode: s.ResourceSpecCode, ChargingMode: string(s.ChargingMode), ResourceNum: s.ResourceNum,
			ResourceUsedNum: s.ResourceUsedNum, AllocateTime: s.AllocateTime, ExpireTime: s.ExpireTime, SPResourceID: s.SPResourceID,
			Seq: s.Seq, Version: s.Version}
	}
	if b, ok := appendAnswer(make([]byte, 0, 640), &a); ok {
		return b, nil
	}
	return json.Marshal(a)
}

func decodeAnswer(b []byte) (OpResult, error) {
	var a storedAnswerV1
	if err := json.Unmarshal(b, &a); err != nil {
		return OpResult{}, err
	}
	out := OpResult{Resource: loadResource(a.Resource), Entries: loadEntries(a.Entries)}
	for _, r := range a.Split {
		out.Split = append(out.Split, loadResource(r))
	}
	if s := a.Assignment; s != nil {
		out.Assignment = &Assignment{RecordID: s.RecordID, SPProjectID: s.SPProjectID, CustomerProjectID: s.CustomerProjectID,
			ResourceSpecCode: s.ResourceSpecCode, ChargingMode: ChargingMode(s.ChargingMode), ResourceNum: s.ResourceNum,
			ResourceUsedNum: s.ResourceUsedNum, AllocateTime: s.AllocateTime, ExpireTime: s.ExpireTime, SPResourceID: s.SPResourceID,
			Seq: s.Seq, Version: s.Version}
	}
	return out, nil
}

// appendAnswer appends the JSON of a, byte for byte what json.Marshal
// writes, for the common answer: one package without a bound asset or an
// assignment, every string printable ASCII that JSON and encoding/json's
// HTML escaping leave as it is, every time within years 0-9999. It reports
// false for anything else, and encodeAnswer then uses json.Marshal.
// FuzzAppendAnswer holds the two to the same bytes.
func appendAnswer(b []byte, a *storedAnswerV1) ([]byte, bool) {
	if a.Assignment != nil || len(a.Split) > 0 || a.Resource.BoundAsset != nil {
		return nil, false
	}
	w := answerWriter{b: b, ok: true}
	r := &a.Resource
	w.raw(`{"resource":{"project_id":`)
	w.str(r.ProjectID)
	w.raw(`,"resource_id":`)
	w.str(r.ResourceID)
	if r.OrderID != "" {
		w.raw(`,"order_id":`)
		w.str(r.OrderID)
	}
	if !r.ExpireTime.IsZero() {
		w.raw(`,"resource_expire_time":`)
		w.time(r.ExpireTime)
	}
	w.raw(`,"resource_type":`)
	w.str(r.ResourceType)
	w.raw(`,"business_type":`)
	w.str(r.BusinessType)
	if r.SubResourceType != "" {
		w.raw(`,"sub_resource_type":`)
		w.str(r.SubResourceType)
	}
	w.raw(`,"is_sub_resource":`)
	w.bool(r.IsSubResource)
	w.raw(`,"charging_mode":`)
	w.str(r.ChargingMode)
	w.raw(`,"resource_source":`)
	w.str(r.Source)
	w.raw(`,"amount":`)
	w.b = r.Amount.AppendDecimal(w.b)
	w.raw(`,"usage":`)
	w.b = r.Usage.AppendDecimal(w.b)
	w.raw(`,"status":`)
	w.b = strconv.AppendInt(w.b, int64(r.Status), 10)
	w.raw(`,"unit":`)
	w.str(r.Unit)
	if r.Removed {
		w.raw(`,"removed":true`)
	}
	w.raw(`,"seq":`)
	w.b = strconv.AppendInt(w.b, r.Seq, 10)
	w.raw(`,"version":`)
	w.b = strconv.AppendInt(w.b, r.Version, 10)
	if r.Priority != 0 {
		w.raw(`,"priority":`)
		w.b = strconv.AppendInt(w.b, int64(r.Priority), 10)
	}
	if r.Held != 0 {
		w.raw(`,"held":`)
		w.b = r.Held.AppendDecimal(w.b)
	}
	w.raw(`},"entries":`)
	w.entries(a.Entries)
	w.raw(`}`)
	return w.b, w.ok
}

// entries writes es as json.Marshal writes a []storedEntryV1.
func (w *answerWriter) entries(es []storedEntryV1) {
	if es == nil {
		w.raw(`null`)
		return
	}
	w.raw(`[`)
	for i := range es {
		e := &es[i]
		if i > 0 {
			w.raw(`,`)
		}
		w.raw(`{"project_id":`)
		w.str(e.ProjectID)
		w.raw(`,"seq":`)
		w.b = strconv.AppendInt(w.b, e.Seq, 10)
		w.raw(`,"resource_id":`)
		w.str(e.ResourceID)
		w.raw(`,"at":`)
		w.time(e.At)
		w.raw(`,"actor":`)
		w.str(e.Actor)
		w.raw(`,"op":`)
		w.str(e.Op)
		w.raw(`,"amount_delta":`)
		w.b = e.AmountDelta.AppendDecimal(w.b)
		w.raw(`,"usage_delta":`)
		w.b = e.UsageDelta.AppendDecimal(w.b)
		w.opt(`,"idempotency_key":`, e.IdempotencyKey)
		w.opt(`,"reason":`, e.Reason)
		w.opt(`,"ref":`, e.Ref)
		if e.HeldDelta != 0 {
			w.raw(`,"held_delta":`)
			w.b = e.HeldDelta.AppendDecimal(w.b)
		}
		w.opt(`,"user_id":`, e.UserID)
		w.opt(`,"app_user_id":`, e.AppUserID)
		w.raw(`}`)
	}
	w.raw(`]`)
}

type answerWriter struct {
	b  []byte
	ok bool
}

func (w *answerWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *answerWriter) bool(v bool) {
	if v {
		w.raw("true")
	} else {
		w.raw("false")
	}
}

// str writes s quoted, or marks w failed when s holds a byte that
// json.Marshal would escape.
func (w *answerWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			w.ok = false
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

func (w *answerWriter) opt(key, s string) {
	if s != "" {
		w.raw(key)
		w.str(s)
	}
}

// time writes t as time.Time's MarshalJSON does, RFC 3339 with the
// fraction it has; outside years 0-9999, or with an offset that is not
// whole minutes, it marks w failed (MarshalJSON refuses or differs there).
func (w *answerWriter) time(t time.Time) {
	if y := t.Year(); y < 0 || y > 9999 {
		w.ok = false
		return
	}
	if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		w.ok = false
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}
