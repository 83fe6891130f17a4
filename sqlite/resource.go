package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/allot-dev/allot"
)

// resourceSelect is resourceColumns without project_id, which the reader
// knows already.
const (
	resourceSelect = `seq, resource_id, version, order_id, asset_id, asset_name,
	expire_time, resource_type, business_type, sub_resource_type, is_sub_resource,
	charging_mode, resource_source, amount, usage, status, unit, removed, held, priority`
	resourceColumns   = `project_id, ` + resourceSelect
	insertResourceSQL = `INSERT INTO resources (` + resourceColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// resourceArgs returns the arguments of insertResourceSQL for r, whose Seq
// and Version are set.
func resourceArgs(r *allot.Resource) []any {
	asset, assetName, expire := resourceOptionals(r)
	return []any{r.ProjectID, r.Seq, r.ResourceID, r.Version, r.OrderID,
		asset, assetName, expire, r.ResourceType, string(r.BusinessType),
		string(r.SubResourceType), r.IsSubResource, string(r.ChargingMode), string(r.Source),
		int64(r.Amount), int64(r.Usage), int64(r.Status), string(r.Unit), r.Removed, int64(r.Held), int64(r.Priority)}
}

// resourceOptionals returns the columns of r's optional fields: NULL when unset.
func resourceOptionals(r *allot.Resource) (asset sql.NullString, assetName string, expire sql.NullInt64) {
	if r.BoundAsset != nil {
		asset = sql.NullString{String: r.BoundAsset.AssetID, Valid: true}
		assetName = r.BoundAsset.AssetName
	}
	if !r.ExpireTime.IsZero() {
		expire = sql.NullInt64{Int64: r.ExpireTime.Unix(), Valid: true}
	}
	return asset, assetName, expire
}

// queryResources returns a project's resources changed after version since,
// in seq order. Without a version bound, the scan follows the clustered
// primary key; with one, it starts from the version index. n is the number
// of rows expected, an upper bound, so a full read of a large project does
// not regrow its slice.
func queryResources(ctx context.Context, tx *sql.Tx, projectID string, since int64, n int) ([]allot.Resource, error) {
	q, args := `SELECT `+resourceSelect+` FROM resources WHERE project_id = ? ORDER BY seq`, []any{projectID}
	if since > 0 {
		q, args = `SELECT `+resourceSelect+` FROM resources WHERE project_id = ? AND version > ? ORDER BY seq`, []any{projectID, since}
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query resources of %s: %w", projectID, err)
	}
	return scanResources(rows, projectID, n)
}

// scanResources reads rows of resourceSelect of project projectID and
// closes them. n is the number of rows expected, 0 if unknown.
func scanResources(rows *sql.Rows, projectID string, n int) ([]allot.Resource, error) {
	defer rows.Close()
	var rs []allot.Resource
	if n > 0 {
		rs = make([]allot.Resource, 0, n)
	}
	sc := newResourceScanner()
	for rows.Next() {
		r, err := sc.scan(rows, projectID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: scan resource of %s: %w", projectID, err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query resources of %s: %w", projectID, err)
	}
	return rs, nil
}

// resourceScanner scans rows of resourceSelect. Its scan targets are
// allocated once: passed to Scan, they escape to the heap, and per row that
// would be an allocation each.
type resourceScanner struct {
	r                                     allot.Resource
	asset                                 sql.NullString
	assetName                             string
	expire                                sql.NullInt64
	business, sub, charging, source, unit string
	amount, usage, status, held, priority int64
	dest                                  []any
}

func newResourceScanner() *resourceScanner {
	sc := new(resourceScanner)
	r := &sc.r
	sc.dest = []any{&r.Seq, &r.ResourceID, &r.Version, &r.OrderID, &sc.asset, &sc.assetName,
		&sc.expire, &r.ResourceType, &sc.business, &sc.sub, &r.IsSubResource,
		&sc.charging, &sc.source, &sc.amount, &sc.usage, &sc.status, &sc.unit, &r.Removed, &sc.held, &sc.priority}
	return sc
}

// scan reads one row of project projectID.
func (sc *resourceScanner) scan(row interface{ Scan(...any) error }, projectID string) (allot.Resource, error) {
	sc.r = allot.Resource{}
	if err := row.Scan(sc.dest...); err != nil {
		return allot.Resource{}, err
	}
	r := sc.r
	// The WHERE clause fixes the project; reusing the caller's string
	// saves one string per row in a cache that may hold millions.
	r.ProjectID = projectID
	if sc.asset.Valid {
		r.BoundAsset = &allot.BoundAsset{AssetID: sc.asset.String, AssetName: sc.assetName}
	}
	if sc.expire.Valid {
		r.ExpireTime = fromUnix(sc.expire.Int64)
	}
	r.BusinessType = intern(businessTypes, sc.business)
	r.SubResourceType = intern(subResourceTypes, sc.sub)
	r.ChargingMode = intern(chargingModes, sc.charging)
	r.Source = intern(resourceSources, sc.source)
	r.Unit = intern(units, sc.unit)
	r.Amount, r.Usage, r.Status = allot.Quantity(sc.amount), allot.Quantity(sc.usage), allot.ResourceStatus(sc.status)
	r.Held, r.Priority = allot.Quantity(sc.held), int(sc.priority)
	return r, nil
}

// The enumerations by value, so that rows read share the domain's strings
// instead of each holding its own copies.
var (
	businessTypes    = internTable(allot.BusinessTypes)
	subResourceTypes = internTable(allot.SubResourceTypes)
	chargingModes    = internTable(allot.ChargingModes)
	resourceSources  = internTable(allot.ResourceSources)
	units            = internTable(allot.Units)
)

func internTable[T ~string](values []T) map[string]T {
	m := make(map[string]T, len(values))
	for _, v := range values {
		m[string(v)] = v
	}
	return m
}

// intern returns the domain's value equal to s; a value the domain does not
// know (the schema's CHECK constraints keep them out) is returned as read.
func intern[T ~string](table map[string]T, s string) T {
	if v, ok := table[s]; ok {
		return v
	}
	return T(s)
}
