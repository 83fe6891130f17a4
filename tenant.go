package allot

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Tenants holds the rules of the tenant-side configuration APIs: service
// and user configurations, notices, agreements, user quotas, the tenant's
// own asset binding and the voice training views. Configuration is kept in
// the store's tenant settings; what moves units goes through the ledger.
type Tenants struct {
	Store  TenantStore
	Reader TenantReader
}

// TenantStore is what the tenant-side rules need of a store.
type TenantStore interface {
	TenantSettings
	Ledger
}

// getSetting decodes a setting into v; ok is false when there is none.
func (t *Tenants) getSetting(ctx context.Context, projectID string, kind SettingKind, name string, v any) (bool, error) {
	s, err := t.Store.FindSetting(ctx, projectID, kind, name)
	if ErrorCodeOf(err) == ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(s.Value, v)
}

func (t *Tenants) putSetting(ctx context.Context, projectID string, kind SettingKind, name string, v any, create bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s := Setting{ProjectID: projectID, Kind: kind, Name: name, Value: b}
	if create {
		return t.Store.InsertSetting(ctx, s)
	}
	return t.Store.PutSetting(ctx, s)
}

// ServiceConfigs returns a tenant's service configurations; a tenant that
// never set them has sub-account control off.
func (t *Tenants) ServiceConfigs(ctx context.Context, projectID string) (ServiceConfigs, error) {
	var c ServiceConfigs
	_, err := t.getSetting(ctx, projectID, SettingServiceConfigs, "", &c)
	return c, err
}

// ServiceConfigsPatch is an update of the service configurations: what is
// nil stays as it is.
type ServiceConfigsPatch struct {
	SeparatelyControlled *bool
	SubAccountType       *string
	AIMarkOn             *bool
}

// SubAccountTypes are the documented sub_account_type values.
var SubAccountTypes = []string{"IAM_USER"}

// UpdateServiceConfigs applies p and returns the result.
func (t *Tenants) UpdateServiceConfigs(ctx context.Context, projectID string, p ServiceConfigsPatch) (ServiceConfigs, error) {
	if p.SubAccountType != nil && *p.SubAccountType != "" && !slices.Contains(SubAccountTypes, *p.SubAccountType) {
		return ServiceConfigs{}, Invalid("sub_account_control_config.sub_account_type", "must be IAM_USER")
	}
	c, err := t.ServiceConfigs(ctx, projectID)
	if err != nil {
		return c, err
	}
	if p.SeparatelyControlled != nil {
		c.SeparatelyControlled = *p.SeparatelyControlled
	}
	if p.SubAccountType != nil {
		c.SubAccountType = *p.SubAccountType
	}
	if p.AIMarkOn != nil {
		c.AIMarkOn = *p.AIMarkOn
	}
	return c, t.putSetting(ctx, projectID, SettingServiceConfigs, "", c, false)
}

// Collections are a tenant's user configuration: ids by collection type.
type Collections map[string][]string

// CollectionTypes are the documented collection types.
var CollectionTypes = []string{"VOICE"}

// MaxCollectionIDs bounds the ids of one collection type.
const MaxCollectionIDs = 1000

func validateCollections(c Collections) error {
	for typ, ids := range c {
		if !slices.Contains(CollectionTypes, typ) {
			return Invalid("my_collections.collection_type", "must be VOICE")
		}
		for _, id := range ids {
			if err := ValidateID("my_collections.collection_ids", id); err != nil {
				return err
			}
		}
	}
	return nil
}

// UserConfiguration returns a tenant's collections (empty when none).
func (t *Tenants) UserConfiguration(ctx context.Context, projectID string) (Collections, error) {
	c := Collections{}
	_, err := t.getSetting(ctx, projectID, SettingUserConfig, "", &c)
	return c, err
}

