package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

// Update runs fn in one write transaction that holds projectIDs and bumps
// the version of each exactly once. ENOTFOUND if a project does not exist.
//
// Serialisation: like every write of the store, the transaction runs on the
// one writer connection and starts with BEGIN IMMEDIATE, which takes
// SQLite's write lock on the whole file before the first read. So all
// writers run one after the other: Updates and imports of every project,
// in this process (queued for the writer connection) and in any other that
// opens the same file (queued on the file lock for up to busyTimeout). Each
// writer reads what its predecessors committed: two consumes from one
// package cannot both see the same remaining units, and two requests with
// one idempotency key cannot both miss the other's record. Holding a
// project therefore adds no lock of its own; it is the version bump and the
// seq counters, and the check that fn writes only to the projects it named,
// as on stores where holding a project is a row lock.
//
// Group commit: concurrent Updates share transactions. Each waits in the
// store's queue (allot.Group); the writer that leads takes what is waiting
// and applies it in order in one transaction, each operation inside its own
// SAVEPOINT: an operation that fails is rolled back to its savepoint, alone,
// and the others stay. The transaction is committed once, so one fsync
// (synchronous=FULL) makes the whole group durable, and only then does any
// Update of the group return. Each operation still takes its projects in
// turn, bumps their versions once and reads what the operations before it,
// in the same transaction or committed earlier, wrote.
//
// A group first runs without savepoints: most groups have no operation that
// fails, and a savepoint costs two statements and a copy of every page an
// operation changes. When an operation of that run fails, the transaction
// is rolled back whole, nothing of it written, and the group runs again
// with a savepoint per operation, as above; so does the next group, until
// a group has no failure.
//
// fn runs again, from the start, when another process keeps the file locked
// for longer than the busy timeout (SQLITE_BUSY; see write), or when an
// operation of a group run without savepoints failed: the whole group runs
// again, since nothing of it was committed.
func (s *Store) Update(ctx context.Context, projectIDs []string, fn func(allot.Tx) error) error {
	ids := slices.Compact(slices.Sorted(slices.Values(projectIDs)))
	if len(ids) == 0 {
		return errors.New("sqlite: Update holds no project")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.group.Do(update{ctx: ctx, ids: ids, fn: fn})
}

// update is one Update waiting for its group.
type update struct {
	ctx context.Context
	ids []string
	fn  func(allot.Tx) error
}

// maxGroup bounds the operations of one transaction.
const maxGroup = 256

// runGroup applies a group of Updates in one transaction (see Update).
func (s *Store) runGroup(ops []*allot.GroupOp[update]) []*allot.GroupOp[update] {
	// The transaction serves many callers: no single caller's context may
	// cancel it. A caller whose context is done before its turn is refused
	// before anything of it runs.
	ctx := context.Background()
	err := allot.DefaultRetry.Do(ctx, again, func() error {
		if !s.savepoints.Load() {
			var g *groupTx
			err := s.writeOnce(ctx, func(tx *sql.Tx) error {
				g = &groupTx{held: make(map[string]*holding)}
				for _, op := range ops {
					if op.Err = op.V.ctx.Err(); op.Err != nil {
						continue // refused before anything of it ran
					}
					if op.Err = s.applyBare(tx, g, op.V); op.Err != nil {
						if again(op.Err) {
							return op.Err
						}
						return errRerun
					}
				}
				return g.writeBack(s, tx)
			})
			if err == nil {
				g.committed(&s.openRsv)
			}
			if !errors.Is(err, errRerun) {
				return err
			}
			s.savepoints.Store(true)
			for _, op := range ops {
				op.Err = nil
			}
		}
		failed := false
		defer func() { s.savepoints.Store(failed) }()
		var g *groupTx
		err := s.writeOnce(ctx, func(tx *sql.Tx) error {
			g = &groupTx{held: make(map[string]*holding)}
			failed = false
			for _, op := range ops {
				op.Err = s.apply(tx, g, op.V)
				failed = failed || op.Err != nil
				if op.Err != nil && (again(op.Err) || errors.Is(op.Err, errBroken)) {
					// Nothing of the group can be committed.
					return op.Err
				}
			}
			return g.writeBack(s, tx)
		})
		if err == nil {
			g.committed(&s.openRsv)
		}
		return err
	})
	if err != nil {
		for _, op := range ops {
			if op.Err == nil || again(op.Err) || errors.Is(op.Err, errBroken) {
				op.Err = err
			}
		}
	}
	return nil
}

// callFn runs fn and turns a panic into an error: the other operations
// of the group are waiting for their answers, and the leader must give them.
func callFn(fn func(allot.Tx) error, t allot.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in Update: %v", p)
		}
	}()
	return fn(t)
}

