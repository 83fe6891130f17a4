package api

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"time"

	"github.com/allot-dev/allot"
)

// ImportItem is what one JSON Lines import line holds: exactly one of a
// project, a resource or an assignment, or, in a seed file only
// (DecodeSeedLine), a credential, a token or an admin key.
type ImportItem struct {
	Project    *allot.Project
	Resource   *allot.Resource
	Assignment *allot.Assignment

	Credential *SeedCredential
	Token      *SeedToken
	AdminKey   *SeedAdminKey
}

// SeedCredential is an access key pair a seed gives in plain text, so tests
// can hard-code it.
type SeedCredential struct {
	ProjectID, AccessKey, SecretKey string
	ExpiresAt                       time.Time // zero: never
}

// SeedToken is a bearer token a seed gives in plain text.
type SeedToken struct {
	ProjectID, Token string
	ExpiresAt        time.Time
}

// SeedAdminKey is a management key a seed gives in plain text.
type SeedAdminKey struct {
	Name, Key   string
	Role        allot.Role
	SPProjectID string
	ExpiresAt   time.Time // zero: never
}

// Key names the item for duplicate checks and messages, e.g.
// "resource p1/r1"; it is unique per entity within one import.
func (it ImportItem) Key() string {
	switch {
	case it.Project != nil:
		return "project " + it.Project.ID
	case it.Resource != nil:
		return "resource " + it.Resource.ProjectID + "/" + it.Resource.ResourceID
	case it.Assignment != nil:
		return "assignment " + it.Assignment.RecordID
	case it.Credential != nil:
		return "credential " + it.Credential.AccessKey
	case it.Token != nil:
		return "token " + allot.TokenID(TokenHash(it.Token.Token))
	case it.AdminKey != nil:
		return "admin_key " + it.AdminKey.Name
	}
	return ""
}

// AddTo appends a project, resource or assignment to b; the seed kinds
// are not part of a batch.
func (it ImportItem) AddTo(b *allot.ImportBatch) {
	switch {
	case it.Project != nil:
		b.Projects = append(b.Projects, *it.Project)
	case it.Resource != nil:
		b.Resources = append(b.Resources, *it.Resource)
	case it.Assignment != nil:
		b.Assignments = append(b.Assignments, *it.Assignment)
	}
}

// importLine holds every field any kind of line may carry; kind decides
// which are read.
type importLine struct {
	Kind string `json:"kind"`

	// project
	ProjectID   string `json:"project_id"`
	Name        string `json:"name"`
	RegionID    string `json:"region_id"`
	SPProjectID string `json:"sp_project_id"`

	// resource (ResourceItemInfo names)
	ResourceID      string                `json:"resource_id"`
	OrderID         string                `json:"order_id"`
	BoundAsset      *allot.BoundAsset     `json:"bound_asset"`
	ExpireTime      json.RawMessage       `json:"resource_expire_time"`
	ResourceType    string                `json:"resource_type"`
	BusinessType    allot.BusinessType    `json:"business_type"`
	SubResourceType allot.SubResourceType `json:"sub_resource_type"`
	IsSubResource   bool                  `json:"is_sub_resource"`
	ChargingMode    allot.ChargingMode    `json:"charging_mode"`
	ResourceSource  allot.ResourceSource  `json:"resource_source"`
	Amount          number                `json:"amount"`
	Usage           number                `json:"usage"`
	Status          allot.ResourceStatus  `json:"status"`
	Unit            allot.Unit            `json:"unit"`

	// assignment (AllocateSpResourceInfo names)
	CustomerProjectID string `json:"customer_project_id"`
	RecordID          string `json:"assignment_record_id"`
	ResourceSpecCode  string `json:"resource_spec_code"`
	ResourceNum       number `json:"resource_num"`
	ResourceUsedNum   number `json:"resource_used_num"`
	AllocateTime      *int64 `json:"resource_allocate_time"`

	// seed only: credential, token, admin_key
	AccessKey string     `json:"access_key"`
	SecretKey string     `json:"secret_key"`
	Token     string     `json:"token"`
	Key       string     `json:"key"`
	Role      allot.Role `json:"role"`
	ExpiresAt string     `json:"expires_at"`
}

