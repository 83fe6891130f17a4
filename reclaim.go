package allot

import (
	"context"
)

// mayManage checks that actor may reclaim or cancel r: an admin always, an
// SP only for what it allocated (the assignment names it).
func mayManage(tx Tx, actor Actor, r *Resource) (*Assignment, error) {
	var a *Assignment
	if r.Source == SourceSPAllocated {
		rec, err := tx.Assignment(r.ProjectID, r.ResourceID)
		switch ErrorCodeOf(err) {
		case "":
			a = &rec
		case ENOTFOUND:
		default:
			return nil, err
		}
	}
	if actor.Role == RoleAdmin {
		return a, nil
	}
	if actor.Role == RoleSP && a != nil && a.SPProjectID == actor.SPProjectID {
		return a, nil
	}
	return nil, forbidden("this credential cannot manage resource %s of project %s", r.ResourceID, r.ProjectID)
}

// ReclaimRequest takes back unused units of a package.
type ReclaimRequest struct {
	ResourceRef
	// Amount to take back; nil takes back everything unused.
	Amount         *Quantity `json:"amount,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	// Cancel removes the package from every list after taking back the
	// unused rest (Amount must be nil).
	Cancel bool `json:"cancel,omitempty"`
}

// Reclaim takes back unused units (or, with Cancel, cancels the package).
// Units of an SP allocation go back to the SP's package and the assignment
// record shrinks with them. A package whose amount reaches 0, or that is
// cancelled, leaves the tenant's list; its history stays in the ledger.
func (s *Service) Reclaim(ctx context.Context, actor Actor, req ReclaimRequest) (OpResult, error) {
	if err := req.validate(); err != nil {
		return OpResult{}, err
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return OpResult{}, err
	}
	if err := validateReason(req.Reason, false); err != nil {
		return OpResult{}, err
	}
	if req.Amount != nil {
		if req.Cancel {
			return OpResult{}, Invalid("amount", "cannot be given with cancel: a cancel takes back all that is unused")
		}
		if err := validatePositive("amount", *req.Amount); err != nil {
			return OpResult{}, err
		}
	}
	projects, err := s.projectsOf(ctx, actor, req.ResourceRef)
	if err != nil {
		return OpResult{}, err
	}
	kind := "reclaim"
	if req.Cancel {
		kind = "cancel"
	}
	id := idem{Project: req.ProjectID, Key: scopedKey(kind, req.ResourceID, req.IdempotencyKey), Shown: req.IdempotencyKey, Request: req,
		// Release 1 kept reclaims and cancels of every resource of a
		// project under one prefix.
		LegacyKey: "reclaim:" + req.IdempotencyKey, LegacyInScope: func(fp string) bool {
			return legacyField(fp, "resource_id") == req.ResourceID && legacyBool(fp, "cancel") == req.Cancel
		}}
	var out OpResult
	err = s.update(ctx, projects, func(tx Tx) (err error) {
		// Authorize before the key is looked up: a replay answers only
		// someone who may make the request. A removed resource still
		// authorizes, so a retry of its cancel replays.
		r, err := tx.Resource(req.ProjectID, req.ResourceID)
		if err != nil {
			return err
		}
		a, err := mayManage(tx, actor, &r)
		if err != nil {
			return err
		}
		out, err = once(tx, id, func() (OpResult, error) {
			return reclaim(tx, actor, req, r, a)
		})
		return err
	})
	return out, err
}

func reclaim(tx Tx, actor Actor, req ReclaimRequest, r Resource, a *Assignment) (OpResult, error) {
	if r.Removed {
		return OpResult{}, removedErr(req.ResourceRef)
	}
	take := r.Remaining()
	if req.Amount != nil {
		if *req.Amount > take {
			return OpResult{}, Errorf(ECONFLICT, "resource %s has %s unused, fewer than the %s to reclaim", r.ResourceID, take, *req.Amount)
		}
		take = *req.Amount
	}
	if req.Cancel && r.Held > 0 {
		// A cancel removes the package, and a commit could then no longer
		// settle what it holds.
		return OpResult{}, Errorf(ECONFLICT, "resource %s holds %s for open reservations: commit or release them before a cancel", r.ResourceID, r.Held)
	}
	op := OpReclaim
	if req.Cancel {
		op = OpCancel
	}
	if take == 0 && !req.Cancel {
		return OpResult{}, Errorf(ECONFLICT, "resource %s has nothing unused to reclaim", r.ResourceID)
	}
	r.Amount -= take
	r.Removed = req.Cancel || r.Amount == 0
	if err := tx.SaveResource(&r); err != nil {
		return OpResult{}, err
	}
	ref := ""
	if a != nil {
		ref = a.RecordID
	}
	e, err := appendEntry(tx, LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: actor.ID, Op: op,
		AmountDelta: -take, IdempotencyKey: req.IdempotencyKey, Reason: req.Reason, Ref: ref})
	if err != nil {
		return OpResult{}, err
	}
	out := OpResult{Resource: r, Entries: []LedgerEntry{e}}
	if a != nil {
		a.ResourceNum -= take
		if err := tx.SaveAssignment(a); err != nil {
			return OpResult{}, err
		}
		out.Assignment = a
		if a.SPResourceID != "" && take > 0 {
			src, err := tx.Resource(a.SPProjectID, a.SPResourceID)
			if err != nil {
				return OpResult{}, err
			}
			src.Usage -= take
			if err := tx.SaveResource(&src); err != nil {
				return OpResult{}, err
			}
			back, err := appendEntry(tx, LedgerEntry{ProjectID: src.ProjectID, ResourceID: src.ResourceID, Actor: actor.ID, Op: OpSPReturn,
				UsageDelta: -take, IdempotencyKey: req.IdempotencyKey, Reason: req.Reason, Ref: a.RecordID})
			if err != nil {
				return OpResult{}, err
			}
			out.Entries = append(out.Entries, back)
		}
	}
	return out, nil
}