// errRerun ends a group run without savepoints in which an operation
// failed: the transaction is rolled back and the group runs again, each
// operation in its savepoint.
var errRerun = errors.New("sqlite: an operation failed; the group runs again with savepoints")

// applyBare runs one Update in the group's transaction without a
// savepoint: when it fails, the whole transaction is rolled back.
func (s *Store) applyBare(tx *sql.Tx, g *groupTx, u update) error {
	ctx := context.WithoutCancel(u.ctx)
	t := &sqliteTx{s: s, ctx: ctx, tx: tx, now: s.Now().UTC().Truncate(time.Second),
		held: make(map[string]*holding, len(u.ids)), stmts: &g.stmts, group: g}
	if err := t.lock(g, u.ids, nil); err != nil {
		return err
	}
	return callFn(u.fn, t)
}

// again reports whether a group's transaction failed in a way that running
// it again from the start may mend: the file was busy, or a reservation
// read from the store's memory was no longer open in the file (errStale).
func again(err error) bool {
	return busy(err) || errors.Is(err, errStale)
}

// errStale: a reservation the store remembered open was not open in the
// file. The memory of its project is dropped, and the group runs again.
var errStale = errors.New("sqlite: a remembered reservation changed in the file")

// errBroken marks a failed rollback to a savepoint: the transaction is in an
// unknown state, and the whole group fails.
var errBroken = errors.New("sqlite: rollback to savepoint failed")

// groupTx is what one group's transaction keeps from one operation to the
// next: the bound statements, and the projects the operations applied so far
// hold, with their versions and counters. A project's row is read (and its
// version bumped) by the first operation that holds it; the later ones bump
// the version in memory, and writeBack writes each project's row once, before
// the commit. Nobody else writes to the file meanwhile.
//
// notices holds the notice configurations of the projects the group's
// operations asked for, as the transaction read them: no Tx method writes
// them (SetNoticeConfig is a transaction of its own, on the same writer
// connection, so never inside a group), and no other connection writes
// while the group holds the file's write lock, so they cannot change
// before the commit.
//
// resources holds each package the group's operations read or saved, as it
// is in the transaction: every write of a package inside a transaction is
// SaveResource's, which keeps it up to date, so a later operation of the
// group reads it from here instead of running the query again. An
// operation rolled back to its savepoint empties it: what that operation
// saved is gone from the file.
//
// reservations holds the reservations of held projects the group's
// operations read or wrote, as the transaction has them; openValid the held
// projects whose part of the store's memory of open reservations
// (allot.OpenReservations) is current, from which a reservation is read
// when the group has not read it. An operation rolled back to its
// savepoint empties both, and the group no longer tells the memory what it
// did (lost): the memory starts its projects anew.
type groupTx struct {
	stmts        [numTxStmts]*sql.Stmt
	held         map[string]*holding
	notices      map[string][]allot.NoticeConfig
	resources    map[string]allot.Resource
	reservations map[string]allot.Reservation
	openValid    map[string]bool
	lost         bool
}

// knowReservation notes v, a reservation of a held project, as it is in
// the group's transaction.
func (g *groupTx) knowReservation(v allot.Reservation) {
	if g.reservations == nil {
		g.reservations = make(map[string]allot.Reservation)
	}
	v.Holds = slices.Clone(v.Holds)
	v.CreatedAt, v.ExpiresAt = fromUnix(v.CreatedAt.Unix()), fromUnix(v.ExpiresAt.Unix())
	if !v.SettledAt.IsZero() {
		v.SettledAt = fromUnix(v.SettledAt.Unix())
	}
	g.reservations[v.ReservationID] = v
}

