package allot

import "context"

// ExportPage is how many entries an export reads at a time.
const ExportPage = 500

// EachLedgerPage calls fn with the ledger entries q selects, a page of
// ExportPage at a time, oldest first, until they are all read or fn fails
// (q.Page is ignored). It checks once, before anything is read, that actor
// may read the project's ledger, so a refusal comes before the first page
// is written anywhere. The ledger is append-only and read oldest first, so
// entries appended meanwhile come after the pages read and none is skipped
// or repeated.
func (s *Service) EachLedgerPage(ctx context.Context, actor Actor, q LedgerQuery, fn func([]LedgerEntry) error) error {
	q.Page = Page{Limit: ExportPage}
	for {
		entries, _, err := s.LedgerEntries(ctx, actor, q)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			if err := fn(entries); err != nil {
				return err
			}
		}
		if len(entries) < ExportPage {
			return nil
		}
		q.Page.Offset += len(entries)
	}
}

// Usage aggregates a project's usage for the management API and the CLI:
// the same buckets as the data-analysis APIs (AggregateUsage), read by an
// actor that may read the project's ledger.
func (s *Service) Usage(ctx context.Context, actor Actor, src UsageSource, f UsageFilter) ([]UsageBucket, error) {
	if err := ValidateID("project_id", f.ProjectID); err != nil {
		return nil, err
	}
	if err := s.mayReadLedger(ctx, actor, f.ProjectID); err != nil {
		return nil, err
	}
	return AggregateUsage(ctx, src, f)
}
