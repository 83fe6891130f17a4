package postgres

import (
	"context"

	"allot"

	"github.com/jackc/pgx/v5"
)

// insertChunk bounds the rows of one INSERT: a batch of any size goes in as
// a few large statements instead of one round trip per row, while no single
// statement grows without limit (CockroachDB in particular prefers
// transactions made of moderate statements).
const insertChunk = 5000

// insertResources writes resources whose Seq and Version are set. The rows
// travel as one array per column and unnest turns them back into rows: a
// constant number of parameters however many rows, and plain SQL that the
// PostgreSQL-compatible distributed databases also accept.
func insertResources(ctx context.Context, tx pgx.Tx, rs []allot.Resource) error {
	for len(rs) > 0 {
		n := min(len(rs), insertChunk)
		var (
			projects, ids, orders, assetNames = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			types, businesses, subTypes       = make([]string, n), make([]string, n), make([]string, n)
			modes, sources, units             = make([]string, n), make([]string, n), make([]string, n)
			assetIDs                          = make([]*string, n)
			expires                           = make([]*int64, n)
			seqs, versions, amounts, used     = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			isSub                             = make([]bool, n)
			statuses                          = make([]int32, n)
		)
		for i, r := range rs[:n] {
			projects[i], ids[i], orders[i] = r.ProjectID, r.ResourceID, r.OrderID
			if r.BoundAsset != nil {
				assetIDs[i], assetNames[i] = &r.BoundAsset.AssetID, r.BoundAsset.AssetName
			}
			expires[i] = unixOrNull(r.ExpireTime)
			types[i], businesses[i], subTypes[i] = r.ResourceType, string(r.BusinessType), string(r.SubResourceType)
			isSub[i], modes[i], sources[i] = r.IsSubResource, string(r.ChargingMode), string(r.Source)
			amounts[i], used[i], statuses[i], units[i] = int64(r.Amount), int64(r.Usage), int32(r.Status), string(r.Unit)
			seqs[i], versions[i] = r.Seq, r.Version
		}
		_, err := tx.Exec(ctx, `INSERT INTO resources (project_id, resource_id, seq, version, order_id,
				asset_id, asset_name, expire_time, resource_type, business_type, sub_resource_type,
				is_sub_resource, charging_mode, resource_source, amount, usage, status, unit)
			SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[],
				$6::TEXT[], $7::TEXT[], $8::BIGINT[], $9::TEXT[], $10::TEXT[], $11::TEXT[],
				$12::BOOLEAN[], $13::TEXT[], $14::TEXT[], $15::BIGINT[], $16::BIGINT[], $17::INTEGER[], $18::TEXT[])`,
			projects, ids, seqs, versions, orders,
			assetIDs, assetNames, expires, types, businesses, subTypes,
			isSub, modes, sources, amounts, used, statuses, units)
		if err != nil {
			// Which resource exists already is found after the rollback.
			return mapError(err, map[string]*allot.Error{
				"resources_id_key": allot.Errorf(allot.ECONFLICT, "a resource of the batch exists already"),
			})
		}
		rs = rs[n:]
	}
	return nil
}

// selectResources returns a project's resources changed after version since,
// in Seq order.
func selectResources(ctx context.Context, q querier, projectID string, since int64) ([]allot.Resource, error) {
	rows, err := q.Query(ctx, `SELECT resource_id, seq, version, order_id, asset_id, asset_name,
			expire_time, resource_type, business_type, sub_resource_type, is_sub_resource,
			charging_mode, resource_source, amount, usage, status, unit
		FROM resources WHERE project_id = $1 AND version > $2 ORDER BY seq`, projectID, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		rs        []allot.Resource
		assetID   *string
		assetName string
		expire    *int64
	)
	for rows.Next() {
		r := allot.Resource{ProjectID: projectID}
		err := rows.Scan(&r.ResourceID, &r.Seq, &r.Version, &r.OrderID, &assetID, &assetName,
			&expire, &r.ResourceType, &r.BusinessType, &r.SubResourceType, &r.IsSubResource,
			&r.ChargingMode, &r.Source, &r.Amount, &r.Usage, &r.Status, &r.Unit)
		if err != nil {
			return nil, err
		}
		if assetID != nil {
			r.BoundAsset = &allot.BoundAsset{AssetID: *assetID, AssetName: assetName}
		}
		r.ExpireTime = timeOrZero(expire)
		rs = append(rs, r)
	}
	return rs, rows.Err()
}
