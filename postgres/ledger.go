package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

var _ allot.LedgerStore = (*Store)(nil)

// insertLedger appends entries whose Seq is set, in the same column-array
// form as insertResources.
func insertLedger(ctx context.Context, tx pgx.Tx, es []allot.LedgerEntry) error {
	for len(es) > 0 {
		n := min(len(es), insertChunk)
		if _, err := tx.Exec(ctx, insertLedgerSQL, ledgerArrays(es[:n])...); err != nil {
			return err
		}
		es = es[n:]
	}
	return nil
}

// ledgerArrays are the arguments of insertLedgerSQL for es.
func ledgerArrays(es []allot.LedgerEntry) []any {
	n := len(es)
	var (
		projects, ids, actors, ops = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		keys, reasons, refs        = make([]string, n), make([]string, n), make([]string, n)
		seqs, ats, amounts, usages = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		helds                      = make([]int64, n)
		users, appUsers            = make([]string, n), make([]string, n)
	)
	for i, e := range es[:n] {
		projects[i], seqs[i], ids[i], ats[i] = e.ProjectID, e.Seq, e.ResourceID, e.At.Unix()
		actors[i], ops[i], amounts[i], usages[i] = e.Actor, string(e.Op), int64(e.AmountDelta), int64(e.UsageDelta)
		keys[i], reasons[i], refs[i] = e.IdempotencyKey, e.Reason, e.Ref
		helds[i], users[i], appUsers[i] = int64(e.HeldDelta), e.UserID, e.AppUserID
	}
	return []any{projects, seqs, ids, ats, actors, ops, amounts, usages, keys, reasons, refs, helds, users, appUsers}
}

// insertLedgerSQL appends the entries given as one array per column.
const insertLedgerSQL = `INSERT INTO ledger (project_id, seq, resource_id, at, actor, op,
		amount_delta, usage_delta, idempotency_key, reason, ref, held_delta, user_id, app_user_id)
	SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::TEXT[],
		$7::BIGINT[], $8::BIGINT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::BIGINT[], $13::TEXT[], $14::TEXT[])`

const ledgerColumns = `seq, resource_id, at, actor, op, amount_delta, usage_delta, idempotency_key, reason, ref,
	held_delta, user_id, app_user_id`