// ChangeUserConfiguration adds (or, with remove, takes out) the ids of each
// collection type. An id already there is not added twice; removing one
// that is not there changes nothing. Ids keep the order they were added in.
func (t *Tenants) ChangeUserConfiguration(ctx context.Context, projectID string, change Collections, remove bool) (Collections, error) {
	if err := validateCollections(change); err != nil {
		return nil, err
	}
	c, err := t.UserConfiguration(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for typ, ids := range change {
		have := c[typ]
		for _, id := range ids {
			i := slices.Index(have, id)
			switch {
			case remove && i >= 0:
				have = slices.Delete(have, i, i+1)
			case !remove && i < 0:
				if len(have) == MaxCollectionIDs {
					return nil, Invalid("my_collections.collection_ids", "holds at most %d ids of one type", MaxCollectionIDs)
				}
				have = append(have, id)
			}
		}
		if len(have) == 0 {
			delete(c, typ)
		} else {
			c[typ] = have
		}
	}
	return c, t.putSetting(ctx, projectID, SettingUserConfig, "", c, false)
}

// Agreement is a tenant's signature of one agreement.
type Agreement struct {
	Type          string    `json:"agreement_type"`
	SignedVersion string    `json:"signed_version"`
	SignedAt      time.Time `json:"signed_at"`
}

// The agreements a tenant signs, and the version allot offers of each.
const (
	AgreementService = "SERVICE"
	AgreementAutoPay = "AUTO_PAY"
	// AgreementVersion is the current version of every agreement.
	AgreementVersion = "1.0"
)

// SignAgreement records the tenant's signature of the service agreement,
// or of the special agreement typ (AUTO_PAY); with sign false, a special
// agreement's signature is withdrawn. Signing again keeps the first time.
func (t *Tenants) SignAgreement(ctx context.Context, projectID, typ string, sign bool, now time.Time) (Agreement, error) {
	if typ != AgreementService && typ != AgreementAutoPay {
		return Agreement{}, Invalid("agreement_type", "must be AUTO_PAY")
	}
	var a Agreement
	ok, err := t.getSetting(ctx, projectID, SettingAgreement, typ, &a)
	if err != nil {
		return a, err
	}
	if !sign {
		if !ok {
			return Agreement{Type: typ}, nil
		}
		return Agreement{Type: typ}, t.Store.DeleteSetting(ctx, projectID, SettingAgreement, typ)
	}
	if ok && a.SignedVersion == AgreementVersion {
		return a, nil
	}
	a = Agreement{Type: typ, SignedVersion: AgreementVersion, SignedAt: now.UTC().Truncate(time.Second)}
	return a, t.putSetting(ctx, projectID, SettingAgreement, typ, a, false)
}

// AgreementOf returns the tenant's signature of an agreement; ok is false
// when it has not signed it.
func (t *Tenants) AgreementOf(ctx context.Context, projectID, typ string) (Agreement, bool, error) {
	var a Agreement
	ok, err := t.getSetting(ctx, projectID, SettingAgreement, typ, &a)
	return a, ok, err
}

// UserQuotaUsage is a user's quota with what the user has used of each
// field, from the ledger.
type UserQuotaUsage struct {
	UserQuota
	Used map[string]Quantity
}

// CreateUserQuota adds a user's quota. ECONFLICT if the user has one.
func (t *Tenants) CreateUserQuota(ctx context.Context, projectID string, q UserQuota) error {
	if err := ValidateUserQuota(q); err != nil {
		return err
	}
	return t.putSetting(ctx, projectID, SettingUserQuota, q.UserID, q, true)
}

// UpdateUserQuota sets the fields limits names and keeps the others.
// EINVALID, naming user_id, if the user has no quota (the tenant plane's
// not-found is the gateway's "no such API").
func (t *Tenants) UpdateUserQuota(ctx context.Context, projectID string, q UserQuota) (UserQuota, error) {
	if err := ValidateUserQuota(q); err != nil {
		return UserQuota{}, err
	}
	var old UserQuota
	ok, err := t.getSetting(ctx, projectID, SettingUserQuota, q.UserID, &old)
	if err != nil {
		return UserQuota{}, err
	}
	if !ok {
		return UserQuota{}, Invalid("user_id", "user %s has no quota", q.UserID)
	}
	if old.Limits == nil {
		old.Limits = map[string]int64{}
	}
	for f, v := range q.Limits {
		old.Limits[f] = v
	}
	return old, t.putSetting(ctx, projectID, SettingUserQuota, q.UserID, old, false)
}

// DeleteUserQuota removes a user's quota. EINVALID, naming user_id, if
// there is none.
func (t *Tenants) DeleteUserQuota(ctx context.Context, projectID, userID string) error {
	if err := validateSettingKey("user_id", userID); err != nil {
		return err
	}
	err := t.Store.DeleteSetting(ctx, projectID, SettingUserQuota, userID)
	if ErrorCodeOf(err) == ENOTFOUND {
		return Invalid("user_id", "user %s has no quota", userID)
	}
	return err
}

// UserQuotas returns one page of the tenant's user quotas, by user id, with
// each user's usage, and the count of all (of one user, with userID).
func (t *Tenants) UserQuotas(ctx context.Context, projectID, userID string, p Page) ([]UserQuotaUsage, int, error) {
	if userID != "" {
		if err := validateSettingKey("user_id", userID); err != nil {
			return nil, 0, err
		}
	}
	settings, n, err := t.Store.ListSettings(ctx, projectID, SettingUserQuota, userID, p)
	if err != nil {
		return nil, 0, err
	}
	out := make([]UserQuotaUsage, 0, len(settings))
	for _, s := range settings {
		var q UserQuota
		if err := json.Unmarshal(s.Value, &q); err != nil {
			return nil, 0, err
		}
		rows, err := t.Store.UserCharges(ctx, projectID, q.UserID)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, UserQuotaUsage{UserQuota: q, Used: QuotaUsage(rows)})
	}
	return out, n, nil
}

