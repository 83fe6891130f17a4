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

var _ allot.Importer = (*Store)(nil)

// Import writes a batch all or nothing; the rules are allot.Import's, the
// inserts BulkInsert's.
func (s *Store) Import(ctx context.Context, b allot.ImportBatch) error {
	return allot.Import(ctx, s, b)
}

// BulkInsert runs fn in one write transaction.
func (s *Store) BulkInsert(ctx context.Context, fn func(allot.ImportTx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return fn(&importTx{s: s, ctx: ctx, tx: tx, now: s.Now().UTC().Truncate(time.Second)})
	})
}

type importTx struct {
	s   *Store
	ctx context.Context
	tx  *sql.Tx
	now time.Time
}

func (t *importTx) Now() time.Time { return t.now }

func (t *importTx) InsertProjects(ps []allot.Project) error {
	for i := range ps {
		p := ps[i]
		p.CreatedAt = t.s.now(p.CreatedAt)
		if err := insertProject(t.ctx, t.tx, &p); err != nil {
			return err
		}
	}
	return nil
}

func (t *importTx) Reserve(projectID string, rows, entries int64) (allot.ImportStamp, error) {
	var st allot.ImportStamp
	err := t.tx.QueryRowContext(t.ctx, `
		UPDATE projects SET version = version + 1, next_seq = next_seq + ?1, next_ledger_seq = next_ledger_seq + ?2
		WHERE id = ?3
		RETURNING version, next_seq - ?1, next_ledger_seq - ?2, COALESCE(sp_project_id, '')`,
		rows, entries, projectID).Scan(&st.Version, &st.Seq, &st.LedgerSeq, &st.SPProjectID)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.ImportStamp{}, projectNotFound(projectID)
	}
	if err != nil {
		return allot.ImportStamp{}, fmt.Errorf("sqlite: bump version of %s: %w", projectID, err)
	}
	return st, nil
}

func (t *importTx) InsertResources(rs []allot.Resource) error {
	insert := t.tx.StmtContext(t.ctx, t.s.txStmts[stInsertResource])
	for i := range rs {
		r := &rs[i]
		_, err := insert.ExecContext(t.ctx, resourceArgs(r)...)
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // (project_id, resource_id)
			return allot.Errorf(allot.ECONFLICT, "resource %s/%s exists already", r.ProjectID, r.ResourceID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert resource %s/%s: %w", r.ProjectID, r.ResourceID, err)
		}
	}
	return nil
}

func (t *importTx) InsertLedger(es []allot.LedgerEntry) error {
	ledger := t.tx.StmtContext(t.ctx, t.s.txStmts[stInsertLedger])
	for i := range es {
		if _, err := ledger.ExecContext(t.ctx, ledgerArgs(&es[i])...); err != nil {
			return fmt.Errorf("sqlite: ledger entry of resource %s/%s: %w", es[i].ProjectID, es[i].ResourceID, err)
		}
	}
	return nil
}

func (t *importTx) InsertAssignments(as []allot.Assignment) error {
	stmt := t.tx.StmtContext(t.ctx, t.s.txStmts[stInsertAssignment])
	for i := range as {
		a := &as[i]
		_, err := stmt.ExecContext(t.ctx, assignmentArgs(a)...)
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // record_id
			return allot.Errorf(allot.ECONFLICT, "assignment %s exists already", a.RecordID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert assignment %s: %w", a.RecordID, err)
		}
	}
	return nil
}