// forgetReservations empties what the group knows of reservations, after
// an operation was rolled back to its savepoint.
func (g *groupTx) forgetReservations() {
	clear(g.reservations)
	clear(g.openValid)
	g.lost = true
}

// committed tells the store's memory of open reservations what the group's
// transaction, committed, leaves of its projects'.
func (g *groupTx) committed(m *allot.OpenReservations) {
	versions := make(map[string]int64, len(g.held))
	for id, h := range g.held {
		versions[id] = h.version
	}
	if g.lost {
		m.Committed(versions, nil, nil)
		return
	}
	m.Committed(versions, g.openValid, g.reservations)
}

// cache notes a package as it is in the group's transaction.
func (g *groupTx) cache(r allot.Resource) {
	if g.resources == nil {
		g.resources = make(map[string]allot.Resource, 16)
	}
	if r.BoundAsset != nil {
		a := *r.BoundAsset
		r.BoundAsset = &a
	}
	g.resources[r.ProjectID+"/"+r.ResourceID] = r
}

// cached returns a package as the group's transaction has it, if an
// operation of the group read or saved it, with its own copy of the
// bound asset.
func (g *groupTx) cached(projectID, resourceID string) (allot.Resource, bool) {
	r, ok := g.resources[projectID+"/"+resourceID]
	if ok && r.BoundAsset != nil {
		a := *r.BoundAsset
		r.BoundAsset = &a
	}
	return r, ok
}

// writeBack writes the versions and counters of the held projects.
func (g *groupTx) writeBack(s *Store, tx *sql.Tx) error {
	for id, h := range g.held {
		if h.version == h.stored && !h.moved {
			continue
		}
		if g.stmts[stCounters] == nil {
			g.stmts[stCounters] = tx.Stmt(s.txStmts[stCounters])
		}
		if _, err := g.stmts[stCounters].Exec(h.version, h.nextSeq, h.nextLedgerSeq, id); err != nil {
			return fmt.Errorf("sqlite: counters of project %s: %w", id, err)
		}
	}
	return nil
}

// apply runs one Update inside a savepoint of the group's transaction.
func (s *Store) apply(tx *sql.Tx, g *groupTx, u update) error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	ctx := context.WithoutCancel(u.ctx)
	// The clock is read once the write lock is held, so entries are
	// stamped in the order they commit.
	t := &sqliteTx{s: s, ctx: ctx, tx: tx, now: s.Now().UTC().Truncate(time.Second),
		held: make(map[string]*holding, len(u.ids)), stmts: &g.stmts, group: g}
	if _, err := t.stmt(stSavepoint).ExecContext(ctx); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	// undo restores the group's holdings if the operation fails: the
	// savepoint undoes its rows, this its counters.
	undo := make(map[string]*holding, len(u.ids))
	err := t.lock(g, u.ids, undo)
	if err == nil {
		err = callFn(u.fn, t)
	}
	if err != nil {
		for id, before := range undo {
			if before == nil {
				delete(g.held, id)
			} else {
				*g.held[id] = *before
			}
		}
		clear(g.resources)
		g.forgetReservations()
		if _, rerr := t.stmt(stRollbackTo).ExecContext(ctx); rerr != nil {
			return errors.Join(err, errBroken, rerr)
		}
	}
	if _, rerr := t.stmt(stRelease).ExecContext(ctx); rerr != nil {
		return errors.Join(err, errBroken, rerr)
	}
	return err
}

