package allot

import (
	"slices"
	"time"
)

// Package priorities: a package's place in the burn-down order. A package
// with a higher priority is used up before one with a lower; the default,
// 0, is also the lowest, so a package created without one burns last among
// those that set one.
const (
	MinPriority = 0
	MaxPriority = 100
)

// burnsBefore is the burn-down order of a project's packages of one type:
// higher priority first, then the one that expires first (one without
// expiry last), then the older package (smaller Seq).
func burnsBefore(a, b *Resource) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return expiresBefore(a, b)
}

// part is the share of a consume or a reservation one package covers.
type part struct {
	Resource Resource
	Amount   Quantity
}

// drawRequest is what burnDown needs of a consume or a reservation.
type drawRequest struct {
	ProjectID, ResourceID, ResourceType string
	Amount                              Quantity
	AllowSplit                          bool
	Verb                                string // "consume" or "reserve", for messages
}

// burnDown chooses the packages a consume or a reservation draws from. With
// a ResourceID it is that package, which must cover the whole amount. With a
// ResourceType it is the first package in burn order that covers the whole
// amount; when none does and AllowSplit is set, the amount is split over the
// usable packages in burn order, each giving all it has left until the
// amount is covered. A package is usable when it is not frozen and not
// expired at now; what it has left is its amount less its usage and its
// open holds.
func burnDown(tx Tx, req drawRequest) ([]part, error) {
	now := tx.Now()
	usable := func(r *Resource) error {
		switch {
		case r.Status == StatusFrozen:
			return Errorf(ECONFLICT, "resource %s is frozen", r.ResourceID)
		case r.Expired(now):
			return Errorf(ECONFLICT, "resource %s expired at %s", r.ResourceID, r.ExpireTime.Format(time.RFC3339))
		}
		return nil
	}
	if req.ResourceID != "" {
		r, err := liveResource(tx, ResourceRef{req.ProjectID, req.ResourceID})
		if err != nil {
			return nil, err
		}
		if err := usable(&r); err != nil {
			return nil, err
		}
		if r.Remaining() < req.Amount {
			return nil, Errorf(ECONFLICT, "resource %s has %s left, fewer than the %s to %s", r.ResourceID, r.Remaining(), req.Amount, req.Verb)
		}
		return []part{{r, req.Amount}}, nil
	}
	candidates, err := tx.ResourcesOfType(req.ProjectID, req.ResourceType)
	if err != nil {
		return nil, err
	}
	var order []Resource
	for _, r := range candidates {
		if usable(&r) == nil && r.Remaining() > 0 {
			order = append(order, r)
		}
	}
	slices.SortStableFunc(order, func(a, b Resource) int {
		switch {
		case burnsBefore(&a, &b):
			return -1
		case burnsBefore(&b, &a):
			return 1
		}
		return 0
	})
	for _, r := range order {
		if r.Remaining() >= req.Amount {
			return []part{{r, req.Amount}}, nil
		}
	}
	if !req.AllowSplit {
		return nil, Errorf(ECONFLICT, "project %s has no usable package of %s with %s left", req.ProjectID, req.ResourceType, req.Amount)
	}
	var parts []part
	left := req.Amount
	for _, r := range order {
		take := min(r.Remaining(), left)
		parts = append(parts, part{r, take})
		if left -= take; left == 0 {
			return parts, nil
		}
	}
	return nil, Errorf(ECONFLICT, "project %s has %s of %s left across its usable packages, fewer than the %s to %s",
		req.ProjectID, req.Amount-left, req.ResourceType, req.Amount, req.Verb)
}

// Attribution names who a usage is for, as the platform knows them: kept on
// the ledger entries of a consume or a reservation for quotas and usage
// analytics to read. allot does not interpret them.
type Attribution struct {
	UserID    string `json:"user_id,omitempty"`
	AppUserID string `json:"app_user_id,omitempty"`
}

// MaxUserIDLen bounds user_id and app_user_id.
const MaxUserIDLen = 128

func (a Attribution) validate() error {
	if err := validateText("user_id", a.UserID, MaxUserIDLen, false); err != nil {
		return err
	}
	return validateText("app_user_id", a.AppUserID, MaxUserIDLen, false)
}

// validateDraw checks the package selection of a consume or a reservation.
func validateDraw(projectID, resourceID, resourceType string, allowSplit bool) error {
	if err := ValidateID("project_id", projectID); err != nil {
		return err
	}
	switch {
	case resourceID != "" && resourceType != "":
		return Invalid("resource_id", "give resource_id or resource_type, not both")
	case resourceID != "":
		if allowSplit {
			return Invalid("allow_split", "needs resource_type: one named package cannot be split")
		}
		return ValidateID("resource_id", resourceID)
	case resourceType == "":
		return Invalid("resource_id", "or resource_type is required")
	}
	return ValidateID("resource_type", resourceType)
}
