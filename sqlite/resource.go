package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

// Import writes a batch in one transaction: first its projects, then one
// version bump per project whose resources or assignments it adds, then the
// rows themselves in batch order, each resource with its import ledger
// entry. Any error rolls everything back. Imported assignments get no entry:
// they have no allot-made package behind them, and Drift checks only those
// that do.
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
		at := s.Now().UTC().Truncate(time.Second)
		for i := range projects {
			if err := insertProject(ctx, tx, &projects[i]); err != nil {
				return err
			}
		}
		tenants, err := bumpTenants(ctx, tx, &b)
		if err != nil {
			return err
		}
		if err := s.insertResources(ctx, tx, b.Resources, tenants, at); err != nil {
			return err
		}
		return s.insertAssignments(ctx, tx, b.Assignments, tenants)
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
	version   int64  // the new version, carried by the batch's rows
	seq       int64  // the seq of the project's next row in the batch
	ledgerSeq int64  // the seq of the project's next ledger entry
	sp        string // the project's service provider, "" if none
}

// bumpTenants bumps the version of every project that gains rows, once, and
// reserves the seq numbers of its new rows and of their ledger entries (one
// per resource). An assignment belongs to its customer project. EINVALID if
// a project does not exist.
func bumpTenants(ctx context.Context, tx *sql.Tx, b *allot.ImportBatch) (map[string]*tenant, error) {
	type use struct {
		rows, entries int64
		item          string // the first item naming the project, for the error message
	}
	uses := make(map[string]*use)
	var order []string
	add := func(projectID, item string, entries int64) {
		u := uses[projectID]
		if u == nil {
			u = &use{item: item}
			uses[projectID] = u
			order = append(order, projectID)
		}
		u.rows++
		u.entries += entries
	}
	for _, r := range b.Resources {
		add(r.ProjectID, "resource "+r.ProjectID+"/"+r.ResourceID+": project_id", 1)
	}
	for _, a := range b.Assignments {
		add(a.CustomerProjectID, "assignment "+a.RecordID+": customer_project_id", 0)
	}

	stmt, err := tx.PrepareContext(ctx, `
		UPDATE projects SET version = version + 1, next_seq = next_seq + ?1, next_ledger_seq = next_ledger_seq + ?2
		WHERE id = ?3
		RETURNING version, next_seq - ?1, next_ledger_seq - ?2, COALESCE(sp_project_id, '')`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare version bump: %w", err)
	}
	defer stmt.Close()
	tenants := make(map[string]*tenant, len(order))
	for _, id := range order {
		u := uses[id]
		t := new(tenant)
		err := stmt.QueryRowContext(ctx, u.rows, u.entries, id).Scan(&t.version, &t.seq, &t.ledgerSeq, &t.sp)
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
	charging_mode, resource_source, amount, usage, status, unit, removed`
	resourceColumns   = `project_id, ` + resourceSelect
	insertResourceSQL = `INSERT INTO resources (` + resourceColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// resourceArgs returns the arguments of insertResourceSQL for r, whose Seq
// and Version are set.
func resourceArgs(r *allot.Resource) []any {
	asset, assetName, expire := resourceOptionals(r)
	return []any{r.ProjectID, r.Seq, r.ResourceID, r.Version, r.OrderID,
		asset, assetName, expire, r.ResourceType, string(r.BusinessType),
		string(r.SubResourceType), r.IsSubResource, string(r.ChargingMode), string(r.Source),
		int64(r.Amount), int64(r.Usage), int64(r.Status), string(r.Unit), r.Removed}
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

// insertResources inserts a batch's resources, each with its import ledger
// entry (amount and usage as loaded), stamped at.
func (s *Store) insertResources(ctx context.Context, tx *sql.Tx, rs []allot.Resource, tenants map[string]*tenant, at time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	insert := tx.StmtContext(ctx, s.txStmts[stInsertResource])
	ledger := tx.StmtContext(ctx, s.txStmts[stInsertLedger])
	for i := range rs {
		r := rs[i] // a copy: the caller's batch is not written to
		t := tenants[r.ProjectID]
		r.Seq, r.Version = t.seq, t.version
		_, err := insert.ExecContext(ctx, resourceArgs(&r)...)
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // (project_id, resource_id)
			return allot.Errorf(allot.ECONFLICT, "resource %s/%s exists already", r.ProjectID, r.ResourceID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert resource %s/%s: %w", r.ProjectID, r.ResourceID, err)
		}
		t.seq++
		e := allot.LedgerEntry{ProjectID: r.ProjectID, Seq: t.ledgerSeq, ResourceID: r.ResourceID, At: at,
			Actor: "import", Op: allot.OpImport, AmountDelta: r.Amount, UsageDelta: r.Usage}
		if _, err := ledger.ExecContext(ctx, ledgerArgs(&e)...); err != nil {
			return fmt.Errorf("sqlite: ledger entry of resource %s/%s: %w", r.ProjectID, r.ResourceID, err)
		}
		t.ledgerSeq++
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
	amount, usage, status                 int64
	dest                                  []any
}

func newResourceScanner() *resourceScanner {
	sc := new(resourceScanner)
	r := &sc.r
	sc.dest = []any{&r.Seq, &r.ResourceID, &r.Version, &r.OrderID, &sc.asset, &sc.assetName,
		&sc.expire, &r.ResourceType, &sc.business, &sc.sub, &r.IsSubResource,
		&sc.charging, &sc.source, &sc.amount, &sc.usage, &sc.status, &sc.unit, &r.Removed}
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