// The statements of Update, prepared on the writer connection at Open and
// bound to each transaction as it uses them. A lifecycle operation runs a
// handful of small statements, and preparing each anew costs more than
// running it: BenchmarkConsume on a tmpfs did half as many consumes per
// second with statements prepared in the transaction.
const (
	stLock = iota
	stCounters
	stProject
	stResource
	stResourcesOfType
	stInsertResource
	stUpdateResource
	stUpdateUsage
	stAssignment
	stInsertAssignment
	stUpdateAssignment
	stInsertLedger
	stIdempotency
	stInsertIdempotency
	stSavepoint
	stRollbackTo
	stRelease
	stInsertReservation
	stInsertHold
	stUpdateReservation
	stUpdateHold
	stSettleReservation
	stNoticeConfigs // notify.go
	numTxStmts
)

var txQueries = [numTxStmts]string{
	stLock: `UPDATE projects SET version = version + 1 WHERE id = ?
		RETURNING ` + projectColumns + `, version, next_seq, next_ledger_seq`,
	stCounters:        `UPDATE projects SET version = ?, next_seq = ?, next_ledger_seq = ? WHERE id = ?`,
	stProject:         `SELECT ` + projectColumns + `, version, next_seq FROM projects WHERE id = ?`,
	stResource:        `SELECT ` + resourceSelect + ` FROM resources WHERE project_id = ? AND resource_id = ?`,
	stResourcesOfType: `SELECT ` + resourceSelect + ` FROM resources WHERE project_id = ? AND resource_type = ? AND removed = 0 ORDER BY seq`,
	stInsertResource:  insertResourceSQL,
	stUpdateUsage:     `UPDATE resources SET version = ?, usage = ?, held = ? WHERE project_id = ? AND resource_id = ?`,
	stUpdateResource: `UPDATE resources SET version = ?, order_id = ?, asset_id = ?, asset_name = ?, expire_time = ?,
			resource_type = ?, business_type = ?, sub_resource_type = ?, is_sub_resource = ?, charging_mode = ?,
			resource_source = ?, amount = ?, usage = ?, status = ?, unit = ?, removed = ?, held = ?, priority = ?
		WHERE project_id = ? AND resource_id = ?`,
	stAssignment:       `SELECT customer_project_id, ` + assignmentSelect + ` FROM assignments WHERE customer_project_id = ? AND record_id = ?`,
	stInsertAssignment: insertAssignmentSQL,
	stUpdateAssignment: `UPDATE assignments SET version = ?, sp_project_id = ?, resource_spec_code = ?, charging_mode = ?,
			resource_num = ?, resource_used_num = ?, allocate_time = ?, expire_time = ?, sp_resource_id = ?
		WHERE customer_project_id = ? AND record_id = ?`,
	stInsertLedger:      insertLedgerSQL,
	stIdempotency:       `SELECT fingerprint, result, created_at FROM idempotency WHERE project_id = ? AND key = ?`,
	stInsertIdempotency: `INSERT INTO idempotency (project_id, key, fingerprint, result, created_at) VALUES (?, ?, ?, ?, ?)`,
	// One operation of a group (see Update).
	stSavepoint:         `SAVEPOINT op`,
	stRollbackTo:        `ROLLBACK TO op`,
	stRelease:           `RELEASE op`,
	stInsertReservation: `INSERT INTO reservations (` + reservationColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	stInsertHold: `INSERT INTO reservation_holds (reservation_id, idx, project_id, resource_id, amount, committed)
		VALUES (?, ?, ?, ?, ?, ?)`,
	stUpdateReservation: `UPDATE reservations SET state = ?, committed = ?, settled_at = ? WHERE project_id = ? AND reservation_id = ?`,
	stUpdateHold:        `UPDATE reservation_holds SET committed = ? WHERE reservation_id = ? AND idx = ?`,
	stSettleReservation: `UPDATE reservations SET state = ?, committed = ?, settled_at = ?
		WHERE project_id = ? AND reservation_id = ? AND state = 'open'`,
	stNoticeConfigs: `SELECT type, send_msg, properties, updated_at FROM notice_configs WHERE project_id = ?`,
}

