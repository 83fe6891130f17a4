package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"allot"

	sqlite3 "modernc.org/sqlite/lib"
)

// assignmentSelect is assignmentColumns without customer_project_id, which
// the reader knows already.
const (
	assignmentSelect = `seq, record_id, version, sp_project_id,
	resource_spec_code, charging_mode, resource_num, resource_used_num, allocate_time, expire_time`
	assignmentColumns = `customer_project_id, ` + assignmentSelect
)

// insertAssignments inserts allocation records under their customer
// projects, whose versions bumpTenants has bumped. EINVALID if the customer
// is not a customer of the record's service provider.
func insertAssignments(ctx context.Context, tx *sql.Tx, as []allot.Assignment, tenants map[string]*tenant) error {
	if len(as) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO assignments (`+assignmentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare assignment insert: %w", err)
	}
	defer stmt.Close()
	for i := range as {
		a := &as[i]
		t := tenants[a.CustomerProjectID]
		if t.sp != a.SPProjectID {
			return allot.Errorf(allot.EINVALID, "assignment %s: customer_project_id: project %s is not a customer of %s",
				a.RecordID, a.CustomerProjectID, a.SPProjectID)
		}
		_, err := stmt.ExecContext(ctx, a.CustomerProjectID, t.seq, a.RecordID, t.version, a.SPProjectID,
			a.ResourceSpecCode, string(a.ChargingMode), int64(a.ResourceNum), int64(a.ResourceUsedNum),
			a.AllocateTime.Unix(), a.ExpireTime.Unix())
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // record_id
			return allot.Errorf(allot.ECONFLICT, "assignment %s exists already", a.RecordID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert assignment %s: %w", a.RecordID, err)
		}
		t.seq++
	}
	return nil
}

// queryAssignments returns the records of customer project projectID changed
// after version since, in seq order. A service provider's own query finds
// nothing here: records are filed under the customer.
func queryAssignments(ctx context.Context, tx *sql.Tx, projectID string, since int64) ([]allot.Assignment, error) {
	q, args := `SELECT `+assignmentSelect+` FROM assignments WHERE customer_project_id = ? ORDER BY seq`, []any{projectID}
	if since > 0 {
		q, args = `SELECT `+assignmentSelect+` FROM assignments WHERE customer_project_id = ? AND version > ? ORDER BY seq`, []any{projectID, since}
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query assignments of %s: %w", projectID, err)
	}
	defer rows.Close()
	var (
		as                []allot.Assignment
		a                 allot.Assignment
		charging          string
		num, used         int64
		allocated, expire int64
	)
	dest := []any{&a.Seq, &a.RecordID, &a.Version, &a.SPProjectID,
		&a.ResourceSpecCode, &charging, &num, &used, &allocated, &expire}
	for rows.Next() {
		a = allot.Assignment{}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sqlite: scan assignment of %s: %w", projectID, err)
		}
		a.CustomerProjectID = projectID
		a.ChargingMode = intern(chargingModes, charging)
		a.ResourceNum, a.ResourceUsedNum = allot.Quantity(num), allot.Quantity(used)
		a.AllocateTime, a.ExpireTime = fromUnix(allocated), fromUnix(expire)
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query assignments of %s: %w", projectID, err)
	}
	return as, nil
}
