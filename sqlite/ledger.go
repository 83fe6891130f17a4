package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot"
)

const (
	ledgerColumns = `seq, resource_id, at, actor, op, amount_delta, usage_delta, idempotency_key, reason, ref,
		held_delta, user_id, app_user_id`
	insertLedgerSQL = `INSERT INTO ledger (project_id, ` + ledgerColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// ledgerArgs returns the arguments of insertLedgerSQL for e, whose Seq and
// At are set.
func ledgerArgs(e *allot.LedgerEntry) []any {
	return []any{e.ProjectID, e.Seq, e.ResourceID, e.At.Unix(), e.Actor, string(e.Op),
		int64(e.AmountDelta), int64(e.UsageDelta), e.IdempotencyKey, e.Reason, e.Ref,
		int64(e.HeldDelta), e.UserID, e.AppUserID}
}

// LedgerEntries returns one page of a project's entries, oldest first, and
// the count of all that match. EINVALID if the query names no project.
//
// The WHERE clause holds only the conditions the query uses, so SQLite
// plans each shape on its own: a resource's history walks ledger_resource,
// a time window ledger_at, and the whole project the primary key. Page and
// count come from one snapshot.
func (s *Store) LedgerEntries(ctx context.Context, q allot.LedgerQuery) ([]allot.LedgerEntry, int, error) {
	if err := allot.ValidateID("project_id", q.ProjectID); err != nil {
		return nil, 0, err
	}
	where, args := []string{"project_id = ?"}, []any{q.ProjectID}
	if q.ResourceID != "" {
		where, args = append(where, "resource_id = ?"), append(args, q.ResourceID)
	}
	if q.Op != "" {
		where, args = append(where, "op = ?"), append(args, string(q.Op))
	}
	if q.From != nil {
		// Entries are stamped in whole seconds: the first that can be at or
		// after From is the next whole second unless From is one.
		from := q.From.Unix()
		if q.From.Nanosecond() > 0 {
			from++
		}
		where, args = append(where, "at >= ?"), append(args, from)
	}
	if q.To != nil {
		where, args = append(where, "at <= ?"), append(args, q.To.Unix())
	}
	cond := strings.Join(where, " AND ")
	limit, offset := max(q.Page.Limit, 0), max(q.Page.Offset, 0)

	var (
		es    []allot.LedgerEntry
		count int
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM ledger WHERE `+cond, args...).Scan(&count); err != nil {
			return err
		}
		if limit == 0 || offset >= count {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+ledgerColumns+` FROM ledger WHERE `+cond+` ORDER BY seq LIMIT ? OFFSET ?`,
			append(args, limit, offset)...)
		if err != nil {
			return err
		}
		es, err = scanLedger(rows, q.ProjectID, min(limit, count-offset))
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: ledger of %s: %w", q.ProjectID, err)
	}
	return es, count, nil
}

// scanLedger reads rows of ledgerColumns of one project and closes them.
func scanLedger(rows *sql.Rows, projectID string, n int) ([]allot.LedgerEntry, error) {
	defer rows.Close()
	var (
		es            = make([]allot.LedgerEntry, 0, n)
		e             allot.LedgerEntry
		at            int64
		amount, usage int64
		held          int64
		op            string
	)
	dest := []any{&e.Seq, &e.ResourceID, &at, &e.Actor, &op, &amount, &usage, &e.IdempotencyKey, &e.Reason, &e.Ref,
		&held, &e.UserID, &e.AppUserID}
	for rows.Next() {
		e = allot.LedgerEntry{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		e.ProjectID, e.At, e.Op = projectID, fromUnix(at), allot.Op(op)
		e.AmountDelta, e.UsageDelta, e.HeldDelta = allot.Quantity(amount), allot.Quantity(usage), allot.Quantity(held)
		es = append(es, e)
	}
	return es, rows.Err()
}

// The two drift checks, each one statement over whole tables: an audit,
// not a request path. Each groups or joins in one pass, with no query per
// resource.
const (
	// resourceDriftQuery sets each resource's amount and usage beside the
	// sums of its entries' deltas and returns the resources where they
	// differ: one pass over both tables, grouped by resource, so that a
	// resource without entries and entries without a resource show too.
	// (A FULL JOIN of resources and the grouped ledger says the same, but
	// SQLite runs its right half as a nested loop: hours for 100,000
	// resources.)
	resourceDriftQuery = `SELECT project_id, resource_id, SUM(stored_amount), SUM(stored_usage), SUM(amount), SUM(usage)
		FROM (SELECT project_id, resource_id, amount AS stored_amount, usage AS stored_usage, 0 AS amount, 0 AS usage
				FROM resources
			UNION ALL
			SELECT project_id, resource_id, 0, 0, amount_delta, usage_delta FROM ledger)
		GROUP BY project_id, resource_id
		HAVING SUM(stored_amount) <> SUM(amount) OR SUM(stored_usage) <> SUM(usage)`
	// assignmentDriftQuery compares each allocation made through allot (it
	// names the SP package it drew from) with the customer's package it
	// created (SP_ALLOCATED, with the record's id), whose numbers the
	// ledger proves. Imported records have no such package and are not
	// checked; a package that is gone shows in resourceDriftQuery.
	assignmentDriftQuery = `SELECT a.customer_project_id, a.record_id, a.resource_num, a.resource_used_num, r.amount, r.usage
		FROM assignments a
		JOIN resources r ON r.project_id = a.customer_project_id AND r.resource_id = a.record_id
			AND r.resource_source = 'SP_ALLOCATED'
		WHERE a.sp_resource_id IS NOT NULL
			AND (a.resource_num <> r.amount OR a.resource_used_num <> r.usage)`
	// heldDriftQuery sets each resource's held units beside the sum of
	// its entries' held deltas and beside the sum of its open
	// reservations' holds, in check's column order: stored, stored,
	// ledger, open.
	heldDriftQuery = `SELECT project_id, resource_id, SUM(stored), SUM(stored), SUM(ledger), SUM(open)
		FROM (SELECT project_id, resource_id, held AS stored, 0 AS ledger, 0 AS open FROM resources
			UNION ALL
			SELECT project_id, resource_id, 0, held_delta, 0 FROM ledger WHERE held_delta <> 0
			UNION ALL
			SELECT h.project_id, h.resource_id, 0, 0, h.amount FROM reservation_holds h
				JOIN reservations v ON v.reservation_id = h.reservation_id WHERE v.state = 'open')
		GROUP BY project_id, resource_id
		HAVING SUM(stored) <> SUM(ledger) OR SUM(stored) <> SUM(open)`
)

// Drift recomputes every resource's amount and usage and every allot-made
// assignment's numbers from the ledger and returns each difference, one per
// field, ordered by project, resource and field. Both checks read one
// snapshot.
func (s *Store) Drift(ctx context.Context) ([]allot.Drift, error) {
	var ds []allot.Drift
	check := func(tx *sql.Tx, query, amountField, usageField string) error {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				project, id                      string
				stored, storedU, ledger, ledgerU int64
			)
			if err := rows.Scan(&project, &id, &stored, &storedU, &ledger, &ledgerU); err != nil {
				return err
			}
			ds = allot.AppendDrift(ds, project, id, amountField, usageField,
				allot.Quantity(stored), allot.Quantity(storedU), allot.Quantity(ledger), allot.Quantity(ledgerU))
		}
		return rows.Err()
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := check(tx, resourceDriftQuery, "amount", "usage"); err != nil {
			return err
		}
		if err := check(tx, assignmentDriftQuery, "resource_num", "resource_used_num"); err != nil {
			return err
		}
		return check(tx, heldDriftQuery, "held", "held_open")
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: drift: %w", err)
	}
	slices.SortFunc(ds, func(a, b allot.Drift) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.ResourceID, b.ResourceID), cmp.Compare(a.Field, b.Field))
	})
	return ds, nil
}
