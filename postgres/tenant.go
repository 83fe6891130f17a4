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

var _ allot.Importer = (*Store)(nil)

// Import writes a batch all or nothing; the rules are allot.Import's, the
// inserts BulkInsert's.
func (s *Store) Import(ctx context.Context, b allot.ImportBatch) error {
	return allot.Import(ctx, s, b)
}

// BulkInsert runs fn in one write transaction. Each project's row is
// updated once by Reserve: the row lock serialises the writers of one
// project, so versions are handed out in commit order and a reader that saw
// version v has seen every row at or below v.
//
// The inserts are multi-row statements, which report only the constraint
// that failed: after the rollback, explain looks up which of the rows given
// to the transaction broke it.
func (s *Store) BulkInsert(ctx context.Context, fn func(allot.ImportTx) error) error {
	var t *importTx
	err := s.withTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		t = &importTx{s: s, ctx: ctx, tx: tx, now: s.Now().UTC().Truncate(time.Second), added: map[string]int{}}
		if err := fn(t); err != nil {
			return err
		}
		return t.packImported()
	})
	if err != nil && t != nil {
		return s.explain(ctx, t.batch, err)
	}
	return err
}

type importTx struct {
	s     *Store
	ctx   context.Context
	tx    pgx.Tx
	now   time.Time
	batch allot.ImportBatch // the rows given so far, for explain
	added map[string]int    // resources inserted, per project
}

func (t *importTx) Now() time.Time { return t.now }

func (t *importTx) InsertProjects(ps []allot.Project) error {
	t.batch.Projects = append(t.batch.Projects, ps...)
	return t.s.insertProjects(t.ctx, t.tx, ps)
}

func (t *importTx) Reserve(projectID string, rows, entries int64) (allot.ImportStamp, error) {
	var st allot.ImportStamp
	err := t.tx.QueryRow(t.ctx, `UPDATE projects SET version = version + 1, next_seq = next_seq + $2,
			next_ledger_seq = next_ledger_seq + $3
		WHERE id = $1 RETURNING version, next_seq - $2, next_ledger_seq - $3, COALESCE(sp_project_id, '')`,
		projectID, rows, entries).
		Scan(&st.Version, &st.Seq, &st.LedgerSeq, &st.SPProjectID)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.ImportStamp{}, projectNotFound(projectID)
	}
	return st, err
}

func (t *importTx) InsertResources(rs []allot.Resource) error {
	for i := range rs {
		t.added[rs[i].ProjectID]++
	}
	if len(t.batch.Resources)+len(rs) <= explainRows {
		t.batch.Resources = append(t.batch.Resources, rs...)
	}
	return copyResources(t.ctx, t.tx, rs)
}

func (t *importTx) InsertLedger(es []allot.LedgerEntry) error { return copyLedger(t.ctx, t.tx, es) }

func (t *importTx) InsertAssignments(as []allot.Assignment) error {
	t.batch.Assignments = append(t.batch.Assignments, as...)
	return insertAssignments(t.ctx, t.tx, as)
}

// explain names the item behind a batch's failed unique or foreign key.
// A multi-row insert reports only the constraint, so after the rollback
// this looks up which of the batch's ids exist, or which SP does not. It
// costs nothing when the import succeeds; if the lookup finds nothing (the
// rows went away since), err keeps its general message.
func (s *Store) explain(ctx context.Context, b allot.ImportBatch, err error) error {
	found := s.conflictFromDetail(ctx, err)
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
		if found != nil {
			break
		}
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
	var (
		d      allot.TenantDelta
		repack bool
	)
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := s.withTx(ctx, opts, func(tx pgx.Tx) error {
		repack = false
		b := &pgx.Batch{}
		b.Queue(projectQuery, projectID)
		if since == 0 {
			b.Queue(packQuery, projectID)
			b.Queue(unpackedResourcesQuery, projectID)
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
		var pack []byte
		if since == 0 {
			hint = int(min(gained, 1_000_000))
			if err := br.QueryRow().Scan(&pack); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
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
		if err := br.Close(); err != nil {
			return err
		}
		switch {
		case since != 0:
		case pack == nil:
			repack = len(rs) >= s.packRows()
		default:
			base, version, err := s.usablePack(pack, projectID, v)
			if err != nil {
				return err
			}
			if rs, repack, err = s.readPacked(ctx, tx, projectID, base, version, hint); err != nil {
				return err
			}
		}
		d = allot.TenantDelta{Project: p, Version: v, Resources: rs, Assignments: as}
		return nil
	})
	if err == nil && repack {
		s.savePackLater(projectID, d.Version, d.Resources)
	}
	return d, err
}
