package allot

import (
	"context"
)

// SetStatus freezes (StatusFrozen) or unfreezes (StatusNormal) a package.
// A frozen package cannot be consumed. Setting the status it already has
// changes nothing and writes no entry.
func (s *Service) SetStatus(ctx context.Context, actor Actor, ref ResourceRef, status ResourceStatus, reason string) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	if err := ref.validate(); err != nil {
		return OpResult{}, err
	}
	if !status.Valid() {
		return OpResult{}, Invalid("status", "must be 0 (normal) or 1 (frozen)")
	}
	if err := validateReason(reason, false); err != nil {
		return OpResult{}, err
	}
	return s.change(ctx, ref, func(tx Tx, r *Resource) (Op, string, bool) {
		if r.Status == status {
			return "", "", false
		}
		r.Status = status
		if status == StatusFrozen {
			return OpFreeze, "", true
		}
		return OpUnfreeze, "", true
	}, actor, reason)
}

// BindAsset binds a package to an asset, or unbinds it when asset is nil.
func (s *Service) BindAsset(ctx context.Context, actor Actor, ref ResourceRef, asset *BoundAsset) (OpResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return OpResult{}, err
	}
	if err := ref.validate(); err != nil {
		return OpResult{}, err
	}
	if asset != nil {
		if err := ValidateID("asset_id", asset.AssetID); err != nil {
			return OpResult{}, err
		}
		if err := validateName("asset_name", asset.AssetName); err != nil {
			return OpResult{}, err
		}
	}
	return s.change(ctx, ref, func(tx Tx, r *Resource) (Op, string, bool) {
		if asset == nil {
			if r.BoundAsset == nil {
				return "", "", false
			}
			old := r.BoundAsset.AssetID
			r.BoundAsset = nil
			return OpUnbindAsset, old, true
		}
		if r.BoundAsset != nil && *r.BoundAsset == *asset {
			return "", "", false
		}
		r.BoundAsset = &BoundAsset{AssetID: asset.AssetID, AssetName: asset.AssetName}
		return OpBindAsset, asset.AssetID, true
	}, actor, "")
}

// change applies an attribute change that moves no units.
func (s *Service) change(ctx context.Context, ref ResourceRef, fn func(Tx, *Resource) (Op, string, bool), actor Actor, reason string) (OpResult, error) {
	var out OpResult
	err := s.update(ctx, []string{ref.ProjectID}, func(tx Tx) error {
		r, err := liveResource(tx, ref)
		if err != nil {
			return err
		}
		out = OpResult{Resource: r, Entries: []LedgerEntry{}}
		op, entryRef, changed := fn(tx, &r)
		if !changed {
			return nil
		}
		if err := tx.SaveResource(&r); err != nil {
			return err
		}
		e, err := appendEntry(tx, LedgerEntry{ProjectID: r.ProjectID, ResourceID: r.ResourceID, Actor: actor.ID, Op: op,
			Reason: reason, Ref: entryRef})
		out = OpResult{Resource: r, Entries: []LedgerEntry{e}}
		return err
	})
	return out, err
}
