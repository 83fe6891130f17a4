package postgres

import (
	"fmt"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// insertChunk bounds the rows of one INSERT: a batch of any size goes in as
// a few large statements instead of one round trip per row, while no single
// statement grows without limit (CockroachDB in particular prefers
// transactions made of moderate statements).
const insertChunk = 5000

const insertResourcesSQL = `INSERT INTO resources (project_id, resource_id, seq, version, order_id,
		asset_id, asset_name, expire_time, resource_type, business_type, sub_resource_type,
		is_sub_resource, charging_mode, resource_source, amount, usage, status, unit, removed, held, priority)
	SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[],
		$6::TEXT[], $7::TEXT[], $8::BIGINT[], $9::TEXT[], $10::TEXT[], $11::TEXT[],
		$12::BOOLEAN[], $13::TEXT[], $14::TEXT[], $15::BIGINT[], $16::BIGINT[], $17::INTEGER[], $18::TEXT[],
		$19::BOOLEAN[], $20::BIGINT[], $21::INTEGER[])`

// resourceArrays returns the arguments of insertResourcesSQL for rs.
func resourceArrays(rs []allot.Resource) []any {
	n := len(rs)
	var (
		projects, ids, orders, assetNames = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		types, businesses, subTypes       = make([]string, n), make([]string, n), make([]string, n)
		modes, sources, units             = make([]string, n), make([]string, n), make([]string, n)
		assetIDs                          = make([]*string, n)
		expires                           = make([]*int64, n)
		seqs, versions, amounts, used     = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		isSub, removed                    = make([]bool, n), make([]bool, n)
		statuses, priorities              = make([]int32, n), make([]int32, n)
		held                              = make([]int64, n)
	)
	for i, r := range rs {
		projects[i], ids[i], orders[i] = r.ProjectID, r.ResourceID, r.OrderID
		if r.BoundAsset != nil {
			assetIDs[i], assetNames[i] = &r.BoundAsset.AssetID, r.BoundAsset.AssetName
		}
		expires[i] = unixOrNull(r.ExpireTime)
		types[i], businesses[i], subTypes[i] = r.ResourceType, string(r.BusinessType), string(r.SubResourceType)
		isSub[i], modes[i], sources[i] = r.IsSubResource, string(r.ChargingMode), string(r.Source)
		amounts[i], used[i], statuses[i], units[i] = int64(r.Amount), int64(r.Usage), int32(r.Status), string(r.Unit)
		seqs[i], versions[i], removed[i] = r.Seq, r.Version, r.Removed
		held[i], priorities[i] = int64(r.Held), int32(r.Priority)
	}
	return []any{projects, ids, seqs, versions, orders,
		assetIDs, assetNames, expires, types, businesses, subTypes,
		isSub, modes, sources, amounts, used, statuses, units, removed, held, priorities}
}

// The resource reads, in Seq order: all of a project's rows, and those
// changed after a version. They are two statements rather than one with
// "version > 0", because each is prepared once and then planned for any
// argument: the full read walks the primary key in order, while the change
// read starts from the version index and sorts the few rows it finds.
const (
	resourceColumns = `resource_id, seq, version, order_id, asset_id, asset_name,
		expire_time, resource_type, business_type, sub_resource_type, is_sub_resource,
		charging_mode, resource_source, amount, usage, status, unit, removed, held, priority`
	allResourcesQuery     = `SELECT ` + resourceColumns + ` FROM resources WHERE project_id = $1 ORDER BY seq`
	changedResourcesQuery = `SELECT ` + resourceColumns + ` FROM resources WHERE project_id = $1 AND version > $2 ORDER BY seq`
)

// scanResources reads the rows of a resource read for project projectID and
// closes them. hint is the expected number of rows, 0 when unknown.
//
// A full read of a big project is the largest thing a node asks for, so the
// enumerations are not scanned into strings of their own: they are matched
// against the domain's values in the driver's buffer and share those, and
// the few distinct resource types are shared through a map. That saves six
// allocations and the reflection of named-type scans per row.
func scanResources(rows pgx.Rows, projectID string, hint int) ([]allot.Resource, error) {
	defer rows.Close()
	var (
		rs                                    = make([]allot.Resource, 0, hint)
		assetID                               pgtype.Text
		assetName                             string
		expire                                pgtype.Int8
		amount, usage, held                   int64
		status, priority                      int32
		rtype, business, sub, mode, src, unit pgtype.DriverBytes
		types                                 = make(map[string]string)
	)
	for rows.Next() {
		r := allot.Resource{ProjectID: projectID}
		err := rows.Scan(&r.ResourceID, &r.Seq, &r.Version, &r.OrderID, &assetID, &assetName,
			&expire, &rtype, &business, &sub, &r.IsSubResource,
			&mode, &src, &amount, &usage, &status, &unit, &r.Removed, &held, &priority)
		if err != nil {
			return nil, err
		}
		if assetID.Valid {
			r.BoundAsset = &allot.BoundAsset{AssetID: assetID.String, AssetName: assetName}
		}
		if expire.Valid {
			r.ExpireTime = fromUnix(expire.Int64)
		}
		var ok [5]bool
		r.BusinessType, ok[0] = enumOf(allot.BusinessTypes, business)
		r.SubResourceType, ok[1] = enumOf(allot.SubResourceTypes, sub)
		r.ChargingMode, ok[2] = enumOf(allot.ChargingModes, mode)
		r.Source, ok[3] = enumOf(allot.ResourceSources, src)
		r.Unit, ok[4] = enumOf(allot.Units, unit)
		if ok != [5]bool{true, true, true, true, true} {
			return nil, fmt.Errorf("postgres: resource %s/%s holds a value outside the enumerations", projectID, r.ResourceID)
		}
		r.ResourceType = shared(types, rtype)
		r.Amount, r.Usage, r.Status = allot.Quantity(amount), allot.Quantity(usage), allot.ResourceStatus(status)
		r.Held, r.Priority = allot.Quantity(held), int(priority)
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// enumOf returns the value of values that equals b; the empty string is
// the unset value of an optional enumeration.
func enumOf[T ~string](values []T, b []byte) (T, bool) {
	if len(b) == 0 {
		return "", true
	}
	for _, v := range values {
		if string(v) == string(b) {
			return v, true
		}
	}
	return "", false
}

// shared returns b as a string, the same string for every equal b.
func shared(m map[string]string, b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	m[s] = s
	return s
}