// sqliteTx is an allot.Tx on one write transaction.
type sqliteTx struct {
	s     *Store
	ctx   context.Context
	tx    *sql.Tx
	now   time.Time
	held  map[string]*holding
	stmts *[numTxStmts]*sql.Stmt // s.txStmts bound to tx, as used; shared by a group
	group *groupTx
	// read holds the resources as the operation read or wrote them, by
	// project/resource id: SaveResource writes only the usage when nothing
	// else changed. Updating every column would rewrite the entries of every
	// index on them (SQLite maintains each index whose columns an UPDATE
	// names, changed or not), and a consume changes only the usage.
	read map[string]allot.Resource
}

// remember notes a resource as it is in the transaction.
func (t *sqliteTx) remember(r allot.Resource) {
	if t.group != nil {
		t.group.cache(r)
	}
	if t.read == nil {
		t.read = make(map[string]allot.Resource, 2)
	}
	t.read[r.ProjectID+"/"+r.ResourceID] = r
}

// onlyUsage reports whether r differs from the resource as the transaction
// has it in its usage and held alone (a consume, a reservation step).
func (t *sqliteTx) onlyUsage(r *allot.Resource) bool {
	before, ok := t.read[r.ProjectID+"/"+r.ResourceID]
	if !ok {
		return false
	}
	before.Usage, before.Held, before.Version = r.Usage, r.Held, r.Version
	return before == *r
}

// holding is a project held by the transaction: the project, its new
// version and its next seqs. The counters are kept here and written back
// once at the end: nobody else writes meanwhile.
type holding struct {
	project                allot.Project
	version                int64
	nextSeq, nextLedgerSeq int64
	moved                  bool  // a counter moved
	stored                 int64 // the version in the row
}

var _ allot.Tx = (*sqliteTx)(nil)

// stmt returns statement i bound to the transaction.
func (t *sqliteTx) stmt(i int) *sql.Stmt {
	if t.stmts[i] == nil {
		t.stmts[i] = t.tx.StmtContext(t.ctx, t.s.txStmts[i])
	}
	return t.stmts[i]
}

// lock bumps the version of each project: in memory for a project the
// group holds already, else in its row, reading its counters. undo receives
// each project's holding as it was (nil: not held before), unless it is nil.
func (t *sqliteTx) lock(g *groupTx, ids []string, undo map[string]*holding) error {
	for _, id := range ids {
		if h, ok := g.held[id]; ok {
			if undo != nil {
				before := *h
				undo[id] = &before
			}
			h.version++
			t.held[id] = h
			continue
		}
		h := &holding{}
		var created int64
		err := t.stmt(stLock).QueryRowContext(t.ctx, id).Scan(&h.project.ID, &h.project.Name, &h.project.RegionID,
			&h.project.SPProjectID, &created, &h.version, &h.nextSeq, &h.nextLedgerSeq)
		if errors.Is(err, sql.ErrNoRows) {
			return projectNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("sqlite: hold project %s: %w", id, err)
		}
		h.project.CreatedAt = fromUnix(created)
		h.stored = h.version
		if undo != nil {
			undo[id] = nil
		}
		g.held[id] = h
		t.held[id] = h
		if !g.lost {
			if g.openValid == nil {
				g.openValid = make(map[string]bool)
			}
			g.openValid[id] = t.s.openRsv.Valid(id, h.stored)
		}
	}
	return nil
}

// holding returns the project if the transaction holds it. Writing to a
// project it does not hold is a programming error: the write would not be
// stamped with the project's new version.
func (t *sqliteTx) holding(what, projectID string) (*holding, error) {
	h, ok := t.held[projectID]
	if !ok {
		return nil, fmt.Errorf("sqlite: %s of project %s, which the transaction does not hold", what, projectID)
	}
	return h, nil
}

func (t *sqliteTx) Now() time.Time { return t.now }

func (t *sqliteTx) Project(id string) (allot.Project, error) {
	if h, ok := t.held[id]; ok {
		return h.project, nil
	}
	row, err := findProject(t.ctx, t.stmt(stProject), id)
	return row.Project, err
}

