package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/allot-dev/allot"
)

// assignmentSelect is assignmentColumns without customer_project_id, which
// the reader knows already.
const (
	assignmentSelect = `seq, record_id, version, sp_project_id,
	resource_spec_code, charging_mode, resource_num, resource_used_num, allocate_time, expire_time,
	COALESCE(sp_resource_id, '')`
	insertAssignmentSQL = `INSERT INTO assignments (customer_project_id, seq, record_id, version, sp_project_id,
		resource_spec_code, charging_mode, resource_num, resource_used_num, allocate_time, expire_time,
		sp_resource_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// assignmentArgs returns the arguments of insertAssignmentSQL for a, whose
// Seq and Version are set.
func assignmentArgs(a *allot.Assignment) []any {
	return []any{a.CustomerProjectID, a.Seq, a.RecordID, a.Version, a.SPProjectID,
		a.ResourceSpecCode, string(a.ChargingMode), int64(a.ResourceNum), int64(a.ResourceUsedNum),
		a.AllocateTime.Unix(), a.ExpireTime.Unix(), nullString(a.SPResourceID)}
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
	var as []allot.Assignment
	sc := newAssignmentScanner()
	for rows.Next() {
		a, err := sc.scan(rows, projectID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: scan assignment of %s: %w", projectID, err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query assignments of %s: %w", projectID, err)
	}
	return as, nil
}

// assignmentScanner scans rows of assignmentSelect, like resourceScanner.
type assignmentScanner struct {
	a                 allot.Assignment
	charging          string
	num, used         int64
	allocated, expire int64
	dest              []any
}

// newAssignmentScanner returns a scanner of rows that hold the columns of
// lead before those of assignmentSelect.
func newAssignmentScanner(lead ...any) *assignmentScanner {
	sc := new(assignmentScanner)
	a := &sc.a
	sc.dest = append(lead, &a.Seq, &a.RecordID, &a.Version, &a.SPProjectID,
		&a.ResourceSpecCode, &sc.charging, &sc.num, &sc.used, &sc.allocated, &sc.expire, &a.SPResourceID)
	return sc
}

// scan reads one row of customer project projectID.
func (sc *assignmentScanner) scan(row interface{ Scan(...any) error }, projectID string) (allot.Assignment, error) {
	sc.a = allot.Assignment{}
	if err := row.Scan(sc.dest...); err != nil {
		return allot.Assignment{}, err
	}
	a := sc.a
	a.CustomerProjectID = projectID
	a.ChargingMode = intern(chargingModes, sc.charging)
	a.ResourceNum, a.ResourceUsedNum = allot.Quantity(sc.num), allot.Quantity(sc.used)
	a.AllocateTime, a.ExpireTime = fromUnix(sc.allocated), fromUnix(sc.expire)
	return a, nil
}
