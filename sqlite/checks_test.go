package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/storetest"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestEnumChecks writes every value the domain knows, and values it does
// not, into each enum column of resources, ledger and reservations with
// raw SQL: the schema's CHECKs (CASE expressions since version 12, for
// speed) must accept exactly the domain's values. The oracle is the
// domain's lists, not the schema's text.
func TestEnumChecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.db")
	s := MustOpen(t, path)
	storetest.MustImport(t, s, allot.ImportBatch{Projects: []allot.Project{storetest.NewProject("p", "")}})
	raw, err := sql.Open("sqlite", path+"?_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// insert runs one INSERT of a valid row with column set to value, and
	// rolls it back.
	insert := func(table, column, value string) error {
		rows := map[string]map[string]any{
			"resources": {"project_id": "p", "seq": 1, "resource_id": "r", "version": 1, "order_id": "", "asset_id": nil,
				"asset_name": "", "expire_time": nil, "resource_type": "t", "business_type": "VIDEO_2D", "sub_resource_type": "",
				"is_sub_resource": 0, "charging_mode": "ONE_TIME", "resource_source": "PURCHASED", "amount": 10, "usage": 0,
				"status": 0, "unit": "MIN"},
			"ledger": {"project_id": "p", "seq": 1, "resource_id": "r", "at": 1, "actor": "a", "op": "consume", "amount_delta": 0,
				"usage_delta": 1, "idempotency_key": "", "reason": "", "ref": ""},
			"reservations": {"reservation_id": "rsv-1", "project_id": "p", "state": "open", "amount": 2, "committed": 0,
				"created_at": 1, "expires_at": 2, "settled_at": nil, "actor": "a", "idempotency_key": "k", "user_id": "", "app_user_id": ""},
		}
		row := rows[table]
		if _, ok := row[column]; !ok {
			t.Fatalf("%s has no column %s in this test", table, column)
		}
		row[column] = value
		var names []string
		var args []any
		for name, v := range row {
			names, args = append(names, name), append(args, v)
		}
		tx, err := raw.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		_, err = tx.ExecContext(t.Context(), `INSERT INTO `+table+` (`+strings.Join(names, ", ")+`) VALUES (?`+
			strings.Repeat(", ?", len(names)-1)+`)`, args...)
		return err
	}

	cases := []struct {
		table, column string
		valid         []string
	}{
		{"resources", "business_type", strs(allot.BusinessTypes)},
		{"resources", "sub_resource_type", append([]string{""}, strs(allot.SubResourceTypes)...)}, // '': none
		{"resources", "charging_mode", strs(allot.ChargingModes)},
		{"resources", "resource_source", strs(allot.ResourceSources)},
		{"resources", "unit", strs(allot.Units)},
		{"ledger", "op", strs(allot.Ops)},
		{"reservations", "state", strs(allot.ReservationStates)},
	}
	for _, c := range cases {
		t.Run(c.table+"."+c.column, func(t *testing.T) {
			for _, v := range c.valid {
				if err := insert(c.table, c.column, v); err != nil {
					t.Errorf("%q refused: %v", v, err)
				}
			}
			first := c.valid[len(c.valid)-1]
			for _, v := range []string{"", "NOPE", strings.ToLower(first), strings.ToUpper(first), first + " ", " " + first, first + "\x00"} {
				if slices.Contains(c.valid, v) {
					continue
				}
				var e *sqlite.Error
				if err := insert(c.table, c.column, v); !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_CONSTRAINT_CHECK {
					t.Errorf("%q: got %v, want a CHECK constraint failure", v, err)
				}
			}
		})
	}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
