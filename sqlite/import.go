package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/tenantpack"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ allot.Importer = (*Store)(nil)

// Import writes a batch all or nothing; the rules are allot.Import's, the
// inserts BulkInsert's.
func (s *Store) Import(ctx context.Context, b allot.ImportBatch) error {
	return allot.Import(ctx, s, b)
}

// BulkInsert runs fn in one write transaction, on the writer's connection
// held for the whole import so that two settings can change for it alone:
//
//   - The page cache is raised to importCacheKiB: a transaction larger than
//     the cache spills dirty pages to the WAL and reads them back, several
//     times over for a large import.
//   - Foreign keys are not checked. The import proves every reference its
//     rows make itself: Reserve finds the project of each resource, ledger
//     entry and assignment (an assignment's SP must be its customer's), and
//     InsertProjects looks up an SP before its customers are written. The
//     checks were two lookups of projects per resource, a tenth of the
//     benchmark import's time.
//
// Both return to their values afterwards; a connection whose foreign keys
// could not be turned back on is discarded, never handed to another writer.
func (s *Store) BulkInsert(ctx context.Context, fn func(allot.ImportTx) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: writer: %w", err)
	}
	defer conn.Close()
	var cache int64
	if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
		return fmt.Errorf("sqlite: cache size: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return fmt.Errorf("sqlite: foreign keys: %w", err)
	}
	defer func() {
		bg := context.WithoutCancel(ctx)
		_, err := conn.ExecContext(bg, "PRAGMA foreign_keys = ON")
		if err == nil {
			_, err = conn.ExecContext(bg, fmt.Sprintf("PRAGMA cache_size = %d", cache))
		}
		if err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return allot.DefaultRetry.Do(ctx, busy, func() error {
		return s.writeOn(ctx, conn, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", importCacheKiB)); err != nil {
				return fmt.Errorf("sqlite: cache size: %w", err)
			}
			t := &importTx{s: s, ctx: ctx, tx: tx, now: s.Now().UTC().Truncate(time.Second), added: map[string]int{}}
			defer t.close()
			if err := fn(t); err != nil {
				return err
			}
			return t.pack()
		})
	})
}

// pack writes, in the import's transaction, the pack of every project the
// import gave packRows resources or more: the tenant's first read after the
// import is a pack read. A project that gained fewer gets its pack from the
// first full read that finds its changes have grown (see readTenant).
func (t *importTx) pack() error {
	for projectID, n := range t.added {
		if n < t.s.packRows() {
			continue
		}
		var version int64
		if err := t.tx.QueryRowContext(t.ctx, `SELECT version FROM projects WHERE id = ?`, projectID).Scan(&version); err != nil {
			return fmt.Errorf("sqlite: version of %s: %w", projectID, err)
		}
		rs, err := queryTenantResources(t.ctx, t.tx, projectID, 0, n)
		if err != nil {
			return err
		}
		if err := savePack(t.ctx, t.tx, projectID, version, tenantpack.Encode(t.s.schema, version, rs)); err != nil {
			return err
		}
	}
	return nil
}

// importCacheKiB is the writer's page cache during an import.
const importCacheKiB = 256 << 10

// importRows is how many rows one multi-row INSERT of an import writes:
// one statement's fixed cost (database/sql, the driver, the VDBE's
// start-up) is shared by that many rows.
const importRows = 64

type importTx struct {
	s   *Store
	ctx context.Context
	tx  *sql.Tx
	now time.Time

	manyResources, manyLedger *sql.Stmt // importRows rows each; prepared on first use
	args                      []any
	added                     map[string]int // resources inserted, per project
}

func (t *importTx) close() {
	for _, st := range []*sql.Stmt{t.manyResources, t.manyLedger} {
		if st != nil {
			st.Close()
		}
	}
}

// many returns the multi-row form of an INSERT ... VALUES (?, ...) of
// columns columns, prepared on the transaction once.
func (t *importTx) many(st **sql.Stmt, insert string, columns int) (*sql.Stmt, error) {
	if *st != nil {
		return *st, nil
	}
	row := "(" + strings.Repeat("?, ", columns-1) + "?)"
	q := insert + strings.Repeat(row+", ", importRows-1) + row
	var err error
	if *st, err = t.tx.PrepareContext(t.ctx, q); err != nil {
		return nil, fmt.Errorf("sqlite: prepare import insert: %w", err)
	}
	return *st, nil
}

func (t *importTx) Now() time.Time { return t.now }

func (t *importTx) InsertProjects(ps []allot.Project) error {
	for i := range ps {
		p := ps[i]
		p.CreatedAt = t.s.now(p.CreatedAt)
		if p.SPProjectID != "" {
			// What the foreign key would check (see BulkInsert): the SP is
			// in the file before its customers, or in the database.
			var found bool
			if err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?)`, p.SPProjectID).Scan(&found); err != nil {
				return fmt.Errorf("sqlite: project %s: %w", p.SPProjectID, err)
			}
			if !found {
				return spNotFound(p.ID, p.SPProjectID)
			}
		}
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
	for i := range rs {
		t.added[rs[i].ProjectID]++
	}
	for len(rs) >= importRows {
		many, err := t.many(&t.manyResources, resourcesInsert, resourceColumnCount)
		if err != nil {
			return err
		}
		t.args = t.args[:0]
		for i := range rs[:importRows] {
			t.args = append(t.args, resourceArgs(&rs[i])...)
		}
		_, err = many.ExecContext(t.ctx, t.args...)
		if constraint(err) != 0 {
			// The statement failed whole: its rows one by one name the culprit.
			return t.insertResources(rs[:importRows])
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert resources: %w", err)
		}
		rs = rs[importRows:]
	}
	return t.insertResources(rs)
}

// insertResources inserts rs one statement each.
func (t *importTx) insertResources(rs []allot.Resource) error {
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
	for len(es) >= importRows {
		many, err := t.many(&t.manyLedger, ledgerInsert, ledgerColumnCount)
		if err != nil {
			return err
		}
		t.args = t.args[:0]
		for i := range es[:importRows] {
			t.args = append(t.args, ledgerArgs(&es[i])...)
		}
		if _, err := many.ExecContext(t.ctx, t.args...); err != nil {
			return fmt.Errorf("sqlite: ledger entries of %s: %w", es[0].ProjectID, err)
		}
		es = es[importRows:]
	}
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

// The heads of the two inserts, for their multi-row forms.
const (
	resourcesInsert     = `INSERT INTO resources (` + resourceColumns + `) VALUES `
	resourceColumnCount = 21
	ledgerInsert        = `INSERT INTO ledger (project_id, ` + ledgerColumns + `) VALUES `
	ledgerColumnCount   = 14
)