func (t *sqliteTx) Resource(projectID, resourceID string) (allot.Resource, error) {
	if r, ok := t.group.cached(projectID, resourceID); ok {
		t.remember(r)
		return r, nil
	}
	r, err := newResourceScanner().scan(t.stmt(stResource).QueryRowContext(t.ctx, projectID, resourceID), projectID)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.Resource{}, allot.Errorf(allot.ENOTFOUND, "resource %s of project %s does not exist", resourceID, projectID)
	}
	if err != nil {
		return allot.Resource{}, fmt.Errorf("sqlite: resource %s/%s: %w", projectID, resourceID, err)
	}
	t.remember(r)
	return r, nil
}

func (t *sqliteTx) ResourcesOfType(projectID, resourceType string) ([]allot.Resource, error) {
	rows, err := t.stmt(stResourcesOfType).QueryContext(t.ctx, projectID, resourceType)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resources of type %s of %s: %w", resourceType, projectID, err)
	}
	rs, err := scanResources(rows, projectID, 0)
	for _, r := range rs {
		t.remember(r)
	}
	return rs, err
}

func (t *sqliteTx) SaveResource(r *allot.Resource) error {
	h, err := t.holding("saving resource "+r.ResourceID, r.ProjectID)
	if err != nil {
		return err
	}
	if r.Seq == 0 {
		saved := *r
		saved.Seq, saved.Version = h.nextSeq, h.version
		// A constraint violation undoes only its statement: the
		// transaction goes on, and fn may too after ECONFLICT.
		_, err := t.stmt(stInsertResource).ExecContext(t.ctx, resourceArgs(&saved)...)
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // (project_id, resource_id)
			return allot.Errorf(allot.ECONFLICT, "resource %s of project %s exists already", r.ResourceID, r.ProjectID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert resource %s/%s: %w", r.ProjectID, r.ResourceID, err)
		}
		h.nextSeq++
		h.moved = true
		*r = saved
		t.remember(saved)
		return nil
	}
	var res sql.Result
	if t.onlyUsage(r) {
		res, err = t.stmt(stUpdateUsage).ExecContext(t.ctx, h.version, int64(r.Usage), int64(r.Held), r.ProjectID, r.ResourceID)
	} else {
		asset, assetName, expire := resourceOptionals(r)
		res, err = t.stmt(stUpdateResource).ExecContext(t.ctx, h.version, r.OrderID, asset, assetName, expire,
			r.ResourceType, string(r.BusinessType), string(r.SubResourceType), r.IsSubResource, string(r.ChargingMode),
			string(r.Source), int64(r.Amount), int64(r.Usage), int64(r.Status), string(r.Unit), r.Removed,
			int64(r.Held), int64(r.Priority), r.ProjectID, r.ResourceID)
	}
	if err := affected(res, err); err != nil {
		if errors.Is(err, errNoRow) {
			return allot.Errorf(allot.ENOTFOUND, "resource %s of project %s does not exist", r.ResourceID, r.ProjectID)
		}
		return fmt.Errorf("sqlite: update resource %s/%s: %w", r.ProjectID, r.ResourceID, err)
	}
	r.Version = h.version
	t.remember(*r)
	return nil
}

func (t *sqliteTx) Assignment(customerProjectID, recordID string) (allot.Assignment, error) {
	var customer string
	a, err := newAssignmentScanner(&customer).scan(t.stmt(stAssignment).QueryRowContext(t.ctx, customerProjectID, recordID), "")
	if errors.Is(err, sql.ErrNoRows) {
		return allot.Assignment{}, allot.Errorf(allot.ENOTFOUND, "assignment %s of project %s does not exist", recordID, customerProjectID)
	}
	if err != nil {
		return allot.Assignment{}, fmt.Errorf("sqlite: assignment %s: %w", recordID, err)
	}
	a.CustomerProjectID = customer
	return a, nil
}

