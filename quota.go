package allot

import (
	"encoding/json"
	"fmt"
	"strings"
)

// QuotaFields are the quota fields of the SDK's UserQuotaDetail, in its
// order. Each counts the usage of one kind of package (QuotaField).
var QuotaFields = []string{
	"modeling_count_2d_model", "modeling_count_2d_model_flexus",
	"video_time_2d_model", "video_time_flexus_2d_model",
	"voice_clone_basic", "voice_clone_middle", "voice_clone_advance", "voice_clone_flexus",
}

// Unlimited is the quota value that sets no limit.
const Unlimited = -1

// UserQuota is the quota of one platform user of a tenant: for each quota
// field, the units (in the unit of the packages it counts) the user may use,
// or Unlimited. A field the quota does not set is unlimited.
type UserQuota struct {
	UserID string           `json:"user_id"`
	Limits map[string]int64 `json:"limits"`
}

// ServiceConfigs are a tenant's service configurations. Sub-account
// control (SeparatelyControlled) is what makes user quotas bind.
type ServiceConfigs struct {
	SeparatelyControlled bool   `json:"separately_controlled"`
	SubAccountType       string `json:"sub_account_type,omitempty"`
	AIMarkOn             bool   `json:"is_ai_mark_on"`
}

// QuotaField returns the quota field that a package's usage counts against,
// or "" when no quota field covers it:
//
//   - a Flexus sub-resource counts against the field of its
//     sub_resource_type (the three sub-resource types are quota fields);
//   - VIDEO_2D against video_time_2d_model, MODELING_2D against
//     modeling_count_2d_model;
//   - VOICE_CLONE against voice_clone_advance when its resource type
//     contains ADVANCE, voice_clone_middle when it contains MIDDLE
//     (case-insensitively), else voice_clone_basic.
func QuotaField(resourceType string, business BusinessType, sub SubResourceType) string {
	if sub != "" {
		return string(sub)
	}
	switch business {
	case "VIDEO_2D":
		return "video_time_2d_model"
	case "MODELING_2D":
		return "modeling_count_2d_model"
	case "VOICE_CLONE":
		return "voice_clone_" + VoiceLevel(resourceType)
	}
	return ""
}

// VoiceLevel is the edition of a voice package: advance, middle or basic,
// from its resource type (see QuotaField).
func VoiceLevel(resourceType string) string {
	t := strings.ToUpper(resourceType)
	switch {
	case strings.Contains(t, "ADVANCE"):
		return "advance"
	case strings.Contains(t, "MIDDLE"):
		return "middle"
	}
	return "basic"
}

// ValidateUserQuota checks a quota as a request gives it: every limit is
// Unlimited or between 0 and 2147483647, and every field is known.
func ValidateUserQuota(q UserQuota) error {
	if err := validateSettingKey("user_id", q.UserID); err != nil {
		return err
	}
	for f, v := range q.Limits {
		if !contains(QuotaFields, f) {
			return Invalid("quota."+f, "is not a quota field")
		}
		if v < Unlimited || v > 2147483647 {
			return Invalid("quota."+f, "must be -1 (unlimited) or between 0 and 2147483647")
		}
	}
	return nil
}

// quotaUsage sums a user's charges per quota field; with held, the units
// held for the user's open reservations count too.
func quotaUsage(rows []ChargeRow, held bool) map[string]Quantity {
	out := make(map[string]Quantity)
	for _, r := range rows {
		f := QuotaField(r.ResourceType, r.BusinessType, r.SubResourceType)
		if f == "" {
			continue
		}
		out[f] += r.Usage
		if held {
			out[f] += r.Held
		}
	}
	return out
}

// QuotaUsage returns what a user has used per quota field: the net usage of
// the user's consume, commit and refund entries.
func QuotaUsage(rows []ChargeRow) map[string]Quantity { return quotaUsage(rows, false) }

// checkQuota refuses a draw of parts for userID that would take the user
// past a quota field's limit. It applies only while the tenant's
// sub-account control is on and the user has a quota. With held, the
// user's open holds count as used (a reservation); without, only the usage
// (a consume, or the settled part of a commit, whose own hold is ending).
func checkQuota(tx Tx, projectID, userID string, parts []part, held bool) error {
	if userID == "" || len(parts) == 0 {
		return nil
	}
	var cfg ServiceConfigs
	if ok, err := txSetting(tx, projectID, SettingServiceConfigs, "", &cfg); err != nil || !ok || !cfg.SeparatelyControlled {
		return err
	}
	var q UserQuota
	if ok, err := txSetting(tx, projectID, SettingUserQuota, userID, &q); err != nil || !ok {
		return err
	}
	add := make(map[string]Quantity)
	for _, p := range parts {
		if f := QuotaField(p.Resource.ResourceType, p.Resource.BusinessType, p.Resource.SubResourceType); f != "" {
			add[f] += p.Amount
		}
	}
	var used map[string]Quantity
	for f, amount := range add {
		limit, set := q.Limits[f]
		if !set || limit == Unlimited {
			continue
		}
		if used == nil {
			rows, err := tx.UserCharges(projectID, userID)
			if err != nil {
				return err
			}
			used = quotaUsage(rows, held)
		}
		if used[f]+amount > Quantity(limit*QuantityScale) {
			return Errorf(ECONFLICT, "user %s would pass its %s quota: %s used of %d, %s more asked", userID, f, used[f], limit, amount)
		}
	}
	return nil
}

// txSetting decodes a setting read in tx into v; ok is false if there is none.
func txSetting(tx Tx, projectID string, kind SettingKind, name string, v any) (bool, error) {
	s, ok, err := tx.Setting(projectID, kind, name)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(s.Value, v); err != nil {
		return false, fmt.Errorf("setting %s/%s of %s: %w", kind, name, projectID, err)
	}
	return true, nil
}

// checkCommitQuota checks the settled part of a commit against the user's
// quota, spread over the holds as closeReservation spreads it.
func checkCommitQuota(tx Tx, v Reservation, settled Quantity) error {
	if v.UserID == "" || settled == 0 {
		return nil
	}
	var parts []part
	for _, h := range v.Holds {
		take := min(h.Amount, settled)
		settled -= take
		if take == 0 {
			break
		}
		r, err := tx.Resource(v.ProjectID, h.ResourceID)
		if err != nil {
			return err
		}
		parts = append(parts, part{Resource: r, Amount: take})
	}
	return checkQuota(tx, v.ProjectID, v.UserID, parts, false)
}
