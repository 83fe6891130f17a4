package postgres

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// tenantAllResourcesQuery is TenantChanges' full read. It has no ORDER BY:
// for a big project the planner reads the rows through a bitmap of the
// project's index entries, and sorting 100,000 of them by seq took it longer
// than the scan (an external merge on disk at the default work_mem).
// The rows come back in the table's physical order, which for rows
// written together is seq order, and readTenantResources checks the order
// and sorts only if it has to.
const tenantAllResourcesQuery = `SELECT ` + resourceColumns + ` FROM resources WHERE project_id = $1`

// readTenantResources reads the rows of a read of resourceColumns for
// project projectID, closes them, and returns them in seq order. hint is the
// expected number of rows, 0 when unknown.
//
// The first request for a big tenant waits for this, so it decodes each
// row's raw values itself rather than through Rows.Scan: Scan takes its
// targets as a []any, which with a Resource's fields as targets puts both on
// the heap for every row, and it picks a decoding plan per column per row.
// Each column is decoded by its wire format (binary or text), as the
// server sent it.
func readTenantResources(rows pgx.Rows, projectID string, hint int) ([]allot.Resource, error) {
	defer rows.Close()
	var rs []allot.Resource // sized for hint at the first row: a read may return none
	fields := rows.FieldDescriptions()
	if len(fields) != 20 {
		return nil, fmt.Errorf("postgres: resource read has %d columns, want 20", len(fields))
	}
	var d rawDecoder
	d.fields = fields
	types := make(map[string]string)
	for rows.Next() {
		v := rows.RawValues()
		d.values = v
		if rs == nil {
			rs = make([]allot.Resource, 0, max(hint, 1))
		}
		rs = append(rs, allot.Resource{ProjectID: projectID})
		r := &rs[len(rs)-1]
		r.ResourceID = d.text(0)
		r.Seq = d.int(1)
		r.Version = d.int(2)
		r.OrderID = d.text(3)
		if v[4] != nil {
			r.BoundAsset = &allot.BoundAsset{AssetID: d.text(4), AssetName: d.text(5)}
		}
		if v[6] != nil {
			r.ExpireTime = fromUnix(d.int(6))
		}
		r.ResourceType = shared(types, v[7])
		var ok [5]bool
		r.BusinessType, ok[0] = enumOf(allot.BusinessTypes, v[8])
		r.SubResourceType, ok[1] = enumOf(allot.SubResourceTypes, v[9])
		r.IsSubResource = d.bool(10)
		r.ChargingMode, ok[2] = enumOf(allot.ChargingModes, v[11])
		r.Source, ok[3] = enumOf(allot.ResourceSources, v[12])
		r.Amount = allot.Quantity(d.int(13))
		r.Usage = allot.Quantity(d.int(14))
		r.Status = allot.ResourceStatus(d.int(15))
		r.Unit, ok[4] = enumOf(allot.Units, v[16])
		r.Removed = d.bool(17)
		r.Held = allot.Quantity(d.int(18))
		r.Priority = int(d.int(19))
		if d.err != nil {
			return nil, fmt.Errorf("postgres: resource %s/%s: %w", projectID, r.ResourceID, d.err)
		}
		if ok != [5]bool{true, true, true, true, true} {
			return nil, fmt.Errorf("postgres: resource %s/%s holds a value outside the enumerations", projectID, r.ResourceID)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := 1; i < len(rs); i++ {
		if rs[i-1].Seq > rs[i].Seq {
			slices.SortFunc(rs, func(a, b allot.Resource) int { return cmp.Compare(a.Seq, b.Seq) })
			break
		}
	}
	return rs, nil
}

// rawDecoder decodes the raw values of one row by each column's format. The
// first error sticks.
type rawDecoder struct {
	fields []pgconn.FieldDescription
	values [][]byte
	err    error
}

func (d *rawDecoder) text(i int) string { return string(d.values[i]) }

func (d *rawDecoder) int(i int) int64 {
	b := d.values[i]
	if d.fields[i].Format == pgx.BinaryFormatCode {
		switch len(b) {
		case 8:
			return int64(binary.BigEndian.Uint64(b))
		case 4:
			return int64(int32(binary.BigEndian.Uint32(b)))
		case 2:
			return int64(int16(binary.BigEndian.Uint16(b)))
		}
		d.fail(i, b)
		return 0
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		d.fail(i, b)
	}
	return n
}

func (d *rawDecoder) bool(i int) bool {
	b := d.values[i]
	if len(b) != 1 {
		d.fail(i, b)
		return false
	}
	if d.fields[i].Format == pgx.BinaryFormatCode {
		return b[0] != 0
	}
	return b[0] == 't'
}

func (d *rawDecoder) fail(i int, b []byte) {
	if d.err == nil {
		d.err = fmt.Errorf("column %s: cannot decode %q", d.fields[i].Name, b)
	}
}