func (t *sqliteTx) AllocatedFrom(spProjectID, spResourceID string) (allot.Quantity, error) {
	var n int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT COALESCE(SUM(resource_num), 0) FROM assignments WHERE sp_project_id = ? AND sp_resource_id = ?`,
		spProjectID, spResourceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: units allocated from %s: %w", spResourceID, err)
	}
	return allot.Quantity(n), nil
}

func (t *sqliteTx) SaveAssignment(a *allot.Assignment) error {
	h, err := t.holding("saving assignment "+a.RecordID, a.CustomerProjectID)
	if err != nil {
		return err
	}
	if a.Seq == 0 {
		saved := *a
		saved.Seq, saved.Version = h.nextSeq, h.version
		_, err := t.stmt(stInsertAssignment).ExecContext(t.ctx, assignmentArgs(&saved)...)
		switch constraint(err) {
		case 0:
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // record_id
			return allot.Errorf(allot.ECONFLICT, "assignment %s exists already", a.RecordID)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY: // sp_project_id; the customer is held
			return allot.Errorf(allot.ENOTFOUND, "service provider %s of assignment %s does not exist", a.SPProjectID, a.RecordID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert assignment %s: %w", a.RecordID, err)
		}
		h.nextSeq++
		h.moved = true
		*a = saved
		return nil
	}
	res, err := t.stmt(stUpdateAssignment).ExecContext(t.ctx, h.version, a.SPProjectID, a.ResourceSpecCode,
		string(a.ChargingMode), int64(a.ResourceNum), int64(a.ResourceUsedNum), a.AllocateTime.Unix(), a.ExpireTime.Unix(),
		nullString(a.SPResourceID), a.CustomerProjectID, a.RecordID)
	if err := affected(res, err); err != nil {
		if errors.Is(err, errNoRow) {
			return allot.Errorf(allot.ENOTFOUND, "assignment %s of project %s does not exist", a.RecordID, a.CustomerProjectID)
		}
		return fmt.Errorf("sqlite: update assignment %s: %w", a.RecordID, err)
	}
	a.Version = h.version
	return nil
}

func (t *sqliteTx) AppendLedger(e *allot.LedgerEntry) error {
	h, err := t.holding("a ledger entry", e.ProjectID)
	if err != nil {
		return err
	}
	saved := *e
	saved.Seq = h.nextLedgerSeq
	if saved.At.IsZero() {
		saved.At = t.now
	}
	if _, err := t.stmt(stInsertLedger).ExecContext(t.ctx, ledgerArgs(&saved)...); err != nil {
		return fmt.Errorf("sqlite: ledger entry of %s/%s: %w", e.ProjectID, e.ResourceID, err)
	}
	h.nextLedgerSeq++
	h.moved = true
	*e = saved
	return nil
}

func (t *sqliteTx) Idempotency(projectID, key string) (allot.IdempotencyRecord, bool, error) {
	rec := allot.IdempotencyRecord{ProjectID: projectID, Key: key}
	var created int64
	err := t.stmt(stIdempotency).QueryRowContext(t.ctx, projectID, key).Scan(&rec.Fingerprint, &rec.Result, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return allot.IdempotencyRecord{}, false, fmt.Errorf("sqlite: idempotency key of %s: %w", projectID, err)
	}
	rec.CreatedAt = fromUnix(created)
	return rec, true, nil
}

func (t *sqliteTx) SaveIdempotency(rec allot.IdempotencyRecord) error {
	if _, err := t.holding("saving idempotency key "+rec.Key, rec.ProjectID); err != nil {
		return err
	}
	created := rec.CreatedAt
	if created.IsZero() {
		created = t.now
	}
	_, err := t.stmt(stInsertIdempotency).ExecContext(t.ctx, rec.ProjectID, rec.Key, rec.Fingerprint, rec.Result, created.Unix())
	switch constraint(err) {
	case 0:
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE: // (project_id, key)
		return allot.Errorf(allot.ECONFLICT, "idempotency key %s of project %s was used already", rec.Key, rec.ProjectID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: save idempotency key of %s: %w", rec.ProjectID, err)
	}
	return nil
}

// errNoRow is affected's error for an update that matched no row.
var errNoRow = errors.New("no row")

// affected returns err, or errNoRow if the statement changed no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNoRow
	}
	return nil
}
