package postgres

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

// Import writes a batch in one transaction. Projects are written first,
// so resources and assignments may refer to projects of the same batch.
// EINVALID if an item is invalid or refers to a missing project, or an
// assignment's customer is not a customer of its SP; ECONFLICT if an id
// exists already. Nothing is written on any error.
//
// Each project that gains rows has its row updated exactly once: the update
// raises its version by one and reserves as many sequence numbers as it gains
// rows, and as many ledger seqs as it gains resources. The row lock taken by
// that update serialises the writers of one project, so versions are handed
// out in commit order and a reader that saw version v has seen every row at
// or below v. Projects are updated in id order so that two batches touching
// the same projects cannot deadlock.
//
// Every imported resource gets one import entry in the ledger, with its
// amount and usage as deltas, so that the ledger accounts for it from the
// start. Imported assignments get none: they have no allot-made package
// behind them, and Drift checks only those that do.
func (s *Store) Import(ctx context.Context, b allot.ImportBatch) error {
	if err := checkBatch(b); err != nil {
		return err
	}
	gains, entries := make(map[string]int64), make(map[string]int64)
	for _, r := range b.Resources {
		gains[r.ProjectID]++
		entries[r.ProjectID]++
	}
	for _, a := range b.Assignments {
		gains[a.CustomerProjectID]++
	}
	touched := slices.Sorted(maps.Keys(gains))
	// Copies, so the caller's slices are never written to and a retried
	// transaction stamps every row afresh.
	rs, as := slices.Clone(b.Resources), slices.Clone(b.Assignments)
	es := make([]allot.LedgerEntry, len(rs))
	at := s.Now().UTC().Truncate(time.Second)

	err := s.withTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := s.insertProjects(ctx, tx, b.Projects); err != nil {
			return err
		}
		type stamp struct {
			version, seq, ledgerSeq int64
			sp                      string
		}
		stamps := make(map[string]*stamp, len(touched))
		for _, id := range touched {
			var st stamp
			err := tx.QueryRow(ctx, `UPDATE projects SET version = version + 1, next_seq = next_seq + $2,
					next_ledger_seq = next_ledger_seq + $3
				WHERE id = $1 RETURNING version, next_seq - $2, next_ledger_seq - $3, COALESCE(sp_project_id, '')`,
				id, gains[id], entries[id]).
				Scan(&st.version, &st.seq, &st.ledgerSeq, &st.sp)
			if errors.Is(err, pgx.ErrNoRows) {
				if i := slices.IndexFunc(rs, func(r allot.Resource) bool { return r.ProjectID == id }); i >= 0 {
					return allot.Errorf(allot.EINVALID, "resource %s/%s: project_id: project %s does not exist", id, rs[i].ResourceID, id)
				}
				i := slices.IndexFunc(as, func(a allot.Assignment) bool { return a.CustomerProjectID == id })
				return allot.Errorf(allot.EINVALID, "assignment %s: customer_project_id: project %s does not exist", as[i].RecordID, id)
			}
			if err != nil {
				return err
			}
			stamps[id] = &st
		}
		for i := range rs {
			r := &rs[i]
			st := stamps[r.ProjectID]
			r.Version, r.Seq = st.version, st.seq
			st.seq++
			es[i] = allot.LedgerEntry{ProjectID: r.ProjectID, Seq: st.ledgerSeq, ResourceID: r.ResourceID, At: at,
				Actor: "import", Op: allot.OpImport, AmountDelta: r.Amount, UsageDelta: r.Usage}
			st.ledgerSeq++
		}
		for i := range as {
			a := &as[i]
			st := stamps[a.CustomerProjectID]
			if st.sp != a.SPProjectID {
				return allot.Errorf(allot.EINVALID, "assignment %s: customer_project_id: project %s is not a customer of %s",
					a.RecordID, a.CustomerProjectID, a.SPProjectID)
			}
			a.Version, a.Seq = st.version, st.seq
			st.seq++
		}
		if err := insertResources(ctx, tx, rs); err != nil {
			return err
		}
		if err := insertLedger(ctx, tx, es); err != nil {
			return err
		}
		return insertAssignments(ctx, tx, as)
	})
	if err != nil {
		return s.explain(ctx, b, err)
	}
	return nil
}

// checkBatch validates every item and refuses ids that a batch repeats,
// before any round trip to the database. Messages name the item.
func checkBatch(b allot.ImportBatch) error {
	projects := make(map[string]bool, len(b.Projects))
	for i := range b.Projects {
		p := &b.Projects[i]
		if err := p.Validate(); err != nil {
			return itemError("project "+p.ID, err)
		}
		if projects[p.ID] {
			return allot.Errorf(allot.ECONFLICT, "project %s appears twice in the batch", p.ID)
		}
		projects[p.ID] = true
	}
	type key struct{ project, id string }
	resources := make(map[key]bool, len(b.Resources))
	for i := range b.Resources {
		r := &b.Resources[i]
		if err := r.Validate(); err != nil {
			return itemError("resource "+r.ProjectID+"/"+r.ResourceID, err)
		}
		k := key{r.ProjectID, r.ResourceID}
		if resources[k] {
			return allot.Errorf(allot.ECONFLICT, "resource %s/%s appears twice in the batch", r.ProjectID, r.ResourceID)
		}
		resources[k] = true
	}
	records := make(map[string]bool, len(b.Assignments))
	for i := range b.Assignments {
		a := &b.Assignments[i]
		if err := a.Validate(); err != nil {
			return itemError("assignment "+a.RecordID, err)
		}
		if records[a.RecordID] {
			return allot.Errorf(allot.ECONFLICT, "assignment %s appears twice in the batch", a.RecordID)
		}
		records[a.RecordID] = true
	}
	return nil
}