// BindUserAsset binds an asset to one of the tenant's free packages that
// matches business: a package whose resource type is business, or, when
// none has that type, whose business type is business. A package is free
// when it has no bound asset, is not frozen and has not expired; the first
// in Seq order is taken, through the same ledger entry as the management
// API's bind. Binding an asset that a matching package holds already
// changes nothing. EINVALID when no matching package is free.
func (t *Tenants) BindUserAsset(ctx context.Context, projectID, assetID, business string) error {
	if err := ValidateID("asset_id", assetID); err != nil {
		return err
	}
	if err := validateText("business_type", business, 128, false); err != nil {
		return err
	}
	if business == "" {
		return Invalid("business_type", "is required")
	}
	return t.Store.Update(ctx, []string{projectID}, func(tx Tx) error {
		all, err := tx.LiveResources(projectID)
		if err != nil {
			return err
		}
		var matching []Resource
		for _, r := range all {
			if r.ResourceType == business {
				matching = append(matching, r)
			}
		}
		if len(matching) == 0 {
			for _, r := range all {
				if string(r.BusinessType) == business {
					matching = append(matching, r)
				}
			}
		}
		for _, r := range matching {
			if r.BoundAsset != nil && r.BoundAsset.AssetID == assetID {
				return nil
			}
		}
		now := tx.Now()
		for _, r := range matching {
			if r.BoundAsset != nil || r.Status == StatusFrozen || r.Expired(now) {
				continue
			}
			r.BoundAsset = &BoundAsset{AssetID: assetID}
			if err := tx.SaveResource(&r); err != nil {
				return err
			}
			_, err := appendEntry(tx, LedgerEntry{ProjectID: projectID, ResourceID: r.ResourceID, Actor: "tenant:" + projectID,
				Op: OpBindAsset, Ref: assetID})
			return err
		}
		return Invalid("business_type", "project %s has no free package of %s (unbound, not frozen, not expired)", projectID, business)
	})
}

// VoicePackage is one of the tenant's voice training packages.
type VoicePackage struct {
	Resource *Resource
	// Level is BASIC, MIDDLE, ADVANCE or FLEXUS.
	Level string
	// Available is the whole trainings the package has left, 0 when it is
	// frozen or expired.
	Available int64
}

// VoiceTraining returns the tenant's voice training packages (business
// VOICE_CLONE, of every source), in Seq order, and the trainings available
// per level. A package of sub-resource type voice_clone_flexus is FLEXUS;
// the others are of their VoiceLevel.
func (t *Tenants) VoiceTraining(ctx context.Context, projectID string, now time.Time) ([]VoicePackage, map[string]int64, error) {
	f := ResourceFilter{Sources: ResourceSources, Businesses: []BusinessType{"VOICE_CLONE"}}
	var out []VoicePackage
	avail := map[string]int64{}
	for offset := 0; ; {
		page, err := t.Reader.ListResources(ctx, projectID, &f, Page{Limit: 100, Offset: offset})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range page.Resources {
			level := strings.ToUpper(VoiceLevel(r.ResourceType))
			if r.SubResourceType == "voice_clone_flexus" {
				level = "FLEXUS"
			}
			var left int64
			if r.Status != StatusFrozen && !r.Expired(now) {
				left = int64(r.Remaining() / QuantityScale)
			}
			avail[level] += left
			out = append(out, VoicePackage{Resource: r, Level: level, Available: left})
		}
		offset += len(page.Resources)
		if len(page.Resources) == 0 || offset >= page.Count {
			return out, avail, nil
		}
	}
}

