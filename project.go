package allot

import "time"

// Project is a tenant: a Huawei Cloud project id with a display name and the
// region it lives in. A project whose SPProjectID is set is a customer of
// that service provider project.
type Project struct {
	ID          string    `json:"project_id"`
	Name        string    `json:"name"`
	RegionID    string    `json:"region_id"`
	SPProjectID string    `json:"sp_project_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Validate checks the fields a caller supplies.
func (p *Project) Validate() error {
	if err := ValidateID("project_id", p.ID); err != nil {
		return err
	}
	if p.Name == "" || len(p.Name) > MaxNameLen {
		return Invalid("name", "must be 1 to 255 bytes")
	}
	if err := validateName("name", p.Name); err != nil {
		return err
	}
	if err := ValidateID("region_id", p.RegionID); err != nil {
		return err
	}
	if p.SPProjectID != "" {
		if err := ValidateID("sp_project_id", p.SPProjectID); err != nil {
			return err
		}
		if p.SPProjectID == p.ID {
			return Invalid("sp_project_id", "a project cannot be its own service provider")
		}
	}
	return nil
}

// ValidateID checks an identifier: 1 to 64 characters of A-Z, a-z, 0-9, '-',
// '_' and '.'. Identifiers appear in URL paths and signed canonical requests,
// so anything that would need escaping is refused up front.
func ValidateID(param, id string) error {
	if id == "" {
		return Invalid(param, "is required")
	}
	if len(id) > 64 {
		return Invalid(param, "is longer than 64 characters")
	}
	if id == "." || id == ".." {
		// The router cleans them out of a path: such an id could be
		// stored but never addressed.
		return Invalid(param, "cannot be %q", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return Invalid(param, "has a character outside A-Z, a-z, 0-9, '-', '_', '.'")
		}
	}
	return nil
}
