package postgres

import (
	"context"
	"fmt"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// insertAssignments writes assignment records whose Seq and Version are set,
// in the same column-array form as insertResources.
func insertAssignments(ctx context.Context, tx pgx.Tx, as []allot.Assignment) error {
	for len(as) > 0 {
		n := min(len(as), insertChunk)
		if _, err := tx.Exec(ctx, insertAssignmentsSQL, assignmentArrays(as[:n])...); err != nil {
			// Which record exists already is found after the rollback.
			return mapError(err, map[string]*allot.Error{
				"assignments_record_key": allot.Errorf(allot.ECONFLICT, "an assignment record of the batch exists already"),
			})
		}
		as = as[n:]
	}
	return nil
}

const insertAssignmentsSQL = `INSERT INTO assignments (customer_project_id, record_id, sp_project_id,
		seq, version, resource_spec_code, charging_mode, resource_num, resource_used_num,
		allocate_time, expire_time, sp_resource_id)
	SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[],
		$6::TEXT[], $7::TEXT[], $8::BIGINT[], $9::BIGINT[], $10::BIGINT[], $11::BIGINT[], $12::TEXT[])`

// assignmentArrays returns the arguments of insertAssignmentsSQL for as.
func assignmentArrays(as []allot.Assignment) []any {
	n := len(as)
	var (
		customers, ids, sps, specs, modes = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seqs, versions, nums, usedNums    = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		allocated, expires                = make([]int64, n), make([]int64, n)
		spResources                       = make([]*string, n)
	)
	for i, a := range as {
		customers[i], ids[i], sps[i] = a.CustomerProjectID, a.RecordID, a.SPProjectID
		specs[i], modes[i] = a.ResourceSpecCode, string(a.ChargingMode)
		nums[i], usedNums[i] = int64(a.ResourceNum), int64(a.ResourceUsedNum)
		allocated[i], expires[i] = a.AllocateTime.Unix(), a.ExpireTime.Unix()
		seqs[i], versions[i], spResources[i] = a.Seq, a.Version, nullIfEmpty(a.SPResourceID)
	}
	return []any{customers, ids, sps, seqs, versions, specs, modes, nums, usedNums, allocated, expires, spResources}
}

// The assignment reads, in Seq order, as two statements like the
// resource reads.
const (
	assignmentColumns = `record_id, sp_project_id, seq, version, resource_spec_code,
		charging_mode, resource_num, resource_used_num, allocate_time, expire_time, COALESCE(sp_resource_id, '')`
	allAssignmentsQuery     = `SELECT ` + assignmentColumns + ` FROM assignments WHERE customer_project_id = $1 ORDER BY seq`
	changedAssignmentsQuery = `SELECT ` + assignmentColumns + ` FROM assignments
		WHERE customer_project_id = $1 AND version > $2 ORDER BY seq`
)

// scanAssignments reads the rows of an assignment read for customerID and
// closes them, sharing enumeration and spec code strings like scanResources.
func scanAssignments(rows pgx.Rows, customerID string) ([]allot.Assignment, error) {
	defer rows.Close()
	var (
		as                []allot.Assignment
		sp, spec, mode    pgtype.DriverBytes
		num, used         int64
		allocate, expires int64
		strs              = make(map[string]string)
		ok                bool
	)
	for rows.Next() {
		a := allot.Assignment{CustomerProjectID: customerID}
		err := rows.Scan(&a.RecordID, &sp, &a.Seq, &a.Version, &spec, &mode, &num, &used, &allocate, &expires, &a.SPResourceID)
		if err != nil {
			return nil, err
		}
		if a.ChargingMode, ok = enumOf(allot.ChargingModes, mode); !ok || len(mode) == 0 {
			return nil, fmt.Errorf("postgres: assignment %s holds a value outside the enumerations", a.RecordID)
		}
		a.SPProjectID, a.ResourceSpecCode = shared(strs, sp), shared(strs, spec)
		a.ResourceNum, a.ResourceUsedNum = allot.Quantity(num), allot.Quantity(used)
		a.AllocateTime, a.ExpireTime = fromUnix(allocate), fromUnix(expires)
		as = append(as, a)
	}
	return as, rows.Err()
}
