package api

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/allot-dev/allot"
)

// The exports of the management API and the CLI: the ledger and the usage
// buckets as RFC 4180 CSV (encoding/csv: a field holding a comma, a quote
// or a line break is quoted, quotes doubled), written a page at a time.

// LedgerCSVHeader is the header row of a ledger export.
var LedgerCSVHeader = []string{"project_id", "seq", "resource_id", "at", "actor", "op", "amount_delta", "usage_delta",
	"held_delta", "idempotency_key", "reason", "ref", "user_id", "app_user_id"}

// LedgerCSV writes ledger entries as CSV rows.
type LedgerCSV struct{ w *csv.Writer }

// NewLedgerCSV writes the header row to w and returns the writer of rows.
func NewLedgerCSV(w io.Writer) (*LedgerCSV, error) {
	c := &LedgerCSV{csv.NewWriter(w)}
	c.w.Write(LedgerCSVHeader)
	c.w.Flush()
	return c, c.w.Error()
}

// Write writes one page of entries and flushes it.
func (c *LedgerCSV) Write(entries []allot.LedgerEntry) error {
	for _, e := range entries {
		c.w.Write([]string{e.ProjectID, strconv.FormatInt(e.Seq, 10), e.ResourceID, e.At.UTC().Format(time.RFC3339), e.Actor, string(e.Op),
			e.AmountDelta.String(), e.UsageDelta.String(), e.HeldDelta.String(), e.IdempotencyKey, e.Reason, e.Ref, e.UserID, e.AppUserID})
	}
	c.w.Flush()
	return c.w.Error()
}

// UsageCSVHeader is the header row of a usage export.
var UsageCSVHeader = []string{"start", "resource_type", "business_type", "sub_resource_type", "is_sub_resource", "charging_mode",
	"resource_source", "unit", "usage", "number"}

// WriteUsageCSV writes usage buckets as CSV with a header row.
func WriteUsageCSV(w io.Writer, buckets []allot.UsageBucket) error {
	c := csv.NewWriter(w)
	c.Write(UsageCSVHeader)
	for _, b := range buckets {
		c.Write([]string{b.Start.Format(time.RFC3339), b.ResourceType, string(b.BusinessType), string(b.SubResourceType),
			strconv.FormatBool(b.IsSubResource), string(b.ChargingMode), string(b.Source), string(b.Unit), b.Usage.String(), strconv.Itoa(b.Number)})
	}
	c.Flush()
	return c.Error()
}

// usageBucketJSON is a usage bucket on the wire.
type usageBucketJSON struct {
	Start           string         `json:"start"`
	ResourceType    string         `json:"resource_type"`
	BusinessType    string         `json:"business_type"`
	SubResourceType string         `json:"sub_resource_type,omitempty"`
	IsSubResource   bool           `json:"is_sub_resource"`
	ChargingMode    string         `json:"charging_mode"`
	ResourceSource  string         `json:"resource_source"`
	Unit            string         `json:"unit"`
	Usage           allot.Quantity `json:"usage"`
	Number          int            `json:"number"`
}

// EncodeUsage is the JSON body of a usage answer.
func EncodeUsage(f allot.UsageFilter, buckets []allot.UsageBucket) ([]byte, error) {
	out := struct {
		ProjectID string            `json:"project_id"`
		GroupBy   string            `json:"group_by"`
		Buckets   []usageBucketJSON `json:"buckets"`
	}{f.ProjectID, string(f.Group), make([]usageBucketJSON, 0, len(buckets))}
	for _, b := range buckets {
		out.Buckets = append(out.Buckets, usageBucketJSON{b.Start.Format(time.RFC3339), b.ResourceType, string(b.BusinessType),
			string(b.SubResourceType), b.IsSubResource, string(b.ChargingMode), string(b.Source), string(b.Unit), b.Usage, b.Number})
	}
	return json.Marshal(out)
}

// ParseUsageQuery reads the query of GET /admin/v1/usage: project_id
// (required), from, to, group_by (day or hour, default day) and format
// (json or csv, default json).
func ParseUsageQuery(rawQuery string) (f allot.UsageFilter, format string, err error) {
	q, err := parseQuery(rawQuery)
	if err != nil {
		return f, "", err
	}
	if f.ProjectID, err = q.id("project_id"); err == nil && f.ProjectID == "" {
		err = allot.Invalid("project_id", "is required")
	}
	if err == nil {
		f.From, err = q.time("from")
	}
	if err == nil {
		f.To, err = q.time("to")
	}
	var group allot.UsageGroup
	if err == nil {
		group, err = enumValue(q, "group_by", []allot.UsageGroup{allot.GroupDay, allot.GroupHour})
	}
	if f.Group = group; f.Group == "" {
		f.Group = allot.GroupDay
	}
	if err == nil {
		format, err = exportFormat(q)
	}
	return f, format, err
}

func exportFormat(q query) (string, error) {
	format, err := enumValue(q, "format", []string{"json", "csv"})
	if format == "" {
		format = "json"
	}
	return format, err
}

// ParseLedgerExport reads GET /admin/v1/ledger's format (json or csv) beside
// ParseLedgerQuery's parameters.
func ParseLedgerExport(rawQuery string) (allot.LedgerQuery, string, error) {
	lq, err := ParseLedgerQuery(rawQuery)
	if err != nil {
		return lq, "", err
	}
	q, err := parseQuery(rawQuery)
	if err != nil {
		return lq, "", err
	}
	format, err := exportFormat(q)
	return lq, format, err
}

// csvContentType is the media type of every CSV answer (RFC 4180, with the
// header row).
const csvContentType = "text/csv; charset=utf-8; header=present"

// handleLedgerCSV streams a project's ledger as CSV: the first page is read
// before the header goes out, so a refusal is still a JSON error; a page
// that fails after that cuts the answer short (logged), which a CSV reader
// sees as a truncated last record or a missing tail.
func (s *Server) handleLedgerCSV(w http.ResponseWriter, r *http.Request, actor allot.Actor, lq allot.LedgerQuery) {
	var out *LedgerCSV
	err := s.cfg.Service.EachLedgerPage(r.Context(), actor, lq, func(entries []allot.LedgerEntry) error {
		if out == nil {
			w.Header().Set("Content-Type", csvContentType)
			w.WriteHeader(http.StatusOK)
			var err error
			if out, err = NewLedgerCSV(w); err != nil {
				return err
			}
		}
		if err := out.Write(entries); err != nil {
			return err
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		return nil
	})
	switch {
	case err != nil && out == nil:
		s.writeError(w, r, err)
	case err != nil:
		s.logger.Error("ledger export cut short", "request_id", requestIDFrom(r.Context()), "error", err.Error())
	case out == nil: // no entries: the header alone
		w.Header().Set("Content-Type", csvContentType)
		w.WriteHeader(http.StatusOK)
		NewLedgerCSV(w)
	}
}

// handleUsage serves GET /admin/v1/usage.
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	f, format, err := ParseUsageQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buckets, err := s.cfg.Service.Usage(r.Context(), actor, s.cfg.Store, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if format == "csv" {
		w.Header().Set("Content-Type", csvContentType)
		w.WriteHeader(http.StatusOK)
		WriteUsageCSV(w, buckets)
		return
	}
	body, err := EncodeUsage(f, buckets)
	s.writeEncoded(w, r, body, err)
}