// LedgerEntries returns one page of a project's entries, oldest first, and
// the count of all that match. EINVALID if the query names no project.
//
// The WHERE clause holds only the conditions the query uses, so each of its
// few shapes is its own prepared statement with its own plan: a resource's
// history walks ledger_resource, a time window ledger_at, and the whole
// project the primary key. Page and count come from one snapshot.
func (s *Store) LedgerEntries(ctx context.Context, q allot.LedgerQuery) ([]allot.LedgerEntry, int, error) {
	if err := allot.ValidateID("project_id", q.ProjectID); err != nil {
		return nil, 0, err
	}
	where, args := []string{"project_id = $1"}, []any{q.ProjectID}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if q.ResourceID != "" {
		add("resource_id =", q.ResourceID)
	}
	if q.Op != "" {
		add("op =", string(q.Op))
	}
	if q.From != nil {
		// Entries are stamped in whole seconds: the first that can be at or
		// after From is the next whole second unless From is one.
		from := q.From.Unix()
		if q.From.Nanosecond() > 0 {
			from++
		}
		add("at >=", from)
	}
	if q.To != nil {
		add("at <=", q.To.Unix())
	}
	cond := strings.Join(where, " AND ")
	limit, offset := max(q.Page.Limit, 0), max(q.Page.Offset, 0)

	var (
		es    []allot.LedgerEntry
		count int
	)
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := s.withTx(ctx, opts, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT count(*) FROM ledger WHERE `+cond, args...)
		b.Queue(`SELECT `+ledgerColumns+` FROM ledger WHERE `+cond+` ORDER BY seq LIMIT `+
			strconv.Itoa(limit)+` OFFSET `+strconv.Itoa(offset), args...)
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		if err := br.QueryRow().Scan(&count); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		if es, err = scanLedger(rows, q.ProjectID); err != nil {
			return err
		}
		return br.Close()
	})
	if err != nil {
		return nil, 0, err
	}
	return es, count, nil
}

// scanLedger reads rows of ledgerColumns of one project and closes them.
func scanLedger(rows pgx.Rows, projectID string) ([]allot.LedgerEntry, error) {
	defer rows.Close()
	var (
		es            []allot.LedgerEntry
		at            int64
		amount, usage int64
		held          int64
		op            string
	)
	for rows.Next() {
		e := allot.LedgerEntry{ProjectID: projectID}
		err := rows.Scan(&e.Seq, &e.ResourceID, &at, &e.Actor, &op, &amount, &usage, &e.IdempotencyKey, &e.Reason, &e.Ref,
			&held, &e.UserID, &e.AppUserID)
		if err != nil {
			return nil, err
		}
		e.At, e.Op = fromUnix(at), allot.Op(op)
		e.AmountDelta, e.UsageDelta, e.HeldDelta = allot.Quantity(amount), allot.Quantity(usage), allot.Quantity(held)
		es = append(es, e)
	}
	return es, rows.Err()
}

// The two drift checks, each one statement over whole tables: an audit,
// not a request path.
const (
	// resourceDriftQuery sums every resource's entries and returns the
	// resources whose amount or usage differ from the sums. The full join
	// also finds entries whose resource is gone.
	resourceDriftQuery = `SELECT COALESCE(r.project_id, l.project_id), COALESCE(r.resource_id, l.resource_id),
			COALESCE(r.amount, 0), COALESCE(r.usage, 0), COALESCE(l.amount, 0), COALESCE(l.usage, 0)
		FROM resources r
		FULL JOIN (SELECT project_id, resource_id,
				CAST(SUM(amount_delta) AS BIGINT) AS amount, CAST(SUM(usage_delta) AS BIGINT) AS usage
			FROM ledger GROUP BY project_id, resource_id) l
		ON l.project_id = r.project_id AND l.resource_id = r.resource_id
		WHERE COALESCE(r.amount, 0) <> COALESCE(l.amount, 0) OR COALESCE(r.usage, 0) <> COALESCE(l.usage, 0)`
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
	heldDriftQuery = `SELECT project_id, resource_id, CAST(SUM(stored) AS BIGINT), CAST(SUM(stored) AS BIGINT),
			CAST(SUM(ledger) AS BIGINT), CAST(SUM(open) AS BIGINT)
		FROM (SELECT project_id, resource_id, held AS stored, 0::BIGINT AS ledger, 0::BIGINT AS open FROM resources
			UNION ALL
			SELECT project_id, resource_id, 0, held_delta, 0 FROM ledger WHERE held_delta <> 0
			UNION ALL
			SELECT h.project_id, h.resource_id, 0, 0, h.amount FROM reservation_holds h
				JOIN reservations v ON v.reservation_id = h.reservation_id WHERE v.state = 'open') t
		GROUP BY project_id, resource_id
		HAVING SUM(stored) <> SUM(ledger) OR SUM(stored) <> SUM(open)`
)

// Drift recomputes every resource's amount and usage and every allot-made
// assignment's numbers from the ledger and returns each difference, one per
// field, ordered by project, resource and field. Both checks read one
// snapshot.
func (s *Store) Drift(ctx context.Context) ([]allot.Drift, error) {
	var ds []allot.Drift
	check := func(tx pgx.Tx, query, amountField, usageField string) error {
		rows, err := tx.Query(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				project, id                      string
				stored, ledger, storedU, ledgerU int64
			)
			if err := rows.Scan(&project, &id, &stored, &storedU, &ledger, &ledgerU); err != nil {
				return err
			}
			ds = allot.AppendDrift(ds, project, id, amountField, usageField,
				allot.Quantity(stored), allot.Quantity(storedU), allot.Quantity(ledger), allot.Quantity(ledgerU))
		}
		return rows.Err()
	}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := s.withTx(ctx, opts, func(tx pgx.Tx) error {
		ds = nil
		if err := check(tx, resourceDriftQuery, "amount", "usage"); err != nil {
			return err
		}
		if err := check(tx, assignmentDriftQuery, "resource_num", "resource_used_num"); err != nil {
			return err
		}
		return check(tx, heldDriftQuery, "held", "held_open")
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: drift: %w", err)
	}
	slices.SortFunc(ds, func(a, b allot.Drift) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.ResourceID, b.ResourceID), cmp.Compare(a.Field, b.Field))
	})
	return ds, nil
}