// DecodeImportLine decodes and validates one line of an import file (JSON
// Lines of projects, resources and assignments; docs/admin.md). now is the
// creation time of a project. It follows the management bodies' rules:
// one JSON object, no unknown, repeated or wrongly cased keys, quantities
// as numbers or decimal strings.
func DecodeImportLine(line []byte, now time.Time) (ImportItem, error) {
	return decodeLine(line, now, false)
}

// DecodeSeedLine decodes and validates one line of a seed file (allot serve
// --seed; docs/testing.md): an import line, or one of the kinds that give a
// secret in plain text, for tests to hard-code:
//
//	{"kind":"credential","project_id":P,"access_key":AK,"secret_key":SK,"expires_at":RFC3339?}
//	{"kind":"token","project_id":P,"token":T,"expires_at":RFC3339?}
//	{"kind":"admin_key","name":N,"key":K,"role":"admin"|"sp"?,"sp_project_id":SP?,"expires_at":RFC3339?}
//
// A token without expires_at is valid for ten years from now.
func DecodeSeedLine(line []byte, now time.Time) (ImportItem, error) {
	return decodeLine(line, now, true)
}

// seedTokenTTL is a seed token's lifetime when its line sets none: longer
// than any test suite runs, however far it moves the clock.
const seedTokenTTL = 10 * 365 * 24 * time.Hour

// Bounds of the secrets a seed gives, so one fits a header and a log line.
const (
	minSeedSecret = 8
	maxSeedSecret = 256
)

func decodeLine(line []byte, now time.Time, seed bool) (ImportItem, error) {
	var l importLine
	if !fastImportLine(line, &l) {
		l = importLine{}
		if err := decodeJSON(line, &l); err != nil {
			return ImportItem{}, &allot.Error{Code: allot.EINVALID, Message: "not a valid import object: " + allot.ErrorMessageOf(err)}
		}
	}
	return l.item(now, seed)
}

// item makes the line's item, by its kind.
func (l *importLine) item(now time.Time, seed bool) (ImportItem, error) {
	switch l.Kind {
	case "project":
		p := allot.Project{ID: l.ProjectID, Name: l.Name, RegionID: l.RegionID, SPProjectID: l.SPProjectID, CreatedAt: now}
		if err := p.Validate(); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{Project: &p}, nil
	case "resource":
		r := allot.Resource{
			ProjectID: l.ProjectID, ResourceID: l.ResourceID, OrderID: l.OrderID, BoundAsset: l.BoundAsset,
			ResourceType: l.ResourceType, BusinessType: l.BusinessType, SubResourceType: l.SubResourceType,
			IsSubResource: l.IsSubResource, ChargingMode: l.ChargingMode, Source: l.ResourceSource,
			Status: l.Status, Unit: l.Unit,
		}
		var err error
		if r.Amount, err = l.Amount.quantity("amount", true); err != nil {
			return ImportItem{}, err
		}
		if r.Usage, err = l.Usage.quantity("usage", false); err != nil {
			return ImportItem{}, err
		}
		if len(l.ExpireTime) > 0 && string(l.ExpireTime) != "null" {
			s, err := rawString(l.ExpireTime)
			if err != nil {
				return ImportItem{}, allot.Invalid("resource_expire_time", "must be an RFC 3339 string")
			}
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return ImportItem{}, allot.Invalid("resource_expire_time", "%q is not an RFC 3339 time", truncate(s))
			}
			r.ExpireTime = t.UTC().Truncate(time.Second)
		}
		if err := r.Validate(); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{Resource: &r}, nil
	case "assignment":
		a := allot.Assignment{
			RecordID: l.RecordID, SPProjectID: l.SPProjectID, CustomerProjectID: l.CustomerProjectID,
			ResourceSpecCode: l.ResourceSpecCode, ChargingMode: l.ChargingMode,
		}
		var err error
		if a.ResourceNum, err = l.ResourceNum.quantity("resource_num", true); err != nil {
			return ImportItem{}, err
		}
		if a.ResourceUsedNum, err = l.ResourceUsedNum.quantity("resource_used_num", false); err != nil {
			return ImportItem{}, err
		}
		if l.AllocateTime == nil {
			return ImportItem{}, allot.Invalid("resource_allocate_time", "is required (Unix seconds)")
		}
		a.AllocateTime = time.Unix(*l.AllocateTime, 0).UTC()
		var expire int64
		if err := json.Unmarshal(l.ExpireTime, &expire); err != nil {
			return ImportItem{}, allot.Invalid("resource_expire_time", "is required for an assignment, as Unix seconds")
		}
		a.ExpireTime = time.Unix(expire, 0).UTC()
		if err := a.Validate(); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{Assignment: &a}, nil
	case "credential", "token", "admin_key":
		if !seed {
			return ImportItem{}, allot.Invalid("kind", "%q gives a secret in plain text: it belongs in a seed file (allot serve --seed), not an import", l.Kind)
		}
		return l.seedItem(now)
	case "":
		return ImportItem{}, allot.Invalid("kind", "is required: project, resource or assignment")
	}
	if seed {
		return ImportItem{}, allot.Invalid("kind", "%q is not one of project, resource, assignment, credential, token, admin_key", truncate(l.Kind))
	}
	return ImportItem{}, allot.Invalid("kind", "%q is not one of project, resource, assignment", truncate(l.Kind))
}

