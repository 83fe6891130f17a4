package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/allot-dev/allot"
)

// catalogSpec is allot.CatalogSpec on the wire, amounts as JSON numbers.
type catalogSpec struct {
	SpecCode     string               `json:"spec_code"`
	BusinessType allot.BusinessType   `json:"business_type"`
	ResourceType string               `json:"resource_type"`
	Unit         allot.Unit           `json:"unit"`
	Amount       number               `json:"amount"`
	SubResources []catalogSubResource `json:"sub_resources"`
	PeriodTypes  []int32              `json:"period_types"`
	ValidityDays int                  `json:"validity_days"`
}

type catalogSubResource struct {
	ResourceType    string                `json:"resource_type"`
	SubResourceType allot.SubResourceType `json:"sub_resource_type"`
	Unit            allot.Unit            `json:"unit"`
	Amount          number                `json:"amount"`
}

// DecodeCatalog decodes a whole spec catalog: a JSON array of specs, or
// JSON Lines (one spec per line; blank lines are skipped). Each spec is
// checked as it is read; an error names the spec (specs[i], or line N) and
// the field. PUT /admin/v1/catalog and allot catalog import both use it.
func DecodeCatalog(body []byte) ([]allot.CatalogSpec, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, allot.Invalid("body", "holds no spec: send a JSON array of specs or one spec per line")
	}
	var specs []allot.CatalogSpec
	seen := map[string]string{}
	add := func(label string, raw []byte) error {
		c, err := decodeSpec(raw)
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			return &allot.Error{Code: allot.EINVALID, Message: label + ": " + allot.ErrorMessageOf(err)}
		}
		if first, ok := seen[c.SpecCode]; ok {
			return allot.Invalid(label+": spec_code", "%s is given twice (also %s)", c.SpecCode, first)
		}
		seen[c.SpecCode] = label
		specs = append(specs, c)
		if len(specs) > allot.MaxCatalogSpecs {
			return allot.Invalid("catalog", "holds more than %d specs", allot.MaxCatalogSpecs)
		}
		return nil
	}
	if body[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, syntaxError(err)
		}
		for i, raw := range raws {
			if err := add(fmt.Sprintf("specs[%d]", i), raw); err != nil {
				return nil, err
			}
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64<<10), maxBodyBytes)
		for n := 1; sc.Scan(); n++ {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				if err := add(fmt.Sprintf("line %d", n), line); err != nil {
					return nil, err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return nil, allot.Invalid("body", "could not be read: %v", err)
		}
	}
	if specs == nil {
		specs = []allot.CatalogSpec{}
	}
	return specs, nil
}

func decodeSpec(raw []byte) (allot.CatalogSpec, error) {
	var b catalogSpec
	if err := decodeJSON(raw, &b); err != nil {
		return allot.CatalogSpec{}, err
	}
	c := allot.CatalogSpec{SpecCode: b.SpecCode, BusinessType: b.BusinessType, ResourceType: b.ResourceType, Unit: b.Unit,
		PeriodTypes: b.PeriodTypes, ValidityDays: b.ValidityDays}
	var err error
	if c.Amount, err = b.Amount.quantity("amount", true); err != nil {
		return allot.CatalogSpec{}, err
	}
	for i, sr := range b.SubResources {
		s := allot.CatalogSubResource{ResourceType: sr.ResourceType, SubResourceType: sr.SubResourceType, Unit: sr.Unit}
		if s.Amount, err = sr.Amount.quantity(fmt.Sprintf("sub_resources[%d].amount", i), true); err != nil {
			return allot.CatalogSpec{}, err
		}
		c.SubResources = append(c.SubResources, s)
	}
	return c, nil
}

// EncodeCatalog returns the body of GET /admin/v1/catalog, which allot
// catalog list --json prints too.
func EncodeCatalog(specs []allot.CatalogSpec) ([]byte, error) {
	if specs == nil {
		specs = []allot.CatalogSpec{}
	}
	return json.Marshal(struct {
		Specs []allot.CatalogSpec `json:"specs"`
		Count int                 `json:"count"`
	}{specs, len(specs)})
}

func (s *Server) catalogRoutes() {
	s.mux.Handle("PUT /admin/v1/catalog", s.adminOnly(s.handlePutCatalog))
	s.mux.Handle("GET /admin/v1/catalog", s.adminOnly(s.handleGetCatalog))
}

// handlePutCatalog serves PUT /admin/v1/catalog: the body replaces the
// whole catalog. Admin keys only.
func (s *Server) handlePutCatalog(w http.ResponseWriter, r *http.Request, actor allot.Actor) {
	if actor.Role != allot.RoleAdmin {
		s.writeError(w, r, allot.Errorf(allot.EFORBIDDEN, "replacing the spec catalog needs an admin credential"))
		return
	}
	specs, ok := decoded(s, w, r, DecodeCatalog)
	if !ok {
		return
	}
	if err := s.cfg.Store.PutCatalog(r.Context(), specs); err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := EncodeCatalog(specs)
	s.writeEncoded(w, r, body, err)
}

// handleGetCatalog serves GET /admin/v1/catalog to any management key: the
// catalog is the price list every provider sells from.
func (s *Server) handleGetCatalog(w http.ResponseWriter, r *http.Request, _ allot.Actor) {
	specs, err := s.cfg.Store.Catalog(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := EncodeCatalog(specs)
	s.writeEncoded(w, r, body, err)
}
