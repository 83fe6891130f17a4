package postgres

import (
	"context"
	"errors"
	"regexp"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ImportStream writes a source all or nothing; the rules are
// allot.ImportStream's, the inserts BulkInsert's.
func (s *Store) ImportStream(ctx context.Context, src allot.ImportSource) error {
	return allot.ImportStream(ctx, s, src)
}

// An import's resources and ledger entries go in with COPY (binary), the
// bulk path PostgreSQL has: no statement per chunk to parse and plan, no
// arrays to build and unnest.

var resourceCopyColumns = []string{"project_id", "resource_id", "seq", "version", "order_id",
	"asset_id", "asset_name", "expire_time", "resource_type", "business_type", "sub_resource_type",
	"is_sub_resource", "charging_mode", "resource_source", "amount", "usage", "status", "unit", "removed", "held", "priority"}

func copyResources(ctx context.Context, tx pgx.Tx, rs []allot.Resource) error {
	row := make([]any, len(resourceCopyColumns))
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"resources"}, resourceCopyColumns, pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) {
		r := &rs[i]
		var asset *string
		var assetName string
		if r.BoundAsset != nil {
			asset, assetName = &r.BoundAsset.AssetID, r.BoundAsset.AssetName
		}
		row[0], row[1], row[2], row[3], row[4] = r.ProjectID, r.ResourceID, r.Seq, r.Version, r.OrderID
		row[5], row[6], row[7], row[8], row[9], row[10] = asset, assetName, unixOrNull(r.ExpireTime), r.ResourceType, string(r.BusinessType), string(r.SubResourceType)
		row[11], row[12], row[13], row[14], row[15] = r.IsSubResource, string(r.ChargingMode), string(r.Source), int64(r.Amount), int64(r.Usage)
		row[16], row[17], row[18], row[19], row[20] = int32(r.Status), string(r.Unit), r.Removed, int64(r.Held), int32(r.Priority)
		return row, nil
	}))
	if err != nil {
		return mapError(err, map[string]*allot.Error{
			"resources_id_key": allot.Errorf(allot.ECONFLICT, "a resource of the batch exists already"),
		})
	}
	return nil
}

var ledgerCopyColumns = []string{"project_id", "seq", "resource_id", "at", "actor", "op",
	"amount_delta", "usage_delta", "idempotency_key", "reason", "ref", "held_delta", "user_id", "app_user_id"}

func copyLedger(ctx context.Context, tx pgx.Tx, es []allot.LedgerEntry) error {
	row := make([]any, len(ledgerCopyColumns))
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger"}, ledgerCopyColumns, pgx.CopyFromSlice(len(es), func(i int) ([]any, error) {
		e := &es[i]
		row[0], row[1], row[2], row[3], row[4], row[5] = e.ProjectID, e.Seq, e.ResourceID, e.At.Unix(), e.Actor, string(e.Op)
		row[6], row[7], row[8], row[9], row[10] = int64(e.AmountDelta), int64(e.UsageDelta), e.IdempotencyKey, e.Reason, e.Ref
		row[11], row[12], row[13] = int64(e.HeldDelta), e.UserID, e.AppUserID
		return row, nil
	}))
	return err
}

// explainRows bounds the resources an import transaction keeps for
// explain: beyond it, a conflict is named from the error's own detail.
const explainRows = 100_000

// resourceKeyDetail is PostgreSQL's detail of a unique violation of
// resources_id_key. Ids hold no comma or space (allot.ValidateID), so the
// two values split unambiguously.
var resourceKeyDetail = regexp.MustCompile(`^Key \(project_id, resource_id\)=\(([^,]+), ([^)]+)\) already exists\.$`)

// conflictFromDetail names the resource of a unique violation from the
// error's detail, once the transaction is rolled back: the row must exist
// without the import's rows, or the detail named one of them (the domain
// refuses a source that repeats an id, so that would be a bug) and the
// general message stays.
func (s *Store) conflictFromDetail(ctx context.Context, err error) *allot.Error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.ConstraintName != "resources_id_key" {
		return nil
	}
	m := resourceKeyDetail.FindStringSubmatch(pgErr.Detail)
	if m == nil {
		return nil
	}
	var one int
	if s.pool.QueryRow(ctx, `SELECT 1 FROM resources WHERE project_id = $1 AND resource_id = $2`, m[1], m[2]).Scan(&one) != nil {
		return nil
	}
	return allot.Errorf(allot.ECONFLICT, "resource %s/%s exists already", m[1], m[2])
}