// itemError prefixes an error's message with the batch item it is about.
func itemError(item string, err error) error {
	var e *allot.Error
	if errors.As(err, &e) {
		return &allot.Error{Code: e.Code, Message: item + ": " + e.Message, Err: e.Err}
	}
	return err
}

// explain names the item behind a batch's failed unique or foreign key.
// A multi-row insert reports only the constraint, so after the rollback
// this looks up which of the batch's ids exist, or which SP does not. It
// costs nothing when the import succeeds; if the lookup finds nothing (the
// rows went away since), err keeps its general message.
func (s *Store) explain(ctx context.Context, b allot.ImportBatch, err error) error {
	var found *allot.Error
	switch constraintOf(err) {
	case "projects_pkey":
		ids := make([]string, len(b.Projects))
		for i, p := range b.Projects {
			ids[i] = p.ID
		}
		var id string
		if s.pool.QueryRow(ctx, `SELECT id FROM projects WHERE id = ANY($1) ORDER BY id LIMIT 1`, ids).Scan(&id) == nil {
			found = allot.Errorf(allot.ECONFLICT, "project %s exists already", id)
		}
	case "projects_sp_fk":
		inBatch := make(map[string]bool, len(b.Projects))
		for _, p := range b.Projects {
			inBatch[p.ID] = true
		}
		var sps []string
		for _, p := range b.Projects {
			if p.SPProjectID != "" && !inBatch[p.SPProjectID] {
				sps = append(sps, p.SPProjectID)
			}
		}
		var missing string
		if s.pool.QueryRow(ctx, `SELECT sp FROM unnest($1::TEXT[]) AS t (sp)
			WHERE NOT EXISTS (SELECT 1 FROM projects WHERE id = sp) ORDER BY sp LIMIT 1`, sps).Scan(&missing) == nil {
			i := slices.IndexFunc(b.Projects, func(p allot.Project) bool { return p.SPProjectID == missing })
			found = allot.Errorf(allot.EINVALID, "project %s: sp_project_id: project %s does not exist", b.Projects[i].ID, missing)
		}
	case "resources_id_key":
		ids := make(map[string][]string)
		for _, r := range b.Resources {
			ids[r.ProjectID] = append(ids[r.ProjectID], r.ResourceID)
		}
		for _, p := range slices.Sorted(maps.Keys(ids)) {
			var id string
			if s.pool.QueryRow(ctx, `SELECT resource_id FROM resources WHERE project_id = $1 AND resource_id = ANY($2)
				ORDER BY seq LIMIT 1`, p, ids[p]).Scan(&id) == nil {
				found = allot.Errorf(allot.ECONFLICT, "resource %s/%s exists already", p, id)
				break
			}
		}
	case "assignments_record_key":
		ids := make([]string, len(b.Assignments))
		for i, a := range b.Assignments {
			ids[i] = a.RecordID
		}
		var id string
		if s.pool.QueryRow(ctx, `SELECT record_id FROM assignments WHERE record_id = ANY($1) ORDER BY record_id LIMIT 1`, ids).Scan(&id) == nil {
			found = allot.Errorf(allot.ECONFLICT, "assignment %s exists already", id)
		}
	}
	if found == nil {
		return err
	}
	found.Err = err
	return found
}

// TenantVersion returns a project's current version. ENOTFOUND if the
// project does not exist. It runs on every tenant request, so it is one
// primary-key lookup of one column, prepared once per connection (pgx caches
// the statement) and outside any explicit transaction.
func (s *Store) TenantVersion(ctx context.Context, projectID string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT version FROM projects WHERE id = $1`, projectID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, projectNotFound(projectID)
	}
	return v, err
}

// TenantChanges returns the project and its rows changed after version
// since (0: all rows), from one snapshot. ENOTFOUND if the project does not
// exist.
//
// The three queries share one read-only REPEATABLE READ transaction: the
// version returned and the rows returned are of the same moment, so a caller
// that caches the result under that version misses nothing and repeats
// nothing when it next asks for changes after it. They go to the server as
// one batch: BEGIN, one round trip for all three, COMMIT.
func (s *Store) TenantChanges(ctx context.Context, projectID string, since int64) (allot.TenantDelta, error) {
	var d allot.TenantDelta
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := s.withTx(ctx, opts, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(projectQuery, projectID)
		if since == 0 {
			b.Queue(tenantAllResourcesQuery, projectID)
			b.Queue(allAssignmentsQuery, projectID)
		} else {
			b.Queue(changedResourcesQuery, projectID, since)
			b.Queue(changedAssignmentsQuery, projectID, since)
		}
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		p, v, gained, err := scanProject(br.QueryRow(), projectID)
		if err != nil {
			return err
		}
		// A full read returns at most every row the project ever gained:
		// sizing the slice for that spares a big project's read the
		// copying of repeated growth.
		hint := 0
		if since == 0 {
			hint = int(min(gained, 1_000_000))
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		rs, err := readTenantResources(rows, projectID, hint)
		if err != nil {
			return err
		}
		if rows, err = br.Query(); err != nil {
			return err
		}
		as, err := scanAssignments(rows, projectID)
		if err != nil {
			return err
		}
		d = allot.TenantDelta{Project: p, Version: v, Resources: rs, Assignments: as}
		return br.Close()
	})
	return d, err
}
