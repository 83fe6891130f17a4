package allot

import (
	"context"
	"strings"
	"time"
)

// SettingKind names one family of a tenant's stored settings.
type SettingKind string

// The kinds of tenant settings. Do not rename them: they are stored.
const (
	SettingServiceConfigs SettingKind = "service_configs" // one per tenant (Name ""): sub-account control, AI mark
	SettingUserConfig     SettingKind = "user_config"     // one per tenant (Name ""): the tenant's collections
	SettingAgreement      SettingKind = "agreement"       // one per agreement (Name = agreement type)
	SettingUserQuota      SettingKind = "user_quota"      // one per platform user (Name = user_id)
	SettingDurationCfg    SettingKind = "duration_cfg"    // one per tenant (Name ""): voice training durations
)

// Setting is one stored tenant setting: a JSON document under a kind and a
// name, written whole. Settings hold no units: what they change about
// consumption (quotas, sub-account control) is read inside the ledger's
// transactions (Tx.Setting).
type Setting struct {
	ProjectID string
	Kind      SettingKind
	Name      string
	Value     []byte // JSON
	UpdatedAt time.Time
}

// UsageQuery selects the usage entries of one project (consume, commit and
// refund), oldest first, a page at a time.
type UsageQuery struct {
	ProjectID string
	From, To  *time.Time // optional bounds on At: From inclusive, To exclusive
	UserID    string     // optional: only entries attributed to this user
	AfterSeq  int64      // only entries after this ledger seq
	Limit     int        // at most this many (1..10000)
}

// UsageEntry is a ledger entry that changed a usage, with the attributes of
// the package it changed.
type UsageEntry struct {
	Seq             int64
	At              time.Time
	Op              Op
	ResourceID      string
	UsageDelta      Quantity
	UserID          string
	AppUserID       string
	ResourceType    string
	BusinessType    BusinessType
	SubResourceType SubResourceType
	IsSubResource   bool
	ChargingMode    ChargingMode
	Source          ResourceSource
	Unit            Unit
}

// ChargeRow is what one user's entries put on a project's packages of one
// kind: the net usage (consume, commit and refund) and the units held for
// the user's open reservations.
type ChargeRow struct {
	ResourceType    string
	BusinessType    BusinessType
	SubResourceType SubResourceType
	Usage, Held     Quantity
}

// TenantSettings is what a store keeps for the tenant-side configuration
// APIs, and the usage reads of the data-analysis APIs. Every method takes
// the project id into its query.
type TenantSettings interface {
	// PutSetting writes a setting whole (insert or replace), stamping
	// UpdatedAt with the store's time when it is zero. ENOTFOUND if the
	// project does not exist.
	PutSetting(ctx context.Context, s Setting) error
	// InsertSetting adds a setting like PutSetting. ECONFLICT if it exists.
	InsertSetting(ctx context.Context, s Setting) error
	// FindSetting returns one setting. ENOTFOUND if there is none.
	FindSetting(ctx context.Context, projectID string, kind SettingKind, name string) (Setting, error)
	// ListSettings returns one page of a project's settings of a kind,
	// ordered by name, and the count of all of them; with name set, only
	// that one (a page of at most one).
	ListSettings(ctx context.Context, projectID string, kind SettingKind, name string, p Page) ([]Setting, int, error)
	// DeleteSetting removes a setting. ENOTFOUND if there is none.
	DeleteSetting(ctx context.Context, projectID string, kind SettingKind, name string) error
	// UsageEntries returns up to q.Limit consume, commit and refund entries
	// of q.ProjectID after q.AfterSeq, in seq order, with each package's
	// attributes. EINVALID if q names no project or its limit is out of
	// range.
	UsageEntries(ctx context.Context, q UsageQuery) ([]UsageEntry, error)
	// UserCharges returns what a user's entries put on the project's
	// packages, per resource type, business type and sub-resource type.
	UserCharges(ctx context.Context, projectID, userID string) ([]ChargeRow, error)
}

// validateSettingKey checks a setting's name (a user id, a notice or an
// agreement type).
func validateSettingKey(param, name string) error {
	if name == "" {
		return Invalid(param, "is required")
	}
	if err := validateText(param, name, MaxUserIDLen, false); err != nil {
		return err
	}
	if strings.ContainsAny(name, "/?#%") {
		return Invalid(param, "must not contain '/', '?', '#' or '%%'")
	}
	return nil
}

// ValidateUsageQuery checks what every store's UsageEntries requires.
func ValidateUsageQuery(q UsageQuery) error {
	if q.ProjectID == "" {
		return Invalid("project_id", "is required")
	}
	if q.Limit < 1 || q.Limit > 10000 {
		return Invalid("limit", "must be between 1 and 10000")
	}
	return nil
}
