package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/allot-dev/allot"
)

// tenantResourceSelect is TenantChanges' read of resources: every column
// but the bound asset packed into one text value, fields separated by '|'.
//
// Why: the first request for a big tenant waits for this read. With this
// driver, each column of each row costs calls into the engine that take the
// connection's mutex, a driver value and a conversion to the scan target;
// for 18 columns that was most of the read's time. One packed column costs
// SQLite some formatting but the read as a whole about a fifth less time,
// and a third of the allocations (BENCHMARKS.md, "Read model, round 2").
// '|' cannot occur in a packed field: the ids are ValidateID'd
// ([A-Za-z0-9._-]), the rest are enumerations and integers. The asset name
// may hold any text, so the asset keeps its own two columns.
const tenantResourceSelect = `SELECT seq || '|' || version || '|' || resource_id || '|' || order_id || '|' ||
	IFNULL(expire_time, '') || '|' || resource_type || '|' || business_type || '|' || sub_resource_type || '|' ||
	is_sub_resource || '|' || charging_mode || '|' || resource_source || '|' || amount || '|' || usage || '|' ||
	status || '|' || unit || '|' || removed, asset_id, asset_name FROM resources WHERE project_id = ?`

// packedFields is the number of fields of tenantResourceSelect's first column.
const packedFields = 16

// queryTenantResources returns a project's resources changed after version
// since, in seq order. n is the number of rows expected (an upper bound), 0
// if unknown.
func queryTenantResources(ctx context.Context, tx *sql.Tx, projectID string, since int64, n int) ([]allot.Resource, error) {
	q, args := tenantResourceSelect+` ORDER BY seq`, []any{projectID}
	if since > 0 {
		q, args = tenantResourceSelect+` AND version > ? ORDER BY seq`, []any{projectID, since}
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query resources of %s: %w", projectID, err)
	}
	defer rows.Close()
	var rs []allot.Resource
	if n > 0 {
		rs = make([]allot.Resource, 0, n)
	}
	var (
		packed    sql.RawBytes
		asset     sql.NullString
		assetName string
		types     = make(map[string]string) // a tenant has a handful of resource types
	)
	for rows.Next() {
		if err := rows.Scan(&packed, &asset, &assetName); err != nil {
			return nil, fmt.Errorf("sqlite: scan resource of %s: %w", projectID, err)
		}
		rs = append(rs, allot.Resource{ProjectID: projectID})
		r := &rs[len(rs)-1]
		if err := unpackResource(r, packed, types); err != nil {
			return nil, fmt.Errorf("sqlite: resource of %s: %w", projectID, err)
		}
		if asset.Valid {
			r.BoundAsset = &allot.BoundAsset{AssetID: asset.String, AssetName: assetName}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query resources of %s: %w", projectID, err)
	}
	return rs, nil
}

// unpackResource parses one packed value of tenantResourceSelect into r.
func unpackResource(r *allot.Resource, b []byte, types map[string]string) error {
	var f [packedFields][]byte
	for i := range packedFields - 1 {
		j := bytes.IndexByte(b, '|')
		if j < 0 {
			return fmt.Errorf("packed row has %d fields, want %d", i+1, packedFields)
		}
		f[i], b = b[:j], b[j+1:]
	}
	f[packedFields-1] = b
	// seq, version, expire_time, is_sub_resource, amount, usage, status, removed
	var ints [8]int64
	for k, i := range [8]int{0, 1, 4, 8, 11, 12, 13, 15} {
		if k == 2 && len(f[i]) == 0 {
			continue // no expiry time
		}
		v, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil {
			return fmt.Errorf("packed row field %d: %w", i, err)
		}
		ints[k] = v
	}
	r.Seq, r.Version = ints[0], ints[1]
	r.ResourceID, r.OrderID = string(f[2]), string(f[3])
	if len(f[4]) > 0 {
		r.ExpireTime = fromUnix(ints[2])
	}
	r.ResourceType = sharedString(types, f[5])
	r.BusinessType = internBytes(businessTypes, f[6])
	r.SubResourceType = internBytes(subResourceTypes, f[7])
	r.IsSubResource = ints[3] != 0
	r.ChargingMode = internBytes(chargingModes, f[9])
	r.Source = internBytes(resourceSources, f[10])
	r.Amount, r.Usage = allot.Quantity(ints[4]), allot.Quantity(ints[5])
	r.Status = allot.ResourceStatus(ints[6])
	r.Unit = internBytes(units, f[14])
	r.Removed = ints[7] != 0
	return nil
}

// internBytes is intern for a field in the driver's buffer: the lookup
// does not allocate.
func internBytes[T ~string](table map[string]T, b []byte) T {
	if v, ok := table[string(b)]; ok {
		return v
	}
	return T(b)
}

// sharedString returns b as a string, the same string for every equal b.
func sharedString(m map[string]string, b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	m[s] = s
	return s
}
