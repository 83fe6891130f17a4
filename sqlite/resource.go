package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"allot"

	sqlite3 "modernc.org/sqlite/lib"
)

// Import writes a batch in one transaction: first its projects, then one
// version bump per project whose resources or assignments it adds, then the
// rows themselves in batch order. Any error rolls everything back.
func (s *Store) Import(ctx context.Context, b allot.ImportBatch) error {
	if err := validateBatch(&b); err != nil {
		return err
	}
	projects, err := sortProjects(b.Projects)
	if err != nil {
		return err
	}
	for i := range projects {
		projects[i].CreatedAt = s.now(projects[i].CreatedAt)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for i := range projects {
			if err := insertProject(ctx, tx, &projects[i]); err != nil {
				return err
			}
		}
		tenants, err := bumpTenants(ctx, tx, &b)
		if err != nil {
			return err
		}
		if err := insertResources(ctx, tx, b.Resources, tenants); err != nil {
			return err
		}
		return insertAssignments(ctx, tx, b.Assignments, tenants)
	})
}

// validateBatch validates every item before anything is written, prefixing
// the error's message with the item it is about.
func validateBatch(b *allot.ImportBatch) error {
	for i := range b.Projects {
		if err := b.Projects[i].Validate(); err != nil {
			return itemError("project "+b.Projects[i].ID, err)
		}
	}
	for i := range b.Resources {
		r := &b.Resources[i]
		if err := r.Validate(); err != nil {
			return itemError("resource "+r.ProjectID+"/"+r.ResourceID, err)
		}
	}
	for i := range b.Assignments {
		if err := b.Assignments[i].Validate(); err != nil {
			return itemError("assignment "+b.Assignments[i].RecordID, err)
		}
	}
	return nil
}

func itemError(item string, err error) error {
	var e *allot.Error
	if errors.As(err, &e) {
		return &allot.Error{Code: e.Code, Message: item + ": " + e.Message, Err: e.Err}
	}
	return fmt.Errorf("%s: %w", item, err)
}

// tenant is a project the batch adds rows to, after its version bump.
type tenant struct {
	version int64  // the new version, carried by the batch's rows
	seq     int64  // the seq of the project's next row in the batch
	sp      string // the project's service provider, "" if none
}

// bumpTenants bumps the version of every project that gains rows, once, and
// reserves the seq numbers of its new rows. An assignment belongs to its
// customer project. EINVALID if a project does not exist.
func bumpTenants(ctx context.Context, tx *sql.Tx, b *allot.ImportBatch) (map[string]*tenant, error) {
	type use struct {
		rows int64
		item string // the first item naming the project, for the error message
	}
	uses := make(map[string]*use)
	var order []string
	add := func(projectID, item string) {
		if u := uses[projectID]; u != nil {
			u.rows++
			return
		}
		uses[projectID] = &use{rows: 1, item: item}
		order = append(order, projectID)
	}
	for _, r := range b.Resources {
		add(r.ProjectID, "resource "+r.ProjectID+"/"+r.ResourceID+": project_id")
	}
	for _, a := range b.Assignments {
		add(a.CustomerProjectID, "assignment "+a.RecordID+": customer_project_id")
	}

	stmt, err := tx.PrepareContext(ctx, `
		UPDATE projects SET version = version + 1, next_seq = next_seq + ?
		WHERE id = ?
		RETURNING version, next_seq - ?, COALESCE(sp_project_id, '')`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare version bump: %w", err)
	}
	defer stmt.Close()
	tenants := make(map[string]*tenant, len(order))
	for _, id := range order {
		u := uses[id]
		t := new(tenant)
		err := stmt.QueryRowContext(ctx, u.rows, id, u.rows).Scan(&t.version, &t.seq, &t.sp)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, allot.Errorf(allot.EINVALID, "%s: project %s does not exist", u.item, id)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: bump version of %s: %w", id, err)
		}
		tenants[id] = t
	}
	return tenants, nil
}

// resourceSelect is resourceColumns without project_id, which the reader
// knows already.
const (
	resourceSelect = `seq, resource_id, version, order_id, asset_id, asset_name,
	expire_time, resource_type, business_type, sub_resource_type, is_sub_resource,
	charging_mode, resource_source, amount, usage, status, unit`
	resourceColumns = `project_id, ` + resourceSelect
)

func insertResources(ctx context.Context, tx *sql.Tx, rs []allot.Resource, tenants map[string]*tenant) error {
	if len(rs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO resources (`+resourceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare resource insert: %w", err)
	}
	defer stmt.Close()
	for i := range rs {
		r := &rs[i]
		t := tenants[r.ProjectID]
		var asset sql.NullString
		var assetName string
		if r.BoundAsset != nil {
			asset = sql.NullString{String: r.BoundAsset.AssetID, Valid: true}
			assetName = r.BoundAsset.AssetName
		}
		var expire sql.NullInt64
		if !r.ExpireTime.IsZero() {
			expire = sql.NullInt64{Int64: r.ExpireTime.Unix(), Valid: true}
		}
		_, err := stmt.ExecContext(ctx, r.ProjectID, t.seq, r.ResourceID, t.version, r.OrderID,
			asset, assetName, expire, r.ResourceType, string(r.BusinessType),
			string(r.SubResourceType), r.IsSubResource, string(r.ChargingMode), string(r.Source),
			int64(r.Amount), int64(r.Usage), int64(r.Status), string(r.Unit))
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // (project_id, resource_id)
			return allot.Errorf(allot.ECONFLICT, "resource %s/%s exists already", r.ProjectID, r.ResourceID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert resource %s/%s: %w", r.ProjectID, r.ResourceID, err)
		}
		t.seq++
	}
	return nil
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
	defer rows.Close()
	var rs []allot.Resource
	if n > 0 {
		rs = make([]allot.Resource, 0, n)
	}
	// The scan targets are declared once: passed to Scan, they escape to
	// the heap, and per row that would be an allocation each.
	var (
		r                                     allot.Resource
		asset                                 sql.NullString
		assetName                             string
		expire                                sql.NullInt64
		business, sub, charging, source, unit string
		amount, usage, status                 int64
	)
	dest := []any{&r.Seq, &r.ResourceID, &r.Version, &r.OrderID, &asset, &assetName,
		&expire, &r.ResourceType, &business, &sub, &r.IsSubResource,
		&charging, &source, &amount, &usage, &status, &unit}
	for rows.Next() {
		r = allot.Resource{}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sqlite: scan resource of %s: %w", projectID, err)
		}
		// The WHERE clause fixes the project; reusing the caller's string
		// saves one string per row in a cache that may hold millions.
		r.ProjectID = projectID
		if asset.Valid {
			r.BoundAsset = &allot.BoundAsset{AssetID: asset.String, AssetName: assetName}
		}
		if expire.Valid {
			r.ExpireTime = fromUnix(expire.Int64)
		}
		r.BusinessType = intern(businessTypes, business)
		r.SubResourceType = intern(subResourceTypes, sub)
		r.ChargingMode = intern(chargingModes, charging)
		r.Source = intern(resourceSources, source)
		r.Unit = intern(units, unit)
		r.Amount, r.Usage, r.Status = allot.Quantity(amount), allot.Quantity(usage), allot.ResourceStatus(status)
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query resources of %s: %w", projectID, err)
	}
	return rs, nil
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