// seedItem decodes the kinds only a seed file has.
func (l *importLine) seedItem(now time.Time) (ImportItem, error) {
	expires, err := optionalTime("expires_at", l.ExpiresAt)
	if err != nil {
		return ImportItem{}, err
	}
	switch l.Kind {
	case "credential":
		if err := allot.ValidateID("project_id", l.ProjectID); err != nil {
			return ImportItem{}, err
		}
		if err := checkAccessKey(l.AccessKey); err != nil || l.AccessKey == "" {
			return ImportItem{}, allot.Invalid("access_key", "must be 1 to %d printable ASCII characters", maxAccessKeyLen)
		}
		if err := seedSecret("secret_key", l.SecretKey); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{Credential: &SeedCredential{ProjectID: l.ProjectID, AccessKey: l.AccessKey, SecretKey: l.SecretKey, ExpiresAt: expires}}, nil
	case "token":
		if err := allot.ValidateID("project_id", l.ProjectID); err != nil {
			return ImportItem{}, err
		}
		if err := seedSecret("token", l.Token); err != nil {
			return ImportItem{}, err
		}
		if expires.IsZero() {
			expires = now.Add(seedTokenTTL).UTC().Truncate(time.Second)
		}
		return ImportItem{Token: &SeedToken{ProjectID: l.ProjectID, Token: l.Token, ExpiresAt: expires}}, nil
	default: // admin_key
		if err := seedSecret("key", l.Key); err != nil {
			return ImportItem{}, err
		}
		role := l.Role
		if role == "" {
			role = allot.RoleAdmin
			if l.SPProjectID != "" {
				role = allot.RoleSP
			}
		}
		k := allot.AdminKey{ID: l.Name, Hash: TokenHash(l.Key), Role: role, SPProjectID: l.SPProjectID}
		if err := k.Validate(); err != nil {
			return ImportItem{}, err
		}
		return ImportItem{AdminKey: &SeedAdminKey{Name: l.Name, Key: l.Key, Role: role, SPProjectID: l.SPProjectID, ExpiresAt: expires}}, nil
	}
}

// seedSecret checks a secret a seed gives: printable ASCII, as it travels in
// a header, of a sane length.
func seedSecret(param, v string) error {
	if len(v) < minSeedSecret || len(v) > maxSeedSecret {
		return allot.Invalid(param, "must be %d to %d characters", minSeedSecret, maxSeedSecret)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return allot.Invalid(param, "must be printable ASCII without spaces")
		}
	}
	return nil
}

// TokenHash is how a token or an admin key is stored: its SHA-256.
func TokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// rawString is the string a raw JSON value holds; the fast path for a
// string without escapes, encoding/json for the rest.
func rawString(raw json.RawMessage) (string, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		s := raw[1 : n-1]
		if !slices.ContainsFunc(s, func(c byte) bool { return c == '\\' || c == '"' || c < 0x20 || c >= 0x7f }) {
			return string(s), nil
		}
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