// DurationCfg is the tenant's voice training duration bounds, in seconds.
// Fields follow the SDK's ShowTenantDurationCfgResponse.
type DurationCfg struct {
	BasicMin       int32 `json:"basic_min"`
	BasicMax       int32 `json:"basic_max"`
	BasicAdvice    int32 `json:"basic_advice_value"`
	MiddleMin      int32 `json:"middle_min"`
	MiddleMax      int32 `json:"middle_max"`
	MiddleAdvice   int32 `json:"middle_advice_value"`
	AdvanceMin     int32 `json:"advance_min"`
	AdvanceMax     int32 `json:"advance_max"`
	AdvanceAdvice  int32 `json:"advance_advice_value"`
	FlexusMin      int32 `json:"flexus_min"`
	FlexusMax      int32 `json:"flexus_max"`
	FlexusAdvice   int32 `json:"flexus_advice_value"`
	CmwwMin        int32 `json:"cmww_min"`
	CmwwMax        int32 `json:"cmww_max"`
	CmwwAdvice     int32 `json:"cmww_advice_value"`
	LjznMin        int32 `json:"ljzn_min"`
	LjznMax        int32 `json:"ljzn_max"`
	LjznAdvice     int32 `json:"ljzn_advice_value"`
	ShortAssessMin int32 `json:"short_assess_min"`
	ShortAssessMax int32 `json:"short_assess_max"`
}

// DefaultDurationCfg is what a tenant without its own configuration gets.
var DefaultDurationCfg = DurationCfg{
	BasicMin: 10, BasicMax: 300, BasicAdvice: 60,
	MiddleMin: 60, MiddleMax: 1800, MiddleAdvice: 600,
	AdvanceMin: 600, AdvanceMax: 7200, AdvanceAdvice: 1800,
	FlexusMin: 10, FlexusMax: 300, FlexusAdvice: 60,
	CmwwMin: 60, CmwwMax: 1800, CmwwAdvice: 600,
	LjznMin: 60, LjznMax: 1800, LjznAdvice: 600,
	ShortAssessMin: 3, ShortAssessMax: 60,
}

// TenantDurationCfg returns the tenant's duration configuration: the
// operator's setting for the tenant (SettingDurationCfg) where there is one,
// field by field over DefaultDurationCfg.
func (t *Tenants) TenantDurationCfg(ctx context.Context, projectID string) (DurationCfg, error) {
	c := DefaultDurationCfg
	_, err := t.getSetting(ctx, projectID, SettingDurationCfg, "", &c)
	return c, err
}

// SetTenantDurationCfg stores the operator's duration configuration of a
// tenant. Every value must be positive and each edition's minimum at most
// its advice, at most its maximum. ENOTFOUND if the project does not exist.
func (t *Tenants) SetTenantDurationCfg(ctx context.Context, projectID string, c DurationCfg) error {
	for _, g := range []struct {
		name           string
		lo, advice, hi int32
	}{
		{"basic", c.BasicMin, c.BasicAdvice, c.BasicMax}, {"middle", c.MiddleMin, c.MiddleAdvice, c.MiddleMax},
		{"advance", c.AdvanceMin, c.AdvanceAdvice, c.AdvanceMax}, {"flexus", c.FlexusMin, c.FlexusAdvice, c.FlexusMax},
		{"cmww", c.CmwwMin, c.CmwwAdvice, c.CmwwMax}, {"ljzn", c.LjznMin, c.LjznAdvice, c.LjznMax},
		{"short_assess", c.ShortAssessMin, c.ShortAssessMin, c.ShortAssessMax},
	} {
		if g.lo <= 0 || g.lo > g.advice || g.advice > g.hi {
			return Invalid(g.name, "needs 0 < min <= advice <= max")
		}
	}
	return t.putSetting(ctx, projectID, SettingDurationCfg, "", c, false)
}
