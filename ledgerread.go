package allot

import "context"

// LedgerEntries returns one page of a project's ledger and the count of all
// entries that match. An admin may read any project's; an SP its own and its
// customers'. A project the actor may not read, existing or not, is
// EFORBIDDEN; a store failure is returned as it is.
func (s *Service) LedgerEntries(ctx context.Context, actor Actor, q LedgerQuery) ([]LedgerEntry, int, error) {
	if err := ValidateID("project_id", q.ProjectID); err != nil {
		return nil, 0, err
	}
	if q.ResourceID != "" {
		if err := ValidateID("resource_id", q.ResourceID); err != nil {
			return nil, 0, err
		}
	}
	if err := validateOp(q.Op); err != nil {
		return nil, 0, err
	}
	if err := s.mayReadLedger(ctx, actor, q.ProjectID); err != nil {
		return nil, 0, err
	}
	return s.Store.LedgerEntries(ctx, q)
}

func (s *Service) mayReadLedger(ctx context.Context, actor Actor, projectID string) error {
	switch actor.Role {
	case RoleAdmin:
		return nil
	case RoleSP:
		if actor.SPProjectID == projectID {
			return nil
		}
		p, err := s.Store.FindProject(ctx, projectID)
		switch {
		case err == nil && p.SPProjectID == actor.SPProjectID:
			return nil
		case err != nil && ErrorCodeOf(err) != ENOTFOUND:
			return err
		}
	}
	return forbidden("this credential cannot read the ledger of project %s", projectID)
}

// Drift recomputes every balance from the ledger and returns each
// difference. It reads every project, so it needs an admin.
func (s *Service) Drift(ctx context.Context, actor Actor) ([]Drift, error) {
	if actor.Role != RoleAdmin {
		return nil, forbidden("drift needs an admin key")
	}
	return s.Store.Drift(ctx)
}
